/**
 * Shared by the compiler and schema tests: locating `capnp`, running it, and generating code for
 * schema files in-process.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { TestContext } from "node:test";
import { fileURLToPath } from "node:url";
import { decodeFrame, encodeFrame } from "capnts/serialize";
import { MessageReader } from "capnts/wire";
import { type GeneratedFile, generate, readRequest } from "../../src/compiler/generate.js";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const SRC = join(ROOT, "src");
export const TEST_SCHEMAS = join(ROOT, "test/schemas");
export const UPSTREAM = join(ROOT, "../shared/reference/upstream-schemas");
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

/**
 * A copy of an upstream schema directory as `<tmp>/capnp/*.capnp`, so that `/capnp/...` imports
 * resolve to the copies (compile with `-I<tmp> --no-standard-import --src-prefix=<tmp>/capnp`).
 */
export function upstreamIncludeDir(version: "v0.9.2" | "v1-master"): { inc: string; dir: string } {
  const inc = tempDir(`upstream-${version}`);
  const dir = join(inc, "capnp");
  mkdirSync(dir);
  for (const f of readdirSync(join(UPSTREAM, version)))
    copyFileSync(join(UPSTREAM, version, f), join(dir, f));
  return { inc, dir };
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
