/**
 * The `capnts` command.
 *
 *   capnts compile [-o DIR] [-I DIR]... [--no-standard-import] [--src-prefix DIR]
 *                  [--runtime SPEC] [--js] [--capnp] FILE.capnp...
 *       Generate TypeScript (or, with --js, JavaScript plus .d.ts) for the schema files. The
 *       schemas are parsed by capnts's own front end (src/compiler/frontend), or with --capnp by
 *       `capnp compile` running our plugin. --runtime: the package generated code imports
 *       (default "capnts") or a path to the runtime's src directory.
 *   capnts id
 *       Print a new random file ID, as `capnp id` does.
 *   capnts decode [--packed] [--flat] [--short] [-I DIR]... SCHEMA.capnp TYPE
 *       Read binary messages from stdin and print them as text, byte for byte like
 *       `capnp decode`.
 *   capnts encode [--packed] [--flat] [-I DIR]... SCHEMA.capnp TYPE
 *       Read text messages from stdin and write them in binary (like `capnp encode`).
 *   capnts call ADDRESS SCHEMA.capnp Interface.method '(params)' [--pipeline field.method ...]
 *       Call a method on a server's bootstrap capability and print the results (src/cli/call.ts).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { generateRandomId } from "../compiler/frontend/ids.js";
import { SchemaCompileError } from "../compiler/frontend/index.js";
import { generate, readRequest } from "../compiler/generate.js";
import { type StrippedModule, StripTypesError, stripTypes } from "../compiler/strip-types.js";
import { encodeText } from "../schema/text-encode.js";
import { TextParseError } from "../schema/text-parse.js";
import { encodeFrame, pack, packedFrame } from "../serialize/index.js";
import { MessageBuilder, StructReader } from "../wire/index.js";
import { CALL_HELP, call } from "./call.js";
import { CapnpMissingError, runCapnp } from "./capnp-tool.js";
import { DecodeStreamError, decodeStream, flatWarning, loadSchemaType } from "./decode.js";
import { compileRequest, type SchemaArgs } from "./schema-files.js";
import { UsageError } from "./usage.js";

const USAGE = `Usage: capnts COMMAND [OPTIONS] ...

Commands:
  call      call a method of a Cap'n Proto RPC server and print the results
  compile   generate TypeScript (or JavaScript and .d.ts) bindings for schema files
  decode    print binary messages from stdin as text (like \`capnp decode\`)
  encode    write text messages from stdin as binary (like \`capnp encode\`)
  id        print a new random file ID (like \`capnp id\`)

\`capnts COMMAND --help\` describes a command. \`capnts --version\` prints the version.
Schemas are compiled by capnts itself; \`--capnp\` uses the C++ \`capnp\` tool instead (Debian/Ubuntu:
apt-get install capnproto; macOS: brew install capnp).
`;

type Command = "call" | "compile" | "decode" | "encode";
const COMMANDS: readonly string[] = ["call", "compile", "decode", "encode"];

const HELP: Record<Command, string> = {
  call: CALL_HELP,
  compile: `Usage: capnts compile [OPTIONS] FILE.capnp...

Generates FILE.capnp.ts for each schema file, under DIR/<the schema's path> unless
--src-prefix removes a prefix from that path. capnts parses the schemas itself (the
CodeGeneratorRequest \`capnp compile\` would make); --capnp runs \`capnp compile\` with the
capnpc-capnts plugin instead. \`/capnp/...\` imports are searched in the -I directories, then
/usr/local/include, /usr/include and the schemas capnts ships.

Options:
  -o, --output DIR       where to write (created if missing; default: the current directory)
  -I, --import-path DIR  add DIR to the directories searched for absolute imports
  --no-standard-import   do not search the standard import directories (/usr/include, ...)
  --src-prefix PREFIX    strip PREFIX from the schema paths when naming output files
  --runtime SPEC         the package generated code imports (default "capnts"), or a path
                         (starting with "." or "/") to the runtime's src directory
  --js                   write FILE.capnp.js and FILE.capnp.d.ts instead of FILE.capnp.ts
                         (needs no TypeScript compiler)
  --import-ext EXT       ".js" (default) or ".ts": the extension of imports between generated
                         files; ".ts" runs the .ts files directly (Node's type stripping, Deno)
  --capnp                parse the schemas with the C++ \`capnp\` tool instead of capnts
  --plugin NAME[:DIR]    instead of generating TypeScript, run the code generator
                         capnpc-NAME (or the executable NAME, if it has a "/") in DIR with
                         the CodeGeneratorRequest on stdin, as \`capnp compile -oNAME:DIR\`
  -h, --help             show this text
`,
  decode: `Usage: capnts decode [OPTIONS] SCHEMA.capnp TYPE

Reads messages of struct TYPE from stdin and prints them as text, as \`capnp decode\` does.
A bad or truncated message stops the output after the messages before it, with an error on
stderr and exit status 1.

Options:
  -p, --packed           the input is packed
  --flat                 the input is one message without a segment table (one segment)
  --short                print each message on one line
  -q, --quiet            no warning when the input does not look like the given format
  -I, --import-path DIR  add DIR to the directories searched for absolute imports
  --no-standard-import   do not search the standard import directories
  --capnp                parse the schema with the C++ \`capnp\` tool instead of capnts
  -h, --help             show this text
`,
  encode: `Usage: capnts encode [OPTIONS] SCHEMA.capnp TYPE

Reads messages of struct TYPE in text format from stdin and writes them in binary, as
\`capnp encode\` does.

Options:
  -p, --packed           write packed messages
  --flat                 write one message as a single segment without a segment table
                         (a message that needed several segments is copied into one)
  -I, --import-path DIR  add DIR to the directories searched for absolute imports
  --no-standard-import   do not search the standard import directories
  --capnp                parse the schema with the C++ \`capnp\` tool instead of capnts
  -h, --help             show this text
`,
};

/** The version in the package.json beside this module (src/cli or dist/src/cli). */
function version(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const p = join(dir, "package.json");
    if (existsSync(p))
      return (JSON.parse(readFileSync(p, "utf8")) as { version?: string }).version ?? "unknown";
    dir = dirname(dir);
  }
  return "unknown";
}

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
  known: readonly string[],
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
    } else if (known.includes(canonical)) flags.add(canonical);
    else throw new UsageError(`unknown option "${argv[i]}"`);
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
  const p = parse(
    argv,
    ["--output", "--import-path", "--src-prefix", "--runtime", "--import-ext", "--plugin"],
    {
      "-o": "--output",
      "-I": "--import-path",
      "--out": "--output",
    },
    ["--js", "--no-standard-import", "--capnp"],
  );
  if (p.rest.length === 0) throw new UsageError("no schema files given");
  const plugins = p.values.get("--plugin") ?? [];
  if (plugins.length > 0) return runPlugins(p, plugins);
  const out = resolve(p.values.get("--output")?.at(-1) ?? ".");
  mkdirSync(out, { recursive: true });
  const runtime = p.values.get("--runtime")?.at(-1) ?? "capnts";
  const importExt = p.values.get("--import-ext")?.at(-1) ?? process.env.CAPNTS_IMPORT_EXT ?? ".js";
  if (![".js", ".ts", "js", "ts"].includes(importExt))
    throw new UsageError(`--import-ext must be .js or .ts, not ${JSON.stringify(importExt)}`);
  if (p.flags.has("--js") && importExt.endsWith("ts"))
    throw new UsageError("--import-ext .ts names .ts files, which --js does not write");
  if (!p.flags.has("--capnp")) return compileInProcess(p, out, runtime, importExt);
  const args = ["compile", ...importArgs(p)];
  for (const s of p.values.get("--src-prefix") ?? []) args.push(`--src-prefix=${s}`);
  args.push(`-o${pluginPath()}:${out}`, ...p.rest);
  const runtimeEnv = runtime.startsWith(".") ? resolve(runtime) : runtime;
  const js = p.flags.has("--js");
  // With --js the plugin lists what it wrote, and exactly those files are converted.
  const manifestDir = js ? mkdtempSync(join(tmpdir(), "capnts-")) : "";
  const manifest = js ? join(manifestDir, "generated.txt") : "";
  try {
    const env = {
      ...process.env,
      CAPNTS_RUNTIME: runtimeEnv,
      CAPNTS_IMPORT_EXT: importExt,
      CAPNTS_MANIFEST: manifest,
    };
    const r = runCapnp(args, { env, inherit: true });
    if (r.status !== 0 || !js) return r.status;
    const files = existsSync(manifest)
      ? readFileSync(manifest, "utf8")
          .split("\n")
          .filter((l) => l !== "")
      : [];
    try {
      return toJs(files);
    } catch (e) {
      if (!(e instanceof StripTypesError)) throw e;
      // The .ts files stay: they are correct, only their conversion failed.
      process.stderr.write(`capnts: ${e.message}\nThe TypeScript files were kept.\n`);
      return 1;
    }
  } finally {
    if (js) rmSync(manifestDir, { recursive: true, force: true });
  }
}

