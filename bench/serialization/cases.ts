/**
 * The benchmark cases: per workload, a pool of inputs (deterministic, from a seeded FastRand),
 * their reference answers, and for every contender and mode the function to time.
 */
import { capnpEs } from "./contenders/capnp-es.js";
import { capnts } from "./contenders/capnts.js";
import { json } from "./contenders/json.js";
import { protobufEs } from "./contenders/protobuf-es.js";
import {
  carsalesAnswer,
  catrankAnswer,
  catrankReadAnswer,
  evalAnswer,
  expressionSize,
  FastRand,
  randomExpression,
  randomParkingLot,
  randomSearchResults,
} from "./data.js";
import type { Contender, WorkloadOps } from "./types.js";

export const CONTENDERS: readonly Contender[] = [capnts, capnpEs, json, protobufEs];
export const REFERENCE = "capnts";

export type WorkloadName = "carsales" | "catrank" | "eval";
export const WORKLOADS: readonly WorkloadName[] = ["carsales", "catrank", "eval"];
export type CaseMode = "object" | "bytes" | "packed" | "read";
export const CASE_MODES: readonly CaseMode[] = ["object", "bytes", "packed", "read"];

/** One timed unit: `run(args[k]) === expected[k]` for every k, cycling through the pool. */
export interface Case {
  workload: WorkloadName;
  mode: CaseMode;
  contender: string;
  run: (arg: unknown) => number;
  args: readonly unknown[];
  expected: readonly number[];
}

export interface WorkloadSetup {
  workload: WorkloadName;
  /** What a round-trip request holds, and what the read-only message holds (for the tables). */
  roundTripSize: string;
  readSize: string;
  cases: Case[];
}

/** Sizes of the read-only messages (the target names the 150-car carsales message). */
export const READ_CARS = 150;
export const READ_RESULTS = 500;

interface Pools<In> {
  inputs: In[];
  answers: number[];
  readInputs: In[];
  readAnswers: number[];
}

function pools(
  workload: WorkloadName,
  poolSize: number,
): Pools<unknown> & { roundTripSize: string; readSize: string } {
  // One seed per workload, so adding a workload does not change another's inputs.
  const r = new FastRand(workload === "carsales" ? 1 : workload === "catrank" ? 2 : 3);
  switch (workload) {
    case "carsales": {
      const inputs = Array.from({ length: poolSize }, () => randomParkingLot(r));
      const readInputs = Array.from({ length: poolSize }, () => randomParkingLot(r, READ_CARS));
      const avg = inputs.reduce((s, l) => s + l.cars.length, 0) / poolSize;
      return {
        inputs,
        answers: inputs.map(carsalesAnswer),
        readInputs,
        readAnswers: readInputs.map(carsalesAnswer),
        roundTripSize: `0-199 cars (mean ${avg.toFixed(0)})`,
        readSize: `${READ_CARS} cars`,
      };
    }
    case "catrank": {
      const inputs = Array.from({ length: poolSize }, () => randomSearchResults(r));
      const readInputs = Array.from({ length: poolSize }, () => randomSearchResults(r, READ_RESULTS));
      const avg = inputs.reduce((s, l) => s + l.results.length, 0) / poolSize;
      return {
        inputs,
        answers: inputs.map(catrankAnswer),
        readInputs,
        readAnswers: readInputs.map(catrankReadAnswer),
        roundTripSize: `0-999 results (mean ${avg.toFixed(0)})`,
        readSize: `${READ_RESULTS} results`,
      };
    }
    case "eval": {
      const inputs = Array.from({ length: poolSize }, () => randomExpression(r));
      const avg = inputs.reduce((s, e) => s + expressionSize(e), 0) / poolSize;
      const size = `random trees (mean ${avg.toFixed(0)} nodes)`;
      return {
        inputs,
        answers: inputs.map(evalAnswer),
        readInputs: inputs,
        readAnswers: inputs.map(evalAnswer),
        roundTripSize: size,
        readSize: size,
      };
    }
  }
}

/** The cases of `workload` (only those of `modes`, if given: a child process times one mode). */
export function setupWorkload(
  workload: WorkloadName,
  poolSize: number,
  contenders: readonly Contender[] = CONTENDERS,
  modes?: readonly string[],
): WorkloadSetup {
  const p = pools(workload, poolSize);
  const cases: Case[] = [];
  const want = (m: CaseMode) => modes === undefined || modes.includes(m);
  for (const c of contenders) {
    const ops = c[workload] as WorkloadOps<unknown>;
    const rt = (mode: CaseMode, fn: ((input: unknown) => number) | undefined) => {
      if (fn !== undefined && want(mode)) {
        cases.push({ workload, mode, contender: c.name, run: fn, args: p.inputs, expected: p.answers });
      }
    };
    rt("object", ops.object);
    rt("bytes", ops.bytes);
    rt("packed", ops.packed);
    if (!want("read")) continue;
    cases.push({
      workload,
      mode: "read",
      contender: c.name,
      run: ops.read,
      args: p.readInputs.map((i) => ops.encode(i)),
      expected: p.readAnswers,
    });
  }
  return { workload, roundTripSize: p.roundTripSize, readSize: p.readSize, cases };
}
