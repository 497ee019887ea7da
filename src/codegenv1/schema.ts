// capnts/codegenv1, the schema part: what generated `toString()` and `$schema` use.
export { model, type SchemaFile, structToString } from "../schema/index.js";
