// Access to the C++ `capnp` tool (Debian package `capnproto`), the oracle of the conformance
// tests. In CI a missing tool is a failure; elsewhere the tests skip with a hint.
import { spawnSync } from "node:child_process";
import type { TestContext } from "node:test";

let available: boolean | undefined;

export function hasCapnp(): boolean {
  if (available === undefined) {
    const r = spawnSync("capnp", ["--version"], { encoding: "utf8" });
    available = r.status === 0;
  }
  return available;
}

/** Call at the start of a test: fails in CI, skips elsewhere, when `capnp` is missing. */
export function requireCapnp(t: TestContext): boolean {
  if (hasCapnp()) return true;
  if (process.env.CI)
    throw new Error("capnp is not installed (CI): apt-get install -y capnproto libcapnp-dev");
  t.skip("capnp not installed: apt-get install -y capnproto");
  return false;
}

/** Run `capnp args...` with `input` on stdin; throws with stderr on failure. */
export function capnp(args: string[], input: Uint8Array | string, cwd?: string): Buffer {
  const r = spawnSync("capnp", args, { input, cwd, maxBuffer: 64 << 20 });
  if (r.status !== 0) {
    throw new Error(`capnp ${args.join(" ")} failed (${r.status}): ${r.stderr?.toString()}`);
  }
  return r.stdout;
}
