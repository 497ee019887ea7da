/**
 * CapabilityServerSet (C++ capability.h): unwrapping capabilities back into their server objects,
 * mirroring rpc-test.c++ TEST(Rpc, EmbargoUnwrap) and rpc-twoparty-test.c++ "Streaming over RPC
 * then unwrap with CapabilitySet".
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { CapabilityServerSet, Client, type RemotePromise } from "capnts/rpc";
import { whenIdle } from "capnts/testing";
import { DEFAULT_WINDOW_SIZE } from "../../src/rpc/flow-control.js";
import { Counters, TestCallOrderImpl } from "../fixtures/test-impls.js";
import {
  TestCallOrder,
  TestCallOrder_Client,
  type TestCallOrder_Server,
  TestInterface,
  TestMoreStuff,
  TestMoreStuff_Client,
  TestStreaming,
  TestStreaming_Client,
  type TestStreaming_Server,
} from "../interop/gen/test.capnp.js";
import { ALL_MODES, emptyTables, rpcTest, settleConns } from "./harness.js";
import { link } from "./link.js";
import { obj } from "./util.js";

async function n(p: RemotePromise<{ n: number }, never>): Promise<number> {
  try {
    return (await p).n;
  } finally {
    p.cancel();
  }
}

function seq(cap: TestCallOrder_Client, expected: number) {
  return cap.getCallSequence((p) => {
    p.expected = expected;
  }) as unknown as RemotePromise<{ n: number }, never>;
}

/** Whether `p` has settled after the run queue and pending I/O callbacks have run. */
async function polled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  await whenIdle();
  await new Promise((r) => setImmediate(r));
  await whenIdle();
  return done;
}

test("CapabilityServerSet: add() and getLocalServer() of members, non-members, promises and broken caps", async () => {
  type Impl = TestCallOrder_Server & { count: number };
  const set = new CapabilityServerSet<Impl>();
  const impl = new TestCallOrderImpl(new Counters());
  const server = TestCallOrder.server(impl);
  using cap = set.add(server, TestCallOrder_Client);
  assert.ok(cap instanceof TestCallOrder_Client);
  assert.equal(set.has(server), true);
  assert.equal(await set.getLocalServer(cap), impl);
  // A capability of the same server made another way unwraps too (one object).
  using again = new TestCallOrder_Client(server);
  assert.equal(await set.getLocalServer(again), impl);
  // Not a member.
  using other = new TestCallOrder_Client(TestCallOrder.server(new TestCallOrderImpl(new Counters())));
  assert.equal(await set.getLocalServer(other), null);
  assert.equal(await new CapabilityServerSet().getLocalServer(cap), null);
  // A promise waits for its resolution.
  let fulfill!: (c: Client) => void;
  using promised = new Client(new Promise<Client>((r) => (fulfill = r)));
  const unwrap = set.getLocalServer(promised);
  assert.equal(await polled(unwrap), false);
  fulfill(cap.dup());
  assert.equal(await unwrap, impl);
  // Broken and null capabilities are not members.
  using broken = new Client(new Error("nope"));
  assert.equal(await set.getLocalServer(broken), null);
  using nul = new Client(null);
  assert.equal(await set.getLocalServer(nul), null);
  // The handle passed in is not consumed.
  assert.equal((await n(seq(cap, 0) as never)) >= 0, true);
  void TestInterface;
});

rpcTest("Rpc.EmbargoUnwrap (rpc-test.c++ TEST(Rpc, EmbargoUnwrap))", async (ctx) => {
  type Impl = TestCallOrder_Server & { count: number };
  const capSet = new CapabilityServerSet<Impl>();
  using client = obj(ctx.boot, "testMoreStuff");
  using cap = capSet.add(TestCallOrder.server(new TestCallOrderImpl(new Counters())), TestCallOrder_Client);
  // In memory, hold what the client receives: `await earlyCall` must not also process the echo's
  // Return and the whole Disembargo round trip before call2 is sent (C++ `earlyCall.wait()` runs
  // the loop only until earlyCall is ready). Over a socket the round trip takes real I/O.
  const t = ctx.clientTransport;
  if (t !== null) t.hold = true;
  using earlyCall = client.getCallSequence();
  using echo = client.echo((p) => (p.cap = cap));
  using pipeline = echo.pipeline.cap;
  // The count at the moment the unwrap succeeds: calls made through the old (remote) path must
  // have reached the object first (the embargo holds the unwrap too).
  const unwrap = capSet.getLocalServer(pipeline).then((impl) => {
    assert.notEqual(impl, null);
    return impl!.count;
  });
  const call0 = seq(pipeline, 0);
  const call1 = seq(pipeline, 1);
  if (t !== null) {
    let early = false;
    earlyCall.then(() => (early = true));
    for (let i = 0; i < 1000 && !early; i++) {
      await ctx.settle();
      t.release(1);
    }
    await ctx.settle();
  }
  await earlyCall;
  const call2 = seq(pipeline, 2);
  if (t !== null) {
    t.hold = false;
    t.release();
  }
  using resolved = (await echo).cap;
  const call3 = seq(pipeline, 4); // sic: C++ passes 4 here as well
  const call4 = seq(pipeline, 4);
  const call5 = seq(pipeline, 5);
  assert.equal(await n(call0), 0);
  assert.equal(await n(call1), 1);
  assert.equal(await n(call2), 2);
  assert.equal(await n(call3), 3);
  assert.equal(await n(call4), 4);
  assert.equal(await n(call5), 5);
  const unwrappedAt = await unwrap;
  assert.ok(unwrappedAt >= 3, `unwrapped at ${unwrappedAt}`);
  void resolved;
});

