/**
 * JSON: the same workloads over plain JS objects. `object` mode builds fresh plain objects (the
 * in-memory baseline: what a program does without any serialization library); `bytes` mode adds
 * JSON.stringify and JSON.parse. The serialized form is the JS string (no UTF-8 encode/decode
 * step), which favours JSON: a socket or file needs bytes. JSON has no packed form.
 */
import {
  applyOp,
  type CarIn,
  catrankResponseDigest,
  type ExpressionIn,
  type OperandIn,
  type ParkingLotIn,
  type SearchResultIn,
  type SearchResultListIn,
} from "../data.js";
import type { CatrankOps, Contender, Mode, WorkloadOps } from "../types.js";

/** Round-trip through JSON in bytes mode; the same object in object mode. */
function pass<T>(value: T, mode: Mode): T {
  return mode === "object" ? value : (JSON.parse(JSON.stringify(value)) as T);
}

// ---- carsales --------------------------------------------------------------------------------

function buildLot(lot: ParkingLotIn): ParkingLotIn {
  const cars = lot.cars;
  const out: CarIn[] = new Array(cars.length);
  for (let i = 0; i < cars.length; i++) {
    const c = cars[i]!;
    const ws = c.wheels;
    const wheels = new Array(ws.length);
    for (let j = 0; j < ws.length; j++) {
      const w = ws[j]!;
      wheels[j] = { diameter: w.diameter, airPressure: w.airPressure, snowTires: w.snowTires };
    }
    const e = c.engine;
    out[i] = {
      make: c.make,
      model: c.model,
      color: c.color,
      seats: c.seats,
      doors: c.doors,
      wheels,
      length: c.length,
      width: c.width,
      height: c.height,
      weight: c.weight,
      engine: {
        horsepower: e.horsepower,
        cylinders: e.cylinders,
        cc: e.cc,
        usesGas: e.usesGas,
        usesElectric: e.usesElectric,
      },
      fuelCapacity: c.fuelCapacity,
      fuelLevel: c.fuelLevel,
      hasPowerWindows: c.hasPowerWindows,
      hasPowerSteering: c.hasPowerSteering,
      hasCruiseControl: c.hasCruiseControl,
      cupHolders: c.cupHolders,
      hasNavSystem: c.hasNavSystem,
    };
  }
  return { cars: out };
}

function carValue(car: CarIn): number {
  let result = 0;
  result += car.seats * 200;
  result += car.doors * 350;
  const wheels = car.wheels;
  for (let i = 0; i < wheels.length; i++) {
    const w = wheels[i]!;
    result += w.diameter * w.diameter;
    result += w.snowTires ? 100 : 0;
  }
  result += Math.floor((car.length * car.width * car.height) / 50);
  const engine = car.engine;
  result += engine.horsepower * 40;
  if (engine.usesElectric) result += engine.usesGas ? 5000 : 3000;
  result += car.hasPowerWindows ? 100 : 0;
  result += car.hasPowerSteering ? 200 : 0;
  result += car.hasCruiseControl ? 400 : 0;
  result += car.hasNavSystem ? 2000 : 0;
  result += car.cupHolders * 25;
  return result;
}

function lotValue(lot: ParkingLotIn): number {
  const cars = lot.cars;
  let total = 0;
  for (let i = 0; i < cars.length; i++) total += carValue(cars[i]!);
  return total;
}

interface TotalValue {
  amount: number;
}

function carsalesRound(input: ParkingLotIn, mode: Mode): number {
  const req = pass(buildLot(input), mode);
  const resp = pass<TotalValue>({ amount: lotValue(req) }, mode);
  return resp.amount;
}

const carsales: WorkloadOps<ParkingLotIn> = {
  object: (input) => carsalesRound(input, "object"),
  bytes: (input) => carsalesRound(input, "bytes"),
  encode: (input) => JSON.stringify(buildLot(input)),
  read: (encoded) => lotValue(JSON.parse(encoded as string) as ParkingLotIn),
};

