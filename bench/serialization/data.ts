/**
 * Inputs of the serialization benchmarks and their expected answers, as plain JS objects. Every
 * contender builds its messages from these same inputs, and every answer it computes is checked
 * against the reference answer computed here in plain JS, so a contender that does less (or
 * wrong) work is caught (in the benchmark loop and in test/bench/serialization-smoke.test.ts).
 *
 * The workloads follow the C++ benchmark suite (c++/src/capnp/benchmark in capnproto): the same
 * linear congruential generator, value distributions and scoring rules. Unlike C++, the random
 * inputs are generated once, before timing, and the timed loop cycles through a pool of them:
 * random generation is the same for every contender, so leaving it out of the loop makes the
 * ratios sharper.
 */

/** The C++ suite's `fastRand`: an LCG on 32 bits, seeded like C++ (state = C). */
export class FastRand {
  private state: number;
  constructor(seed = 1013904223) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (Math.imul(1664525, this.state) + 1013904223) >>> 0;
    return this.state;
  }
  /** Integer in [0, range). */
  int(range: number): number {
    return this.next() % range;
  }
  /** Double in [0, range]. */
  double(range: number): number {
    return (this.next() * range) / 0xffffffff;
  }
}

// ---- carsales --------------------------------------------------------------------------------

export interface WheelIn {
  diameter: number;
  airPressure: number;
  snowTires: boolean;
}
export interface EngineIn {
  horsepower: number;
  cylinders: number;
  cc: number;
  usesGas: boolean;
  usesElectric: boolean;
}
export interface CarIn {
  make: string;
  model: string;
  color: number;
  seats: number;
  doors: number;
  wheels: WheelIn[];
  length: number;
  width: number;
  height: number;
  weight: number;
  engine: EngineIn;
  fuelCapacity: number;
  fuelLevel: number;
  hasPowerWindows: boolean;
  hasPowerSteering: boolean;
  hasCruiseControl: boolean;
  cupHolders: number;
  hasNavSystem: boolean;
}
export interface ParkingLotIn {
  cars: CarIn[];
}

const MAKES = ["Toyota", "GM", "Ford", "Honda", "Tesla"];
const MODELS = ["Camry", "Prius", "Volt", "Accord", "Leaf", "Model S"];

export function randomCar(r: FastRand): CarIn {
  const make = MAKES[r.int(MAKES.length)]!;
  const model = MODELS[r.int(MODELS.length)]!;
  const color = r.int(9);
  const seats = 2 + r.int(6);
  const doors = 2 + r.int(3);
  const wheels: WheelIn[] = [];
  for (let i = 0; i < 4; i++) {
    wheels.push({
      diameter: 25 + r.int(15),
      // Float32 fields hold float32 values, so every format carries exactly the same numbers.
      airPressure: Math.fround(30 + r.double(20)),
      snowTires: r.int(16) === 0,
    });
  }
  const length = 170 + r.int(150);
  const width = 48 + r.int(36);
  const height = 54 + r.int(48);
  const weight = Math.floor((length * width * height) / 200);
  const engine: EngineIn = {
    horsepower: 100 * r.int(400),
    cylinders: 4 + 2 * r.int(3),
    cc: 800 + r.int(10000),
    usesGas: true,
    usesElectric: r.int(2) === 1,
  };
  const fuelCapacity = Math.fround(10 + r.double(30));
  const fuelLevel = Math.fround(r.double(fuelCapacity));
  return {
    make,
    model,
    color,
    seats,
    doors,
    wheels,
    length,
    width,
    height,
    weight,
    engine,
    fuelCapacity,
    fuelLevel,
    hasPowerWindows: r.int(2) === 1,
    hasPowerSteering: r.int(2) === 1,
    hasCruiseControl: r.int(2) === 1,
    cupHolders: r.int(12),
    hasNavSystem: r.int(2) === 1,
  };
}

export function randomParkingLot(r: FastRand, cars = r.int(200)): ParkingLotIn {
  const out: CarIn[] = [];
  for (let i = 0; i < cars; i++) out.push(randomCar(r));
  return { cars: out };
}

/** The C++ suite's `carValue` ("do not think too hard about realism"). */
export function carValue(car: CarIn): number {
  let result = 0;
  result += car.seats * 200;
  result += car.doors * 350;
  for (const w of car.wheels) {
    result += w.diameter * w.diameter;
    result += w.snowTires ? 100 : 0;
  }
  result += Math.floor((car.length * car.width * car.height) / 50);
  const e = car.engine;
  result += e.horsepower * 40;
  if (e.usesElectric) result += e.usesGas ? 5000 : 3000;
  result += car.hasPowerWindows ? 100 : 0;
  result += car.hasPowerSteering ? 200 : 0;
  result += car.hasCruiseControl ? 400 : 0;
  result += car.hasNavSystem ? 2000 : 0;
  result += car.cupHolders * 25;
  return result;
}

export function carsalesAnswer(lot: ParkingLotIn): number {
  let total = 0;
  for (const c of lot.cars) total += carValue(c);
  return total;
}

// ---- catrank ---------------------------------------------------------------------------------

export interface SearchResultIn {
  url: string;
  score: number;
  snippet: string;
}
export interface SearchResultListIn {
  results: SearchResultIn[];
}

const WORDS = [
  "foo ",
  "bar ",
  "baz ",
  "qux ",
  "quux ",
  "corge ",
  "grault ",
  "garply ",
  "waldo ",
  "fred ",
  "plugh ",
  "xyzzy ",
  "thud ",
];
const URL_PREFIX = "http://example.com/";