function schemaArgs(p: Parsed): SchemaArgs {
  return {
    importPaths: p.values.get("--import-path") ?? [],
    noStandardImport: p.flags.has("--no-standard-import"),
    srcPrefixes: p.values.get("--src-prefix") ?? [],
    capnp: p.flags.has("--capnp"),
  };
}

/**
 * `--plugin NAME[:DIR]`: give the request to another code generator, as `capnp compile -oNAME:DIR`
 * does: `capnpc-NAME` from PATH (or NAME itself when it contains a "/"), run in DIR (default:
 * the current directory) with the request on stdin.
 */
function runPlugins(p: Parsed, plugins: readonly string[]): number {
  const request = compileRequest(p.rest, schemaArgs(p));
  for (const spec of plugins) {
    const colon = spec.indexOf(":");
    const name = colon < 0 ? spec : spec.slice(0, colon);
    const dir = colon < 0 ? "." : spec.slice(colon + 1);
    if (name === "") throw new UsageError(`--plugin needs a name: ${JSON.stringify(spec)}`);
    const exe = name.includes("/") ? resolve(name) : `capnpc-${name}`;
    const r = spawnSync(exe, [], {
      input: request,
      cwd: resolve(dir),
      stdio: ["pipe", "inherit", "inherit"],
    });
    if (r.error !== undefined) throw new Error(`${exe}: ${r.error.message}`);
    if (r.status !== 0) {
      process.stderr.write(`capnts: ${exe} failed (status ${r.status ?? r.signal})\n`);
      return 1;
    }
  }
  return 0;
}

