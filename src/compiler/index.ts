/**
 * capnts/compiler: the code generator as a library (the `capnpc-capnts` plugin and
 * `capnts compile` are thin wrappers around it).
 *
 *   const files = generate(readRequest(codeGeneratorRequestBytes), { runtime: "capnts" });
 */
export { CompileError } from "./errors.js";
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
