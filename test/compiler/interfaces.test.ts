/**
 * Generated interfaces against the RPC runtime, in process: clients call through the generated
 * methods, servers are reached through the generated dispatch (superclasses included), results
 * pipeline, missing methods answer "unimplemented", streaming methods resolve.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Client, RpcError } from "capnts/rpc";
import { MessageBuilder } from "capnts/wire";
import {
  Calculator,
  type Calculator_Server,
  Clash,
  Derived,
  type Derived_Server,
  HasCaps,
  Holder,
} from "./gen/codegen-test.capnp.js";

/** The literal of an expression (every call here sends one). */
function literal(e: Calculator.Expression.Reader): number {
  if (e.which !== "literal") throw new Error(`expected a literal, got ${e.which}`);
  return e.literal;
}

function valueServer(v: number): Calculator.Value.Client {
  return new Calculator.Value.Client(
    Calculator.Value.server({
      read(ctx) {
        ctx.results.value = v;
      },
    }),
  );
}

test("calls, results and pipelining through generated clients and dispatch", async () => {
  const written: number[] = [];
  const impl: Calculator_Server = {
    evaluate(ctx) {
      const e = ctx.params.expression;
      assert.equal(e.which, "literal");
      using v = valueServer(e.literal * 2);
      ctx.results.value = v;
    },
    write(ctx) {
      written.push(ctx.params.data.length);
    },
  };
  using calc = new Calculator.Client(Calculator.server(impl));
  using p = calc.evaluate((params) => {
    params.initExpression().literal = 21;
  });
  // Pipelined call on the promised capability, before the first call returns.
  using value = p.pipeline.value;
  using read = value.read();
  assert.equal((await read).value, 42);
  const results = await p;
  using v2 = results.value;
  using again = v2.read();
  assert.equal((await again).value, 42);

  await calc.write((params) => {
    params.data = new Uint8Array(3);
  });
  assert.deepEqual(written, [3]);

  using op = calc.getOperator((params) => {
    params.op = Calculator.Operator.subtract;
  });
  await assert.rejects(op, (e: unknown) => e instanceof RpcError && e.type === "unimplemented");
});

test("superclass methods dispatch through the derived server", async () => {
  let pinged = 0;
  const impl: Derived_Server = {
    ping() {
      pinged++;
    },
    pong(ctx) {
      ctx.results.n = ctx.params.n + 1;
    },
    dance(ctx) {
      const moves = ctx.results.initMoves(2);
      moves.set(0, "left");
      moves.set(1, "right");
    },
  };
  using d = new Derived.Client(Derived.server(impl));
  using a = d.ping();
  await a;
  assert.equal(pinged, 1);
  using b = d.pong((p) => {
    p.n = 41;
  });
  assert.equal((await b).n, 42);
  using c = d.dance();
  assert.deepEqual((await c).moves.toArray(), ["left", "right"]);
  using e = d.then$();
  await assert.rejects(e, (err: unknown) => err instanceof RpcError && err.type === "unimplemented");
  assert.equal(Derived_interfaceNames(), "Derived > Base, Other");
});

function Derived_interfaceNames(): string {
  const info = Derived.Client._interface;
  return `${info.name} > ${(info.superclasses ?? []).map((s) => s.name).join(", ")}`;
}

test("capability fields in structs", async () => {
  const m = new MessageBuilder();
  const hc = m.initRoot(HasCaps.Builder);
  assert.equal(hc.hasCalc(), false);
  using calc = new Calculator.Client(Calculator.server({}));
  hc.calc = calc;
  assert.equal(hc.hasCalc(), true);
  using back = hc.asReader().calc;
  using r = back.evaluate();
  await assert.rejects(r, (e: unknown) => e instanceof RpcError && e.type === "unimplemented");
  hc.calc = null;
  assert.equal(hc.hasCalc(), false);
  // A Server goes in directly (the message takes its own reference).
  hc.calc = Calculator.server({
    evaluate(ctx) {
      using v = valueServer(literal(ctx.params.expression) + 1);
      ctx.results.value = v;
    },
  });
  hc.derived = Derived.server({
    pong(ctx) {
      ctx.results.n = ctx.params.n * 2;
    },
  });
  using viaServer = hc.asReader().calc;
  using e = viaServer.evaluate((p) => {
    p.initExpression().literal = 1;
  });
  using v = e.pipeline.value;
  using read = v.read();
  assert.equal((await read).value, 2);
  using d = hc.derived;
  using pong = d.pong((p) => {
    p.n = 21;
  });
  assert.equal((await pong).n, 42);
});

test(":Capability fields, params and results are untyped clients", async () => {
  // Fields: any client or a Server goes in; a Client comes out (castAs gives it its interface).
  const m = new MessageBuilder();
  const hc = m.initRoot(HasCaps.Builder);
  using seven = valueServer(7);
  hc.anyCap = seven;
  assert.equal(hc.hasAnyCap(), true);
  using back = hc.asReader().anyCap;
  assert.ok(back instanceof Client);
  using typed = back.castAs(Calculator.Value.Client);
  using read = typed.read();
  assert.equal((await read).value, 7);
  hc.anyCap = Calculator.Value.server({
    read(ctx) {
      ctx.results.value = 8;
    },
  });
  using raw = hc.anyCap;
  using fromServer = raw.castAs(Calculator.Value.Client);
  using read8 = fromServer.read();
  assert.equal((await read8).value, 8);
  hc.anyCap = null;
  assert.equal(hc.hasAnyCap(), false);
  using none = hc.anyCap;
  assert.equal(none.isNull, true);

  // Params and results, and pipelining on a `:Capability` result.
  using holder = new Holder.Client(
    Holder.server({
      hold(ctx) {
        using cap = ctx.params.cap;
        ctx.results.cap = cap;
        ctx.results.initHeld().anyCap = cap;
      },
    }),
  );
  using p = holder.hold((params) => {
    params.cap = seven;
  });
  using pipelinedCap = p.pipeline.cap;
  using pipelined = pipelinedCap.castAs(Calculator.Value.Client);
  using viaPipeline = pipelined.read();
  assert.equal((await viaPipeline).value, 7);
  using deepCap = p.pipeline.held.anyCap;
  using deep = deepCap.castAs(Calculator.Value.Client);
  using viaDeep = deep.read();
  assert.equal((await viaDeep).value, 7);
  const res = await p;
  using resRaw = res.cap;
  using resCap = resRaw.castAs(Calculator.Value.Client);
  using viaResult = resCap.read();
  assert.equal((await viaResult).value, 7);
});

