/**
 * Core call/return and pipelining, mirroring C++ rpc-test.c++ / rpc-twoparty-test.c++.
 */
import assert from "node:assert/strict";
import { RpcError } from "capnts/rpc";
import { Counters, TestInterfaceImpl } from "../fixtures/test-impls.js";
import {
  canonicalAllTypes,
  TestExtends_Client,
  TestInterface,
  TestInterface_Client,
} from "../interop/gen/test.capnp.js";
import { rpcTest } from "./harness.js";
import { obj } from "./util.js";

rpcTest("Rpc.Basic (rpc-test.c++ TEST(Rpc, Basic))", async (ctx) => {
  using client = obj(ctx.boot, "testInterface");
  using p1 = client.foo((p) => {
    p.i = 123;
    p.j = true;
  });
  using p2 = client.bar();
  const req = client.bazRequest();
  req.params.s = canonicalAllTypes;
  using p3 = req.send();
  // Nothing has run yet: calls are never delivered synchronously.
  assert.equal(ctx.counters.callCount, 0);
  assert.equal((await p1).x, "foo");
  await p3;
  await assert.rejects(p2, (e: unknown) => e instanceof RpcError && e.type === "unimplemented");
  assert.equal(ctx.counters.callCount, 2);
});

rpcTest("Rpc.Pipelining (rpc-test.c++ TEST(Rpc, Pipelining))", async (ctx) => {
  let chainedCallCount = 0;
  using client = obj(ctx.boot, "testPipeline");
  const local = TestInterface.server({
    foo(c) {
      chainedCallCount++;
      c.results.x = "foo";
    },
  });
  using inCap = new TestInterface_Client(local);
  const promise = client.getCap((p) => {
    p.n = 234;
    p.inCap = inCap;
  });
  using pipelineCap = promise.pipeline.outBox.cap;
  using p2 = pipelineCap.foo((p) => {
    p.i = 321;
  });
  using ext = pipelineCap.castAs(TestExtends_Client);
  using p3 = ext.grault();
  promise.cancel(); // Dropping the root promise must not cancel the pipelined calls.
  assert.equal(ctx.counters.callCount, 0);
  assert.equal(chainedCallCount, 0);
  assert.equal((await p2).x, "bar");
  const g = await p3;
  assert.equal(g.int32Field, -12345678);
  assert.equal(g.textField, "foo");
  assert.equal(ctx.counters.callCount, 3);
  assert.equal(chainedCallCount, 1);
});

rpcTest('RPC sendForPipeline() (rpc-test.c++ KJ_TEST("RPC sendForPipeline()"))', async (ctx) => {
  let chainedCallCount = 0;
  using client = obj(ctx.boot, "testPipeline");
  using inCap = new TestInterface_Client(
    TestInterface.server({
      foo(c) {
        chainedCallCount++;
        c.results.x = "foo";
      },
    }),
  );
  const req = client.getCapRequest();
  req.params.n = 234;
  req.params.inCap = inCap;
  using pipeline = req.sendForPipeline();
  using pipelineCap = pipeline.outBox.cap;
  using p2 = pipelineCap.foo((p) => {
    p.i = 321;
  });
  using ext = pipelineCap.castAs(TestExtends_Client);
  using p3 = ext.grault();
  assert.equal((await p2).x, "bar");
  assert.equal((await p3).textField, "foo");
  assert.equal(ctx.counters.callCount, 3);
  assert.equal(chainedCallCount, 1);
});

/**
 * C++ KJ_TEST("context.setPipeline"): the server's getCapPipelineOnly() sets its pipeline and
 * never returns (and is not cancellable); calls pipelined on the promised capability are
 * answered. Besides C++'s checks: dropping the call does not end the server's method (it is not
 * cancellable), and calls already made on the pipelined capability still work.
 */
rpcTest('RPC context.setPipeline (rpc-test.c++ KJ_TEST("RPC context.setPipeline"))', async (ctx) => {
  using client = obj(ctx.boot, "testPipeline");
  await client.whenResolved();
  const before = ctx.counters.callCount;
  const promise = client.getCapPipelineOnly();
  using pipelineCap = promise.pipeline.outBox.cap;
  using p2 = pipelineCap.foo((p) => {
    p.i = 321;
  });
  using ext = pipelineCap.castAs(TestExtends_Client);
  using p3 = ext.grault();
  assert.equal(ctx.counters.callCount - before, 0, "nothing has run on the server yet");
  assert.equal((await p2).x, "bar");
  assert.equal((await p3).textField, "foo");
  assert.equal(ctx.counters.callCount - before, 3);
  // The original call never returns.
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await ctx.settle();
  assert.equal(settled, false);
  // Dropping it does not cancel the server's method: it is still waiting to be ended.
  promise.cancel();
  await ctx.settle();
  assert.equal(ctx.counters.neverDone?.length, 1, "the server's getCapPipelineOnly() is still running");
  assert.equal(ctx.serverConn.tableSizes().answers, 1, "its answer stays until it returns");
  for (const end of ctx.counters.neverDone!.splice(0)) end();
});

rpcTest(
  "local loop: a TestInterface served locally behaves the same",
  async () => {
    const c = new Counters();
    using cap = new TestInterface_Client(TestInterface.server(new TestInterfaceImpl(c)));
    using p = cap.foo((p) => {
      p.i = 123;
      p.j = true;
    });
    assert.equal((await p).x, "foo");
  },
  { modes: ["memory"] },
);
