/**
 * Schema files to a CodeGeneratorRequest for the CLI: with capnts's own front end (default; no
 * `capnp` binary needed) or, with `--capnp`, with the C++ compiler. Files are named as capnp
 * names them (capnp.c++ `interpretSourceFile`): relative to a matching --src-prefix, else to the
 * current directory, else their absolute path without the leading "/".
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { compileSchemas } from "../compiler/frontend/index.js";
import { loadRequest } from "../schema/load.js";
import { SchemaLoader } from "../schema/loader.js";
import type { RequestedFile } from "../schema/model.js";
import { decodeFrames, encodeFrame } from "../serialize/index.js";
import { capnpMessage, runCapnp } from "./capnp-tool.js";

export interface SchemaArgs {
  readonly importPaths: readonly string[];
  readonly noStandardImport: boolean;
  readonly srcPrefixes: readonly string[];
  /** Run the C++ `capnp compile` instead of capnts's front end. */
  readonly capnp: boolean;
}

/**
 * The schemas capnts ships (schemas/capnp: c++, schema, rpc, ... in their 1.x form): the last
 * standard import directory, so `/capnp/c++.capnp` resolves without a Cap'n Proto install.
 */
export function bundledSchemaDir(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, "schemas", "capnp", "c++.capnp"))) return join(dir, "schemas");
    dir = dirname(dir);
  }
  return undefined;
}

/** capnp's standard import directories, then capnts's bundled schemas. */
export function standardImportPaths(): string[] {
  const out = ["/usr/local/include", "/usr/include"];
  const bundled = bundledSchemaDir();
  if (bundled !== undefined) out.push(bundled);
  return out;
}

function toPosix(p: string): string {
  return sep === "/" ? p : p.split(sep).join("/");
}

/** The name capnp gives a schema file given on its command line. */
export function sourceNameOf(file: string, srcPrefixes: readonly string[], cwd = process.cwd()): string {
  const abs = resolve(cwd, file);
  for (const prefix of srcPrefixes) {
    const rel = relative(resolve(cwd, prefix), abs);
    if (rel !== "" && !rel.startsWith("..") && !isAbsolute(rel)) return toPosix(rel);
  }
  const rel = relative(cwd, abs);
  if (rel !== "" && !rel.startsWith("..") && !isAbsolute(rel)) return toPosix(rel);
  return toPosix(abs).replace(/^\/+/, "");
}

function readFile(path: string): Uint8Array | undefined {
  try {
    return new Uint8Array(readFileSync(path));
  } catch {
    return undefined;
  }
}

/** The request, framed (what `capnp compile -o-` writes). Throws SchemaCompileError on bad schemas. */
export function compileRequest(files: readonly string[], args: SchemaArgs): Uint8Array {
  if (args.capnp) {
    const argv = ["compile", "-o-", ...args.importPaths.map((d) => `-I${d}`)];
    if (args.noStandardImport) argv.push("--no-standard-import");
    for (const s of args.srcPrefixes) argv.push(`--src-prefix=${s}`);
    const r = runCapnp([...argv, ...files]);
    if (r.status !== 0) throw new Error(capnpMessage(r.stderr) || `capnp compile failed (${r.status})`);
    return r.stdout;
  }
  // capnp's words for a file it cannot open.
  for (const f of files) if (!existsSync(f)) throw new Error(`${f}: no such file`);
  const importPaths = [
    ...args.importPaths.map((d) => resolve(d)),
    ...(args.noStandardImport ? [] : standardImportPaths()),
  ];
  const { request } = compileSchemas(
    files.map((f) => ({ path: resolve(f), name: sourceNameOf(f, args.srcPrefixes) })),
    { source: { readFile }, importPaths },
  );
  return encodeFrame(request.getSegmentsForOutput());
}

/** One schema file compiled (see compileRequest) and loaded: its nodes and its file entry. */
export function loadSchemaFile(
  schemaFile: string,
  args: SchemaArgs,
): { loader: SchemaLoader; file: RequestedFile } {
  const bytes = compileRequest([schemaFile], args);
  const limits = { traversalLimitInWords: 1 << 30 };
  const req = loadRequest([...decodeFrames(bytes, limits)][0]!, limits);
  const file = req.requestedFiles[0];
  if (file === undefined) throw new Error("capnp returned no file");
  return { loader: new SchemaLoader().addRequest(req), file };
}