/** `capnts compile` without `capnp`: our front end, then the generator, in this process. */
function compileInProcess(p: Parsed, out: string, runtime: string, importExt: string): number {
  const request = compileRequest(p.rest, schemaArgs(p));
  const options = {
    runtime: runtime.startsWith(".") ? resolve(runtime).replaceAll("\\", "/") : runtime,
    importExtension: (importExt.startsWith(".") ? importExt : `.${importExt}`) as ".js" | ".ts",
    outDir: out.replaceAll("\\", "/"),
  };
  const written: string[] = [];
  for (const f of generate(readRequest(request, options), options)) {
    const path = join(out, f.path);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, f.content);
    written.push(path);
  }
  if (!p.flags.has("--js")) return 0;
  try {
    return toJs(written);
  } catch (e) {
    if (!(e instanceof StripTypesError)) throw e;
    process.stderr.write(`capnts: ${e.message}\nThe TypeScript files were kept.\n`);
    return 1;
  }
}

/**
 * --js: each generated .ts becomes .js and .d.ts, with no TypeScript compiler (whatever version
 * the user has, or none): generated code is erasable TypeScript, src/compiler/strip-types.ts
 * removes the types and writes the declarations. The .ts files are removed afterwards.
 */
function toJs(files: readonly string[]): number {
  const outputs: [string, StrippedModule][] = [];
  for (const f of files) outputs.push([f, stripTypes(readFileSync(f, "utf8"), f)]);
  for (const [f, { js, dts }] of outputs) {
    const base = f.slice(0, -".ts".length);
    writeFileSync(`${base}.js`, js);
    writeFileSync(`${base}.d.ts`, dts);
    rmSync(f);
  }
  return 0;
}

