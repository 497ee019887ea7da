/**
 * capnts: the three workloads over the wire runtime (src/wire) and framing (src/serialize),
 * through the classes capnts's code generator makes (bench/serialization/gen/capnts/, see
 * regen.sh). Written the way a user would write it: no reuse of builders between rounds.
 */
import { decodeFrame, decodePackedFrame, encodeFrame, packedFrame } from "../../../src/serialize/index.js";
import { MessageBuilder, MessageReader } from "../../../src/wire/index.js";
import {
  applyOp,
  catrankResponseDigest,
  type ExpressionIn,
  type ParkingLotIn,
  type SearchResultIn,
  type SearchResultListIn,
} from "../data.js";
import {
  type Car_Reader,
  type Color,
  ParkingLot_Builder,
  ParkingLot_Reader,
  TotalValue_Builder,
  TotalValue_Reader,
} from "../gen/capnts/carsales.capnp.js";
import {
  type SearchResult_Reader,
  SearchResultList_Builder,
  SearchResultList_Reader,
} from "../gen/capnts/catrank.capnp.js";
import {
  EvaluationResult_Builder,
  EvaluationResult_Reader,
  Expression_Builder,
  Expression_Reader,
  type Operation,
} from "../gen/capnts/eval.capnp.js";
import type { CatrankOps, Contender, Mode, WorkloadOps } from "../types.js";

// ---- plumbing: one request/response exchange in each mode ------------------------------------

function toReader(mb: MessageBuilder, mode: Mode): MessageReader {
  const segs = mb.getSegmentsForOutput();
  if (mode === "bytes") return new MessageReader(decodeFrame(encodeFrame(segs)).segments);
  return new MessageReader(decodePackedFrame(packedFrame(segs)).segments);
}

// ---- carsales --------------------------------------------------------------------------------

function buildLot(root: ParkingLot_Builder, lot: ParkingLotIn): void {
  const cars = lot.cars;
  const list = root.initCars(cars.length);
  for (let i = 0; i < cars.length; i++) {
    const c = cars[i]!;
    const car = list.get(i);
    car.make = c.make;
    car.model = c.model;
    car.color = c.color as Color;
    car.seats = c.seats;
    car.doors = c.doors;
    const ws = c.wheels;
    const wheels = car.initWheels(ws.length);
    for (let j = 0; j < ws.length; j++) {
      const w = ws[j]!;
      const wheel = wheels.get(j);
      wheel.diameter = w.diameter;
      wheel.airPressure = w.airPressure;
      wheel.snowTires = w.snowTires;
    }
    car.length = c.length;
    car.width = c.width;
    car.height = c.height;
    car.weight = c.weight;
    const e = c.engine;
    const engine = car.initEngine();
    engine.horsepower = e.horsepower;
    engine.cylinders = e.cylinders;
    engine.cc = e.cc;
    engine.usesGas = e.usesGas;
    engine.usesElectric = e.usesElectric;
    car.fuelCapacity = c.fuelCapacity;
    car.fuelLevel = c.fuelLevel;
    car.hasPowerWindows = c.hasPowerWindows;
    car.hasPowerSteering = c.hasPowerSteering;
    car.hasCruiseControl = c.hasCruiseControl;
    car.cupHolders = c.cupHolders;
    car.hasNavSystem = c.hasNavSystem;
  }
}

