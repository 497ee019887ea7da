/**
 * Promise resolution, embargoes and disembargoes, mirroring C++ rpc-test.c++ (PromiseResolve,
 * Embargo, EmbargoError, EmbargoNull, CallBrokenPromise) and rpc-twoparty-test.c++ ("promise cap
 * resolves between starting request and sending it", "Two-hop embargo").
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Client, type RemotePromise, RpcError } from "capnts/rpc";
import { Message_Reader } from "../../src/gen/rpc.capnp.js";
import { Counters, TestCallOrderImpl, TestInterfaceImpl, TestMoreStuffImpl } from "../fixtures/test-impls.js";
import {
  TestCallOrder,
  TestCallOrder_Client,
  TestInterface,
  TestInterface_Client,
  TestMoreStuff,
  TestMoreStuff_Client,
} from "../interop/gen/test.capnp.js";
import { ALL_MODES, emptyTables, rpcTest, settleConns } from "./harness.js";
import { link } from "./link.js";
import { obj } from "./util.js";

function seq(cap: TestCallOrder_Client, expected: number) {
  return cap.getCallSequence((p) => {
    p.expected = expected;
  });
}

async function n(p: RemotePromise<{ n: number }, never>): Promise<number> {
  try {
    return (await p).n;
  } finally {
    p.cancel();
  }
}

function countDisembargoes(t: { onSend: ((m: import("capnts/wire").MessageReader) => void) | null } | null) {
  const c = { n: 0 };
  if (t !== null) {
    t.onSend = (m) => {
      if (m.getRoot(Message_Reader).which === "disembargo") c.n++;
    };
  }
  return c;
}

/**
 * C++ `promise.fork()` with two `addBranch()`es: each branch resolves to its own reference to the
 * capability (a promised Client is taken over by the handle made from it), and the fork's own
 * reference is dropped once both have theirs.
 */
function forkCap<C extends Client>(p: Promise<C>): [Promise<C>, Promise<C>] {
  let r1!: (c: C) => void;
  let r2!: (c: C) => void;
  const b1 = new Promise<C>((r) => (r1 = r));
  const b2 = new Promise<C>((r) => (r2 = r));
  void p.then((c) => {
    r1(c.dup());
    r2(c.dup());
    c.close();
  });
  return [b1, b2];
}

/**
 * C++ KJ_TEST("resolve promise") (TEST(Rpc, PromiseResolve) in 0.9.2): one local promise, forked;
 * each call carries its own branch (`fork.addBranch()`), so the server gets two distinct promise
 * capabilities that both resolve, later, to the same object.
 */
rpcTest("Rpc.PromiseResolve (rpc-test.c++ TEST(Rpc, PromiseResolve))", async (ctx) => {
  using client = obj(ctx.boot, "testMoreStuff");
  const chained = new Counters();
  let fulfill!: (c: TestInterface_Client) => void;
  const [fork1, fork2] = forkCap(new Promise<TestInterface_Client>((r) => (fulfill = r)));
  using branch1 = new TestInterface_Client(fork1);
  using branch2 = new TestInterface_Client(fork2);
  const exported: string[] = [];
  if (ctx.clientTransport !== null) {
    ctx.clientTransport.onSend = (m) => {
      const msg = m.getRoot(Message_Reader);
      if (msg.which !== "call") return;
      for (const cap of msg.call.params.capTable) {
        if (cap.which === "senderPromise") exported.push(`promise:${cap.senderPromise}`);
      }
    };
  }
  using promise = client.callFoo((p) => (p.cap = branch1));
  using promise2 = client.callFooWhenResolved((p) => (p.cap = branch2));
  assert.equal(await n(client.getCallSequence() as never), 2);
  assert.equal(ctx.counters.callCount, 3);
  if (ctx.clientTransport !== null) {
    // Two distinct promises are exported, one per branch.
    assert.deepEqual(exported, ["promise:0", "promise:1"]);
    ctx.clientTransport.onSend = null;
  }
  fulfill(new TestInterface_Client(TestInterface.server(new TestInterfaceImpl(chained))));
  assert.equal((await promise).s, "bar");
  assert.equal((await promise2).s, "bar");
  assert.equal(ctx.counters.callCount, 3);
  assert.equal(chained.callCount, 2);
});

