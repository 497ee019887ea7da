/**
 * capnts/schema: generated schema.capnp bindings, the plain schema model, reflection (loader,
 * dynamic access) and the Cap'n Proto text format.
 *
 * Loading this module installs the text-format printer behind generated `toString()` (see
 * src/wire/stringify.ts): the one side effect of the package (package.json `sideEffects`).
 */
import { setStructPrinter } from "../wire/stringify.js";
import type { Bindings } from "./brand.js";
import { structToString } from "./text.js";

setStructPrinter((view, typeId, bindings) => structToString(view, typeId, bindings as Bindings | undefined));

export * from "./brand.js";
export * from "./dynamic.js";
export { loadBrand, loadNode, loadRequest, loadType, loadValue, type NodeDocs, SchemaError } from "./load.js";
export { decodeSchemaNodes, type SchemaFile, SchemaLoader, schemas } from "./loader.js";
export type {
  AnnotationNode,
  ConstNode,
  EnumNode,
  FileNode,
  GroupField,
  InterfaceNode,
  SchemaRequest,
  SlotField,
  StructNode,
} from "./model.js";
/** The plain schema model (`model.StructNode`, ...): what reflection and the generator work on. */
export * as model from "./model.js";
export * from "./schema.capnp.js";
export {
  byteStringToBytes,
  byteStringToString,
  formatFloat32,
  formatFloat64,
  formatStruct,
  formatStructBytes,
  structToString,
  type TextOptions,
} from "./text.js";
export { encodeText } from "./text-encode.js";
export { TextParseError, TextParser, type TextValue } from "./text-parse.js";
