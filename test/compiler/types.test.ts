/**
 * Compile-only type tests of the generated API: every `@ts-expect-error` line must stay an error
 * (the project typecheck, `tsc -p tsconfig.json`, fails when one compiles), and the other lines
 * must compile. The functions are never called with real data; the test only loads the module.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { CallContext, Client, Server, ServerHooks } from "capnts/rpc";
import type { AnyPointerReader, MessageBuilder, MessageReader } from "capnts/wire";
import {
  AllTypes,
  Base,
  Calculator,
  type Calculator_evaluate_Params_Reader,
  type Calculator_evaluate_Results_Builder,
  type Calculator_Server,
  type Clash,
  Collide,
  Color,
  Derived,
  type Derived_Server,
  type HasCaps,
  type Holder,
  type Other_Server,
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
  const w: Shape.Which = s.which;
  // @ts-expect-error "triangle" is not a member of Shape's union
  if (w === "triangle") return;
  if (w === "circle" || w === "_unknown") return;
}

/** Unions narrow on `which`: a member is readable only where `which` says it is active. */
export function unionReaderTypes(m: MessageReader, e: Calculator.Expression.Reader, x: unknown): void {
  const s = m.getRoot(Shape.Reader);
  // Members outside the union are always readable.
  const name: string = s.name;
  const px: number = s.position.x;
  void [name, px, s.nested.deeper.value];
  // @ts-expect-error an unnamed union's member needs a test of `which` first
  void s.circle;
  // @ts-expect-error which is a property (TypeScript narrows on properties, not on method results)
  void s.which();
  if (s.which === "circle") {
    const r: number = s.circle;
    void r;
    // @ts-expect-error square is not active when circle is
    void s.square;
  }
  switch (s.which) {
    case "circle":
    case "square": {
      // @ts-expect-error either may be active here
      void s.circle;
      break;
    }
    case "rectangle": {
      const area: number = s.rectangle.width * s.rectangle.height;
      void area;
      break;
    }
    case "nothing":
      // @ts-expect-error a Void member has no getter
      void s.nothing;
      break;
    case "inner": {
      // The member's struct has the same narrowing type.
      const inner = s.inner;
      if (inner.which === "circle") void inner.circle;
      break;
    }
    case "_unknown":
      // A discriminant of a newer schema: no member to read.
      // @ts-expect-error no member is readable
      void s.circle;
      break;
    default: {
      const exhaustive: never = s;
      void exhaustive;
    }
  }
  // isFoo() is a type guard too.
  if (s.isSquare()) void s.square;
  // Named unions are groups with the same treatment, nested ones too.
  const style = s.style;
  // @ts-expect-error fancy needs a test of style.which
  void style.fancy;
  if (style.which === "colored") {
    const c: Color = style.colored;
    void c;
  } else if (style.which === "fancy") {
    const p: string = style.fancy.pattern;
    const border = style.fancy.border;
    // @ts-expect-error border.width needs a test of border.which
    void border.width;
    if (border.which === "width") void (border.width satisfies number);
    void p;
  }
  // Property paths narrow too (each read makes a new reader; the type is per path).
  if (s.style.which === "colored") void s.style.colored;
  // Struct fields, list elements, asReader() and instanceof give the narrowing type.
  if (e.which === "call") {
    const arg = e.call.params.get(0);
    // @ts-expect-error a list element is narrowed like any reader
    void arg.literal;
    if (arg.which === "literal") void (arg.literal satisfies number);
    for (const a of e.call.params) if (a.which === "parameter") void (a.parameter satisfies number);
  }
  if (x instanceof Shape.Reader && x.which === "square") void (x.square satisfies number);
  const fromBuilder = new Shape.Builder(
    ...([] as unknown as ConstructorParameters<typeof Shape.Builder>),
  ).asReader();
  // @ts-expect-error a builder's reader is narrowed too
  void fromBuilder.circle;
  // A reader of a struct with a union is still a StructReader.
  const view: import("../../src/wire/index.js").StructReader = s;
  void view;
  // Field names that are reserved words stay readable after narrowing.
  const c = m.getRoot(Collide.Reader);
  if (c.which === "enum") void (c.enum satisfies number);
}

/**
 * Builders keep every member: setting one is how the active member changes, so they cannot be
 * narrowed; reading an inactive member throws InactiveMemberError at run time.
 */
export function unionBuilderTypes(m: MessageBuilder): void {
  const s = m.initRoot(Shape.Builder);
  s.circle = 2;
  const r: number = s.circle;
  s.setNothing();
  s.initRectangle().width = 1;
  s.style.initFancy().border.width = 3;
  const w: Shape.Which = s.which;
  void [r, w];
  // @ts-expect-error which is read-only
  s.which = "circle";
}