/** C++ TestStreamingImpl: each doStreamI waits until the test fulfils it. */
function streamingImpl() {
  const impl = {
    iSum: 0,
    jSum: 0,
    pending: [] as (() => void)[],
    doStreamI(ctx: { params: { i: number } }) {
      impl.iSum += ctx.params.i;
      return new Promise<void>((r) => impl.pending.push(r));
    },
    doStreamJ(ctx: { params: { j: number } }) {
      impl.jSum += ctx.params.j;
      return new Promise<void>((r) => impl.pending.push(r));
    },
    finishStream(ctx: { results: { totalI: number; totalJ: number } }) {
      ctx.results.totalI = impl.iSum;
      ctx.results.totalJ = impl.jSum;
    },
    /** C++ `server.fulfiller->fulfill()`: complete the call in progress. */
    fulfill() {
      const f = impl.pending.shift();
      assert.ok(f !== undefined, "no streaming call in progress");
      f();
    },
  };
  return impl;
}

for (const mode of ALL_MODES) {
  test(`Streaming over RPC then unwrap with CapabilitySet (rpc-twoparty-test.c++) [${mode}]`, async () => {
    type Impl = ReturnType<typeof streamingImpl>;
    const capSet = new CapabilityServerSet<Impl>();
    const server = streamingImpl();
    const serverCap = capSet.add(TestStreaming.server(server as unknown as TestStreaming_Server));
    let fulfill!: (c: Client) => void;
    const serverBoot = new Client(new Promise<Client>((r) => (fulfill = r)));
    // Vat A (the test's client) exports serverCap; vat B's bootstrap is a promise, later
    // fulfilled with B's import of A's bootstrap (a loop back to A).
    // C++ runs this over a kj pipe, whose getsockopt(SO_SNDBUF) is unimplemented, so its window
    // is DEFAULT_WINDOW_SIZE; our sockets would otherwise get the kernel's (MiBs), and the loop
    // below that fills the window would run for a long time.
    const l = await link(mode, serverCap, serverBoot, { streamWindow: DEFAULT_WINDOW_SIZE });
    const settle = () => settleConns(mode !== "memory", l.a, l.b);
    {
      using clientCap = new TestStreaming_Client(l.a.bootstrap());

      // Send stream requests until we can't anymore.
      let promise: Promise<void> = Promise.resolve();
      let count = 0;
      while (await polled(promise)) {
        await promise;
        const i = ++count;
        promise = clientCap.doStreamI((p) => (p.i = i));
        assert.ok(count < 5000);
      }
      // We should have sent... several.
      assert.ok(count > 10, `sent ${count}`);

      // Now try to unwrap. It won't work yet: the promise has not resolved.
      const unwrapPromise = capSet.getLocalServer(clientCap);
      assert.equal(await polled(unwrapPromise), false);

      // So do that.
      fulfill(new Client(l.b.bootstrap()));
      await clientCap.whenResolved();

      // But the unwrap still doesn't resolve because streaming requests are queued up.
      await settle();
      assert.equal(await polled(unwrapPromise), false);

      // OK, let's resolve a streaming request.
      server.fulfill();

      // All of our call promises have now completed from the client's perspective.
      await promise;

      // But we still can't unwrap, because calls are queued server-side.
      await settle();
      assert.equal(await polled(unwrapPromise), false);

      // One more call: a local call now, since the promise resolved.
      {
        const i = ++count;
        promise = clientCap.doStreamI((p) => (p.i = i));
      }
      // Because it's a local call, it doesn't resolve early. The window is no longer in effect.
      assert.equal(await polled(promise), false);
      for (let k = 0; k < 4; k++) {
        server.fulfill();
        await settle();
        assert.equal(await polled(promise), false);
      }

      // Our unwrap promise is also still not resolved.
      assert.equal(await polled(unwrapPromise), false);

      // Close out stream calls until it does resolve!
      let fulfilled = 5;
      while (!(await polled(unwrapPromise))) {
        server.fulfill();
        fulfilled++;
        await settle();
        assert.ok(fulfilled <= count + 1);
      }

      // Now we can unwrap!
      assert.equal(await unwrapPromise, server);

      // But our last stream call still isn't done.
      assert.equal(await polled(promise), false);
      assert.equal(server.pending.length, 1, "the last (local) call is the one in progress");
      // Every call before it ran, in order: 1 + 2 + ... + count.
      assert.equal(server.iSum, (count * (count + 1)) / 2);

      // Finish it.
      server.fulfill();
      await promise;
    }
    serverBoot.close();
    serverCap.close();
    await settle();
    assert.deepEqual(l.a.tableSizes(), emptyTables());
    assert.deepEqual(l.b.tableSizes(), emptyTables());
    await l.close();
  });
}

