/**
 * Schema compiler benchmark (`npm run bench -- --group=schema-compiler`; issue 16): the time to
 * turn schema files into their CodeGeneratorRequest, capnts's TypeScript front end against the
 * C++ `capnp compile -o-` (Debian's capnp 0.9.2), on the project's test schema with every
 * construct (test/schemas/frontend/all.capnp and the file it imports) and two more schemas.
 *
 * Columns (each a median of N runs; --quick: fewer runs):
 * - capnp process: `capnp compile -o- FILES` spawned, wall time.
 * - capnts process: the same as a Node process (once.ts: start Node, load the compiler from the
 *   built JavaScript, compile, write the request), wall time: what `npx capnts compile` costs
 *   before code generation, from the installed package. Below the table: `node -e 0`, the part
 *   of that which is Node starting.
 * - capnts first call: compileSchemas() the first time in this process (code not yet optimized).
 * - capnts warm: compileSchemas() after warm-up, in process.
 * The two requests are checked to hold the same number of nodes (the test suite checks that they
 * are equal: test/compiler/frontend.test.ts).
 *
 * Runs from tsc's output (bench/serialization/build.mjs builds this group too), never through tsx.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { compileSchemas } from "../../src/compiler/frontend/index.js";
import { CodeGeneratorRequest_Reader } from "../../src/schema/schema.capnp.js";
import { decodeFrame } from "../../src/serialize/index.js";
import { MessageReader } from "../../src/wire/index.js";

const here = dirname(fileURLToPath(import.meta.url));
/**
 * The checkout: the working directory (bench/run.mjs runs groups from the checkout), else up from
 * here (bench/schema-compiler, or its build under node_modules/.cache, which may be a link into
 * another checkout's node_modules).
 */
function findRoot(): string {
  for (let d = process.cwd(); d !== dirname(d); d = dirname(d)) {
    if (existsSync(join(d, "test/schemas/frontend/all.capnp"))) return d;
  }
  for (let d = here; d !== dirname(d); d = dirname(d)) {
    if (existsSync(join(d, "test/schemas/frontend/all.capnp"))) return d;
  }
  throw new Error(`the capnts checkout was not found above ${here}`);
}
const root = findRoot();
// --smoke (the smoke test, through tsx): one run of everything, to check the program works.
const smoke = process.argv.includes("--smoke");
const quick = process.argv.includes("--quick");
const RUNS = smoke ? 1 : quick ? 5 : 21;
const WARM = smoke ? 1 : quick ? 10 : 50;
/** once.js from tsc's output; once.ts through tsx when this file runs from source. */
const fromSource = import.meta.url.endsWith(".ts");
const ONCE = [
  // tsx by its URL: the child runs in each schema's directory, where "tsx" does not resolve.
  ...(fromSource ? ["--import", import.meta.resolve("tsx")] : []),
  join(here, fromSource ? "once.ts" : "once.js"),
];
const STD = ["/usr/local/include", "/usr/include"];

interface Case {
  name: string;
  /** Working directory and the files, named relative to it (as capnp names them). */
  cwd: string;
  files: string[];
}

const CASES: Case[] = [
  {
    name: "test/schemas/frontend/all.capnp + other.capnp (every construct)",
    cwd: join(root, "test/schemas/frontend"),
    files: ["all.capnp", "other.capnp"],
  },
  { name: "test/interop/schema/test.capnp", cwd: join(root, "test/interop/schema"), files: ["test.capnp"] },
  { name: "/usr/include/capnp/schema.capnp", cwd: "/usr/include/capnp", files: ["schema.capnp"] },
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function nodeCount(bytes: Uint8Array): number {
  const r = new MessageReader(decodeFrame(bytes).segments, { traversalLimitInWords: 1 << 30 });
  return r.getRoot(CodeGeneratorRequest_Reader).nodes.length;
}

/** Wall time of a process, in ms; throws when it fails. */
function timeProcess(cmd: string, args: string[], cwd: string): { ms: number; stdout: Uint8Array } {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { cwd, maxBuffer: 1 << 28, env: { ...process.env, PWD: cwd } });
  const ms = performance.now() - t0;
  if (r.error !== undefined) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${r.stderr.toString()}`);
  return { ms, stdout: new Uint8Array(r.stdout) };
}

function readFile(path: string): Uint8Array | undefined {
  try {
    return new Uint8Array(readFileSync(path));
  } catch {
    return undefined;
  }
}

function inProcess(c: Case): number {
  const t0 = performance.now();
  const { request } = compileSchemas(
    c.files.map((f) => ({ path: join(c.cwd, f), name: f })),
    { source: { readFile }, importPaths: STD },
  );
  const ms = performance.now() - t0;
  if (request.getSegmentsForOutput().length === 0) throw new Error("empty request");
  return ms;
}

const haveCapnp = spawnSync("capnp", ["--version"]).status === 0;
const fmt = (ms: number): string => `${ms < 10 ? ms.toFixed(2) : ms.toFixed(1)} ms`;

console.log("## Schema compiler: capnts's front end against `capnp compile -o-`\n");
console.log(`Medians of ${RUNS} runs (warm: of ${WARM}); Node ${process.versions.node}.\n`);
if (!haveCapnp) console.log("(capnp is not installed: its column is empty; apt-get install capnproto)\n");
console.log(
  "| schema | nodes | capnp process | capnts process | capnts first call | capnts warm | warm / capnp |",
);
console.log("|---|---|---|---|---|---|---|");
for (const c of CASES) {
  const first = inProcess(c);
  for (let i = 0; i < WARM; i++) inProcess(c);
  const warm: number[] = [];
  for (let i = 0; i < WARM; i++) warm.push(inProcess(c));
  const capnp: number[] = [];
  let capnpNodes = -1;
  const ours: number[] = [];
  let ourNodes = -1;
  for (let i = 0; i < RUNS; i++) {
    if (haveCapnp) {
      const r = timeProcess("capnp", ["compile", "-o-", ...c.files], c.cwd);
      capnp.push(r.ms);
      capnpNodes = nodeCount(r.stdout);
    }
    const o = timeProcess(process.execPath, [...ONCE, ...STD.flatMap((d) => ["-I", d]), ...c.files], c.cwd);
    ours.push(o.ms);
    ourNodes = nodeCount(o.stdout);
  }
  if (haveCapnp && capnpNodes !== ourNodes)
    throw new Error(`${c.name}: capnp wrote ${capnpNodes} nodes, capnts ${ourNodes}`);
  const w = median(warm);
  console.log(
    `| ${c.name} | ${ourNodes} | ${haveCapnp ? fmt(median(capnp)) : "-"} | ${fmt(median(ours))} | ${fmt(first)} | ${fmt(w)} | ${haveCapnp ? `${(w / median(capnp)).toFixed(2)}x` : "-"} |`,
  );
}

const bare: number[] = [];
for (let i = 0; i < RUNS; i++) bare.push(timeProcess(process.execPath, ["-e", "0"], root).ms);
console.log(`\nNode starting and exiting (\`node -e 0\`): ${fmt(median(bare))}.`);