/** `X.server(impl)` is a `Server<X_Client>`: setters and constructors take only X's (or a subinterface's). */
export function serverTypes(b: HasCaps.Builder, untyped: Server, otherImpl: Other_Server): void {
  const calcServer: Server<Calculator.Client> = Calculator.server({});
  b.calc = calcServer;
  b.derived = Derived.server({});
  b.initCalcs(1).set(0, calcServer);
  // A subinterface's server is a server of its superclasses.
  const asBase: Server<Base.Client> = Derived.server({});
  using base = new Base.Client(Derived.server({}));
  using calc = new Calculator.Client(calcServer);
  // Untyped Client and :Capability fields take any server.
  b.anyCap = Derived.server({});
  const anyServer: Server = calcServer;
  void [asBase, base, calc, anyServer];
  // @ts-expect-error a Derived server is not a Calculator server
  b.calc = Derived.server({});
  // @ts-expect-error nor is a superclass's server a subinterface's
  b.derived = Base.server({});
  // @ts-expect-error an untyped Server is not a Calculator server (type it: new Server<Calculator.Client>)
  b.calc = untyped;
  // @ts-expect-error lists take their interface's servers only
  b.initCalcs(1).set(0, Derived.server({}));
  // @ts-expect-error constructors too
  using wrongCtor = new Calculator.Client(Derived.server({}));
  // @ts-expect-error and clients of other interfaces
  using wrongClient = new Calculator.Client(base);
  // @ts-expect-error a Calculator client class cannot be made from a Base server
  const ctor: new (s: Server<Base.Client>) => Calculator.Client = Calculator.Client;
  void [wrongCtor, wrongClient, ctor];

  // Implementations: object literals and classes are checked against the interface.
  Calculator.server({
    evaluate(ctx) {
      if (ctx.params.expression.which === "literal") void ctx.params.expression.literal;
    },
    // State and helpers are fine.
  });
  Calculator.server({ count: 0, helper: (n: number) => n + 1, evaluate() {} });
  // @ts-expect-error a misspelt method in an object literal
  Calculator.server({ evaluat() {} });
  // @ts-expect-error a misspelt method next to a correct one
  Calculator.server({ evaluate() {}, getOperatr() {} });
  Calculator.server({
    // @ts-expect-error a wrong method signature (results of another method)
    evaluate(ctx: CallContext<Calculator_evaluate_Params_Reader, Derived.Client>) {
      void ctx;
    },
  });
  Calculator.server({
    evaluate(ctx) {
      // @ts-expect-error results have the method's results type
      ctx.results.value = 1;
    },
  });
  // @ts-expect-error the implementation of another interface
  Calculator.server(otherImpl);
  class Impl implements Calculator_Server {
    calls = 0;
    evaluate(ctx: CallContext<Calculator_evaluate_Params_Reader, Calculator_evaluate_Results_Builder>) {
      this.calls++;
      void ctx;
    }
    private reset() {
      this.calls = 0;
    }
    scaled(k: number) {
      this.reset();
      return this.calls * k;
    }
    toString(): string {
      return "impl";
    }
  }
  Calculator.server(new Impl());
  class Misspelt {
    evaluat(ctx: CallContext<Calculator_evaluate_Params_Reader, Calculator_evaluate_Results_Builder>) {
      void ctx;
    }
  }
  // @ts-expect-error a class whose method is misspelt
  Calculator.server(new Misspelt());
  // An object serving two interfaces is passed as one of them.
  const both: Calculator_Server & Other_Server = {};
  Calculator.server(both as Calculator_Server);
}

/** Method names: a `$` only for real collisions (the Client base, the server hooks, `then`). */
export function methodNameTypes(c: Clash.Client, d: Derived.Client): void {
  void c.cancel();
  void c.pipeline();
  void c.which();
  void c.toJSON();
  void c.close$();
  void c.getFd$();
  void d.then$();
  void c.names().pipeline.close$;
  void c.names().pipeline.cancel;
  // @ts-expect-error cancel collides with nothing, so it has no suffix
  void c.cancel$();
  // @ts-expect-error a pipeline's close() is the base's
  const cap: Calculator.Client = c.names().pipeline.close;
  void cap;
}

/** The server hooks the generator reserves (names.ts RUNTIME_MEMBERS.ServerHooks) are ServerHooks' keys. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
export const serverHookNames: Equal<Exclude<keyof ServerHooks, symbol>, "getFd" | "shortenPath"> = true;

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
  srv: Server<Calculator.Client>,
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

/** Interface-typed fields take their client, a server of their interface (see serverTypes) or null. */
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
    const e = ctx.params.expression;
    const lit: number = e.which === "literal" ? e.literal : 0;
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
  assert.equal(typeof unionReaderTypes, "function");
  assert.equal(typeof unionBuilderTypes, "function");
  assert.equal(typeof serverTypes, "function");
  assert.equal(typeof methodNameTypes, "function");
  assert.equal(serverHookNames, true);
  assert.equal(typeof capabilityTypes, "function");
  assert.equal(typeof capabilitySetterTypes, "function");
  assert.equal(typeof capabilityListTypes, "function");
  assert.equal(Calculator.methods.evaluate, 0);
  assert.equal(Derived.methods.dance, 0);
  assert.equal(typeof Calculator.server, "function");
});
