import assert from "node:assert/strict";
import { test } from "node:test";
import { RpcConnection } from "../../src/rpc/connection.js";
import { newMemoryTransportPair } from "../../src/rpc/memory-transport.js";
import { whenIdle } from "../../src/rpc/index.js";
import { TestInterface, TestInterface_Client, TestPipeline, TestPipeline_Client } from "./fixtures/shim.js";

test("smoke: bootstrap + call over memory pair", async () => {
  const [a, b] = newMemoryTransportPair();
  let calls = 0;
  const server = TestInterface.server({
    foo(ctx) {
      calls++;
      ctx.results.x = `foo${ctx.params.i}`;
    },
  });
  const sconn = new RpcConnection(b, { bootstrap: () => server._client() });
  const cconn = new RpcConnection(a, {});
  sconn.start();
  cconn.start();
  const cap = new TestInterface_Client(cconn.bootstrap());
  const r = await cap.foo((p) => { p.i = 7; });
  assert.equal(r.x, "foo7");
  assert.equal(calls, 1);
  await assert.rejects(cap.bar(), /not implemented/);
  const p = cap.foo((p) => { p.i = 8; });
  assert.equal((await p).x, "foo8");
  p.cancel();
  cap.close();
  await whenIdle();
  await whenIdle();
  console.log(cconn.tableSizes(), sconn.tableSizes());
  assert.deepEqual(cconn.tableSizes(), { questions: 0, answers: 0, exports: 0, imports: 0, embargoes: 0 });
  assert.deepEqual(sconn.tableSizes(), { questions: 0, answers: 0, exports: 0, imports: 0, embargoes: 0 });
  cconn.disconnect(new (await import("../../src/rpc/errors.js")).RpcError("disconnected", "bye"));
  await whenIdle();
  assert.ok(sconn.error);
});

test("smoke: pipelining over memory pair", async () => {
  const [a, b] = newMemoryTransportPair();
  const pipeServer = TestPipeline.server({
    async getCap(ctx) {
      const inCap = ctx.params.inCap;
      const r = await inCap.foo((p) => { p.i = 123; p.j = true; });
      assert.equal(r.x, "foo");
      r; inCap.close();
      ctx.results.s = "bar";
      ctx.results.initOutBox().cap = TestInterface.server({ foo(c) { c.results.x = "bar"; } }) as never;
    },
  });
  const sconn = new RpcConnection(b, { bootstrap: () => pipeServer._client() });
  const cconn = new RpcConnection(a, {});
  sconn.start();
  cconn.start();
  const cap = new TestPipeline_Client(cconn.bootstrap());
  const local = new TestInterface_Client(TestInterface.server({ foo(ctx) { ctx.results.x = "foo"; } }));
  const p = cap.getCap((p) => { p.n = 234; p.inCap = local; });
  const box = p.pipeline.outBox.cap;
  const r2 = box.foo((p) => { p.i = 321; });
  p.cancel();
  assert.equal((await r2).x, "bar");
  r2.cancel(); box.close(); local.close(); cap.close();
  for (let i = 0; i < 5; i++) await whenIdle();
  console.log(cconn.tableSizes(), sconn.tableSizes());
});