function encode(argv: readonly string[]): number {
  const p = parse(argv, ["--import-path"], { "-I": "--import-path", "-p": "--packed" }, [
    "--packed",
    "--flat",
    "--no-standard-import",
    "--capnp",
  ]);
  const [schema, type] = p.rest;
  if (schema === undefined || type === undefined || p.rest.length > 2)
    throw new UsageError("encode needs SCHEMA and TYPE");
  const { loader, node } = loadSchemaType(schema, type, schemaArgs(p));
  const text = readFileSync(0, "utf8");
  const flat = p.flags.has("--flat");
  const packed = p.flags.has("--packed");
  // One message at a time, each written before the next is parsed: a bad message comes after
  // the good ones, as with `capnp encode` (which, with --flat, writes each message flat).
  for (const [start, end] of messageSpans(text)) {
    let messages: MessageBuilder[];
    try {
      messages = encodeText(text.slice(start, end), node, loader);
    } catch (e) {
      if (e instanceof TextParseError) throw new Error(textPosition(e.message, text, start));
      throw e;
    }
    for (const m of messages) {
      let bytes: Uint8Array;
      if (flat) {
        const segment = flatten(m);
        bytes = packed ? pack(segment) : segment;
      } else {
        const segs = m.getSegmentsForOutput();
        bytes = packed ? packedFrame(segs) : encodeFrame(segs);
      }
      process.stdout.write(bytes);
    }
  }
  return 0;
}

/**
 * Where each top-level `( ... )` of a text stream is (strings and `#` comments skipped). When the
 * brackets do not balance, the rest is one span, for the parser to report.
 */
