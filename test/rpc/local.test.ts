import assert from "node:assert/strict";
import { test } from "node:test";
import { type CallContext, Client, RpcError, whenIdle } from "../../src/rpc/index.js";
import {
  type Foo_Params_Reader,
  type Foo_Results_Builder,
  TestCallOrder,
  TestCallOrder_Client,
  TestInterface,
  TestInterface_Client,
  TestPipeline,
  TestPipeline_Client,
} from "./fixtures/shim.js";

test("local call is never synchronous and returns results", async () => {
  let calls = 0;
  const cap = new TestInterface_Client(
    TestInterface.server({
      foo(ctx) {
        calls++;
        assert.equal(ctx.params.i, 123);
        assert.equal(ctx.params.j, true);
        ctx.results.x = "foo";
      },
    }),
  );
  const p = cap.foo((p) => {
    p.i = 123;
    p.j = true;
  });
  assert.equal(calls, 0);
  const r = await p;
  assert.equal(r.x, "foo");
  assert.equal(calls, 1);
  await assert.rejects(cap.bar(), (e: unknown) => e instanceof RpcError && e.type === "unimplemented");
  p.cancel();
  cap.close();
});

test("local calls keep E-order through a promise capability", async () => {
  let n = 0;
  let resolveTarget!: (c: Client) => void;
  const promised = new TestCallOrder_Client(new Promise<Client>((r) => (resolveTarget = r)));
  const results: Promise<number>[] = [];
  for (let i = 0; i < 3; i++) results.push(promised.getCallSequence().then((r) => r.n));
  resolveTarget(new TestCallOrder_Client(TestCallOrder.server({ getCallSequence(ctx) { ctx.results.n = n++; } })));
  for (let i = 3; i < 6; i++) results.push(promised.getCallSequence().then((r) => r.n));
  assert.deepEqual(await Promise.all(results), [0, 1, 2, 3, 4, 5]);
  await promised.whenResolved();
  promised.close();
});

test("local pipelining", async () => {
  let disposed = 0;
  const extImpl = {
    foo(ctx: CallContext<Foo_Params_Reader, Foo_Results_Builder>) {
      ctx.results.x = "bar";
    },
    [Symbol.dispose]() {
      disposed++;
    },
  };
  const ext = TestInterface.server(extImpl);
  const pipe = new TestPipeline_Client(
    TestPipeline.server({
      async getCap(ctx) {
        assert.equal(ctx.params.n, 234);
        const inCap = ctx.params.inCap;
        const r = await inCap.foo((p) => { p.i = 123; p.j = true; });
        assert.equal(r.x, "foo");
        inCap.close();
        ctx.results.s = "bar";
        using extCap = new TestInterface_Client(ext);
        ctx.results.initOutBox().cap = extCap;
      },
    }),
  );
  const local = new TestInterface_Client(TestInterface.server({ foo(ctx) { ctx.results.x = "foo"; } }));
  const p = pipe.getCap((p) => {
    p.n = 234;
    p.inCap = local;
  });
  const c = p.pipeline.outBox.cap;
  const r2 = c.foo((p) => { p.i = 321; });
  p.cancel(); // dropping the root promise must not cancel the pipelined call
  assert.equal((await r2).x, "bar");
  r2.cancel();
  c.close();
  local.close();
  pipe.close();
  await whenIdle();
  assert.equal(disposed, 1);
});
