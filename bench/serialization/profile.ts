/**
 * Runs one benchmark case in a loop, for profiling:
 *
 *   node bench/serialization/build.mjs
 *   node --cpu-prof --cpu-prof-dir=prof node_modules/.cache/capnts-bench/bench/serialization/profile.js \
 *        carsales read [capnts] [seconds=5]
 *
 * then summarise the profile with `node bench/serialization/prof-summary.mjs prof/CPU*.cpuprofile`.
 * (Through tsx it runs too, but slower for capnts than users would see: see build.mjs.)
 */
import { type CaseMode, setupWorkload, type WorkloadName } from "./cases.js";

const [workload = "carsales", mode = "read", contender = "capnts", seconds = "5"] = process.argv.slice(2);
const setup = setupWorkload(workload as WorkloadName, 16);
const c = setup.cases.find((x) => x.mode === (mode as CaseMode) && x.contender === contender);
if (c === undefined) throw new Error(`no case ${workload} ${mode} ${contender}`);
// "5" runs for 5 seconds; "20000x" runs exactly 20000 calls (for `perf stat -e instructions`,
// which counts work regardless of what else the machine is doing).
const fixed = seconds.endsWith("x") ? Number(seconds.slice(0, -1)) : -1;
const t0 = performance.now();
const cpu0 = process.cpuUsage();
const end = t0 + Number(seconds) * 1000;
let ops = 0;
let k = 0;
while (fixed >= 0 ? ops < fixed : performance.now() < end) {
  for (let i = 0; i < 16; i++) {
    if (c.run(c.args[k]) !== c.expected[k]) throw new Error("wrong answer");
    if (++k === c.args.length) k = 0;
    ops++;
  }
}
// Also per CPU second of this process: less disturbed than wall time when the machine is busy.
const wall = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
const cpuSec = (cpu.user + cpu.system) / 1e6;
const fmt = (x: number) => Math.round(x).toLocaleString("en-US");
process.stderr.write(
  `${workload} ${mode} ${contender}: ${fmt(ops / wall)} ops/s (${fmt(ops / cpuSec)} per CPU second)\n`,
);
