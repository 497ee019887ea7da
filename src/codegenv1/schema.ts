// capnts/codegenv1, the schema part: what generated `toString()` and `$schema` use. Printing
// itself is installed by capnts/schema (src/wire/stringify.ts), so that generated code does not
// load reflection; `model` is only named in types (the bindings of generic specializations).
export type * as model from "../schema/model.js";
export { registerSchema, type SchemaFile, structToString } from "../wire/stringify.js";