rpcTest("Rpc.Embargo (rpc-test.c++ TEST(Rpc, Embargo))", async (ctx) => {
  const disembargoes = countDisembargoes(ctx.clientTransport);
  using client = obj(ctx.boot, "testMoreStuff");
  using cap = new TestCallOrder_Client(TestCallOrder.server(new TestCallOrderImpl(new Counters())));
  using earlyCall = client.getCallSequence();
  using echo = client.echo((p) => (p.cap = cap));
  using pipeline = echo.pipeline.cap;
  const call0 = seq(pipeline, 0);
  const call1 = seq(pipeline, 1);
  await earlyCall;
  const call2 = seq(pipeline, 2);
  using resolved = (await echo).cap;
  const call3 = seq(pipeline, 3);
  const call4 = seq(pipeline, 4);
  const call5 = seq(pipeline, 5);
  const got = [];
  for (const c of [call0, call1, call2, call3, call4, call5]) got.push(await n(c as never));
  assert.deepEqual(got, [0, 1, 2, 3, 4, 5]);
  void resolved;
  if (ctx.clientTransport !== null) {
    assert.equal(disembargoes.n, 1, "the pipelined cap resolved to a local object: one Disembargo");
    ctx.clientTransport.onSend = null;
  }
});

rpcTest("Rpc.EmbargoError (rpc-test.c++ TEST(Rpc, EmbargoError))", async (ctx) => {
  using client = obj(ctx.boot, "testMoreStuff");
  let reject!: (e: Error) => void;
  using cap = new TestCallOrder_Client(new Promise<TestCallOrder_Client>((_, r) => (reject = r)));
  using earlyCall = client.getCallSequence();
  using echo = client.echo((p) => (p.cap = cap));
  using pipeline = echo.pipeline.cap;
  const calls = [seq(pipeline, 0), seq(pipeline, 1)];
  await earlyCall;
  calls.push(seq(pipeline, 2));
  using resolved = (await echo).cap;
  calls.push(seq(pipeline, 3), seq(pipeline, 4), seq(pipeline, 5));
  reject(new Error("foo"));
  for (const c of calls) {
    await assert.rejects(c);
    c.cancel();
  }
  void resolved;
  // Still connected: no protocol error.
  assert.equal(typeof (await n(seq(client, 1) as never)), "number");
});

rpcTest("Rpc.EmbargoNull (rpc-test.c++ TEST(Rpc, EmbargoNull))", async (ctx) => {
  const disembargoes = countDisembargoes(ctx.clientTransport);
  using client = obj(ctx.boot, "testMoreStuff");
  using promise = client.getNull();
  using cap = promise.pipeline.nullCap;
  const call0 = cap.getCallSequence();
  await promise;
  const call1 = cap.getCallSequence();
  await assert.rejects(call0);
  await assert.rejects(call1);
  call0.cancel();
  call1.cancel();
  await n(seq(client, 0) as never);
  if (ctx.clientTransport !== null) {
    assert.equal(disembargoes.n, 0, "no Disembargo for a null capability");
    ctx.clientTransport.onSend = null;
  }
});

rpcTest("Rpc.CallBrokenPromise (rpc-test.c++ TEST(Rpc, CallBrokenPromise))", async (ctx) => {
  using client = obj(ctx.boot, "testMoreStuff");
  let reject!: (e: Error) => void;
  {
    using held = new TestInterface_Client(new Promise<TestInterface_Client>((_, r) => (reject = r)));
    using p = client.hold((p) => (p.cap = held));
    await p;
  }
  let returned = false;
  using req = client.callHeld();
  req.then(
    () => (returned = true),
    () => (returned = true),
  );
  for (let i = 0; i < 8; i++) await ctx.settle();
  assert.equal(returned, false);
  reject(new Error("foo"));
  await assert.rejects(req);
  assert.equal(returned, true);
  await ctx.settle();
  await n(seq(client, 1) as never);
});

