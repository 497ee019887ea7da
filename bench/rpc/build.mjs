#!/usr/bin/env node
// Builds the RPC benchmark programs to plain JavaScript with tsc (no type check, a few seconds)
// into node_modules/.cache/capnts-bench-rpc/, and prints that directory. Mirrors
// bench/serialization/build.mjs: timed TypeScript never runs through tsx (esbuild's keepNames
// makes V8 11 keep bailing out of optimized class constructors: BENCHMARKS.md, finding 4).
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { compiledPackageJson } from "../compiled-package.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
export const OUT = join(root, "node_modules", ".cache", "capnts-bench-rpc");

/**
 * Compiles; returns the directory of the compiled programs (…/bench/rpc). `out` elsewhere (inside
 * the checkout, so that node_modules is found) keeps a build of one version apart from another's
 * for an A/B comparison: `node bench/rpc/build.mjs --out=.cache/bench-a`.
 */
export function build(out = OUT) {
  const tsc = createRequire(join(root, "package.json")).resolve("typescript/bin/tsc");
  const dirArgs = out === OUT ? [] : ["--outDir", out, "--tsBuildInfoFile", join(out, "tsbuildinfo")];
  const r = spawnSync(process.execPath, [tsc, "-p", join(here, "tsconfig.build.json"), ...dirArgs], {
    cwd: root,
    stdio: ["ignore", "inherit", "inherit"],
  });
  if (r.status !== 0) throw new Error(`tsc failed (${r.status ?? r.signal})`);
  writeFileSync(join(out, "package.json"), compiledPackageJson());
  return join(out, "bench", "rpc");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const o = process.argv.find((a) => a.startsWith("--out="));
  console.log(build(o === undefined ? OUT : resolve(o.slice(6))));
}
