/**
 * Serialization, capnts against C++ (issue 7: "read-only within 5x of C++"), in the same run:
 * the `serialization-cpp` group of `npm run bench`. Read-only mode (the target's) and bytes mode.
 *
 *   node bench/cpp-serialization/build.mjs      # tsc (never tsx for timing: BENCHMARKS.md finding 4)
 *   node node_modules/.cache/capnts-bench/bench/cpp-serialization/main.js [--quick]
 *        [--workload=carsales,eval] [--mode=read,bytes] [--pool=16] [--clock=cpu] [--json=FILE]
 *        [--smoke]
 *
 * Per workload and mode, a child process (as the serialization group does: one process per
 * workload and mode, so the JIT's feedback from one does not shape another's) sets up capnts's
 * case exactly as the serialization group does (bench/serialization/cases.ts: the same pool),
 * writes its messages to a temporary directory (read-only: the encoded requests capnts parses;
 * bytes: the round-trip inputs, encoded by capnts), and starts the C++ program
 * (bench/cpp/serialization-read.c++, built by build.mjs --cpp) on them, which loads them into
 * memory once; the directory is removed as soon as the program has answered. The C++ answers
 * must equal capnts's reference answers. Then both are timed like the serialization
 * harness does (bench/serialization/harness.ts): warm-up and calibration to a batch of about
 * 200 ms (60 ms quick), then 11 rounds (5 quick) alternating which goes first, median ops/s. The
 * C++ program times its own batches (wall or process CPU time, as --clock says), so the pipe to
 * it is outside its figures; while one side runs, the other waits.
 *
 * --smoke: two messages, one tiny round (the smoke test: no meaningful timing). Arguments of
 * other groups (--contender, ...) are ignored, since run.mjs passes every argument to every
 * group; --mode keeps the modes this group has (none: the group is skipped).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Case, setupWorkload, WORKLOADS, type WorkloadName } from "../serialization/cases.js";
import { capnts } from "../serialization/contenders/capnts.js";
import { type Clock, FULL, QUICK, type TimingOptions } from "../serialization/harness.js";
import { machineLine } from "../serialization/report.js";
import { CPP_MODES, type CppMode, CppReader } from "./cpp.js";
import { formatReport, type PairReport, type Timing } from "./report.js";

const SMOKE: TimingOptions = { warmupMs: 1, sampleMs: 1, rounds: 1 };

interface Args {
  quick: boolean;
  smoke: boolean;
  workloads: WorkloadName[];
  modes: CppMode[];
  pool: number;
  clock: Clock;
  json: string | undefined;
  child: boolean;
  cpp: string | undefined;
}

function parseArgs(argv: readonly string[]): Args {
  const a: Args = {
    quick: false,
    smoke: false,
    workloads: [...WORKLOADS],
    modes: [...CPP_MODES],
    pool: 16,
    clock: "wall",
    json: undefined,
    child: false,
    cpp: undefined,
  };
  for (const arg of argv) {
    const eq = arg.indexOf("=");
    const k = eq < 0 ? arg : arg.slice(0, eq);
    const v = eq < 0 ? "" : arg.slice(eq + 1);
    switch (k) {
      case "--quick":
        a.quick = true;
        break;
      case "--smoke":
        a.smoke = true;
        a.pool = 2;
        break;
      case "--workload":
        a.workloads = v.split(",").filter((s) => s !== "") as WorkloadName[];
        for (const w of a.workloads) if (!WORKLOADS.includes(w)) throw new Error(`unknown workload ${w}`);
        break;
      case "--pool":
        a.pool = Number(v);
        if (!Number.isInteger(a.pool) || a.pool < 1) throw new Error(`--pool=${v}: a positive integer`);
        break;
      case "--clock":
        if (v !== "wall" && v !== "cpu") throw new Error(`--clock=wall or --clock=cpu, not ${v}`);
        a.clock = v;
        break;
      case "--json":
        a.json = v;
        break;
      case "--child":
        a.child = true;
        break;
      case "--cpp":
        a.cpp = v;
        break;
      case "--mode": {
        const named = v.split(",");
        a.modes = CPP_MODES.filter((m) => named.includes(m));
        break;
      }
      default:
        // Another group's option (run.mjs passes every argument to every group).
        break;
    }
  }
  return a;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  const h = s.length >>> 1;
  return s.length % 2 === 1 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
}

/** Something timed in batches: runs `n` ops, returns their duration in ms on `clock`. */
type Batch = (n: number, clock: Clock) => number | Promise<number>;