function messageSpans(text: string): [number, number][] {
  const spans: [number, number][] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "#") {
      const nl = text.indexOf("\n", i);
      i = nl < 0 ? text.length : nl;
    } else if (c === '"' || c === "'") {
      i++;
      while (i < text.length && text[i] !== c) i += text[i] === "\\" ? 2 : 1;
    } else if (c === "(" || c === "[") depth++;
    else if (c === ")" || c === "]") {
      depth--;
      if (depth === 0) {
        spans.push([start, i + 1]);
        start = i + 1;
      } else if (depth < 0) break;
    }
  }
  if (/\S/.test(text.slice(start).replace(/#[^\n]*/g, ""))) spans.push([start, text.length]);
  return spans;
}

/** "... (at offset N)" of the span starting at `base` as "stdin:LINE:COLUMN: ..." (1-based). */
function textPosition(message: string, text: string, base: number): string {
  const m = /^(.*) \(at offset (\d+)\)$/s.exec(message);
  if (m === null) return `stdin: ${message}`;
  let at = base + Number(m[2]);
  // The parser's offset may be that of the blanks before the value.
  while (at < text.length && /\s/.test(text[at]!)) at++;
  const before = text.slice(0, at);
  const line = before.split("\n").length;
  const column = at - before.lastIndexOf("\n");
  return `stdin:${line}:${column}: ${m[1]}`;
}

/**
 * The message as one segment (`capnp encode --flat`): a message that spilled into several
 * segments is deep-copied into a builder whose first segment holds it all, as capnp does.
 */
function flatten(m: MessageBuilder): Uint8Array {
  const segs = m.getSegmentsForOutput();
  if (segs.length === 1) return segs[0]!;
  const words = segs.reduce((n, s) => n + s.length / 8, 0);
  const copy = new MessageBuilder({ firstSegmentWords: words });
  copy.setRoot(m.asReader().getRoot(StructReader));
  const out = copy.getSegmentsForOutput();
  if (out.length !== 1) throw new Error("--flat: the copy of the message did not fit one segment");
  return out[0]!;
}

function decode(argv: readonly string[]): number {
  const p = parse(argv, ["--import-path"], { "-I": "--import-path", "-p": "--packed", "-q": "--quiet" }, [
    "--packed",
    "--flat",
    "--short",
    "--quiet",
    "--no-standard-import",
    "--capnp",
  ]);
  const [schema, type] = p.rest;
  if (schema === undefined || type === undefined || p.rest.length > 2)
    throw new UsageError("decode needs SCHEMA and TYPE");
  const { loader, node } = loadSchemaType(schema, type, schemaArgs(p));
  const input = new Uint8Array(readFileSync(0));
  const options = {
    packed: p.flags.has("--packed"),
    flat: p.flags.has("--flat"),
    short: p.flags.has("--short"),
  };
  const warning = p.flags.has("--quiet") ? "" : flatWarning(input, node, options);
  if (warning !== "") process.stderr.write(warning);
  try {
    // Each message is written before the next is read: the good ones come out before a bad one.
    decodeStream(input, loader, node, options, (text) => process.stdout.write(text));
  } catch (e) {
    if (!(e instanceof DecodeStreamError)) throw e;
    if (e.hint !== "") {
      // capnp's answer when the bytes are in another format than the flags say.
      process.stderr.write(`capnts decode: ${e.hint}\nTry 'capnts decode --help' for more information.\n`);
      return 1;
    }
    const n = e.index + 1;
    process.stderr.write(
      `*** ERROR CONVERTING MESSAGE ${n} ***\n` +
        (e.index === 0
          ? "The following error occurred while reading the first message"
          : `The following error occurred while reading message ${n}, after the ${e.index} printed above`) +
        ` (it starts at byte ${e.offset} of the input).\n` +
        "This probably means the input data is invalid/corrupted.\n" +
        `Exception description: ${e.message}\n` +
        "*** END ERROR ***\n",
    );
    return 1;
  }
  return 0;
}

export async function main(argv: readonly string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    if (rest.includes("--help") || rest.includes("-h")) {
      if (cmd !== undefined && COMMANDS.includes(cmd)) {
        process.stdout.write(HELP[cmd as Command]);
        return 0;
      }
    }
    switch (cmd) {
      case "call":
        return await call(rest);
      case "compile":
        return await compile(rest);
      case "decode":
        return decode(rest);
      case "encode":
        return encode(rest);
      case "id":
        if (rest.length > 0) throw new UsageError("id takes no arguments");
        process.stdout.write(`@0x${generateRandomId().toString(16)}\n`);
        return 0;
      case "help":
        if (rest[0] !== undefined && COMMANDS.includes(rest[0])) {
          process.stdout.write(HELP[rest[0] as Command]);
          return 0;
        }
        process.stdout.write(USAGE);
        return 0;
      case "--help":
      case "-h":
        process.stdout.write(USAGE);
        return 0;
      case "--version":
        process.stdout.write(`capnts ${version()}\n`);
        return 0;
      case undefined:
        process.stderr.write(USAGE);
        return 2;
      default:
        throw new UsageError(`unknown command "${cmd}"`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      const about = cmd !== undefined && COMMANDS.includes(cmd) ? `capnts ${cmd}` : "capnts";
      process.stderr.write(`capnts: ${e.message}\nTry '${about} --help' for more information.\n`);
      return 2;
    }
    if (e instanceof SchemaCompileError) {
      // As capnp prints them: one `file:line:col: error: ...` line each.
      process.stderr.write(`${e.message}\n`);
      return 1;
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
