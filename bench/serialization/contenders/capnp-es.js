// capnp-es (npm, the existing TypeScript Cap'n Proto library): the same workloads, through the
// classes its own compiler generates (bench/serialization/gen/capnp-es/, made by
// bench/serialization/regen.sh with `capnp-es ... -ojs`). Plain JavaScript with a hand-written
// declaration file (capnp-es.d.ts): the project type-checks bench/ with skipLibCheck off and
// exactOptionalPropertyTypes on, which capnp-es's own .d.mts files do not pass, so no TypeScript
// file may import "capnp-es". Lists are read with get(i) (its fastest path: indexing goes
// through a Proxy); readers take ArrayBuffers, which capnp-es reads without copying.
import { Message } from "capnp-es";
import { applyOp, catrankResponseDigest } from "../data.js";
import { ParkingLot, TotalValue } from "../gen/capnp-es/carsales.js";
import { SearchResultList } from "../gen/capnp-es/catrank.js";
import {
  EvaluationResult,
  Expression,
  Expression_Left_Which,
  Expression_Right_Which,
} from "../gen/capnp-es/eval.js";

/** The root of `msg` read back in `mode` (object: the builder itself). */
function pass(msg, root, ctor, mode) {
  if (mode === "object") return root;
  if (mode === "bytes") return new Message(msg.toArrayBuffer(), false).getRoot(ctor);
  return new Message(msg.toPackedArrayBuffer(), true).getRoot(ctor);
}

// ---- carsales --------------------------------------------------------------------------------

function buildLot(root, lot) {
  const cars = lot.cars;
  const list = root._initCars(cars.length);
  for (let i = 0; i < cars.length; i++) {
    const c = cars[i];
    const car = list.get(i);
    car.make = c.make;
    car.model = c.model;
    car.color = c.color;
    car.seats = c.seats;
    car.doors = c.doors;
    const ws = c.wheels;
    const wheels = car._initWheels(ws.length);
    for (let j = 0; j < ws.length; j++) {
      const w = ws[j];
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
    const engine = car._initEngine();
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

function carValue(car) {
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

function lotValue(lot) {
  const cars = lot.cars;
  let total = 0;
  for (let i = 0; i < cars.length; i++) total += carValue(cars.get(i));
  return total;
}

function carsalesRound(input, mode) {
  const req = new Message();
  const lot = req.initRoot(ParkingLot);
  buildLot(lot, input);
  const reqR = pass(req, lot, ParkingLot, mode);
  const resp = new Message();
  const total = resp.initRoot(TotalValue);
  total.amount = BigInt(lotValue(reqR));
  return Number(pass(resp, total, TotalValue, mode).amount);
}

const carsales = {
  object: (input) => carsalesRound(input, "object"),
  bytes: (input) => carsalesRound(input, "bytes"),
  packed: (input) => carsalesRound(input, "packed"),
  encode(input) {
    const m = new Message();
    buildLot(m.initRoot(ParkingLot), input);
    return m.toArrayBuffer();
  },
  read: (encoded) => lotValue(new Message(encoded, false).getRoot(ParkingLot)),
};

// ---- catrank ---------------------------------------------------------------------------------

function buildResults(root, input) {
  const rs = input.results;
  const list = root._initResults(rs.length);
  for (let i = 0; i < rs.length; i++) {
    const r = rs[i];
    const b = list.get(i);
    b.score = r.score;
    b.url = r.url;
    b.snippet = r.snippet;
  }
}

function byScore(a, b) {
  return b.score - a.score;
}

function rank(req, resp) {
  const results = req.results;
  const n = results.length;
  const scored = new Array(n);
  for (let i = 0; i < n; i++) {
    const result = results.get(i);
    let score = result.score;
    const snippet = result.snippet;
    if (snippet.includes(" cat ")) score *= 10000;
    if (snippet.includes(" dog ")) score /= 10000;
    scored[i] = { score, result, snippet };
  }
  scored.sort(byScore);
  const list = resp._initResults(n);
  for (let i = 0; i < n; i++) {
    const s = scored[i];
    const o = list.get(i);
    o.score = s.score;
    o.url = s.result.url;
    o.snippet = s.snippet;
  }
}

function goodCount(resp) {
  const results = resp.results;
  let good = 0;
  for (let i = 0; i < results.length; i++) {
    if (results.get(i).score > 1001) good++;
    else break;
  }
  return good;
}

function responseDigest(resp) {
  const results = resp.results;
  const plain = [];
  for (let i = 0; i < results.length; i++) {
    const r = results.get(i);
    plain.push({ url: r.url, score: r.score, snippet: r.snippet });
  }
  return catrankResponseDigest(plain);
}

function catrankRound(input, mode, digest) {
  const req = new Message();
  const list = req.initRoot(SearchResultList);
  buildResults(list, input);
  const reqR = pass(req, list, SearchResultList, mode);
  const resp = new Message();
  const ranked = resp.initRoot(SearchResultList);
  rank(reqR, ranked);
  const respR = pass(resp, ranked, SearchResultList, mode);
  return digest ? responseDigest(respR) : goodCount(respR);
}

const catrank = {
  object: (input) => catrankRound(input, "object", false),
  bytes: (input) => catrankRound(input, "bytes", false),
  packed: (input) => catrankRound(input, "packed", false),
  digest: (input, mode) => catrankRound(input, mode, true),
  encode(input) {
    const m = new Message();
    buildResults(m.initRoot(SearchResultList), input);
    return m.toArrayBuffer();
  },
  read(encoded) {
    const results = new Message(encoded, false).getRoot(SearchResultList).results;
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

function buildExpression(b, e) {
  b.op = e.op;
  if (typeof e.left === "number") b.left.value = e.left;
  else buildExpression(b.left._initExpression(), e.left);
  if (typeof e.right === "number") b.right.value = e.right;
  else buildExpression(b.right._initExpression(), e.right);
}

function evaluate(e) {
  const left = e.left;
  const l = left.which() === Expression_Left_Which.VALUE ? left.value : evaluate(left.expression);
  const right = e.right;
  const r = right.which() === Expression_Right_Which.VALUE ? right.value : evaluate(right.expression);
  return applyOp(e.op, l, r);
}

function evalRound(input, mode) {
  const req = new Message();
  const expr = req.initRoot(Expression);
  buildExpression(expr, input);
  const reqR = pass(req, expr, Expression, mode);
  const resp = new Message();
  const result = resp.initRoot(EvaluationResult);
  result.value = evaluate(reqR);
  return pass(resp, result, EvaluationResult, mode).value;
}

const evalOps = {
  object: (input) => evalRound(input, "object"),
  bytes: (input) => evalRound(input, "bytes"),
  packed: (input) => evalRound(input, "packed"),
  encode(input) {
    const m = new Message();
    buildExpression(m.initRoot(Expression), input);
    return m.toArrayBuffer();
  },
  read: (encoded) => evaluate(new Message(encoded, false).getRoot(Expression)),
};

/** @type {import("../types.js").Contender} */
export const capnpEs = { name: "capnp-es", carsales, catrank, eval: evalOps };
