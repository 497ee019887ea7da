/**
 * Timing. Every case is calibrated once (a batch size that takes about `sampleMs`), then measured
 * in rounds: each round times one batch of every case, in an order rotated from round to round,
 * so slow drifts of the machine (other processes, thermal state) hit all contenders alike. The
 * result per case is the median over rounds of ops/s, with the spread (median absolute deviation
 * relative to the median). Every call's answer is compared with the reference answer; a wrong
 * answer aborts the benchmark.
 *
 * No forced GC between samples: a full GC shrinks V8's young generation, and the next samples
 * of allocating code then pay many more scavenges (catrank ran 2.5x slower with gc() before
 * each sample).
 */
import type { Case } from "./cases.js";

export interface TimingOptions {
  /** Warm-up time per case before calibration (JIT tiers up). */
  warmupMs: number;
  /** Target duration of one timed batch. */
  sampleMs: number;
  /** Number of rounds (samples per case). */
  rounds: number;
}

export const QUICK: TimingOptions = { warmupMs: 250, sampleMs: 60, rounds: 5 };
export const FULL: TimingOptions = { warmupMs: 500, sampleMs: 200, rounds: 11 };

/**
 * What a sample's duration is: "wall" (performance.now) or "cpu" (this process's user + system
 * CPU time, all threads: GC and JIT helpers included). On a machine shared with other work, CPU
 * time is much less disturbed than wall time; on an idle one they agree within a few percent
 * for these single-threaded benchmarks.
 */
export type Clock = "wall" | "cpu";

export interface Result {
  workload: string;
  mode: string;
  contender: string;
  /** Median ops/s over the rounds. */
  opsPerSec: number;
  /** Median absolute deviation over the median, as a fraction. */
  spread: number;
  samples: number[];
}

class Runner {
  private cursor = 0;
  constructor(readonly c: Case) {}

  /** Runs `n` calls; returns elapsed milliseconds on `clock`. Throws on a wrong answer. */
  batch(n: number, clock: Clock = "wall"): number {
    const { run, args, expected } = this.c;
    const m = args.length;
    let k = this.cursor;
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
      const c = process.cpuUsage(c0);
      t = (c.user + c.system) / 1000;
    }
    this.cursor = k;
    if (bad >= 0) {
      const c = this.c;
      throw new Error(
        `${c.contender} ${c.workload} ${c.mode}: answer ${got}, expected ${expected[bad]} (input ${bad})`,
      );
    }
    return t;
  }
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >>> 1;
  return s.length % 2 === 1 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
}

/** Measures every case; `progress` is called after each round. */
export function measure(
  cases: readonly Case[],
  opt: TimingOptions,
  progress?: (round: number) => void,
  clock: Clock = "wall",
): Result[] {
  const runners = cases.map((c) => new Runner(c));
  const sizes: number[] = [];
  // Warm up and calibrate each case in turn.
  for (const r of runners) {
    let n = 1;
    let spent = 0;
    let last = 0;
    while (spent < opt.warmupMs) {
      last = r.batch(n);
      spent += last;
      if (last < opt.sampleMs / 4) n *= 2;
    }
    // Per-call time from the last batch, and enough calls for one sample.
    sizes.push(Math.max(1, Math.round((n * opt.sampleMs) / Math.max(last, 0.001))));
  }
  const samples: number[][] = runners.map(() => []);
  for (let round = 0; round < opt.rounds; round++) {
    for (let j = 0; j < runners.length; j++) {
      const i = (j + round) % runners.length;
      const n = sizes[i]!;
      const ms = runners[i]!.batch(n, clock);
      samples[i]!.push((n * 1000) / Math.max(ms, 0.001));
    }
    progress?.(round);
  }
  return cases.map((c, i) => {
    const s = samples[i]!;
    const med = median(s);
    const mad = median(s.map((x) => Math.abs(x - med)));
    return {
      workload: c.workload,
      mode: c.mode,
      contender: c.contender,
      opsPerSec: med,
      spread: mad / med,
      samples: s,
    };
  });
}
