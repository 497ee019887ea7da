#!/usr/bin/env node
// Builds the serialization benchmarks to plain JavaScript with tsc (no type check, ~3 s) into
// node_modules/.cache/capnts-bench/, and prints the path of the entry point (main.js).
//
// Timing runs from tsc's output, not through tsx: tsx has esbuild keep class names
// (keepNames), which redefines `name` on every class, and with that, V8 11 (Node 20) keeps
// aborting its optimized compiles of the constructors of struct reader classes ("Bailed out due
// to dependency change", thousands per second; see BENCHMARKS.md). That made capnts 2-7x slower
// through tsx than from tsc's output, which is what users run.
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { compiledPackageJson } from "../compiled-package.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
export const OUT = join(root, "node_modules", ".cache", "capnts-bench");

export function build() {
  const tsc = createRequire(join(root, "package.json")).resolve("typescript/bin/tsc");
  const r = spawnSync(process.execPath, [tsc, "-p", join(here, "tsconfig.build.json")], {
    cwd: root,
    stdio: "inherit",
  });
  if (r.status !== 0) throw new Error(`tsc failed (${r.status ?? r.signal})`);
  // Plain JavaScript sources tsc does not copy (capnp-es must stay JS: see contenders/capnp-es.js).
  const copy = (rel) => {
    mkdirSync(dirname(join(OUT, rel)), { recursive: true });
    copyFileSync(join(root, rel), join(OUT, rel));
  };
  copy("bench/serialization/contenders/capnp-es.js");
  for (const f of readdirSync(join(here, "gen", "capnp-es"))) {
    if (f.endsWith(".js")) copy(`bench/serialization/gen/capnp-es/${f}`);
  }
  writeFileSync(join(OUT, "package.json"), compiledPackageJson());
  return join(OUT, "bench", "serialization", "main.js");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(build());
