/**
 * The capnp plugin executable: `capnp compile -ocapnts[:outdir] foo.capnp` runs it with a
 * CodeGeneratorRequest on stdin and the output directory as working directory.
 *
 * Options come from the environment (capnp passes no arguments to plugins):
 *   CAPNTS_RUNTIME    package name of the runtime (default "capnts") or, starting with "." or
 *                     "/", the path of its src directory relative to the output directory
 *   CAPNTS_IMPORT_EXT ".js" (default) or ".ts": the extension of imports between generated files
 *                     (".ts" to run them with Node's type stripping, Deno or Bun)
 *   CAPNTS_BOOTSTRAP  "1": read the request with the hand-written reader (regenerating
 *                     src/schema/schema.capnp.ts when it is broken)
 *   CAPNTS_MANIFEST   a file to write the absolute paths of the generated files to, one a line
 *                     (`capnts compile --js` converts exactly those)
 *   CAPNTS_MEMBERS    a JSON file {"Class_Reader": ["member", ...], ...}: emit only those members
 *                     of those classes, and no $schema (GenerateOptions `members`; the runtime's
 *                     own rpc.capnp bindings, scripts/bootstrap.mjs)
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { CompileError } from "../compiler/errors.js";
import { generate, readRequest } from "../compiler/generate.js";

/** A runtime path (not a package name) is resolved against the output directory (our cwd). */
function runtimeOption(value: string | undefined): string {
  if (value === undefined || value === "") return "capnts";
  if (!value.startsWith(".") && !isAbsolute(value)) return value;
  return resolve(process.cwd(), value).replaceAll("\\", "/");
}

function importExtension(value: string | undefined): ".js" | ".ts" {
  if (value === undefined || value === "" || value === ".js" || value === "js") return ".js";
  if (value === ".ts" || value === "ts") return ".ts";
  throw new CompileError(`CAPNTS_IMPORT_EXT must be .js or .ts, not ${JSON.stringify(value)}`);
}

function membersOption(path: string | undefined): { members?: Record<string, string[]> } {
  if (path === undefined || path === "") return {};
  let members: unknown;
  try {
    members = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new CompileError(`CAPNTS_MEMBERS: ${(e as Error).message}`);
  }
  const ok =
    typeof members === "object" &&
    members !== null &&
    Object.values(members).every((v) => Array.isArray(v) && v.every((m) => typeof m === "string"));
  if (!ok) throw new CompileError(`CAPNTS_MEMBERS: ${path} is not {"Class": ["member", ...], ...}`);
  return { members: members as Record<string, string[]> };
}

function main(): number {
  const bytes = new Uint8Array(readFileSync(0));
  try {
    const options = {
      runtime: runtimeOption(process.env.CAPNTS_RUNTIME),
      bootstrap: process.env.CAPNTS_BOOTSTRAP === "1",
      importExtension: importExtension(process.env.CAPNTS_IMPORT_EXT),
      outDir: process.cwd().replaceAll("\\", "/"),
      ...membersOption(process.env.CAPNTS_MEMBERS),
    };
    const files = generate(readRequest(bytes, options), options);
    for (const f of files) {
      mkdirSync(dirname(f.path) || ".", { recursive: true });
      writeFileSync(f.path, f.content);
    }
    const manifest = process.env.CAPNTS_MANIFEST;
    if (manifest !== undefined && manifest !== "")
      writeFileSync(manifest, files.map((f) => `${resolve(f.path)}\n`).join(""));
    return 0;
  } catch (e) {
    if (e instanceof CompileError) {
      process.stderr.write(`capnpc-capnts: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

process.exitCode = main();
