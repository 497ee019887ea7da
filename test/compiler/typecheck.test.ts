/**
 * Generated code for every schema in ../shared/reference/upstream-schemas (0.9.2 and 1.x) and for
 * our test schemas typechecks under the project's strict settings (tsconfig.base.json): the
 * files are generated into a temporary directory and `tsc --noEmit` runs over them.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { generateInto, needCapnp, ROOT, SRC, TEST_SCHEMAS, tempDir, upstreamIncludeDir } from "./helpers.js";

test("generated code of every upstream and test schema typechecks (strict)", { timeout: 300_000 }, (t) => {
  if (!needCapnp(t)) return;
  const out = tempDir("typecheck");
  const cleanup: string[] = [out];
  try {
    for (const version of ["v0.9.2", "v1-master"] as const) {
      const { inc, dir } = upstreamIncludeDir(version);
      cleanup.push(inc);
      const args = ["--no-standard-import", `-I${inc}`, `--src-prefix=${dir}`];
      // c++.capnp on its own: requested next to files importing it, capnp would load it twice.
      const files = readdirSync(dir).filter((f) => f.endsWith(".capnp") && f !== "c++.capnp");
      generateInto(
        join(out, version),
        files.map((f) => join(dir, f)),
        args,
      );
      generateInto(join(out, version), [join(dir, "c++.capnp")], args);
    }
    const tests = readdirSync(TEST_SCHEMAS).filter((f) => f.endsWith(".capnp"));
    generateInto(
      join(out, "test"),
      tests.map((f) => join(TEST_SCHEMAS, f)),
      [`--src-prefix=${TEST_SCHEMAS}`],
    );
    writeFileSync(join(out, "package.json"), '{ "type": "module" }\n');
    writeFileSync(
      join(out, "tsconfig.json"),
      JSON.stringify({
        extends: join(ROOT, "tsconfig.base.json"),
        compilerOptions: { noEmit: true, types: [] },
        include: ["**/*.ts", join(SRC, "globals.d.ts")],
      }),
    );
    const r = spawnSync(
      process.execPath,
      [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", out, "--pretty", "false"],
      {
        encoding: "utf8",
        maxBuffer: 1 << 26,
      },
    );
    // Only diagnostics in generated files count: the runtime is checked by the project's own
    // typecheck (and may be mid-change while other layers are written).
    const ours = r.stdout.split("\n").filter((l) => l.includes(".capnp.ts("));
    assert.deepEqual(ours, [], ours.join("\n"));
    assert.ok(r.status === 0 || ours.length === 0);
  } finally {
    for (const d of cleanup) rmSync(d, { recursive: true, force: true });
  }
});
