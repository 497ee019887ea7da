/**
 * Serialization benchmarks (issue 7): carsales, catrank and eval, in object, bytes, packed and
 * read-only modes, for capnts, capnp-es, JSON and protobuf-es, measured in the same run.
 *
 *   node bench/serialization/build.mjs      # tsc to node_modules/.cache/capnts-bench (see there why)
 *   node node_modules/.cache/capnts-bench/bench/serialization/main.js [--quick]
 *        [--workload=carsales,eval] [--contender=capnts,JSON] [--mode=read,bytes] [--pool=16]
 *        [--json=out.json] [--per-workload] [--in-process] [--clock=cpu]
 *
 * --clock=cpu times samples by this process's CPU time instead of wall time: use it when the
 * machine is busy with other work (see harness.ts).
 * Each workload and mode runs in its own child process (like the C++ suite, one process per
 * workload and mode), with the contenders interleaved in it: the JIT's type feedback from one
 * mode does not shape another's (capnts readers over builders in object mode and over parsed
 * bytes in the other modes make the same classes polymorphic; that costs up to several times,
 * see BENCHMARKS.md). --per-workload runs all modes of a workload in one process (that mixed
 * case); --in-process runs everything in this process. Prints one markdown table per workload (see report.ts) to stdout; progress goes
 * to stderr. Normally started by bench/run.mjs (`npm run bench`).
 */
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { CASE_MODES, CONTENDERS, REFERENCE, setupWorkload, WORKLOADS, type WorkloadName } from "./cases.js";
import { type Clock, FULL, measure, QUICK, type Result } from "./harness.js";
import { formatReport, machineLine, type WorkloadReport } from "./report.js";

interface Args {
  quick: boolean;
  workloads: WorkloadName[];
  contenders: string[];
  modes: string[] | undefined;
  pool: number;
  json: string | undefined;
  inProcess: boolean;
  perWorkload: boolean;
  child: boolean;
  clock: Clock;
}

function parseArgs(argv: readonly string[]): Args {
  const a: Args = {
    quick: false,
    workloads: [...WORKLOADS],
    contenders: CONTENDERS.map((c) => c.name),
    modes: undefined,
    pool: 16,
    json: undefined,
    inProcess: false,
    perWorkload: false,
    child: false,
    clock: "wall",
  };
  for (const arg of argv) {
    const [k, v = ""] = arg.split("=", 2) as [string, string | undefined];
    const list = () => v.split(",").filter((s) => s !== "");
    switch (k) {
      case "--quick":
        a.quick = true;
        break;
      case "--workload":
        a.workloads = list() as WorkloadName[];
        for (const w of a.workloads) if (!WORKLOADS.includes(w)) throw new Error(`unknown workload ${w}`);
        break;
      case "--contender":
        a.contenders = list();
        break;
      case "--mode":
        a.modes = list();
        break;
      case "--pool":
        a.pool = Number(v);
        break;
      case "--json":
        a.json = v;
        break;
      case "--in-process":
        a.inProcess = true;
        break;
      case "--per-workload":
        a.perWorkload = true;
        break;
      case "--child":
        a.child = true;
        break;
      case "--clock":
        if (v !== "wall" && v !== "cpu") throw new Error(`--clock=wall or --clock=cpu, not ${v}`);
        a.clock = v;
        break;
      default:
        throw new Error(`unknown argument ${arg}`);
    }
  }
  return a;
}

function runWorkload(w: WorkloadName, a: Args): WorkloadReport {
  const contenders = CONTENDERS.filter((c) => a.contenders.includes(c.name));
  const modes = a.modes;
  const setup = setupWorkload(w, a.pool, contenders, modes);
  const cases = setup.cases;
  const opt = a.quick ? QUICK : FULL;
  const what = modes === undefined ? w : `${w} ${modes.join(",")}`;
  process.stderr.write(`${what}: ${cases.length} cases, ${opt.rounds} rounds `);
  const results: Result[] = measure(cases, opt, () => process.stderr.write("."), a.clock);
  process.stderr.write("\n");
  return { workload: w, roundTripSize: setup.roundTripSize, readSize: setup.readSize, results };
}

/** Runs workload `w` (only `mode`, if given) in a child process. */
function runChild(w: WorkloadName, argv: readonly string[], mode?: string): WorkloadReport {
  const self = fileURLToPath(import.meta.url);
  const rest = argv.filter(
    (s) =>
      !s.startsWith("--workload=") &&
      !s.startsWith("--json=") &&
      (mode === undefined || !s.startsWith("--mode=")),
  );
  if (mode !== undefined) rest.push(`--mode=${mode}`);
  // Through tsx only when started through tsx (for a look without building; timing is not
  // representative then, see build.mjs).
  const loader = self.endsWith(".ts") ? ["--import", "tsx"] : [];
  const r = spawnSync(process.execPath, [...loader, self, "--child", `--workload=${w}`, ...rest], {
    stdio: ["ignore", "pipe", "inherit"],
    encoding: "utf8",
    maxBuffer: 64 << 20,
  });
  if (r.status !== 0) throw new Error(`${w} benchmark failed (exit ${r.status ?? r.signal})`);
  const lines = r.stdout.trim().split("\n");
  return (JSON.parse(lines[lines.length - 1]!) as WorkloadReport[])[0]!;
}

function main(): void {
  const argv = process.argv.slice(2);
  const a = parseArgs(argv);
  if (a.child) {
    process.stdout.write(`${JSON.stringify(a.workloads.map((w) => runWorkload(w, a)))}\n`);
    return;
  }
  const t0 = performance.now();
  const reports = a.workloads.map((w) => {
    if (a.inProcess) return runWorkload(w, a);
    if (a.perWorkload) return runChild(w, argv);
    const parts = CASE_MODES.filter((m) => a.modes === undefined || a.modes.includes(m)).map((m) =>
      runChild(w, argv, m),
    );
    return { ...parts[0]!, results: parts.flatMap((p) => p.results) };
  });
  const names = CONTENDERS.map((c) => c.name).filter((n) => a.contenders.includes(n));
  const seconds = ((performance.now() - t0) / 1000).toFixed(0);
  const mode = a.quick ? "quick" : "full";
  const clock = a.clock === "cpu" ? "ops per CPU second" : "ops per second";
  process.stdout.write(`## Serialization (${mode} run, ${seconds} s, ${clock}; ${machineLine()})\n\n`);
  process.stdout.write(`${formatReport(reports, names, REFERENCE)}\n`);
  if (a.json !== undefined) {
    writeFileSync(
      a.json,
      `${JSON.stringify({ machine: machineLine(), mode, clock: a.clock, date: new Date().toISOString(), reports }, null, 1)}\n`,
    );
  }
}

main();
