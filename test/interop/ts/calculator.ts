/**
 * The calculator (examples/calculator/calculator.capnp, with the demo's generated bindings) for the
 * interop tests: a server with the behaviour of test/interop/cpp/calculator-server.c++, and a client
 * that evaluates the same fixed list as calculator-client.c++ and prints the same lines:
 *
 *   RESULT <name> <value> <roundTrips>
 *   FAIL calculator <name> <detail>
 *
 * `roundTrips` counts the times the client waited for the network to get that value, as the C++
 * client does: everything sent before a wait travels pipelined, and values awaited together
 * (Promise.all) cost one wait.
 */

import { RpcError } from "capnts/rpc";
import {
  Calculator,
  type Calculator_Client,
  type Calculator_Expression_Builder,
  type Calculator_Expression_Reader,
  Calculator_Function,
  type Calculator_Function_Client,
  type Calculator_Function_Server,
  Calculator_Operator,
  type Calculator_Server,
  Calculator_Value,
  type Calculator_Value_Client,
  type Calculator_Value_Server,
} from "../../../examples/calculator/calculator.capnp.js";
import { put, serve } from "../../fixtures/test-impls.js";

// ---------------------------------------------------------------------------------------------
// Server

/**
 * An expression read out of a message, holding its own references to the capabilities in it,
 * so that it can outlive the message (a defFunction body) and be evaluated later.
 */
type Expr =
  | { kind: "literal"; value: number }
  | { kind: "previous"; value: Calculator_Value_Client }
  | { kind: "parameter"; index: number }
  | { kind: "call"; func: Calculator_Function_Client; params: Expr[] };

function readExpr(e: Calculator_Expression_Reader): Expr {
  switch (e.which) {
    case "literal":
      return { kind: "literal", value: e.literal };
    case "previousResult":
      return { kind: "previous", value: e.previousResult };
    case "parameter":
      return { kind: "parameter", index: e.parameter };
    case "call": {
      const c = e.call;
      const params: Expr[] = [];
      for (const p of c.params) params.push(readExpr(p));
      return { kind: "call", func: c.function, params };
    }
    default:
      throw RpcError.failed("unknown expression type");
  }
}

function releaseExpr(e: Expr): void {
  if (e.kind === "previous") e.value.close();
  else if (e.kind === "call") {
    e.func.close();
    for (const p of e.params) releaseExpr(p);
  }
}

async function evaluate(e: Expr, params: readonly number[]): Promise<number> {
  switch (e.kind) {
    case "literal":
      return e.value;
    case "previous": {
      const r = e.value.read();
      try {
        return (await r).value;
      } finally {
        r.cancel();
      }
    }
    case "parameter":
      if (e.index >= params.length)
        throw RpcError.failed(`parameter index out of range: ${e.index} >= ${params.length}`);
      return params[e.index]!;
    case "call": {
      const args = await Promise.all(e.params.map((p) => evaluate(p, params)));
      const r = e.func.call((p) => {
        const l = p.initParams(args.length);
        for (let i = 0; i < args.length; i++) l.set(i, args[i]!);
      });
      try {
        return (await r).value;
      } finally {
        r.cancel();
      }
    }
  }
}

class ValueImpl implements Calculator_Value_Server {
  private readonly value: number;
  constructor(value: number) {
    this.value = value;
  }
  read: NonNullable<Calculator_Value_Server["read"]> = (ctx) => {
    ctx.results.value = this.value;
  };
}

class FunctionImpl implements Calculator_Function_Server, Disposable {
  private readonly paramCount: number;
  private readonly body: Expr;
  constructor(paramCount: number, body: Expr) {
    this.paramCount = paramCount;
    this.body = body;
  }
  call: NonNullable<Calculator_Function_Server["call"]> = async (ctx) => {
    const list = ctx.params.params;
    if (list.length !== this.paramCount) {
      throw RpcError.failed(`wrong number of parameters: ${list.length} != ${this.paramCount}`);
    }
    const params: number[] = [];
    for (let i = 0; i < list.length; i++) params.push(list.get(i));
    ctx.results.value = await evaluate(this.body, params);
  };
  [Symbol.dispose](): void {
    releaseExpr(this.body);
  }
}

class OperatorImpl implements Calculator_Function_Server {
  private readonly op: number;
  constructor(op: number) {
    this.op = op;
  }
  call: NonNullable<Calculator_Function_Server["call"]> = (ctx) => {
    const p = ctx.params.params;
    if (p.length !== 2) throw RpcError.failed(`operators take two parameters, got ${p.length}`);
    const a = p.get(0);
    const b = p.get(1);
    let v: number;
    switch (this.op) {
      case Calculator_Operator.add:
        v = a + b;
        break;
      case Calculator_Operator.subtract:
        v = a - b;
        break;
      case Calculator_Operator.multiply:
        v = a * b;
        break;
      case Calculator_Operator.divide:
        v = a / b;
        break;
      default:
        throw RpcError.failed("unknown operator");
    }
    ctx.results.value = v;
  };
}

