// Smoke test of the schema compiler benchmark (bench/schema-compiler): the program runs once
// through every case (capnts's front end in process and as a process, and capnp compile -o-),
// and the two compilers' requests hold the same number of nodes (the program checks that). No
// timing assertions. Needs capnp (the capnproto package): fails in CI without it, skips elsewhere.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";

const root = join(import.meta.dirname, "..", "..");
const haveCapnp = spawnSync("capnp", ["--version"]).status === 0;
if (!haveCapnp && process.env.CI)
  throw new Error("capnp is not installed (Debian package capnproto); required in CI");

test("bench/schema-compiler runs every case and prints its table", {
  skip: haveCapnp ? false : "capnp is not installed",
}, () => {
  const r = spawnSync(
    process.execPath,
    ["--import", "tsx", join(root, "bench/schema-compiler/main.ts"), "--smoke"],
    { cwd: root, encoding: "utf8", timeout: 120_000 },
  );
  assert.equal(r.status, 0, r.stderr);
  const rows = r.stdout.split("\n").filter((l) => /^\| (test|\/usr)/.test(l));
  assert.equal(rows.length, 3, r.stdout);
  for (const row of rows)
    assert.match(row, /^\| .+ \| \d+ \| [\d.]+ ms \| [\d.]+ ms \| [\d.]+ ms \| [\d.]+ ms \| [\d.]+x \|$/);
  assert.match(r.stdout, /`node -e 0`\): [\d.]+ ms\./);
});
