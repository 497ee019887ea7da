// Smoke test of the serialization comparison against C++ (bench/cpp-serialization and
// bench/cpp/serialization-read.c++): the C++ program builds, computes exactly the reference
// answers on messages capnts encoded (read-only and bytes modes), and the driver runs end to end
// with tiny counts. No timing
// assertions. Needs g++, capnp and libcapnp-dev: fails when CI is set and they are missing,
// skips otherwise (like the interop tests).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it, test } from "node:test";
import { buildCpp, toolchainProblem } from "../../bench/cpp-serialization/build.mjs";
import { type CppMode, CppReader } from "../../bench/cpp-serialization/cpp.js";
import type { PairReport } from "../../bench/cpp-serialization/report.js";
import { capnts } from "../../bench/serialization/contenders/capnts.js";
import {
  carsalesAnswer,
  catrankAnswer,
  catrankReadAnswer,
  evalAnswer,
  FastRand,
  randomExpression,
  randomParkingLot,
  randomSearchResults,
} from "../../bench/serialization/data.js";

const root = join(import.meta.dirname, "..", "..");
const problem = toolchainProblem();
const skip = problem !== null && !process.env["CI"] ? `C++ toolchain missing: ${problem}` : false;

test("CI must have the C++ toolchain", () => {
  // On a user's machine the tests below skip; in CI a missing toolchain is a failure.
  if (problem !== null && process.env["CI"]) assert.fail(problem);
});

describe("serialization-read (C++) against capnts", { skip }, () => {
  let binary = "";
  let dir = "";
  before(() => {
    binary = buildCpp();
    dir = mkdtempSync(join(tmpdir(), "capnts-cpp-ser-smoke-"));
  });
  after(() => {
    if (dir !== "") rmSync(dir, { recursive: true, force: true });
  });

  /** Writes the frames, runs the program on them; returns its answers (and checks a batch runs). */
  async function cppAnswers(workload: string, mode: CppMode, frames: readonly unknown[]): Promise<bigint[]> {
    const files = frames.map((f, k) => {
      const file = join(dir, `${workload}-${k}.bin`);
      writeFileSync(file, f as Uint8Array);
      return file;
    });
    const cpp = new CppReader(binary, workload, mode, files);
    try {
      const answers = await cpp.answers();
      // A batch longer than the pool: the program cycles and checks every op against its answers.
      const ms = await cpp.batch(2 * frames.length + 1, "wall");
      assert.ok(ms >= 0 && Number.isFinite(ms), `batch time ${ms}`);
      return answers;
    } finally {
      assert.equal(await cpp.close(), 0);
    }
  }

  const r = new FastRand(42);

  /**
   * Tiny inputs per workload (empty, one element, a few, and the benchmark's 150 cars), encoded
   * by capnts (read-only: the messages read; bytes: the round-trip inputs), with the plain-JS
   * reference answers of each mode.
   */
  const CASES: { workload: string; frames: unknown[]; want: Record<CppMode, number[]> }[] = (() => {
    const lots = [0, 1, 7, 150].map((n) => randomParkingLot(r, n));
    const lists = [0, 1, 40].map((n) => randomSearchResults(r, n));
    const exprs = [0, 0, 7, 0].map((depth) => randomExpression(r, depth));
    const carsales = lots.map(carsalesAnswer);
    const evals = exprs.map(evalAnswer);
    return [
      {
        workload: "carsales",
        frames: lots.map((l) => capnts.carsales.encode(l)),
        want: { read: carsales, bytes: carsales },
      },
      {
        workload: "catrank",
        frames: lists.map((l) => capnts.catrank.encode(l)),
        want: { read: lists.map(catrankReadAnswer), bytes: lists.map(catrankAnswer) },
      },
      {
        workload: "eval",
        frames: exprs.map((e) => capnts.eval.encode(e)),
        want: { read: evals, bytes: evals },
      },
    ];
  })();

  for (const c of CASES) {
    for (const mode of ["read", "bytes"] as const) {
      it(`${c.workload} ${mode}: the reference answers`, async () => {
        assert.deepEqual(await cppAnswers(c.workload, mode, c.frames), c.want[mode].map(BigInt));
      });
    }
  }

  it("rejects a file that is not whole words", () => {
    const file = join(dir, "bad.bin");
    writeFileSync(file, new Uint8Array([1, 2, 3]));
    const res = spawnSync(binary, ["carsales", "read", file], { input: "", encoding: "utf8" });
    assert.equal(res.status, 2);
    assert.match(res.stderr, /whole number of words/);
  });

  it("the driver (--smoke) runs every workload and mode and prints the table", () => {
    const json = join(dir, "out.json");
    const res = spawnSync(
      process.execPath,
      ["--import", "tsx", join(root, "bench", "cpp-serialization", "main.ts"), "--smoke", `--json=${json}`],
      { cwd: root, encoding: "utf8", timeout: 240_000 },
    );
    assert.equal(res.status, 0, res.stderr);
    assert.match(res.stdout, /\| workload \| mode \| request \| capnts ops\/s \| C\+\+ ops\/s \|/);
    const out = JSON.parse(readFileSync(json, "utf8")) as { reports: PairReport[] };
    assert.deepEqual(
      out.reports.map((p) => `${p.workload} ${p.mode}`),
      ["carsales read", "carsales bytes", "catrank read", "catrank bytes", "eval read", "eval bytes"],
    );
    for (const p of out.reports) {
      assert.ok(p.capnts.opsPerSec > 0 && p.cpp.opsPerSec > 0, `${p.workload} ${p.mode}: ops/s measured`);
    }
    assert.equal(res.stdout.match(/^\| (carsales|catrank|eval) \| /gm)?.length, 6, res.stdout);
  });
});