export class CalculatorImpl implements Calculator_Server {
  evaluate: NonNullable<Calculator_Server["evaluate"]> = async (ctx) => {
    const e = readExpr(ctx.params.expression);
    try {
      const v = await evaluate(e, []);
      put((c) => (ctx.results.value = c), serve(Calculator_Value, new ValueImpl(v)));
    } finally {
      releaseExpr(e);
    }
  };
  defFunction: NonNullable<Calculator_Server["defFunction"]> = (ctx) => {
    const n = ctx.params.paramCount;
    if (n < 0) throw RpcError.failed("negative parameter count");
    const body = readExpr(ctx.params.body);
    put((c) => (ctx.results.func = c), serve(Calculator_Function, new FunctionImpl(n, body)));
  };
  getOperator: NonNullable<Calculator_Server["getOperator"]> = (ctx) => {
    put((c) => (ctx.results.func = c), serve(Calculator_Function, new OperatorImpl(ctx.params.op)));
  };
}

export function newCalculatorServer() {
  return Calculator.server(new CalculatorImpl());
}

// ---------------------------------------------------------------------------------------------
// Client

/** A function that lives in the client; the server calls back into it. */
class PowFunction implements Calculator_Function_Server {
  call: NonNullable<Calculator_Function_Server["call"]> = (ctx) => {
    const p = ctx.params.params;
    if (p.length !== 2) throw RpcError.failed("pow takes two parameters");
    ctx.results.value = p.get(0) ** p.get(1);
  };
}

/** The lines calculator-client.c++ prints against a correct Calculator. */
export const CALCULATOR_RESULTS: readonly string[] = [
  "RESULT literal 123 1",
  "RESULT add 168 1",
  "RESULT nested 101 1",
  "RESULT previous-result-plus 27 1",
  "RESULT previous-result-times 120 1",
  "RESULT def-function-f 1234 1",
  "RESULT def-function-g 4244 1",
  "RESULT client-function 128 1",
  "RESULT nested-awaited 101 5",
];

/** Formats like C++ printf("%.17g") for the integers used here (JavaScript's String(n)). */
function fmt(v: number): string {
  return String(v);
}

/**
 * Runs the calculator-client.c++ list against `calc` and returns the output lines. Every
 * capability and response is released before it returns.
 */
