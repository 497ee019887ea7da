/**
 * Compile-only type tests of the generated API: every `@ts-expect-error` line must stay an error
 * (the project typecheck, `tsc -p tsconfig.json`, fails when one compiles), and the other lines
 * must compile. The functions are never called with real data; the test only loads the module.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Client, Server } from "capnts/rpc";
import type { AnyPointerReader, MessageBuilder, MessageReader } from "capnts/wire";
import {
  AllTypes,
  Calculator,
  type Calculator_Server,
  Color,
  Derived,
  type Derived_Server,
  type HasCaps,
  type Holder,
  Shape,
  type Small,
} from "./gen/codegen-test.capnp.js";

export function readerTypes(m: MessageReader): void {
  const r = m.getRoot(AllTypes.Reader);
  const n: number = r.int32Field;
  const b: bigint = r.int64Field;
  const s: string = r.textField;
  const d: Uint8Array = r.dataField;
  const c: Color = r.enumField;
  const l: number = r.int32List.get(0);
  const sl: string = r.structList.get(0).textField;
  const ll: number = r.listList.get(0).get(0);
  void [n, b, s, d, c, l, sl, ll];
  // @ts-expect-error Int64 is a bigint
  const wrong: number = r.int64Field;
  // @ts-expect-error readers have no setters
  r.int32Field = 3;
  // @ts-expect-error no such field
  void r.noSuchField;
  // @ts-expect-error list elements of a struct list are readers of that struct
  const notSmall: Small.Reader = r.structList.get(0);
  void [wrong, notSmall];
}

export function builderTypes(m: MessageBuilder, other: Small.Reader): void {
  const r = m.initRoot(AllTypes.Builder);
  r.int32Field = 5;
  r.textField = "x";
  r.enumField = Color.green;
  r.structField = r.structField.asReader();
  // @ts-expect-error a string is not an Int32
  r.int32Field = "5";
  // @ts-expect-error 7 is not a Color
  r.enumField = 7;
  // @ts-expect-error a Small is not an AllTypes
  r.structField = other;
  // @ts-expect-error init of a list takes a length
  r.initInt32List();
  const s = m.initRoot(Shape.Builder);
  const w: Shape.Which = s.which();
  // @ts-expect-error "triangle" is not a member of Shape's union
  if (w === "triangle") return;
  if (w === "circle" || w === "_unknown") return;
}

export function clientTypes(calc: Calculator.Client, hc: HasCaps.Reader, derived: Derived.Client): void {
  const p = calc.evaluate((params) => {
    params.initExpression().literal = 1;
  });
  const value: Calculator.Value.Client = p.pipeline.value;
  void value.read().then((r) => {
    const v: number = r.value;
    void v;
  });
  const streaming: Promise<void> = calc.write((params) => {
    params.data = new Uint8Array(1);
  });
  void streaming;
  // @ts-expect-error no such method
  calc.subtract();
  // @ts-expect-error params of evaluate are Calculator.evaluate's params
  calc.evaluate((params) => (params.op = 1));
  const c: Calculator.Client = hc.calc;
  void c;
  // Inherited methods of every superclass.
  void derived.ping();
  void derived.pong((p) => (p.n = 1));
  void derived.dance().pipeline.next;
  void derived.then$();
}

/** `:Capability` fields, params and results: the runtime's untyped Client. */
export function capabilityTypes(
  r: HasCaps.Reader,
  b: HasCaps.Builder,
  calc: Calculator.Client,
  srv: Server,
  holder: Holder.Client,
): void {
  const any: Client = r.anyCap;
  const fromBuilder: Client = b.anyCap;
  b.anyCap = calc;
  b.anyCap = srv;
  b.anyCap = null;
  const boxed: Calculator.Client = r.calcBox.value;
  const p = holder.hold((params) => {
    params.cap = calc;
  });
  const pipelined: Client = p.pipeline.cap;
  const deep: Calculator.Client = p.pipeline.held.calc;
  const anyDeep: Client = p.pipeline.held.anyCap;
  void p.then((res) => {
    const back: Client = res.cap;
    const typed: Calculator.Client = back.castAs(Calculator.Client);
    void typed;
  });
  void [any, fromBuilder, boxed, pipelined, deep, anyDeep];
  // @ts-expect-error an untyped capability is not a Calculator client
  const notCalc: Calculator.Client = r.anyCap;
  // @ts-expect-error readers have no setters
  r.anyCap = calc;
  // @ts-expect-error a capability field takes a client, a Server or null
  b.anyCap = "cap";
  // @ts-expect-error capability fields have no init
  b.initAnyCap();
  // @ts-expect-error nor are they AnyPointers
  const ap: AnyPointerReader = r.anyCap;
  void [notCalc, ap];
}

