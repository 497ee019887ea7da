/**
 * One schema compile as a process, the counterpart of `capnp compile -o- FILE...`: the files on
 * the command line to a CodeGeneratorRequest (capnts's front end, as `capnts compile` runs it)
 * on stdout. The benchmark times this whole process (Node's start, loading the compiler, the
 * compile) against capnp's.
 *
 *   node once.js [-I DIR]... FILE.capnp...
 */
import { writeSync } from "node:fs";
import { compileRequest } from "../../src/cli/schema-files.js";

const args = process.argv.slice(2);
const importPaths: string[] = [];
const files: string[] = [];
for (let i = 0; i < args.length; i++) {
  const a = args[i]!;
  if (a === "-I") importPaths.push(args[++i]!);
  else files.push(a);
}
const bytes = compileRequest(files, { importPaths, noStandardImport: false, srcPrefixes: [], capnp: false });
writeSync(1, bytes);
