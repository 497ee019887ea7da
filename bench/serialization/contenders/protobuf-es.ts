/**
 * protobuf-es (@bufbuild/protobuf v2): the same workloads with messages generated from
 * bench/serialization/proto/*.proto by protoc-gen-es (bench/serialization/gen/pb/). Messages are
 * made with `create`, serialized with `toBinary` and parsed with `fromBinary`, as its docs show.
 * Protobuf has no packed form (its varints are its compression).
 */
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  applyOp,
  catrankResponseDigest,
  type ExpressionIn,
  type OperandIn,
  type ParkingLotIn,
  type SearchResultIn,
  type SearchResultListIn,
} from "../data.js";
import {
  type Car,
  CarSchema,
  type Color,
  EngineSchema,
  type ParkingLot,
  ParkingLotSchema,
  type TotalValue,
  TotalValueSchema,
  type Wheel,
  WheelSchema,
} from "../gen/pb/carsales_pb.js";
import {
  type SearchResult,
  type SearchResultList,
  SearchResultListSchema,
  SearchResultSchema,
} from "../gen/pb/catrank_pb.js";
import {
  type EvaluationResult,
  EvaluationResultSchema,
  type Expression,
  ExpressionSchema,
  type Operation,
} from "../gen/pb/eval_pb.js";
import type { CatrankOps, Contender, Mode, WorkloadOps } from "../types.js";

// ---- carsales --------------------------------------------------------------------------------

function buildLot(lot: ParkingLotIn): ParkingLot {
  const cars = lot.cars;
  const out: Car[] = new Array(cars.length);
  for (let i = 0; i < cars.length; i++) {
    const c = cars[i]!;
    const ws = c.wheels;
    const wheels: Wheel[] = new Array(ws.length);
    for (let j = 0; j < ws.length; j++) {
      const w = ws[j]!;
      wheels[j] = create(WheelSchema, {
        diameter: w.diameter,
        airPressure: w.airPressure,
        snowTires: w.snowTires,
      });
    }
    const e = c.engine;
    out[i] = create(CarSchema, {
      make: c.make,
      model: c.model,
      color: c.color as Color,
      seats: c.seats,
      doors: c.doors,
      wheels,
      length: c.length,
      width: c.width,
      height: c.height,
      weight: c.weight,
      engine: create(EngineSchema, {
        horsepower: e.horsepower,
        cylinders: e.cylinders,
        cc: e.cc,
        usesGas: e.usesGas,
        usesElectric: e.usesElectric,
      }),
      fuelCapacity: c.fuelCapacity,
      fuelLevel: c.fuelLevel,
      hasPowerWindows: c.hasPowerWindows,
      hasPowerSteering: c.hasPowerSteering,
      hasCruiseControl: c.hasCruiseControl,
      cupHolders: c.cupHolders,
      hasNavSystem: c.hasNavSystem,
    });
  }
  return create(ParkingLotSchema, { cars: out });
}

function carValue(car: Car): number {
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
  const engine = car.engine!;
  result += engine.horsepower * 40;
  if (engine.usesElectric) result += engine.usesGas ? 5000 : 3000;
  result += car.hasPowerWindows ? 100 : 0;
  result += car.hasPowerSteering ? 200 : 0;
  result += car.hasCruiseControl ? 400 : 0;
  result += car.hasNavSystem ? 2000 : 0;
  result += car.cupHolders * 25;
  return result;
}

function lotValue(lot: ParkingLot): number {
  const cars = lot.cars;
  let total = 0;
  for (let i = 0; i < cars.length; i++) total += carValue(cars[i]!);
  return total;
}

function carsalesRound(input: ParkingLotIn, mode: Mode): number {
  let req = buildLot(input);
  if (mode !== "object") req = fromBinary(ParkingLotSchema, toBinary(ParkingLotSchema, req));
  let resp: TotalValue = create(TotalValueSchema, { amount: BigInt(lotValue(req)) });
  if (mode !== "object") resp = fromBinary(TotalValueSchema, toBinary(TotalValueSchema, resp));
  return Number(resp.amount);
}

