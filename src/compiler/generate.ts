/**
 * The code generator as a pure function: CodeGeneratorRequest bytes in, generated files out
 * (path relative to the output directory → content). No I/O here; src/cli/capnpc-capnts.ts is
 * the plugin executable around it.
 */

import { encodeBase64 } from "../schema/base64.js";
import { loadRequest } from "../schema/load.js";
import type { SchemaRequest } from "../schema/model.js";
import { decodeFrame } from "../serialize/index.js";
import {
  AnyPointerListBuilder,
  MessageBuilder,
  MessageReader,
  type ReaderOptions,
  StructList,
  StructReader,
} from "../wire/index.js";
import { readRequestBootstrap } from "./bootstrap-reader.js";
import { type ModuleResolver, RPC_RUNTIME_IMPORTS } from "./context.js";
import { emitFile, fileNodes } from "./emit-file.js";
import { fileUsesCapabilities } from "./emit-interface.js";
import { CompileError } from "./errors.js";
import { NameTable } from "./scope.js";

export interface GenerateOptions {
  /**
   * Where generated code finds the runtime: a package name (default "capnts": imports
   * "capnts/wire", "capnts/rpc", "capnts/schema") or, starting with "." or "/", the path of the
   * runtime's src directory relative to the output directory (imports become relative paths).
   */
  runtime?: string;
  /** Absolute path of the output directory (resolves a relative `runtime`); default "/out". */
  outDir?: string;
  /** Read the request with the hand-written bootstrap reader instead of the generated bindings. */
  bootstrap?: boolean;
  /**
   * The extension of imports between generated files: ".js" (default; what tsc and bundlers
   * expect) or ".ts" (for running the .ts files directly: Node's type stripping, Deno, Bun;
   * tsc then needs `allowImportingTsExtensions` or `rewriteRelativeImportExtensions`).
   */
  importExtension?: ".js" | ".ts";
  /**
   * Emit only the named members of the named classes (class name as emitted, `Call_Reader`,
   * `$Message_Reader` for a reader with a union → member names: `questionId` keeps its getter
   * and setter, `initTarget`, `toString`, ...; `which` always), and no `$schema`. Classes not named are
   * emitted whole; a bundler drops those nothing refers to. For the runtime's own bindings of
   * rpc.capnp (scripts/bootstrap.mjs): a class keeps its members even when nothing calls them,
   * so `Message_Builder.initProvide()` alone would keep all of Level 3 in every RPC bundle.
   */
  members?: Readonly<Record<string, readonly string[]>>;
}

/**
 * The runtime entry generated code imports from a package (`capnts/codegenv1`): one versioned
 * contract, docs/generated-code-contract.md. Bindings made by this generator keep working with
 * every capnts that still exports it.
 */
export const CODEGEN_ENTRY = "codegenv1";

/** The options a generated file was made with, for its header line. */
export function describeOptions(options: GenerateOptions): string {
  const runtime = options.runtime ?? "capnts";
  const parts = [
    runtime.startsWith(".") || runtime.startsWith("/")
      ? "runtime: relative path"
      : `runtime: ${runtime}/${CODEGEN_ENTRY}`,
  ];
  if ((options.importExtension ?? ".js") !== ".js") parts.push(`imports: ${options.importExtension}`);
  if (options.members !== undefined) parts.push("selected members only");
  return parts.join(", ");
}

/** Well-known schema files whose bindings ship with the runtime (when not generated in this run). */
const RUNTIME_FILES: ReadonlyMap<bigint, string> = new Map([
  [0xa93fc509624c72d9n, "schema/schema.capnp"],
  [0xb312981b2552a250n, "gen/rpc.capnp"],
  [0xa184c7885cdaf2a1n, "gen/rpc-twoparty.capnp"],
  [0xb8630836983feed7n, "gen/persistent.capnp"],
  [0x86c366a91393f3f8n, "gen/stream.capnp"],
  [0xbdf87d7bb8304e81n, "gen/c++.capnp"],
]);

const RUNTIME_ENTRIES = { wire: "codegenv1/wire", rpc: "codegenv1/rpc", schema: "codegenv1/schema" } as const;

// ---- paths --------------------------------------------------------------------------------------

function normalize(path: string): string {
  const abs = path.startsWith("/");
  const out: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (out.length > 0 && out[out.length - 1] !== "..") out.pop();
      else out.push("..");
    } else out.push(part);
  }
  return (abs ? "/" : "") + out.join("/");
}

function dirname(path: string): string {
  const i = path.lastIndexOf("/");
  return i < 0 ? "" : path.slice(0, i);
}

/** Relative module specifier from the directory `fromDir` to `to` (both absolute paths). */
function relativeSpecifier(fromDir: string, to: string): string {
  const a = normalize(fromDir)
    .split("/")
    .filter((x) => x !== "");
  const b = normalize(to)
    .split("/")
    .filter((x) => x !== "");
  let i = 0;
  while (i < a.length && i < b.length - 1 && a[i] === b[i]) i++;
  const up = a.slice(i).map(() => "..");
  const rel = [...up, ...b.slice(i)].join("/");
  return rel.startsWith(".") ? rel : `./${rel}`;
}

/** Output path of a schema file: its name as given to capnp, plus ".ts". */
export function outputPath(filename: string): string {
  return `${normalize(filename.replace(/^\/+/, ""))}.ts`;
}

// ---- request ------------------------------------------------------------------------------------

export interface LoadedRequest {
  request: SchemaRequest;
  /** The raw Node structs, by id (for embedding). */
  raw: Map<bigint, StructReader>;
}