/**
 * C++ KJ_TEST("RequireEmbargoWrapper shouldn't block CapabilityServerSet unwrap
 * (RECEIVER_ANSWER)"): a local capability echoed by the server, and the pipelined result echoed
 * again (a `receiverAnswer` descriptor coming back), still unwraps to the local object once both
 * calls are done: the wrapper that forces an embargo (capnts: TribbleRaceBlocker) must not hide
 * the final resolution.
 */
rpcTest(
  "RequireEmbargoWrapper shouldn't block CapabilityServerSet unwrap (RECEIVER_ANSWER) (rpc-test.c++ KJ_TEST(\"RequireEmbargoWrapper shouldn't block CapabilityServerSet unwrap (RECEIVER_ANSWER)\"))",
  async (ctx) => {
    using client = obj(ctx.boot, "testMoreStuff");
    type Impl = TestCallOrder_Server & { count: number };
    const set = new CapabilityServerSet<Impl>();
    const impl = new TestCallOrderImpl(new Counters());
    using cap = set.add(TestCallOrder.server(impl), TestCallOrder_Client);
    using echo = client.echo((p) => (p.cap = cap));
    using pipeline = echo.pipeline.cap;
    using echoAgain = client.echo((p) => (p.cap = pipeline));
    using roundTrip = echoAgain.pipeline.cap;
    await echo;
    await echoAgain;
    assert.equal(await set.getLocalServer(roundTrip), impl);
  },
);

/**
 * C++ KJ_TEST("RequireEmbargoWrapper shouldn't block CapabilityServerSet unwrap
 * (RECEIVER_HOSTED)"): the server (C++ TestPromiseEchoer) answers the first echo() with a promise
 * it later resolves to the capability it was given, a local one of the client's; the client sends
 * that promise back while the server's Resolve is held (it arrives as `receiverHosted` naming the
 * server's export, which now points back at the client). Once the Resolve goes through, the
 * round-tripped capability unwraps to the client's local object.
 */
function promiseEchoer() {
  let fulfill: ((c: TestCallOrder_Client) => void) | null = null;
  let capToResolve: TestCallOrder_Client | null = null;
  const server = TestMoreStuff.server({
    echo(c) {
      if (fulfill === null) {
        capToResolve = c.params.cap;
        using promise = new TestCallOrder_Client(new Promise<TestCallOrder_Client>((r) => (fulfill = r)));
        c.results.cap = promise;
      } else {
        using cap = c.params.cap;
        c.results.cap = cap;
      }
    },
  });
  return {
    server,
    fulfill() {
      fulfill!(capToResolve!);
      capToResolve = null;
    },
  };
}
let echoer: ReturnType<typeof promiseEchoer>;
rpcTest(
  "RequireEmbargoWrapper shouldn't block CapabilityServerSet unwrap (RECEIVER_HOSTED) (rpc-test.c++ KJ_TEST(\"RequireEmbargoWrapper shouldn't block CapabilityServerSet unwrap (RECEIVER_HOSTED)\"))",
  async (ctx) => {
    using client = ctx.boot.castAs(TestMoreStuff_Client);
    type Impl = TestCallOrder_Server & { count: number };
    const set = new CapabilityServerSet<Impl>();
    const impl = new TestCallOrderImpl(new Counters());
    using cap = set.add(TestCallOrder.server(impl), TestCallOrder_Client);
    using echo = client.echo((p) => (p.cap = cap));
    using reflectedPromise = (await echo).cap;
    // Hold the server's messages to the client (its Resolve), then resolve the server's promise.
    const carolToAlice = ctx.clientTransport!;
    carolToAlice.hold = true;
    echoer.fulfill();
    await ctx.settle();
    using echoAgain = client.echo((p) => (p.cap = reflectedPromise));
    await ctx.settle();
    carolToAlice.hold = false;
    carolToAlice.release();
    using roundTrip = (await echoAgain).cap;
    assert.equal(await set.getLocalServer(roundTrip), impl);
  },
  {
    modes: ["memory"],
    serverBootstrap: () => {
      echoer = promiseEchoer();
      return echoer.server;
    },
  },
);
