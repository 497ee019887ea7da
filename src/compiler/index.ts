/**
 * capnts/compiler: the schema compiler (`.capnp` files → CodeGeneratorRequest, as
 * `capnp compile -o-` writes it) and the code generator (request → TypeScript), as a library;
 * the `capnpc-capnts` plugin and `capnts compile` are thin wrappers around them.
 *
 *   const { request } = compileSchemas(["foo.capnp"], { source: { readFile } });
 *   const files = generate(readRequest(request.getSegmentsForOutput()[0]!), { runtime: "capnts" });
 */
export { CompileError } from "./errors.js";
export {
  type CompiledSchemas,
  type CompileOptions,
  compileSchemas,
  formatDiagnostic,
  generateChildId,
  generateGroupId,
  generateMethodParamsId,
  type LocatedDiagnostic,
  md5,
  type RequestedSchema,
  SchemaCompileError,
  type SchemaDiagnostic,
  type SchemaSource,
} from "./frontend/index.js";
export {
  encodeNodes,
  type GeneratedFile,
  type GenerateOptions,
  generate,
  type LoadedRequest,
  outputPath,
  readRequest,
} from "./generate.js";
export { VERSION } from "./version.js";
