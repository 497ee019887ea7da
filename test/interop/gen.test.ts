// The checked-in bindings of the interop schemas (test/interop/gen: test.capnp and the
// calculator) are what our plugin generates today: regenerate them into a temporary directory with
// test/interop/ts/regen.mjs and compare (import paths aside, which depend on the directory).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ROOT } from "./ts/process.js";

function hasCapnp(): boolean {
  try {
    execFileSync("capnp", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

const capnp = hasCapnp();

test("test/interop/gen is fresh (node test/interop/ts/regen.mjs)", {
  skip:
    capnp || process.env["CI"]
      ? false
      : "capnp missing: apt-get install -y capnproto libcapnp-dev g++ pkg-config",
  timeout: 60_000,
}, () => {
  assert.ok(capnp, "capnp is missing");
  const tmp = mkdtempSync(join(tmpdir(), "capnts-interop-gen-"));
  try {
    execFileSync(process.execPath, [join(ROOT, "test/interop/ts/regen.mjs"), "--out", tmp, "--quiet"], {
      stdio: "pipe",
    });
    const dir = join(ROOT, "test/interop/gen");
    const names = readdirSync(dir)
      .filter((f) => f.endsWith(".ts"))
      .sort();
    assert.deepEqual(
      readdirSync(tmp)
        .filter((f) => f.endsWith(".ts"))
        .sort(),
      names,
    );
    const norm = (s: string) => s.replace(/from "[^"]*?\/src\//g, 'from "<src>/');
    for (const f of names) {
      assert.ok(
        norm(readFileSync(join(tmp, f), "utf8")) === norm(readFileSync(join(dir, f), "utf8")),
        `test/interop/gen/${f} is stale: run node test/interop/ts/regen.mjs`,
      );
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
