/**
 * The calculator client (after C++'s samples/calculator-client.c++): each step builds on results
 * that have not arrived yet, so most of them cost a single network round trip.
 */
import {
  type Calculator_Client,
  type Calculator_Expression_Builder,
  Calculator_Function,
  Calculator_Function_Client,
  Calculator_Operator,
} from "./calculator.capnp.js";

export interface Step {
  name: string;
  value: number;
  expected: number;
  calls: number;
  roundTrips: number;
}

/** Counts round trips: batches of outgoing calls the client had to send (see demo.ts). */
export interface RoundTripCounter {
  readonly roundTrips: number;
}

function literal(e: Calculator_Expression_Builder, v: number): void {
  e.literal = v;
}

/** `fn(params...)` as an expression. */
function call(
  e: Calculator_Expression_Builder,
  fn: Calculator_Function_Client,
  ...params: ((e: Calculator_Expression_Builder) => void)[]
): void {
  const c = e.initCall();
  c.function = fn;
  const list = c.initParams(params.length);
  for (let i = 0; i < params.length; i++) params[i]!(list.get(i));
}

export async function runClient(
  calc: Calculator_Client,
  counter: RoundTripCounter,
  log: (s: string) => void,
): Promise<Step[]> {
  const steps: Step[] = [];
  const measure = async (name: string, expected: number, calls: number, f: () => Promise<number>) => {
    const before = counter.roundTrips;
    const value = await f();
    const step = { name, value, expected, calls, roundTrips: counter.roundTrips - before };
    steps.push(step);
    const ok = Math.abs(value - expected) < 1e-9 ? "ok" : `WRONG (expected ${expected})`;
    log(
      `  ${name.padEnd(52)} = ${String(value).padEnd(6)} ${ok}  ${calls} calls, ${step.roundTrips} round trip${step.roundTrips === 1 ? "" : "s"}`,
    );
    return value;
  };

  // 1. A literal: evaluate() and read() go out together; read() is pipelined on the Value.
  await measure("evaluate(123).read()", 123, 2, async () => {
    using e = calc.evaluate((p) => literal(p.initExpression(), 123));
    using value = e.pipeline.value;
    using r = value.read();
    return (await r).value;
  });

  // 2. Operators from the server, used before we have them: (123 + 45) - 67.
  await measure("getOperator(add), getOperator(subtract); (123+45)-67", 101, 4, async () => {
    using addP = calc.getOperator((p) => (p.op = Calculator_Operator.add));
    using subP = calc.getOperator((p) => (p.op = Calculator_Operator.subtract));
    using add = addP.pipeline.func;
    using sub = subP.pipeline.func;
    using e = calc.evaluate((p) =>
      call(
        p.initExpression(),
        sub,
        (x) =>
          call(
            x,
            add,
            (y) => literal(y, 123),
            (y) => literal(y, 45),
          ),
        (x) => literal(x, 67),
      ),
    );
    using value = e.pipeline.value;
    using r = value.read();
    return (await r).value;
  });

  // 3. Feeding a result not yet computed into another evaluation: (4 * 6) + 3, pipelined.
  await measure("evaluate(4*6) → evaluate(previous+3), pipelined", 27, 5, async () => {
    using mulP = calc.getOperator((p) => (p.op = Calculator_Operator.multiply));
    using addP = calc.getOperator((p) => (p.op = Calculator_Operator.add));
    using mul = mulP.pipeline.func;
    using add = addP.pipeline.func;
    using e1 = calc.evaluate((p) =>
      call(
        p.initExpression(),
        mul,
        (x) => literal(x, 4),
        (x) => literal(x, 6),
      ),
    );
    using v1 = e1.pipeline.value;
    using e2 = calc.evaluate((p) =>
      call(
        p.initExpression(),
        add,
        (x) => (x.previousResult = v1),
        (x) => literal(x, 3),
      ),
    );
    using v2 = e2.pipeline.value;
    using r = v2.read();
    return (await r).value;
  });

  // 3b. The same computation, waiting for each answer before the next call (no pipelining).
  await measure("the same, awaiting every call (no pipelining)", 27, 5, async () => {
    const mulP = calc.getOperator((p) => (p.op = Calculator_Operator.multiply));
    using mul = (await mulP).func;
    mulP.cancel();
    const addP = calc.getOperator((p) => (p.op = Calculator_Operator.add));
    using add = (await addP).func;
    addP.cancel();
    const e1 = calc.evaluate((p) =>
      call(
        p.initExpression(),
        mul,
        (x) => literal(x, 4),
        (x) => literal(x, 6),
      ),
    );
    using v1 = (await e1).value;
    e1.cancel();
    const e2 = calc.evaluate((p) =>
      call(
        p.initExpression(),
        add,
        (x) => (x.previousResult = v1),
        (x) => literal(x, 3),
      ),
    );
    using v2 = (await e2).value;
    e2.cancel();
    using r = v2.read();
    return (await r).value;
  });

  // 4. Functions defined on the server: f(x, y) = x * 100 + y; g(x) = f(x, x + 1) * 2.
  await measure("defFunction f, g; evaluate f(12, 34)", 1234, 5, async () => {
    using addP = calc.getOperator((p) => (p.op = Calculator_Operator.add));
    using mulP = calc.getOperator((p) => (p.op = Calculator_Operator.multiply));
    using add = addP.pipeline.func;
    using mul = mulP.pipeline.func;
    using fP = calc.defFunction((p) => {
      p.paramCount = 2;
      call(
        p.initBody(),
        add,
        (x) =>
          call(
            x,
            mul,
            (y) => (y.parameter = 0),
            (y) => literal(y, 100),
          ),
        (x) => (x.parameter = 1),
      );
    });
    using f = fP.pipeline.func;
    using e = calc.evaluate((p) =>
      call(
        p.initExpression(),
        f,
        (x) => literal(x, 12),
        (x) => literal(x, 34),
      ),
    );
    using v = e.pipeline.value;
    using r = v.read();
    return (await r).value;
  });

  await measure("evaluate g(21) = f(21, 22) * 2", 4244, 6, async () => {
    using addP = calc.getOperator((p) => (p.op = Calculator_Operator.add));
    using mulP = calc.getOperator((p) => (p.op = Calculator_Operator.multiply));
    using add = addP.pipeline.func;
    using mul = mulP.pipeline.func;
    using fP = calc.defFunction((p) => {
      p.paramCount = 2;
      call(
        p.initBody(),
        add,
        (x) =>
          call(
            x,
            mul,
            (y) => (y.parameter = 0),
            (y) => literal(y, 100),
          ),
        (x) => (x.parameter = 1),
      );
    });
    using f = fP.pipeline.func;
    using gP = calc.defFunction((p) => {
      p.paramCount = 1;
      call(
        p.initBody(),
        mul,
        (x) =>
          call(
            x,
            f,
            (y) => (y.parameter = 0),
            (y) =>
              call(
                y,
                add,
                (z) => (z.parameter = 0),
                (z) => literal(z, 1),
              ),
          ),
        (x) => literal(x, 2),
      );
    });
    using g = gP.pipeline.func;
    using e = calc.evaluate((p) => call(p.initExpression(), g, (x) => literal(x, 21)));
    using v = e.pipeline.value;
    using r = v.read();
    return (await r).value;
  });

  // 5. A function implemented here, called back by the server: pow(2, 4 + 5).
  let callbacks = 0;
  const pow = new Calculator_Function_Client(
    Calculator_Function.server({
      call(ctx) {
        callbacks++;
        const p = ctx.params.params;
        ctx.results.value = p.get(0) ** p.get(1);
      },
    }),
  );
  await measure("client-side pow(2, 4+5), called back by the server", 512, 3, async () => {
    using addP = calc.getOperator((p) => (p.op = Calculator_Operator.add));
    using add = addP.pipeline.func;
    using e = calc.evaluate((p) =>
      call(
        p.initExpression(),
        pow,
        (x) => literal(x, 2),
        (x) =>
          call(
            x,
            add,
            (y) => literal(y, 4),
            (y) => literal(y, 5),
          ),
      ),
    );
    using v = e.pipeline.value;
    using r = v.read();
    return (await r).value;
  });
  pow.close();
  if (callbacks !== 1) throw new Error(`expected one callback, got ${callbacks}`);
  return steps;
}