function carValue(car: Car_Reader): number {
  let result = 0;
  result += car.seats * 200;
  result += car.doors * 350;
  const wheels = car.wheels;
  for (let i = 0; i < wheels.length; i++) {
    const w = wheels.get(i);
    const d = w.diameter;
    result += d * d;
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

function lotValue(lot: ParkingLot_Reader): number {
  const cars = lot.cars;
  let total = 0;
  for (let i = 0; i < cars.length; i++) total += carValue(cars.get(i));
  return total;
}

function carsalesRound(input: ParkingLotIn, mode: Mode): number {
  const req = new MessageBuilder();
  const lot = req.initRoot(ParkingLot_Builder);
  buildLot(lot, input);
  const reqR = mode === "object" ? lot.asReader() : toReader(req, mode).getRoot(ParkingLot_Reader);
  const resp = new MessageBuilder();
  const total = resp.initRoot(TotalValue_Builder);
  total.amount = BigInt(lotValue(reqR));
  const respR = mode === "object" ? total.asReader() : toReader(resp, mode).getRoot(TotalValue_Reader);
  return Number(respR.amount);
}

const carsales: WorkloadOps<ParkingLotIn> = {
  object: (input) => carsalesRound(input, "object"),
  bytes: (input) => carsalesRound(input, "bytes"),
  packed: (input) => carsalesRound(input, "packed"),
  encode(input) {
    const mb = new MessageBuilder();
    buildLot(mb.initRoot(ParkingLot_Builder), input);
    return encodeFrame(mb.getSegmentsForOutput());
  },
  read(encoded) {
    return lotValue(
      new MessageReader(decodeFrame(encoded as Uint8Array).segments).getRoot(ParkingLot_Reader),
    );
  },
};

// ---- catrank ---------------------------------------------------------------------------------

function buildResults(root: SearchResultList_Builder, input: SearchResultListIn): void {
  const rs = input.results;
  const list = root.initResults(rs.length);
  for (let i = 0; i < rs.length; i++) {
    const r = rs[i]!;
    const b = list.get(i);
    b.score = r.score;
    b.url = r.url;
    b.snippet = r.snippet;
  }
}

interface Scored {
  score: number;
  result: SearchResult_Reader;
  snippet: string;
}

function byScore(a: Scored, b: Scored): number {
  return b.score - a.score;
}

/** The server: score, sort, copy into the response. */
function rank(req: SearchResultList_Reader, resp: SearchResultList_Builder): void {
  const results = req.results;
  const n = results.length;
  const scored: Scored[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const result = results.get(i);
    let score = result.score;
    const snippet = result.snippet;
    if (snippet.includes(" cat ")) score *= 10000;
    if (snippet.includes(" dog ")) score /= 10000;
    scored[i] = { score, result, snippet };
  }
  scored.sort(byScore);
  const list = resp.initResults(n);
  for (let i = 0; i < n; i++) {
    const s = scored[i]!;
    const o = list.get(i);
    o.score = s.score;
    o.url = s.result.url;
    o.snippet = s.snippet;
  }
}

function goodCount(resp: SearchResultList_Reader): number {
  const results = resp.results;
  let good = 0;
  for (let i = 0; i < results.length; i++) {
    if (results.get(i).score > 1001) good++;
    else break;
  }
  return good;
}

function responseDigest(resp: SearchResultList_Reader): number {
  const results = resp.results;
  const plain: SearchResultIn[] = [];
  for (let i = 0; i < results.length; i++) {
    const r = results.get(i);
    plain.push({ url: r.url, score: r.score, snippet: r.snippet });
  }
  return catrankResponseDigest(plain);
}

function catrankRound(input: SearchResultListIn, mode: Mode, digest: boolean): number {
  const req = new MessageBuilder();
  const list = req.initRoot(SearchResultList_Builder);
  buildResults(list, input);
  const reqR = mode === "object" ? list.asReader() : toReader(req, mode).getRoot(SearchResultList_Reader);
  const resp = new MessageBuilder();
  const ranked = resp.initRoot(SearchResultList_Builder);
  rank(reqR, ranked);
  const respR = mode === "object" ? ranked.asReader() : toReader(resp, mode).getRoot(SearchResultList_Reader);
  return digest ? responseDigest(respR) : goodCount(respR);
}

const catrank: CatrankOps = {
  object: (input) => catrankRound(input, "object", false),
  bytes: (input) => catrankRound(input, "bytes", false),
  packed: (input) => catrankRound(input, "packed", false),
  digest: (input, mode) => catrankRound(input, mode, true),
  encode(input) {
    const mb = new MessageBuilder();
    buildResults(mb.initRoot(SearchResultList_Builder), input);
    return encodeFrame(mb.getSegmentsForOutput());
  },
  read(encoded) {
    const list = new MessageReader(decodeFrame(encoded as Uint8Array).segments).getRoot(
      SearchResultList_Reader,
    );
    const results = list.results;
    let good = 0;
    let urlChars = 0;
    for (let i = 0; i < results.length; i++) {
      const r = results.get(i);
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

function buildExpression(b: Expression_Builder, e: ExpressionIn): void {
  b.op = e.op as Operation;
  if (typeof e.left === "number") b.left.value = e.left;
  else buildExpression(b.left.initExpression(), e.left);
  if (typeof e.right === "number") b.right.value = e.right;
  else buildExpression(b.right.initExpression(), e.right);
}

function unknownOperand(which: string): never {
  throw new Error(`operand of an unknown kind (${which})`);
}

function evaluate(e: Expression_Reader): number {
  // One `which` read per operand (a switch), as before unions narrowed.
  let l: number;
  const left = e.left;
  switch (left.which) {
    case "value":
      l = left.value;
      break;
    case "expression":
      l = evaluate(left.expression);
      break;
    default:
      return unknownOperand(left.which);
  }
  let r: number;
  const right = e.right;
  switch (right.which) {
    case "value":
      r = right.value;
      break;
    case "expression":
      r = evaluate(right.expression);
      break;
    default:
      return unknownOperand(right.which);
  }
  return applyOp(e.op, l, r);
}

function evalRound(input: ExpressionIn, mode: Mode): number {
  const req = new MessageBuilder();
  const expr = req.initRoot(Expression_Builder);
  buildExpression(expr, input);
  const reqR = mode === "object" ? expr.asReader() : toReader(req, mode).getRoot(Expression_Reader);
  const resp = new MessageBuilder();
  const result = resp.initRoot(EvaluationResult_Builder);
  result.value = evaluate(reqR);
  const respR = mode === "object" ? result.asReader() : toReader(resp, mode).getRoot(EvaluationResult_Reader);
  return respR.value;
}

const evalOps: WorkloadOps<ExpressionIn> = {
  object: (input) => evalRound(input, "object"),
  bytes: (input) => evalRound(input, "bytes"),
  packed: (input) => evalRound(input, "packed"),
  encode(input) {
    const mb = new MessageBuilder();
    buildExpression(mb.initRoot(Expression_Builder), input);
    return encodeFrame(mb.getSegmentsForOutput());
  },
  read(encoded) {
    return evaluate(
      new MessageReader(decodeFrame(encoded as Uint8Array).segments).getRoot(Expression_Reader),
    );
  },
};

export const capnts: Contender = { name: "capnts", carsales, catrank, eval: evalOps };
