// Smoke test of the serialization benchmarks (bench/serialization): every workload, contender
// and mode runs once on small inputs and must compute the reference answer, so a benchmark
// cannot silently time wrong (or skipped) work. Also runs the timing harness and the report with
// tiny counts. No timing assertions.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CONTENDERS, REFERENCE, setupWorkload, WORKLOADS } from "../../bench/serialization/cases.js";
import {
  carsalesAnswer,
  catrankReference,
  catrankResponseDigest,
  evalAnswer,
  FastRand,
  randomExpression,
  randomParkingLot,
  randomSearchResults,
} from "../../bench/serialization/data.js";
import { measure } from "../../bench/serialization/harness.js";
import { formatReport } from "../../bench/serialization/report.js";
import { MODES } from "../../bench/serialization/types.js";

describe("serialization benchmark workloads", () => {
  const r = new FastRand(42);
  const lots = [randomParkingLot(r, 0), randomParkingLot(r, 1), randomParkingLot(r, 7)];
  const lists = [randomSearchResults(r, 0), randomSearchResults(r, 1), randomSearchResults(r, 40)];
  const exprs = [randomExpression(r), randomExpression(r), randomExpression(r, 7)];

  for (const c of CONTENDERS) {
    it(`${c.name}: carsales answers agree with the reference in every mode`, () => {
      for (const lot of lots) {
        const want = carsalesAnswer(lot);
        for (const m of MODES) {
          const f = c.carsales[m];
          if (f !== undefined) assert.equal(f(lot), want, `${m}, ${lot.cars.length} cars`);
        }
        assert.equal(c.carsales.read(c.carsales.encode(lot)), want, "read-only");
      }
    });

    it(`${c.name}: catrank ranks, sorts and copies every result`, () => {
      for (const list of lists) {
        const ref = catrankReference(list);
        const good = ref.filter((x) => x.score > 1001).length;
        for (const m of MODES) {
          const f = c.catrank[m];
          if (f === undefined) continue;
          assert.equal(f(list), good, `${m} good count, ${list.results.length} results`);
          assert.equal(c.catrank.digest(list, m), catrankResponseDigest(ref), `${m} response digest`);
        }
      }
    });

    it(`${c.name}: eval evaluates every expression`, () => {
      for (const e of exprs) {
        const want = evalAnswer(e);
        for (const m of MODES) {
          const f = c.eval[m];
          if (f !== undefined) assert.equal(f(e), want, m);
        }
        assert.equal(c.eval.read(c.eval.encode(e)), want, "read-only");
      }
    });
  }

  it("every Cap'n Proto contender has a packed mode, the others do not claim one", () => {
    for (const c of CONTENDERS) {
      const capnp = c.name === "capnts" || c.name === "capnp-es";
      for (const w of WORKLOADS) assert.equal(c[w].packed !== undefined, capnp, `${c.name} ${w}`);
    }
  });
});

describe("serialization benchmark harness", () => {
  it("measures every case of every workload (tiny counts) and prints the tables", () => {
    const reports = WORKLOADS.map((w) => {
      const setup = setupWorkload(w, 2);
      const results = measure(setup.cases, { warmupMs: 0, sampleMs: 0, rounds: 1 });
      assert.equal(results.length, setup.cases.length);
      for (const x of results) assert.ok(x.opsPerSec > 0, `${x.contender} ${x.workload} ${x.mode}`);
      return { workload: w, roundTripSize: setup.roundTripSize, readSize: setup.readSize, results };
    });
    const table = formatReport(
      reports,
      CONTENDERS.map((c) => c.name),
      REFERENCE,
    );
    for (const w of WORKLOADS) assert.match(table, new RegExp(`### ${w}`));
    assert.match(table, /capnts\/capnp-es/);
  });
});