// ---- catrank ---------------------------------------------------------------------------------

function buildResults(input: SearchResultListIn): SearchResultListIn {
  const rs = input.results;
  const out: SearchResultIn[] = new Array(rs.length);
  for (let i = 0; i < rs.length; i++) {
    const r = rs[i]!;
    out[i] = { url: r.url, score: r.score, snippet: r.snippet };
  }
  return { results: out };
}

interface Scored {
  score: number;
  result: SearchResultIn;
}

function byScore(a: Scored, b: Scored): number {
  return b.score - a.score;
}

function rank(req: SearchResultListIn): SearchResultListIn {
  const results = req.results;
  const n = results.length;
  const scored: Scored[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const result = results[i]!;
    let score = result.score;
    const snippet = result.snippet;
    if (snippet.includes(" cat ")) score *= 10000;
    if (snippet.includes(" dog ")) score /= 10000;
    scored[i] = { score, result };
  }
  scored.sort(byScore);
  const out: SearchResultIn[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const s = scored[i]!;
    out[i] = { url: s.result.url, score: s.score, snippet: s.result.snippet };
  }
  return { results: out };
}

function goodCount(resp: SearchResultListIn): number {
  const results = resp.results;
  let good = 0;
  for (let i = 0; i < results.length; i++) {
    if (results[i]!.score > 1001) good++;
    else break;
  }
  return good;
}

function catrankRound(input: SearchResultListIn, mode: Mode, digest: boolean): number {
  const req = pass(buildResults(input), mode);
  const resp = pass(rank(req), mode);
  return digest ? catrankResponseDigest(resp.results) : goodCount(resp);
}

const catrank: CatrankOps = {
  object: (input) => catrankRound(input, "object", false),
  bytes: (input) => catrankRound(input, "bytes", false),
  digest: (input, mode) => catrankRound(input, mode === "packed" ? "bytes" : mode, true),
  encode: (input) => JSON.stringify(buildResults(input)),
  read(encoded) {
    const results = (JSON.parse(encoded as string) as SearchResultListIn).results;
    let good = 0;
    let urlChars = 0;
    for (let i = 0; i < results.length; i++) {
      const r = results[i]!;
      let score = r.score;
      const snippet = r.snippet;
      if (snippet.includes(" cat ")) score *= 10000;
      if (snippet.includes(" dog ")) score /= 10000;
      if (score > 1001) good++;
      urlChars += r.url.length;
    }
    return good * 1e6 + urlChars;
  },
};

// ---- eval ------------------------------------------------------------------------------------

/** JSON form of an operand: a union object with exactly one of `value` / `expression`. */
type OperandJ = { value: number } | { expression: ExpressionJ };
interface ExpressionJ {
  op: number;
  left: OperandJ;
  right: OperandJ;
}

function buildOperand(o: OperandIn): OperandJ {
  return typeof o === "number" ? { value: o } : { expression: buildExpression(o) };
}

function buildExpression(e: ExpressionIn): ExpressionJ {
  return { op: e.op, left: buildOperand(e.left), right: buildOperand(e.right) };
}

function operand(o: OperandJ): number {
  return "value" in o ? o.value : evaluate(o.expression);
}

function evaluate(e: ExpressionJ): number {
  return applyOp(e.op, operand(e.left), operand(e.right));
}

interface EvaluationResult {
  value: number;
}

function evalRound(input: ExpressionIn, mode: Mode): number {
  const req = pass(buildExpression(input), mode);
  const resp = pass<EvaluationResult>({ value: evaluate(req) }, mode);
  return resp.value;
}

const evalOps: WorkloadOps<ExpressionIn> = {
  object: (input) => evalRound(input, "object"),
  bytes: (input) => evalRound(input, "bytes"),
  encode: (input) => JSON.stringify(buildExpression(input)),
  read: (encoded) => evaluate(JSON.parse(encoded as string) as ExpressionJ),
};

export const json: Contender = { name: "JSON", carsales, catrank, eval: evalOps };