export function readRequest(bytes: Uint8Array, options: GenerateOptions = {}): LoadedRequest {
  const limits: ReaderOptions = { traversalLimitInWords: 1 << 30, nestingLimit: 128 };
  let segments: Uint8Array[];
  try {
    segments = decodeFrame(bytes, 0, { traversalLimitInWords: 1 << 30 }).segments;
  } catch (e) {
    throw new CompileError(
      `the CodeGeneratorRequest on stdin is not a Cap'n Proto message: ${(e as Error).message}`,
    );
  }
  let request: SchemaRequest;
  try {
    request = options.bootstrap ? readRequestBootstrap(segments, limits) : loadRequest(segments, limits);
  } catch (e) {
    if (e instanceof CompileError) throw e;
    throw new CompileError(`malformed CodeGeneratorRequest: ${(e as Error).message}`);
  }
  const raw = new Map<bigint, StructReader>();
  const root = new MessageReader(segments, limits).getRoot(StructReader);
  for (const n of root._getList(0, StructList.of(StructReader))) raw.set(n._getUint64(0), n);
  return { request, raw };
}

/** Encode `nodes` as a single-segment message whose root is a List(AnyPointer) of Node structs. */
export function encodeNodes(nodes: readonly StructReader[]): Uint8Array {
  let words = 1024;
  for (;;) {
    const m = new MessageBuilder({ firstSegmentWords: words });
    const list = m.getRootAnyPointer().initList(AnyPointerListBuilder.kind, nodes.length);
    for (let i = 0; i < nodes.length; i++) list.get(i).setStruct(nodes[i]!);
    const segs = m.getSegmentsForOutput();
    if (segs.length === 1) return segs[0]!;
    words = m.sizeInWords + 1;
  }
}

// ---- generation ---------------------------------------------------------------------------------

export interface GeneratedFile {
  /** Relative to the output directory. */
  path: string;
  content: string;
}

export function generate(loaded: LoadedRequest, options: GenerateOptions = {}): GeneratedFile[] {
  const { request, raw } = loaded;
  const names = new NameTable(request);
  const runtime = options.runtime ?? "capnts";
  const relativeRuntime = runtime.startsWith(".") || runtime.startsWith("/");
  const outDir = normalize(options.outDir ?? "/out");
  const runtimeDir = runtime.startsWith("/") ? normalize(runtime) : normalize(`${outDir}/${runtime}`);
  const ext = options.importExtension ?? ".js";
  if (ext !== ".js" && ext !== ".ts")
    throw new CompileError(`import extension must be .js or .ts, not ${ext}`);
  const generated = (p: string) => p.replace(/\.ts$/, ext);

  // Output location of every file we might import: requested files, then the importers' view.
  const requested = new Map<bigint, string>();
  for (const f of request.requestedFiles) requested.set(f.id, outputPath(f.filename));
  const imported = new Map<bigint, string>();
  for (const f of request.requestedFiles) {
    for (const imp of f.imports) {
      if (requested.has(imp.id) || imported.has(imp.id)) continue;
      const target = imp.name.startsWith("/") ? imp.name.slice(1) : `${dirname(f.filename)}/${imp.name}`;
      imported.set(imp.id, outputPath(target));
    }
  }

  const pipelineFiles = new Set<bigint>();
  for (const n of request.nodes.values()) {
    if (n.kind === "file" && fileUsesCapabilities(fileNodes(names, n), RPC_RUNTIME_IMPORTS.has(n.id)))
      pipelineFiles.add(n.id);
  }

  const out: GeneratedFile[] = [];
  for (const rf of request.requestedFiles) {
    const file = request.nodes.get(rf.id);
    if (file === undefined || file.kind !== "file") {
      throw new CompileError(
        `requested file ${rf.filename} (@0x${rf.id.toString(16)}) has no file node in the request`,
      );
    }
    const path = requested.get(rf.id)!;
    const here = dirname(`${outDir}/${path}`);
    const resolver: ModuleResolver = {
      runtime(entry) {
        if (!relativeRuntime) return `${runtime}/${CODEGEN_ENTRY}`;
        return relativeSpecifier(here, `${runtimeDir}/${RUNTIME_ENTRIES[entry]}.js`);
      },
      file(id) {
        const req = requested.get(id);
        if (req !== undefined) return relativeSpecifier(here, `${outDir}/${generated(req)}`);
        const known = RUNTIME_FILES.get(id);
        if (known !== undefined) {
          if (!relativeRuntime)
            return known.startsWith("schema/") ? `${runtime}/schema` : `${runtime}/${known}.js`;
          return relativeSpecifier(here, `${runtimeDir}/${known}.js`);
        }
        const imp = imported.get(id);
        if (imp !== undefined) return relativeSpecifier(here, `${outDir}/${generated(imp)}`);
        const node = request.nodes.get(id);
        throw new CompileError(
          `needs ${node?.displayName ?? `file @0x${id.toString(16)}`}, which it does not import`,
          file.displayName,
        );
      },
    };
    const own = [file, ...fileNodes(names, file)].map((n) => {
      const r = raw.get(n.id);
      if (r === undefined) throw new CompileError("node missing from the request", n.displayName);
      return r;
    });
    const content = emitFile({
      names,
      file,
      filename: rf.filename,
      resolver,
      options: describeOptions(options),
      pipelineFiles,
      schemaBase64: options.members === undefined ? encodeBase64(encodeNodes(own)) : null,
      members:
        options.members === undefined
          ? undefined
          : new Map(Object.entries(options.members).map(([k, v]) => [k, new Set(v)])),
    });
    out.push({ path, content });
  }
  return out;
}