export async function runCalculatorClient(calc: Calculator_Client): Promise<string[]> {
  const lines: string[] = [];
  const owned: { close(): void }[] = [];
  const keep = <T extends { close(): void }>(x: T): T => {
    owned.push(x);
    return x;
  };
  const cancelAll: { cancel(): void }[] = [];
  const track = <T extends { cancel(): void }>(x: T): T => {
    cancelAll.push(x);
    return x;
  };
  let waits = 0;
  const wait = async <T>(p: PromiseLike<T>): Promise<T> => {
    waits++;
    return await p;
  };
  const report = (name: string, value: number, expected: number) => {
    lines.push(`RESULT ${name} ${fmt(value)} ${waits}`);
    if (value !== expected)
      lines.push(`FAIL calculator ${name} expected ${fmt(expected)}, got ${fmt(value)}`);
    waits = 0;
  };
  const op = (o: number): Calculator_Function_Client =>
    keep(track(calc.getOperator((p) => (p.op = o as never))).pipeline.func);
  const literalCall = (e: Calculator_Expression_Builder, f: Calculator_Function_Client, args: number[]) => {
    const c = e.initCall();
    c.function = f;
    const l = c.initParams(args.length);
    for (let i = 0; i < args.length; i++) l.get(i).literal = args[i]!;
  };
  const read = (v: Calculator_Value_Client) => track(v.read());
  const evalValue = (init: (e: Calculator_Expression_Builder) => void) =>
    keep(track(calc.evaluate((p) => init(p.initExpression()))).pipeline.value);

  try {
    // A literal; read() pipelined on evaluate()'s Value: one round trip.
    report("literal", (await wait(read(evalValue((e) => (e.literal = 123))))).value, 123);

    // 123 + 45, the operator fetched pipelined: one round trip.
    {
      const add = op(Calculator_Operator.add);
      report("add", (await wait(read(evalValue((e) => literalCall(e, add, [123, 45]))))).value, 168);
    }
    // (123 + 45) - 67 in one expression tree: one round trip.
    {
      const add = op(Calculator_Operator.add);
      const subtract = op(Calculator_Operator.subtract);
      const v = evalValue((e) => {
        const outer = e.initCall();
        outer.function = subtract;
        const ps = outer.initParams(2);
        literalCall(ps.get(0), add, [123, 45]);
        ps.get(1).literal = 67;
      });
      report("nested", (await wait(read(v))).value, 101);
    }
    // 4 * 6 evaluated once, its Value used by two more evaluations, both read in one round trip.
    {
      const multiply = op(Calculator_Operator.multiply);
      const add = op(Calculator_Operator.add);
      const product = evalValue((e) => literalCall(e, multiply, [4, 6]));
      const plus = evalValue((e) => {
        const c = e.initCall();
        c.function = add;
        const ps = c.initParams(2);
        ps.get(0).previousResult = product;
        ps.get(1).literal = 3;
      });
      const times = evalValue((e) => {
        const c = e.initCall();
        c.function = multiply;
        const ps = c.initParams(2);
        ps.get(0).previousResult = product;
        ps.get(1).literal = 5;
      });
      const [a, b] = await wait(Promise.all([read(plus), read(times)]));
      const w = waits;
      report("previous-result-plus", a.value, 27);
      waits = w;
      report("previous-result-times", b.value, 120);
    }
    // f(x, y) = x * 100 + y; g(x) = f(x, x + 1) * 2; f(12, 34) and g(21), all pipelined.
    {
      const multiply = op(Calculator_Operator.multiply);
      const add = op(Calculator_Operator.add);
      const f = keep(
        track(
          calc.defFunction((p) => {
            p.paramCount = 2;
            const c = p.initBody().initCall();
            c.function = add;
            const ps = c.initParams(2);
            ps.get(1).parameter = 1;
            const inner = ps.get(0).initCall();
            inner.function = multiply;
            const ips = inner.initParams(2);
            ips.get(0).parameter = 0;
            ips.get(1).literal = 100;
          }),
        ).pipeline.func,
      );
      const g = keep(
        track(
          calc.defFunction((p) => {
            p.paramCount = 1;
            const c = p.initBody().initCall();
            c.function = multiply;
            const ps = c.initParams(2);
            ps.get(1).literal = 2;
            const fc = ps.get(0).initCall();
            fc.function = f;
            const fps = fc.initParams(2);
            fps.get(0).parameter = 0;
            const plusOne = fps.get(1).initCall();
            plusOne.function = add;
            const pps = plusOne.initParams(2);
            pps.get(0).parameter = 0;
            pps.get(1).literal = 1;
          }),
        ).pipeline.func,
      );
      const fv = evalValue((e) => literalCall(e, f, [12, 34]));
      const gv = evalValue((e) => literalCall(e, g, [21]));
      const [fr, gr] = await wait(Promise.all([read(fv), read(gv)]));
      const w = waits;
      report("def-function-f", fr.value, 1234);
      waits = w;
      report("def-function-g", gr.value, 4244);
    }
    // A function in the client: the server calls back into it. 2 ^ (4 + 3).
    {
      const add = op(Calculator_Operator.add);
      const pow = keep(serve(Calculator_Function, new PowFunction()));
      const v = evalValue((e) => {
        const c = e.initCall();
        c.function = pow;
        const ps = c.initParams(2);
        ps.get(0).literal = 2;
        literalCall(ps.get(1), add, [4, 3]);
      });
      report("client-function", (await wait(read(v))).value, 128);
    }
    // The same as "nested", awaiting every step: five round trips instead of one.
    {
      const addCall = track(calc.getOperator((p) => (p.op = Calculator_Operator.add)));
      const add = keep((await wait(addCall)).func);
      const subCall = track(calc.getOperator((p) => (p.op = Calculator_Operator.subtract)));
      const subtract = keep((await wait(subCall)).func);
      const first = track(calc.evaluate((p) => literalCall(p.initExpression(), add, [123, 45])));
      const firstValue = keep((await wait(first)).value);
      const sum = (await wait(read(firstValue))).value;
      const value = evalValue((e) => literalCall(e, subtract, [sum, 67]));
      report("nested-awaited", (await wait(read(value))).value, 101);
    }
  } catch (e) {
    lines.push(
      `FAIL calculator exception ${e instanceof RpcError ? `${e.type}: ` : ""}${(e as Error).message}`,
    );
  } finally {
    for (const x of owned.reverse()) x.close();
    for (const x of cancelAll) x.cancel();
  }
  return lines;
}
