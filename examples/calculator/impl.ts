/**
 * The calculator's capability servers (after C++'s samples/calculator-server.c++), written
 * against the generated bindings. No Node imports: the browser example runs this in a Web Worker.
 */

import type { CallContext, Server } from "capnts/rpc";
import {
  Calculator,
  type Calculator_Client,
  type Calculator_Expression_Reader,
  Calculator_Function,
  Calculator_Function_Client,
  Calculator_Operator,
  Calculator_Value,
  Calculator_Value_Client,
} from "./calculator.capnp.js";

/** An expression held by the server (a function body): capabilities in it are our references. */
type Ast =
  | { kind: "literal"; value: number }
  | { kind: "value"; value: Calculator_Value_Client }
  | { kind: "parameter"; index: number }
  | { kind: "call"; fn: Calculator_Function_Client; params: Ast[] };

function toAst(e: Calculator_Expression_Reader): Ast {
  switch (e.which) {
    case "literal":
      return { kind: "literal", value: e.literal };
    case "previousResult":
      return { kind: "value", value: e.previousResult };
    case "parameter":
      return { kind: "parameter", index: e.parameter };
    case "call": {
      const c = e.call;
      return { kind: "call", fn: c.function, params: c.params.toArray().map(toAst) };
    }
    default:
      throw new Error("Unknown expression type.");
  }
}

function disposeAst(a: Ast): void {
  if (a.kind === "value") a.value.close();
  else if (a.kind === "call") {
    a.fn.close();
    for (const p of a.params) disposeAst(p);
  }
}

/** Evaluate an expression; calls go out concurrently (C++'s evaluateImpl with kj::joinPromises). */
async function evaluate(a: Ast, params: readonly number[] = []): Promise<number> {
  switch (a.kind) {
    case "literal":
      return a.value;
    case "value": {
      using p = a.value.read();
      return (await p).value;
    }
    case "parameter":
      if (a.index >= params.length) throw new Error("Parameter index out of range.");
      return params[a.index]!;
    case "call": {
      const args = await Promise.all(a.params.map((p) => evaluate(p, params)));
      using r = a.fn.call((p) => {
        const list = p.initParams(args.length);
        for (let i = 0; i < args.length; i++) list.set(i, args[i]!);
      });
      return (await r).value;
    }
  }
}

function valueServer(value: number): Server<Calculator_Value_Client> {
  return Calculator_Value.server({
    read(ctx) {
      ctx.results.value = value;
    },
  });
}

function functionServer(paramCount: number, body: Ast): Server<Calculator_Function_Client> {
  return Calculator_Function.server({
    async call(ctx) {
      const params = ctx.params.params.toArray();
      if (params.length !== paramCount) throw new Error("Wrong number of parameters.");
      ctx.results.value = await evaluate(body, params);
    },
    [Symbol.dispose]() {
      disposeAst(body);
    },
  } as Parameters<typeof Calculator_Function.server>[0]);
}

function operatorServer(op: number): Server<Calculator_Function_Client> {
  return Calculator_Function.server({
    call(ctx) {
      const p = ctx.params.params;
      if (p.length !== 2) throw new Error("Wrong number of parameters.");
      const [a, b] = [p.get(0), p.get(1)];
      switch (op) {
        case Calculator_Operator.add:
          ctx.results.value = a + b;
          break;
        case Calculator_Operator.subtract:
          ctx.results.value = a - b;
          break;
        case Calculator_Operator.multiply:
          ctx.results.value = a * b;
          break;
        case Calculator_Operator.divide:
          ctx.results.value = a / b;
          break;
        default:
          throw new Error("Unknown operator.");
      }
    },
  });
}

/** The calculator: a new capability server. */
export function calculatorServer(): Server<Calculator_Client> {
  return Calculator.server({
    async evaluate(ctx) {
      const ast = toAst(ctx.params.expression);
      ctx.releaseParams();
      try {
        const v = await evaluate(ast);
        using value = new Calculator_Value_Client(valueServer(v));
        ctx.results.value = value;
      } finally {
        disposeAst(ast);
      }
    },
    defFunction(
      ctx: CallContext<
        import("./calculator.capnp.js").Calculator_defFunction_Params_Reader,
        import("./calculator.capnp.js").Calculator_defFunction_Results_Builder
      >,
    ) {
      const body = toAst(ctx.params.body);
      using fn = new Calculator_Function_Client(functionServer(ctx.params.paramCount, body));
      ctx.results.func = fn;
    },
    getOperator(ctx) {
      using fn = new Calculator_Function_Client(operatorServer(ctx.params.op));
      ctx.results.func = fn;
    },
  });
}