export function randomSearchResults(r: FastRand, count = r.int(1000)): SearchResultListIn {
  const results: SearchResultIn[] = [];
  for (let i = 0; i < count; i++) {
    const urlSize = r.int(100);
    let url = URL_PREFIX;
    for (let j = 0; j < urlSize; j++) url += String.fromCharCode(97 + r.int(26));
    const isCat = r.int(8) === 0;
    const isDog = r.int(8) === 0;
    let snippet = " ";
    const prefix = r.int(20);
    for (let j = 0; j < prefix; j++) snippet += WORDS[r.int(WORDS.length)];
    if (isCat) snippet += "cat ";
    if (isDog) snippet += "dog ";
    const suffix = r.int(20);
    for (let j = 0; j < suffix; j++) snippet += WORDS[r.int(WORDS.length)];
    results.push({ url, score: 1000 - i, snippet });
  }
  return { results };
}

/** The C++ suite's scoring: cats up, dogs down. */
export function catrankScore(score: number, snippet: string): number {
  let s = score;
  if (snippet.includes(" cat ")) s *= 10000;
  if (snippet.includes(" dog ")) s /= 10000;
  return s;
}

/**
 * Answer of a catrank round trip (what the client's check computes from the response): the
 * number of leading results scoring above 1001 (the C++ check), i.e. results with a cat and no
 * dog.
 */
export function catrankAnswer(list: SearchResultListIn): number {
  let good = 0;
  for (const r of list.results) if (catrankScore(r.score, r.snippet) > 1001) good++;
  return good;
}

/**
 * Answer of a catrank read-only pass (what the server's read half touches: score, snippet and
 * url of every result): the good count times 1e6 plus the total URL length.
 */
export function catrankReadAnswer(list: SearchResultListIn): number {
  let good = 0;
  let urlChars = 0;
  for (const r of list.results) {
    if (catrankScore(r.score, r.snippet) > 1001) good++;
    urlChars += r.url.length;
  }
  return good * 1e6 + urlChars;
}

/**
 * A digest of a whole catrank response, in order (used by the smoke test to check that every
 * contender really sorted and copied the results): sum over positions of (position + 1) times
 * (url length + snippet length), plus the good count times 1e9.
 */
export function catrankResponseDigest(sorted: readonly SearchResultIn[]): number {
  let d = 0;
  let good = 0;
  for (let i = 0; i < sorted.length; i++) {
    const r = sorted[i]!;
    d += (i + 1) * (r.url.length + r.snippet.length);
    if (r.score > 1001) good++;
  }
  return d + good * 1e9;
}

/** The reference server: scored, sorted copy of the results. */
export function catrankReference(list: SearchResultListIn): SearchResultIn[] {
  const scored = list.results.map((r) => ({
    url: r.url,
    score: catrankScore(r.score, r.snippet),
    snippet: r.snippet,
  }));
  scored.sort((a, b) => b.score - a.score);
  return scored;
}

// ---- eval ------------------------------------------------------------------------------------

/** Operation codes (the schema's enum Operation). */
export const Op = { add: 0, subtract: 1, multiply: 2, divide: 3, modulus: 4 } as const;

/** An operand: a number (an Int32 value) or a nested expression. */
export type OperandIn = number | ExpressionIn;
export interface ExpressionIn {
  op: number;
  left: OperandIn;
  right: OperandIn;
}

const INT32_MAX = 0x7fffffff;
const INT32_MIN = -0x80000000;

/** C++ suite `div` on int32 (no trap on /0 or MIN/-1). */
export function div32(a: number, b: number): number {
  if (b === 0) return INT32_MAX;
  if (a === INT32_MIN && b === -1) return INT32_MAX;
  return (a / b) | 0;
}
/** C++ suite `mod` on int32. */
export function mod32(a: number, b: number): number {
  if (b === 0) return INT32_MAX;
  if (a === INT32_MIN && b === -1) return INT32_MAX;
  return (a % b) | 0;
}

/** Applies `op` with C++ int32 semantics (wrapping add, subtract, multiply). */
export function applyOp(op: number, l: number, r: number): number {
  switch (op) {
    case Op.add:
      return (l + r) | 0;
    case Op.subtract:
      return (l - r) | 0;
    case Op.multiply:
      return Math.imul(l, r);
    case Op.divide:
      return div32(l, r);
    case Op.modulus:
      return mod32(l, r);
    default:
      throw new Error(`bad op ${op}`);
  }
}

export function randomExpression(r: FastRand, depth = 0): ExpressionIn {
  const op = r.int(5);
  const left: OperandIn = r.int(8) < depth ? r.int(128) + 1 : randomExpression(r, depth + 1);
  const right: OperandIn = r.int(8) < depth ? r.int(128) + 1 : randomExpression(r, depth + 1);
  return { op, left, right };
}

export function evalAnswer(e: ExpressionIn): number {
  const l = typeof e.left === "number" ? e.left : evalAnswer(e.left);
  const r = typeof e.right === "number" ? e.right : evalAnswer(e.right);
  return applyOp(e.op, l, r);
}

/** Number of Expression structs in a tree. */
export function expressionSize(e: ExpressionIn): number {
  return (
    1 +
    (typeof e.left === "number" ? 0 : expressionSize(e.left)) +
    (typeof e.right === "number" ? 0 : expressionSize(e.right))
  );
}
