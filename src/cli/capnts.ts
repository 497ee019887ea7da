/**
 * The `capnts` command.
 *
 *   capnts compile [-o DIR] [-I DIR]... [--no-standard-import] [--src-prefix DIR]
 *                  [--runtime SPEC] [--js] FILE.capnp...
 *       Generate TypeScript (or, with --js, JavaScript plus .d.ts) for the schema files, through
 *       `capnp compile` and our plugin. --runtime: the package generated code imports (default
 *       "capnts") or a path to the runtime's src directory.
 *   capnts decode [--packed] [--flat] [--short] [-I DIR]... SCHEMA.capnp TYPE
 *       Read binary messages from stdin and print them as text, byte for byte like
 *       `capnp decode`.
 *   capnts encode [--packed] [--flat] [-I DIR]... SCHEMA.capnp TYPE
 *       Read text messages from stdin and write them in binary (like `capnp encode`).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { encodeText } from "../schema/text-encode.js";
import { encodeFrame, pack, packedFrame } from "../serialize/index.js";
import { CapnpMissingError, runCapnp } from "./capnp-tool.js";
import { decodeToText, loadSchemaType } from "./decode.js";

const USAGE = `Usage:
  capnts compile [-o DIR] [-I DIR]... [--no-standard-import] [--src-prefix DIR] [--runtime SPEC] [--js] FILE.capnp...
  capnts decode [--packed] [--flat] [--short] [-I DIR]... [--no-standard-import] SCHEMA.capnp TYPE
  capnts encode [--packed] [--flat] [-I DIR]... [--no-standard-import] SCHEMA.capnp TYPE
`;

class UsageError extends Error {}

interface Parsed {
  flags: Set<string>;
  values: Map<string, string[]>;
  rest: string[];
}

/** Minimal option parser: `--name value`, `--name=value`, `-Ivalue`, `-I value`. */
function parse(
  argv: readonly string[],
  withValue: readonly string[],
  aliases: Record<string, string>,
): Parsed {
  const flags = new Set<string>();
  const values = new Map<string, string[]>();
  const rest: string[] = [];
  const add = (k: string, v: string) => values.set(k, [...(values.get(k) ?? []), v]);
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i]!;
    if (!a.startsWith("-") || a === "-") {
      rest.push(a);
      continue;
    }
    // -Ifoo / -ofoo short forms
    const short = /^-([A-Za-z])(.+)$/.exec(a);
    if (
      short !== null &&
      aliases[`-${short[1]}`] !== undefined &&
      withValue.includes(aliases[`-${short[1]}`]!)
    ) {
      add(aliases[`-${short[1]}`]!, short[2]!);
      continue;
    }
    a = aliases[a] ?? a;
    const eq = a.indexOf("=");
    const name = eq > 0 ? a.slice(0, eq) : a;
    const canonical = aliases[name] ?? name;
    if (withValue.includes(canonical)) {
      const v = eq > 0 ? a.slice(eq + 1) : argv[++i];
      if (v === undefined) throw new UsageError(`${canonical} needs a value`);
      add(canonical, v);
    } else flags.add(canonical);
  }
  return { flags, values, rest };
}

/** bin/capnpc-capnts, found from this module (src/cli in a checkout, dist/src/cli when built). */
function pluginPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const p = join(dir, "bin", "capnpc-capnts");
    if (existsSync(p)) return p;
    dir = dirname(dir);
  }
  throw new Error("bin/capnpc-capnts not found next to the capnts package");
}

function importArgs(p: Parsed): string[] {
  const out = (p.values.get("--import-path") ?? []).map((d) => `-I${d}`);
  if (p.flags.has("--no-standard-import")) out.push("--no-standard-import");
  return out;
}

async function compile(argv: readonly string[]): Promise<number> {
  const p = parse(argv, ["--output", "--import-path", "--src-prefix", "--runtime"], {
    "-o": "--output",
    "-I": "--import-path",
    "--out": "--output",
  });
  if (p.rest.length === 0) throw new UsageError("no schema files given");
  const out = resolve(p.values.get("--output")?.at(-1) ?? ".");
  const runtime = p.values.get("--runtime")?.at(-1) ?? "capnts";
  const args = ["compile", ...importArgs(p)];
  for (const s of p.values.get("--src-prefix") ?? []) args.push(`--src-prefix=${s}`);
  args.push(`-o${pluginPath()}:${out}`, ...p.rest);
  mkdirSync(out, { recursive: true }); // capnp runs the plugin in the output directory
  const runtimeEnv = runtime.startsWith(".") ? resolve(runtime) : runtime;
  const started = Date.now();
  const r = runCapnp(args, { env: { ...process.env, CAPNTS_RUNTIME: runtimeEnv }, inherit: true });
  if (r.status !== 0) return r.status;
  if (p.flags.has("--js")) return toJs(generatedSince(out, started - 1000));
  return 0;
}