/** capnts's case, timed like harness.ts's Runner (every answer checked). */
function capntsBatch(c: Case): Batch {
  let k = 0;
  return (n, clock) => {
    const { run, args, expected } = c;
    const m = args.length;
    let bad = -1;
    let got = 0;
    const c0 = clock === "cpu" ? process.cpuUsage() : undefined;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const v = run(args[k]);
      if (v !== expected[k]) {
        bad = k;
        got = v;
        break;
      }
      if (++k === m) k = 0;
    }
    let t = performance.now() - t0;
    if (c0 !== undefined) {
      const u = process.cpuUsage(c0);
      t = (u.user + u.system) / 1000;
    }
    if (bad >= 0) throw new Error(`capnts ${c.workload} ${c.mode}: answer ${got}, expected ${expected[bad]}`);
    return t;
  };
}

/**
 * harness.ts's measure() for batches that may be asynchronous (the C++ program's answer comes
 * through a pipe, and harness.ts's measure() is synchronous and times its own calls): warm-up
 * and calibration per side (on the wall clock), then rounds whose order rotates, median and
 * spread. The same steps and constants, so the figures compare with the serialization group's.
 */
async function measure(batches: readonly Batch[], opt: TimingOptions, clock: Clock): Promise<Timing[]> {
  const sizes: number[] = [];
  for (const b of batches) {
    let n = 1;
    let spent = 0;
    let last = 0;
    while (spent < opt.warmupMs) {
      last = await b(n, "wall");
      spent += last;
      if (last < opt.sampleMs / 4) n *= 2;
    }
    sizes.push(Math.max(1, Math.round((n * opt.sampleMs) / Math.max(last, 0.001))));
  }
  const samples: number[][] = batches.map(() => []);
  for (let round = 0; round < opt.rounds; round++) {
    for (let j = 0; j < batches.length; j++) {
      const i = (j + round) % batches.length;
      const n = sizes[i]!;
      const ms = await batches[i]!(n, clock);
      samples[i]!.push((n * 1000) / Math.max(ms, 0.001));
    }
    process.stderr.write(".");
  }
  return samples.map((s) => {
    const med = median(s);
    return { opsPerSec: med, spread: median(s.map((x) => Math.abs(x - med))) / med, samples: s };
  });
}

