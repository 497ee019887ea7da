/**
 * The checked-in generated files (src/schema/schema.capnp.ts, src/gen/*, test/compiler/gen/*) must
 * be exactly what the plugin generates now from the repository's schemas (schemas/capnp,
 * test/schemas): scripts/bootstrap.mjs regenerates them into a temporary tree and every file is
 * compared.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { needCapnp, ROOT, tempDir } from "./helpers.js";

const DIRS = ["src/schema", "src/gen", "test/compiler/gen"];

function generatedFiles(root: string): string[] {
  const out: string[] = [];
  for (const d of DIRS) {
    let names: string[];
    try {
      names = readdirSync(join(root, d));
    } catch {
      continue;
    }
    for (const f of names) if (f.endsWith(".capnp.ts")) out.push(join(d, f));
  }
  return out.sort();
}

for (const bootstrap of [false, true]) {
  test(`checked-in bindings match the plugin's output${bootstrap ? " (bootstrap reader)" : ""}`, (t) => {
    if (!needCapnp(t)) return;
    const out = tempDir("fresh");
    try {
      execFileSync(
        process.execPath,
        [join(ROOT, "scripts/bootstrap.mjs"), "--out", out, ...(bootstrap ? ["--bootstrap"] : [])],
        {
          stdio: "pipe",
        },
      );
      const fresh = generatedFiles(out);
      assert.deepEqual(fresh, generatedFiles(ROOT), "same set of generated files");
      for (const f of fresh) {
        assert.equal(
          readFileSync(join(ROOT, f), "utf8"),
          readFileSync(join(out, f), "utf8"),
          `${f} is stale: run npm run bootstrap`,
        );
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
}