for (const mode of ALL_MODES) {
  test(`promise cap resolves between starting request and sending it (rpc-twoparty-test.c++) [${mode}]`, async () => {
    // The client exports a TestCallOrder; the server exports a promise that will resolve to the
    // client's own bootstrap (a loop back to the client).
    let fulfill!: (c: Client) => void;
    const serverBoot = new Client(new Promise<Client>((r) => (fulfill = r)));
    const clientBoot = TestCallOrder.server(new TestCallOrderImpl(new Counters()));
    const l = await link(mode, clientBoot, serverBoot);
    const settle = () => settleConns(mode !== "memory", l.a, l.b);
    {
      using cap = new TestCallOrder_Client(l.a.bootstrap());
      const req1 = cap.getCallSequenceRequest();
      fulfill(new Client(l.b.bootstrap()));
      await cap.whenResolved();
      using p1 = req1.send();
      using p2 = cap.getCallSequence();
      assert.equal((await p1).n, 0);
      assert.equal((await p2).n, 1);
    }
    serverBoot.close();
    await settle();
    assert.deepEqual(l.a.tableSizes(), emptyTables());
    assert.deepEqual(l.b.tableSizes(), emptyTables());
    await l.close();
  });

  test(`Two-hop embargo (rpc-twoparty-test.c++ KJ_TEST("Two-hop embargo")) [${mode}]`, async () => {
    const counters = new Counters();
    // client ⇄ proxy ⇄ server; the proxy re-exports the server's bootstrap.
    const back = await link(mode, undefined, TestMoreStuff.server(new TestMoreStuffImpl(counters)));
    const proxyBoot = new Client(back.a.bootstrap());
    const front = await link(mode, undefined, proxyBoot);
    const settle = () => settleConns(mode !== "memory", front.a, front.b, back.a, back.b);
    {
      using client = new TestMoreStuff_Client(front.a.bootstrap());
      using cap = new TestCallOrder_Client(TestCallOrder.server(new TestCallOrderImpl(new Counters())));
      using earlyCall = client.getCallSequence();
      using echo = client.echo((p) => (p.cap = cap));
      using pipeline = echo.pipeline.cap;
      const calls = [seq(pipeline, 0), seq(pipeline, 1)];
      await earlyCall;
      calls.push(seq(pipeline, 2));
      using resolved = (await echo).cap;
      calls.push(seq(pipeline, 3), seq(pipeline, 4), seq(pipeline, 5));
      const got = [];
      for (const c of calls) got.push(await n(c as never));
      assert.deepEqual(got, [0, 1, 2, 3, 4, 5]);
      void resolved;
    }
    proxyBoot.close();
    await settle();
    for (const c of [front.a, front.b, back.a, back.b]) assert.deepEqual(c.tableSizes(), emptyTables());
    await front.close();
    await back.close();
  });
}

void RpcError;

/**
 * C++ KJ_TEST("RequireEmbargoWrapper has its intended effect (RECEIVER_HOSTED)"): the client
 * exports a promise to the server (echo), then resolves it to the server's own capability while
 * its Resolve is held back; the echoed capability comes back as `receiverHosted` naming that
 * export, which now points back at the server. A call made through it must wait behind the call
 * already made on the pipeline (capnts: TribbleRaceBlocker, C++ 0.9.2's name), until the
 * server's Disembargo reply reaches the client. `hold` on a memory transport stands for C++'s
 * `block()` of one direction.
 */
rpcTest(
  'RequireEmbargoWrapper has its intended effect (RECEIVER_HOSTED) (rpc-test.c++ KJ_TEST("RequireEmbargoWrapper has its intended effect (RECEIVER_HOSTED)"))',
  async (ctx) => {
    using client = obj(ctx.boot, "testMoreStuff");
    await client.whenResolved();
    const bobToAlice = ctx.clientTransport!; // holds what the server sends the client
    const aliceToBob = ctx.serverTransport!; // holds what the client sends the server
    let fulfill!: (c: TestCallOrder_Client) => void;
    using cap = new TestCallOrder_Client(new Promise<TestCallOrder_Client>((r) => (fulfill = r)));
    const echo = client.echo((p) => (p.cap = cap));
    // Hold the server's response so that the client keeps using the promise pipeline while the
    // server holds the client's exported promise.
    bobToAlice.hold = true;
    await ctx.settle();
    // Hold the client's Resolve, then resolve the exported promise to the server's own object.
    aliceToBob.hold = true;
    fulfill(client.castAs(TestCallOrder_Client));
    await ctx.settle();
    // Goes to the server through the pipeline, held behind the client's blocked direction.
    using pipeline = echo.pipeline.cap;
    const call0 = seq(pipeline, 1);
    // The client gets the echo (a receiverHosted capability naming its export) while the server
    // has not seen the Resolve.
    bobToAlice.hold = false;
    bobToAlice.release();
    const echoed = await echo;
    // Let the first call go, but hold the server's Disembargo reply.
    bobToAlice.hold = true;
    aliceToBob.hold = false;
    aliceToBob.release();
    // Made through the reflected capability: it must not overtake call0.
    const call1 = seq(pipeline, 2);
    const settled = { 0: false, 1: false };
    call0.then(() => (settled[0] = true));
    call1.then(() => (settled[1] = true));
    await ctx.settle();
    assert.deepEqual(settled, { 0: false, 1: false }, "both wait for the Disembargo reply");
    bobToAlice.hold = false;
    bobToAlice.release();
    const n0 = (await call0).n;
    const n1 = (await call1).n;
    call0.cancel();
    call1.cancel();
    assert.equal(n1, n0 + 1, "in the order they were made");
    echoed.cap.close();
    echo.cancel();
  },
  { modes: ["memory"] },
);
