#!/usr/bin/env node
// Runs every *.test.ts under test/ and src/ with node's test runner, through tsx.
// Usage: node scripts/run-tests.mjs [substring-filter ...]
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const filters = process.argv.slice(2);

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    if (name === "node_modules" || name === "build" || name.startsWith(".")) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith(".test.ts")) out.push(relative(root, p));
  }
  return out;
}

const files = [...walk(join(root, "src"), []), ...walk(join(root, "test"), [])]
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (files.length === 0) {
  console.error("no test files matched");
  process.exit(1);
}
function withSourceCondition(opts = "") {
  return opts.includes("--conditions=capnts-source") ? opts : `${opts} --conditions=capnts-source`.trim();
}

const r = spawnSync(
  process.execPath,
  ["--import", "tsx", "--test", "--test-concurrency=2", "--test-timeout=600000", ...files],
  {
    cwd: root,
    stdio: "inherit",
    // "capnts/..." self-imports resolve to src/*.ts (package.json exports, "capnts-source"), in
    // the test processes and in every process they start (interop servers, CLI runs).
    env: { ...process.env, NODE_OPTIONS: withSourceCondition(process.env.NODE_OPTIONS) },
  },
);
process.exit(r.status ?? 1);