/** The .capnp.ts files under `dir` written since `time` (what the plugin just generated). */
function generatedSince(dir: string, time: number): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile() || !e.name.endsWith(".capnp.ts")) continue;
    const p = join(e.parentPath ?? (e as unknown as { path: string }).path, e.name);
    if (statSync(p).mtimeMs >= time) out.push(p);
  }
  return out;
}

/** --js: compile the generated .ts files to .js and .d.ts with the TypeScript compiler API. */
async function toJs(files: readonly string[]): Promise<number> {
  let ts: typeof import("typescript");
  try {
    ts = (await import("typescript")).default;
  } catch {
    process.stderr.write("capnts compile --js needs the `typescript` package (npm install -D typescript).\n");
    return 1;
  }
  const program = ts.createProgram(files, {
    target: ts.ScriptTarget.ES2022,
    // ES modules whatever the output directory's package.json says (generated code is ESM).
    module: ts.ModuleKind.ES2022,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    declaration: true,
    skipLibCheck: true,
    strict: true,
  });
  // Emit only the generated files (never the runtime's sources the program also contains).
  let skipped = false;
  for (const f of files) {
    const sf = program.getSourceFile(f);
    if (sf === undefined) continue;
    const result = program.emit(sf);
    skipped ||= result.emitSkipped;
    for (const d of result.diagnostics) {
      process.stderr.write(`${ts.flattenDiagnosticMessageText(d.messageText, "\n")}\n`);
    }
  }
  for (const f of files) rmSync(f);
  return skipped ? 1 : 0;
}

function encode(argv: readonly string[]): number {
  const p = parse(argv, ["--import-path"], { "-I": "--import-path", "-p": "--packed" });
  const [schema, type] = p.rest;
  if (schema === undefined || type === undefined || p.rest.length > 2)
    throw new UsageError("encode needs SCHEMA and TYPE");
  const { loader, node } = loadSchemaType(schema, type, importArgs(p));
  const text = readFileSync(0, "utf8");
  const messages = encodeText(text, node, loader);
  const flat = p.flags.has("--flat");
  if (flat && messages.length !== 1) throw new Error("--flat expects exactly one message");
  for (const m of messages) {
    const segs = m.getSegmentsForOutput();
    let bytes: Uint8Array;
    if (flat) {
      if (segs.length !== 1) throw new Error("--flat: the message does not fit one segment");
      bytes = p.flags.has("--packed") ? pack(segs[0]!) : segs[0]!;
    } else bytes = p.flags.has("--packed") ? packedFrame(segs) : encodeFrame(segs);
    process.stdout.write(bytes);
  }
  return 0;
}

function decode(argv: readonly string[]): number {
  const p = parse(argv, ["--import-path"], { "-I": "--import-path", "-p": "--packed" });
  const [schema, type] = p.rest;
  if (schema === undefined || type === undefined || p.rest.length > 2)
    throw new UsageError("decode needs SCHEMA and TYPE");
  const { loader, node } = loadSchemaType(schema, type, importArgs(p));
  const input = new Uint8Array(readFileSync(0));
  const text = decodeToText(input, loader, node, {
    packed: p.flags.has("--packed"),
    flat: p.flags.has("--flat"),
    short: p.flags.has("--short"),
  });
  process.stdout.write(text);
  return 0;
}

export async function main(argv: readonly string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case "compile":
        return await compile(rest);
      case "decode":
        return decode(rest);
      case "encode":
        return encode(rest);
      case undefined:
      case "help":
      case "--help":
      case "-h":
        process.stdout.write(USAGE);
        return cmd === undefined ? 1 : 0;
      default:
        throw new UsageError(`unknown command "${cmd}"`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`capnts: ${e.message}\n${USAGE}`);
      return 2;
    }
    if (e instanceof CapnpMissingError) {
      process.stderr.write(`capnts: ${e.message}\n`);
      return 127;
    }
    process.stderr.write(`capnts: ${(e as Error).message}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
