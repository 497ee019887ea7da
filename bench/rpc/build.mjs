#!/usr/bin/env node
// Builds the RPC benchmark programs to plain JavaScript with tsc (no type check, a few seconds)
// into node_modules/.cache/capnts-bench-rpc/, and prints that directory. Mirrors
// bench/serialization/build.mjs: timed TypeScript never runs through tsx (esbuild's keepNames
// makes V8 11 keep bailing out of optimized class constructors: BENCHMARKS.md, finding 4).
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { compiledPackageJson } from "../compiled-package.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
export const OUT = join(root, "node_modules", ".cache", "capnts-bench-rpc");

/** Compiles; returns the directory of the compiled programs (…/bench/rpc). */
export function build() {
  const tsc = createRequire(join(root, "package.json")).resolve("typescript/bin/tsc");
  const r = spawnSync(process.execPath, [tsc, "-p", join(here, "tsconfig.build.json")], {
    cwd: root,
    stdio: ["ignore", "inherit", "inherit"],
  });
  if (r.status !== 0) throw new Error(`tsc failed (${r.status ?? r.signal})`);
  writeFileSync(join(OUT, "package.json"), compiledPackageJson());
  return join(OUT, "bench", "rpc");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(build());
