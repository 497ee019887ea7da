// The checked-in bindings of the interop test schema (test/interop/gen) and of the calculator
// example (examples/calculator) are what our plugin generates today: regenerate them into a
// temporary tree with test/interop/ts/regen.mjs and compare.
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

test("checked-in bindings of the interop and example schemas are fresh (node test/interop/ts/regen.mjs)", {
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
    for (const dir of ["test/interop/gen", "examples/calculator"]) {
      const generated = (d: string) =>
        readdirSync(d)
          .filter((f) => f.endsWith(".capnp.ts"))
          .sort();
      const names = generated(join(ROOT, dir));
      assert.deepEqual(generated(join(tmp, dir)), names, dir);
      for (const f of names) {
        assert.ok(
          readFileSync(join(tmp, dir, f), "utf8") === readFileSync(join(ROOT, dir, f), "utf8"),
          `${dir}/${f} is stale: run node test/interop/ts/regen.mjs`,
        );
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