test("lists of interfaces are typed clients; List(Capability) untyped ones", async () => {
  const m = new MessageBuilder();
  const hc = m.initRoot(HasCaps.Builder);
  const calcs = hc.initCalcs(3);
  {
    using calc = new Calculator.Client(
      Calculator.server({
        evaluate(ctx) {
          using v = valueServer(literal(ctx.params.expression) * 10);
          ctx.results.value = v;
        },
      }),
    );
    calcs.set(0, calc); // the list takes its own reference: closing ours keeps it alive
  }
  calcs.set(1, Calculator.server({}));
  calcs.set(2, null);
  assert.equal(calcs.get(2), null);
  const evaluate = async (c: Calculator.Client | null, x: number): Promise<number> => {
    assert.ok(c instanceof Calculator.Client);
    using cc = c;
    using p = cc.evaluate((params) => {
      params.initExpression().literal = x;
    });
    using v = p.pipeline.value;
    using r = v.read();
    return (await r).value;
  };
  assert.equal(await evaluate(calcs.get(0), 4), 40);
  const r = hc.asReader();
  assert.equal(await evaluate(r.calcs.get(0), 5), 50);
  using second = r.calcs.get(1);
  using unimpl = second!.evaluate();
  await assert.rejects(unimpl, (e: unknown) => e instanceof RpcError && e.type === "unimplemented");
  const all = r.calcs.toArray();
  assert.deepEqual(
    all.map((c) => c === null),
    [false, false, true],
  );
  for (const c of all) c?.close();

  // Nested lists, and List(Capability) holding any interface.
  hc.initCalcLists(1).init(0, 1).set(0, Calculator.server({}));
  using nested = r.calcLists.get(0).get(0);
  assert.ok(nested instanceof Calculator.Client);
  const anyCaps = hc.initAnyCaps(2);
  anyCaps.set(0, Calculator.Value.server({ read: (ctx) => void (ctx.results.value = 3) }));
  using anyCap = r.anyCaps.get(0);
  assert.ok(anyCap instanceof Client && !(anyCap instanceof Calculator.Client));
  using value = anyCap.castAs(Calculator.Value.Client);
  using read = value.read();
  assert.equal((await read).value, 3);
  assert.equal(r.anyCaps.get(1), null);

  // Copied lists keep their capabilities.
  const copy = new MessageBuilder().initRoot(HasCaps.Builder);
  copy.calcs = r.calcs;
  assert.equal(await evaluate(copy.asReader().calcs.get(0), 6), 60);
});

test("methods named like Client members or server hooks get a $ suffix; the hooks keep working", async () => {
  let disposed = 0;
  let shortened = 0;
  const called: string[] = [];
  using calls = new Clash.Client(
    Clash.server({
      getFd$(ctx) {
        ctx.results.n = 42;
      },
      shortenPath$() {},
      isNull$(ctx) {
        ctx.results.yes = true;
      },
      closed$() {},
      // Names that collide with nothing keep their name.
      cancel(ctx) {
        ctx.results.n = 5;
      },
      pipeline() {
        called.push("pipeline");
      },
      which() {
        called.push("which");
      },
      toJSON() {
        called.push("toJSON");
      },
      close$() {
        called.push("close");
      },
      names(ctx) {
        // A field named `close`: `close` on the results, `close$` on their pipeline.
        ctx.results.close = Calculator.server({
          evaluate(c) {
            using v = valueServer(literal(c.params.expression) + 100);
            c.results.value = v;
          },
        });
      },
      // The server hooks (ServerHooks), typed on the generated interface without casts.
      getFd: () => 7,
      shortenPath() {
        shortened++;
        return null;
      },
      [Symbol.dispose]() {
        disposed++;
      },
    }),
  );
  assert.equal(shortened, 1, "shortenPath() runs once, when the capability is made");
  // The RPC methods under their suffixed names...
  assert.equal((await calls.getFd$()).n, 42);
  assert.equal((await calls.isNull$()).yes, true);
  await calls.shortenPath$();
  await calls.closed$();
  assert.equal((await calls.cancel()).n, 5);
  await calls.pipeline();
  await calls.which();
  await calls.toJSON();
  await calls.close$();
  assert.deepEqual(called, ["pipeline", "which", "toJSON", "close"]);
  {
    using names = calls.names();
    using closer = names.pipeline.close$;
    using e = closer.evaluate((p) => (p.initExpression().literal = 1));
    using v = (await e).value;
    assert.equal((await v.read()).value, 101);
    using fromResults = (await names).close;
    assert.ok(fromResults instanceof Calculator.Client);
  }
  // ...and the Client base's members and the FD hook untouched.
  assert.equal(await calls.getFd(), 7);
  assert.equal(calls.isNull, false);
  assert.equal(calls.closed, false);
  calls.close();
  assert.equal(calls.closed, true);
  assert.equal(disposed, 1, "[Symbol.dispose]() runs when the last reference goes");
});
