#!/usr/bin/env node
// `npm run bench` (package.json: "bench": "node bench/run.mjs"). Runs every benchmark group in
// turn, each in its own process, through tsx (esbuild strips the types; timing is unaffected):
//
//   npm run bench                       all groups, full runs (several minutes)
//   npm run bench -- --quick            all groups, quick runs (about a minute in all)
//   npm run bench -- --group=serialization [--workload=carsales --mode=read ...]
//
// Arguments other than --group are passed to every group. Each group prints its own markdown
// tables (method and latest results: BENCHMARKS.md).
//
// Adding a group (the RPC benchmarks, issue 7): append { name, entry } to GROUPS below, where
// `entry` is a TypeScript program that accepts --quick (and ignores arguments it does not know,
// or documents them) and prints its tables to stdout. Groups whose entry does not exist yet are
// skipped with a note, so the RPC group can be listed before its program lands.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** @type {{ name: string, entry: string }[]} */
const GROUPS = [
  { name: "serialization", entry: "bench/serialization/main.ts" },
  // RPC hook: the RPC benchmark program (loopback TCP / Unix sockets, C++ and TS peers, grpc-js,
  // capnweb) goes here, e.g. { name: "rpc", entry: "bench/rpc/main.ts" }.
  { name: "rpc", entry: "bench/rpc/main.ts" },
];

const args = process.argv.slice(2);
const groupArg = args.find((a) => a.startsWith("--group="));
const selected = groupArg === undefined ? undefined : groupArg.slice("--group=".length).split(",");
const rest = args.filter((a) => a !== groupArg);
if (selected !== undefined) {
  for (const g of selected) {
    if (!GROUPS.some((x) => x.name === g)) {
      console.error(`unknown group ${g} (groups: ${GROUPS.map((x) => x.name).join(", ")})`);
      process.exit(2);
    }
  }
}

let failed = 0;
const t0 = performance.now();
for (const g of GROUPS) {
  if (selected !== undefined && !selected.includes(g.name)) continue;
  if (!existsSync(join(root, g.entry))) {
    console.log(`## ${g.name}: not yet available (${g.entry} does not exist)\n`);
    continue;
  }
  const r = spawnSync(process.execPath, ["--import", "tsx", g.entry, ...rest], { cwd: root, stdio: "inherit" });
  if (r.status !== 0) {
    console.error(`bench group ${g.name} failed (${r.status ?? r.signal})`);
    failed++;
  }
  console.log("");
}
console.error(`bench: done in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
process.exit(failed === 0 ? 0 : 1);
