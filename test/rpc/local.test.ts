/** The local call path: run queue, local dispatch, promise capabilities, local pipelining. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { RpcError } from "capnts/rpc";
import { whenIdle } from "capnts/testing";
import { Counters, TestInterfaceImpl } from "../fixtures/test-impls.js";
import {
  TestCallOrder,
  TestCallOrder_Client,
  TestInterface,
  TestInterface_Client,
  TestPipeline,
  TestPipeline_Client,
} from "../interop/gen/test.capnp.js";

test("local call is never synchronous and returns results", async () => {
  const c = new Counters();
  using cap = new TestInterface_Client(TestInterface.server(new TestInterfaceImpl(c)));
  using p = cap.foo((p) => {
    p.i = 123;
    p.j = true;
  });
  assert.equal(c.callCount, 0);
  assert.equal((await p).x, "foo");
  assert.equal(c.callCount, 1);
  using b = cap.bar();
  await assert.rejects(b, (e: unknown) => e instanceof RpcError && e.type === "unimplemented");
});

test("local calls keep E-order through a promise capability", async () => {
  let n = 0;
  let resolveTarget!: (c: TestCallOrder_Client) => void;
  using promised = new TestCallOrder_Client(new Promise<TestCallOrder_Client>((r) => (resolveTarget = r)));
  const results: Promise<number>[] = [];
  for (let i = 0; i < 3; i++) results.push(promised.getCallSequence().then((r) => r.n));
  resolveTarget(
    new TestCallOrder_Client(
      TestCallOrder.server({
        getCallSequence(ctx) {
          ctx.results.n = n++;
        },
      }),
    ),
  );
  for (let i = 3; i < 6; i++) results.push(promised.getCallSequence().then((r) => r.n));
  assert.deepEqual(await Promise.all(results), [0, 1, 2, 3, 4, 5]);
  await promised.whenResolved();
});

test("local pipelining; dropping the root promise does not cancel pipelined calls", async () => {
  let disposed = 0;
  const ext = TestInterface.server({
    foo(ctx) {
      ctx.results.x = "bar";
    },
    [Symbol.dispose]() {
      disposed++;
    },
  } as Parameters<typeof TestInterface.server>[0]);
  using pipe = new TestPipeline_Client(
    TestPipeline.server({
      async getCap(ctx) {
        assert.equal(ctx.params.n, 234);
        using inCap = ctx.params.inCap;
        using r = inCap.foo((p) => {
          p.i = 123;
          p.j = true;
        });
        assert.equal((await r).x, "foo");
        ctx.results.s = "bar";
        using extCap = new TestInterface_Client(ext);
        ctx.results.initOutBox().cap = extCap;
      },
    }),
  );
  using local = new TestInterface_Client(TestInterface.server(new TestInterfaceImpl(new Counters())));
  const p = pipe.getCap((p) => {
    p.n = 234;
    p.inCap = local;
  });
  using c = p.pipeline.outBox.cap;
  using r2 = c.foo((p) => {
    p.i = 321;
  });
  p.cancel();
  assert.equal((await r2).x, "bar");
  r2.cancel();
  c.close();
  await whenIdle();
  assert.equal(disposed, 1);
});
