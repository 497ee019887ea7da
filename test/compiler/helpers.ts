/**
 * Shared by the compiler and schema tests: locating `capnp`, running it, and generating code for
 * schema files in-process.
 */
import { spawnSync } from "node:child_process";
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  mkdtempSync,
  realpathSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import type { TestContext } from "node:test";
import { fileURLToPath } from "node:url";
import { decodeFrame, encodeFrame } from "capnts/serialize";
import { MessageReader } from "capnts/wire";
import { type GeneratedFile, generate, readRequest } from "../../src/compiler/generate.js";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const SRC = join(ROOT, "src");
export const TEST_SCHEMAS = join(ROOT, "test/schemas");
/** Import root of the project's protocol schemas: `-I SCHEMAS` makes `/capnp/rpc.capnp` theirs. */
export const SCHEMAS = join(ROOT, "schemas");
/** capnts's copies of the 1.x protocol schemas (rpc, rpc-twoparty, persistent, stream, c++, schema). */
export const PROTOCOL_SCHEMAS = join(SCHEMAS, "capnp");
/** The schema files every set (installed and protocol) must have, so coverage cannot shrink. */
export const STANDARD_SCHEMA_FILES = [
  "c++.capnp",
  "persistent.capnp",
  "rpc-twoparty.capnp",
  "rpc.capnp",
  "schema.capnp",
  "stream.capnp",
] as const;
export const CODEGEN_TEST = join(TEST_SCHEMAS, "codegen-test.capnp");

let have: boolean | undefined;
export function haveCapnp(): boolean {
  if (have === undefined) {
    const r = spawnSync("capnp", ["--version"]);
    have = r.error === undefined && r.status === 0;
  }
  return have;
}

/**
 * Skip the test when `capnp` is missing, or fail when running in CI (where it must be
 * installed: the tool is the oracle). Returns false when the test should stop.
 */
export function needCapnp(t: TestContext): boolean {
  if (haveCapnp()) return true;
  if (process.env.CI) throw new Error("capnp is not installed (Debian package `capnproto`); required in CI");
  t.skip("capnp is not installed (Debian package `capnproto`)");
  return false;
}

export function capnp(args: readonly string[], input?: Uint8Array | string): Buffer {
  const r = spawnSync("capnp", args, { input, maxBuffer: 1 << 28 });
  if (r.error !== undefined) throw r.error;
  if (r.status !== 0) throw new Error(`capnp ${args.join(" ")} failed: ${r.stderr.toString()}`);
  return r.stdout;
}

/** `capnp encode` of a text message (framed, unless options say otherwise). */
export function capnpEncode(
  schema: string,
  type: string,
  text: string,
  flags: readonly string[] = [],
): Uint8Array {
  return new Uint8Array(capnp(["encode", ...flags, schema, type], text));
}

export function capnpDecode(
  schema: string,
  type: string,
  bytes: Uint8Array,
  flags: readonly string[] = [],
): string {
  return capnp(["decode", ...flags, schema, type], bytes).toString();
}

/** The root segments of a framed message. */
export function segmentsOf(bytes: Uint8Array): Uint8Array[] {
  return decodeFrame(bytes).segments;
}

export function readerOf(bytes: Uint8Array): MessageReader {
  return new MessageReader(segmentsOf(bytes));
}

export function frame(segments: readonly Uint8Array[]): Uint8Array {
  return encodeFrame(segments);
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `capnts-${prefix}-`));
}

/** The `capnp` executable on PATH (symlinks resolved), or null. */
function capnpExecutable(): string | null {
  for (const d of (process.env.PATH ?? "").split(delimiter)) {
    if (d === "") continue;
    const p = join(d, "capnp");
    try {
      accessSync(p, constants.X_OK);
      return realpathSync(p);
    } catch {
      // not here
    }
  }
  return null;
}

let standardDir: string | null | undefined;
/**
 * The `capnp` directory of the capnp installation's standard import path (where `/capnp/c++.capnp`
 * and the other standard schemas resolve without `-I`): `<prefix>/include/capnp` for the prefix the
 * `capnp` binary is installed under (`<prefix>/bin/capnp`), else one of the directories capnp
 * always searches, `/usr/local/include` and `/usr/include`. Null when none holds the standard
 * schemas.
 */
export function standardSchemaDir(): string | null {
  if (standardDir === undefined) {
    const exe = capnpExecutable();
    const candidates = [
      ...(exe !== null ? [join(dirname(dirname(exe)), "include/capnp")] : []),
      "/usr/local/include/capnp",
      "/usr/include/capnp",
    ];
    standardDir = candidates.find((d) => STANDARD_SCHEMA_FILES.every((f) => existsSync(join(d, f)))) ?? null;
  }
  return standardDir;
}

/** A schema set to compile: `-I<inc> --no-standard-import --src-prefix=<dir>`, files in `dir`. */
export interface SchemaSet {
  readonly inc: string;
  readonly dir: string;
}

/**
 * The installed standard schemas (0.9.2 with Debian's capnproto): skips the test, or fails it in
 * CI, when capnp is absent or its standard schemas cannot be found. Returns null when the test
 * should stop.
 */
export function needStandardSchemas(t: TestContext): SchemaSet | null {
  if (!needCapnp(t)) return null;
  const dir = standardSchemaDir();
  if (dir !== null) return { inc: dirname(dir), dir };
  const msg =
    "the standard schemas of the capnp installation (include/capnp/*.capnp next to the capnp binary's prefix, or /usr/include/capnp) were not found";
  if (process.env.CI) throw new Error(`${msg}; required in CI (Debian package libcapnp-dev)`);
  t.skip(msg);
  return null;
}

/** The project's protocol schemas (schemas/capnp), importable as `/capnp/*.capnp`. */
export const PROTOCOL_SET: SchemaSet = { inc: SCHEMAS, dir: PROTOCOL_SCHEMAS };

/** The compile arguments that make `set` the only source of `/capnp/...` imports. */
export function schemaSetArgs(set: SchemaSet): string[] {
  return ["--no-standard-import", `-I${set.inc}`, `--src-prefix=${set.dir}`];
}

/** Run capnp on `files` and our generator in-process; writes the files under `outDir`. */
export function generateInto(
  outDir: string,
  files: readonly string[],
  capnpArgs: readonly string[],
  runtime = SRC,
): GeneratedFile[] {
  const req = new Uint8Array(capnp(["compile", "-o-", ...capnpArgs, ...files]));
  const out = generate(readRequest(req), { runtime, outDir });
  for (const f of out) {
    const p = join(outDir, f.path);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, f.content);
  }
  return out;
}