/** One workload and mode, in this process: capnts and the C++ program on the same messages. */
async function runCase(w: WorkloadName, mode: CppMode, a: Args): Promise<PairReport> {
  if (a.cpp === undefined) throw new Error("--cpp=PATH of serialization-read is required with --child");
  const setup = setupWorkload(w, a.pool, [capnts], [mode]);
  const c = setup.cases[0]!;
  // Read-only: the encoded requests capnts parses. Bytes: the inputs capnts builds its requests
  // from (plain JS objects), encoded for the C++ program, which turns them back into plain values.
  const encode = capnts[w].encode as (input: unknown) => Uint8Array;
  const frames = mode === "read" ? (c.args as Uint8Array[]) : c.args.map(encode);
  const dir = mkdtempSync(join(tmpdir(), "capnts-cpp-ser-"));
  let cpp: CppReader | undefined;
  try {
    const files = frames.map((f, k) => {
      const file = join(dir, `${w}-${k}.bin`);
      writeFileSync(file, f);
      return file;
    });
    cpp = new CppReader(a.cpp, w, mode, files);
    const answers = await cpp.answers();
    // The program has loaded every message: the files are no longer needed.
    rmSync(dir, { recursive: true, force: true });
    const want = c.expected.map((x) => BigInt(x));
    if (answers.length !== want.length || answers.some((x, k) => x !== want[k])) {
      throw new Error(`${w} ${mode}: C++ answers ${answers.join(" ")}, expected ${want.join(" ")}`);
    }
    const opt = a.smoke ? SMOKE : a.quick ? QUICK : FULL;
    process.stderr.write(`${w} ${mode}, capnts and C++: ${opt.rounds} rounds `);
    const cppRef = cpp;
    const [capntsT, cppT] = await measure(
      [capntsBatch(c), (n, clock) => cppRef.batch(n, clock)],
      opt,
      a.clock,
    );
    process.stderr.write("\n");
    const status = await cpp.close();
    cpp = undefined;
    if (status !== 0) throw new Error(`serialization-read exited with ${status}`);
    return {
      workload: w,
      mode,
      size: mode === "read" ? setup.readSize : setup.roundTripSize,
      meanBytes: frames.reduce((s, f) => s + f.length, 0) / frames.length,
      messages: frames.length,
      capnts: capntsT!,
      cpp: cppT!,
    };
  } finally {
    if (cpp !== undefined) await cpp.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The repository (the nearest directory up whose package.json is capnts's): from source or tsc's output. */
function repoRoot(): string {
  for (let d = dirname(fileURLToPath(import.meta.url)); ; d = dirname(d)) {
    const p = join(d, "package.json");
    if (existsSync(p) && (JSON.parse(readFileSync(p, "utf8")) as { name?: string }).name === "capnts")
      return d;
    if (dirname(d) === d) throw new Error("cannot find the capnts repository above this program");
  }
}

/** Builds the C++ program; returns its path, or a `skipped` reason when the toolchain is missing. */
function buildCpp(root: string): { binary: string } | { skipped: string } {
  const r = spawnSync(process.execPath, [join(root, "bench", "cpp-serialization", "build.mjs"), "--cpp"], {
    cwd: root,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (r.status === 3) return { skipped: r.stderr.trim() };
  if (r.status !== 0) throw new Error(`building serialization-read failed:\n${r.stderr}`);
  return { binary: r.stdout.trim() };
}

function runChild(w: WorkloadName, mode: CppMode, argv: readonly string[], binary: string): PairReport {
  const self = fileURLToPath(import.meta.url);
  const rest = argv.filter((s) => !/^--(workload|mode|json|cpp)=/.test(s));
  // Through tsx only when started through tsx (the smoke test; timing is not representative then).
  const loader = self.endsWith(".ts") ? ["--import", "tsx"] : [];
  const r = spawnSync(
    process.execPath,
    [...loader, self, "--child", `--workload=${w}`, `--mode=${mode}`, `--cpp=${binary}`, ...rest],
    { stdio: ["ignore", "pipe", "inherit"], encoding: "utf8", maxBuffer: 64 << 20 },
  );
  if (r.status !== 0) throw new Error(`${w} ${mode}: C++ comparison failed (exit ${r.status ?? r.signal})`);
  const lines = r.stdout.trim().split("\n");
  return JSON.parse(lines[lines.length - 1]!) as PairReport;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const a = parseArgs(argv);
  if (a.child) {
    process.stdout.write(`${JSON.stringify(await runCase(a.workloads[0]!, a.modes[0]!, a))}\n`);
    return;
  }
  const title = "## Serialization: capnts against C++";
  if (a.modes.length === 0) {
    process.stdout.write(`${title}: skipped (--mode names neither read nor bytes)\n`);
    return;
  }
  const t0 = performance.now();
  const root = repoRoot();
  const built = a.cpp !== undefined ? { binary: a.cpp } : buildCpp(root);
  if ("skipped" in built) {
    process.stdout.write(`${title}: skipped, ${built.skipped}\n`);
    return;
  }
  const reports = a.workloads.flatMap((w) => a.modes.map((m) => runChild(w, m, argv, built.binary)));
  const seconds = ((performance.now() - t0) / 1000).toFixed(0);
  const run = a.smoke ? "smoke run" : a.quick ? "quick run" : "full run";
  const clock = a.clock === "cpu" ? "ops per CPU second" : "ops per second";
  const lib = spawnSync("pkg-config", ["--modversion", "capnp"], { encoding: "utf8" }).stdout?.trim() || "?";
  process.stdout.write(
    `${title} (${run}, ${seconds} s, ${clock}; C++: libcapnp ${lib}, g++ -O2; ${machineLine()})\n\n`,
  );
  process.stdout.write(`${formatReport(reports)}\n`);
  if (a.json !== undefined) {
    writeFileSync(
      a.json,
      `${JSON.stringify({ machine: machineLine(), run, clock: a.clock, libcapnp: lib, date: new Date().toISOString(), reports }, null, 1)}\n`,
    );
  }
}

await main();