/** Lists of interfaces: typed clients (or null); `List(Capability)`: untyped clients. */
export function capabilityListTypes(
  r: HasCaps.Reader,
  b: HasCaps.Builder,
  calc: Calculator.Client,
  derived: Derived.Client,
  srv: Server,
): void {
  const first: Calculator.Client | null = r.calcs.get(0);
  for (const x of r.calcs) {
    const y: Calculator.Client | null = x;
    void y;
  }
  const all: (Calculator.Client | null)[] = r.calcs.toArray();
  const l = b.initCalcs(3);
  l.set(0, calc);
  l.set(1, srv);
  l.set(2, null);
  const fromBuilder: Calculator.Client | null = l.get(0);
  const untyped: Client | null = r.anyCaps.get(0);
  b.initAnyCaps(2).set(0, derived);
  const nested: Calculator.Client | null = r.calcLists.get(0).get(0);
  b.initCalcLists(1).init(0, 1).set(0, calc);
  b.calcs = r.calcs;
  void [first, all, fromBuilder, untyped, nested];
  // @ts-expect-error elements are Calculator clients
  const notDerived: Derived.Client | null = r.calcs.get(0);
  // @ts-expect-error an element may be null
  const notNull: Calculator.Client = r.calcs.get(0);
  // @ts-expect-error a Derived client is not a Calculator client
  l.set(0, derived);
  // @ts-expect-error reader lists have no set
  r.calcs.set(0, calc);
  // @ts-expect-error untyped elements are not Calculator clients
  const notTyped: Calculator.Client | null = r.anyCaps.get(0);
  void [notDerived, notNull, notTyped];
}

/** Interface-typed fields take their client, a Server (any: servers are untyped) or null. */
export function capabilitySetterTypes(
  b: HasCaps.Builder,
  calc: Calculator.Client,
  derived: Derived.Client,
): void {
  b.calc = calc;
  b.calc = Calculator.server({});
  b.calc = null;
  b.derived = Derived.server({});
  // @ts-expect-error a Derived client is not a Calculator client
  b.calc = derived;
  // @ts-expect-error nor is the untyped Client (castAs first)
  b.calc = b.anyCap;
  // @ts-expect-error readers take nothing
  b.asReader().calc = calc;
}

export const server: Calculator_Server = {
  evaluate(ctx) {
    const lit: number = ctx.params.expression.literal;
    ctx.results.value = null;
    void lit;
  },
  getOperator(ctx) {
    // @ts-expect-error getOperator's params have no `expression`
    void ctx.params.expression;
  },
};

export const derivedServer: Derived_Server = {
  ping() {},
  pong(ctx) {
    ctx.results.n = ctx.params.n + 1;
  },
};

test("generated API type tests compile (see tsc -p tsconfig.json)", () => {
  assert.equal(typeof readerTypes, "function");
  assert.equal(typeof capabilityTypes, "function");
  assert.equal(typeof capabilitySetterTypes, "function");
  assert.equal(typeof capabilityListTypes, "function");
  assert.equal(Calculator.methods.evaluate, 0);
  assert.equal(Derived.methods.dance, 0);
  assert.equal(typeof Calculator.server, "function");
});