const carsales: WorkloadOps<ParkingLotIn> = {
  object: (input) => carsalesRound(input, "object"),
  bytes: (input) => carsalesRound(input, "bytes"),
  encode: (input) => toBinary(ParkingLotSchema, buildLot(input)),
  read: (encoded) => lotValue(fromBinary(ParkingLotSchema, encoded as Uint8Array)),
};

// ---- catrank ---------------------------------------------------------------------------------

function buildResults(input: SearchResultListIn): SearchResultList {
  const rs = input.results;
  const out: SearchResult[] = new Array(rs.length);
  for (let i = 0; i < rs.length; i++) {
    const r = rs[i]!;
    out[i] = create(SearchResultSchema, { url: r.url, score: r.score, snippet: r.snippet });
  }
  return create(SearchResultListSchema, { results: out });
}

interface Scored {
  score: number;
  result: SearchResult;
}

function byScore(a: Scored, b: Scored): number {
  return b.score - a.score;
}

function rank(req: SearchResultList): SearchResultList {
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
  const out: SearchResult[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const s = scored[i]!;
    out[i] = create(SearchResultSchema, { url: s.result.url, score: s.score, snippet: s.result.snippet });
  }
  return create(SearchResultListSchema, { results: out });
}

function goodCount(resp: SearchResultList): number {
  const results = resp.results;
  let good = 0;
  for (let i = 0; i < results.length; i++) {
    if (results[i]!.score > 1001) good++;
    else break;
  }
  return good;
}

function catrankRound(input: SearchResultListIn, mode: Mode, digest: boolean): number {
  let req = buildResults(input);
  if (mode !== "object") req = fromBinary(SearchResultListSchema, toBinary(SearchResultListSchema, req));
  let resp = rank(req);
  if (mode !== "object") resp = fromBinary(SearchResultListSchema, toBinary(SearchResultListSchema, resp));
  if (!digest) return goodCount(resp);
  const plain: SearchResultIn[] = resp.results.map((r) => ({
    url: r.url,
    score: r.score,
    snippet: r.snippet,
  }));
  return catrankResponseDigest(plain);
}

const catrank: CatrankOps = {
  object: (input) => catrankRound(input, "object", false),
  bytes: (input) => catrankRound(input, "bytes", false),
  digest: (input, mode) => catrankRound(input, mode, true),
  encode: (input) => toBinary(SearchResultListSchema, buildResults(input)),
  read(encoded) {
    const results = fromBinary(SearchResultListSchema, encoded as Uint8Array).results;
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

function buildExpression(e: ExpressionIn): Expression {
  const l: OperandIn = e.left;
  const r: OperandIn = e.right;
  return create(ExpressionSchema, {
    op: e.op as Operation,
    left:
      typeof l === "number"
        ? { case: "leftValue", value: l }
        : { case: "leftExpression", value: buildExpression(l) },
    right:
      typeof r === "number"
        ? { case: "rightValue", value: r }
        : { case: "rightExpression", value: buildExpression(r) },
  });
}

function evaluate(e: Expression): number {
  const left = e.left;
  const l =
    left.case === "leftValue" ? left.value : left.case === "leftExpression" ? evaluate(left.value) : 0;
  const right = e.right;
  const r =
    right.case === "rightValue" ? right.value : right.case === "rightExpression" ? evaluate(right.value) : 0;
  return applyOp(e.op, l, r);
}

function evalRound(input: ExpressionIn, mode: Mode): number {
  let req = buildExpression(input);
  if (mode !== "object") req = fromBinary(ExpressionSchema, toBinary(ExpressionSchema, req));
  let resp: EvaluationResult = create(EvaluationResultSchema, { value: evaluate(req) });
  if (mode !== "object") resp = fromBinary(EvaluationResultSchema, toBinary(EvaluationResultSchema, resp));
  return resp.value;
}

const evalOps: WorkloadOps<ExpressionIn> = {
  object: (input) => evalRound(input, "object"),
  bytes: (input) => evalRound(input, "bytes"),
  encode: (input) => toBinary(ExpressionSchema, buildExpression(input)),
  read: (encoded) => evaluate(fromBinary(ExpressionSchema, encoded as Uint8Array)),
};

export const protobufEs: Contender = { name: "protobuf-es", carsales, catrank, eval: evalOps };
