/**
 * The schema compiler front end: `.capnp` source to the CodeGeneratorRequest capnp writes, in
 * TypeScript alone (no `capnp` binary, no Node APIs: files come through a SchemaSource).
 */
export {
  type CompiledSchemas,
  type CompileOptions,
  compileSchemas,
  type RequestedSchema,
} from "./compile.js";
export {
  formatDiagnostic,
  type LocatedDiagnostic,
  SchemaCompileError,
  type SchemaDiagnostic,
} from "./errors.js";
export { generateChildId, generateGroupId, generateMethodParamsId } from "./ids.js";
export { md5 } from "./md5.js";
export type { SchemaSource } from "./modules.js";
