#!/usr/bin/env node
// `npm run bench` (package.json: "bench": "node bench/run.mjs"). Runs every benchmark group in
// turn, each in its own process. A group may first build itself (the serialization group compiles
// to plain JavaScript with tsc: timing through tsx is distorted, see bench/serialization/build.mjs).
//
//   npm run bench                       all groups, full runs (several minutes)
//   npm run bench -- --quick            all groups, quick runs (about a minute in all)
//   npm run bench -- --group=serialization [--workload=carsales --mode=read ...]
//
// Arguments other than --group are passed to every group. Each group prints its own markdown
// tables (method and latest results: BENCHMARKS.md).
//
// Adding a group (the RPC benchmarks, issue 7): append { name, source, build?, entry } to GROUPS
// below. `build` (optional) is a command run first; `entry` is the program then run with node
// (a .ts entry runs through tsx); it accepts --quick (and ignores arguments it does not know, or
// documents them) and prints its tables to stdout. A group whose `source` does not exist yet is
// skipped with a note, so the RPC group can be listed before its program lands.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** @type {{ name: string, source: string, build?: string[], entry: string }[]} */
const GROUPS = [
  {
    name: "serialization",
    source: "bench/serialization/main.ts",
    build: ["bench/serialization/build.mjs"],
    entry: "node_modules/.cache/capnts-bench/bench/serialization/main.js",
  },
  // capnts next to C++ (libcapnp, g++ -O2) on the same messages, read-only (issue 7's "within 5x
  // of C++") and bytes mode. Its driver builds the C++ program (or prints why it skips: no g++).
  {
    name: "serialization-cpp",
    source: "bench/cpp-serialization/main.ts",
    build: ["bench/cpp-serialization/build.mjs"],
    entry: "node_modules/.cache/capnts-bench/bench/cpp-serialization/main.js",
  },
  // RPC hook: the RPC benchmark program (loopback TCP / Unix sockets, C++ and TS peers, grpc-js,
  // capnweb). Adjust to what bench/rpc/ provides; if it is timed TypeScript, build it like the
  // serialization group (or extend bench/serialization/tsconfig.build.json) rather than run it
  // through tsx.
  { name: "rpc", source: "bench/rpc/main.ts", entry: "bench/rpc/main.ts" },
  // Bulk transfer (issue 17): streams in MB/s, capnts and C++ next to a bare node:net floor. Its
  // driver (run through tsx; it times nothing itself) compiles the programs it times.
  { name: "bulk", source: "bench/rpc/bulk-main.ts", entry: "bench/rpc/bulk-main.ts" },
  // The schema compiler (issue 16): capnts's front end against `capnp compile -o-` on the test
  // schema with every construct. Built with the serialization group's tsconfig.
  {
    name: "schema-compiler",
    source: "bench/schema-compiler/main.ts",
    build: ["bench/serialization/build.mjs"],
    entry: "node_modules/.cache/capnts-bench/bench/schema-compiler/main.js",
  },
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
  if (!existsSync(join(root, g.source))) {
    console.log(`## ${g.name}: not yet available (${g.source} does not exist)\n`);
    continue;
  }
  if (g.build !== undefined) {
    const b = spawnSync(process.execPath, g.build, { cwd: root, stdio: ["ignore", "ignore", "inherit"] });
    if (b.status !== 0) {
      console.error(`bench group ${g.name}: build failed (${b.status ?? b.signal})`);
      failed++;
      continue;
    }
  }
  const loader = g.entry.endsWith(".ts") ? ["--import", "tsx"] : [];
  const r = spawnSync(process.execPath, [...loader, g.entry, ...rest], { cwd: root, stdio: "inherit" });
  if (r.status !== 0) {
    console.error(`bench group ${g.name} failed (${r.status ?? r.signal})`);
    failed++;
  }
  console.log("");
}
console.error(`bench: done in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
process.exit(failed === 0 ? 0 : 1);
