/**
 * Generated code for every standard schema, both sets, and for our test schemas typechecks under
 * the project's strict settings (tsconfig.base.json): the files are generated into a temporary
 * directory and `tsc --noEmit` runs over them. The sets: the capnp installation's standard schemas
 * (0.9.2 with Debian's capnproto) and the project's 1.x protocol schemas (schemas/capnp).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import {
  generateInto,
  needStandardSchemas,
  PROTOCOL_SET,
  ROOT,
  SRC,
  STANDARD_SCHEMA_FILES,
  schemaSetArgs,
  TEST_SCHEMAS,
  tempDir,
} from "./helpers.js";

test("generated code of every standard (installed and protocol) and test schema typechecks (strict)", {
  timeout: 300_000,
}, (t) => {
  const installed = needStandardSchemas(t);
  if (installed === null) return;
  const out = tempDir("typecheck");
  try {
    for (const [name, set] of [
      ["installed", installed],
      ["protocol", PROTOCOL_SET],
    ] as const) {
      const args = schemaSetArgs(set);
      const all = readdirSync(set.dir).filter((f) => f.endsWith(".capnp"));
      for (const f of STANDARD_SCHEMA_FILES)
        assert.ok(all.includes(f), `${name} schemas: ${f} in ${set.dir}`);
      // c++.capnp on its own: requested next to files importing it, capnp would load it twice.
      const files = all.filter((f) => f !== "c++.capnp");
      const generated = [
        ...generateInto(
          join(out, name),
          files.map((f) => join(set.dir, f)),
          args,
        ),
        ...generateInto(join(out, name), [join(set.dir, "c++.capnp")], args),
      ];
      assert.deepEqual(
        generated.map((g) => g.path).sort(),
        all.map((f) => `${f}.ts`).sort(),
        `${name} schemas`,
      );
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
    rmSync(out, { recursive: true, force: true });
  }
});
