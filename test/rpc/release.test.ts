/**
 * Capability lifetime: Release counts, export sharing, releasing on cancel, mirroring C++
 * rpc-test.c++ / rpc-twoparty-test.c++.
 */
import assert from "node:assert/strict";
import { RpcError } from "capnts/rpc";
import { Counters, TestCapDestructor, TestInterfaceImpl } from "../fixtures/test-impls.js";
import {
  type TestHandle_Client,
  TestInterface,
  TestInterface_Client,
  TestMoreStuff_Client,
} from "../interop/gen/test.capnp.js";
import { type Ctx, rpcTest } from "./harness.js";
import { obj } from "./util.js";

function destructible(): {
  cap: TestInterface_Client;
  destroyed: () => boolean;
  whenDestroyed: Promise<void>;
} {
  let destroyed = false;
  let resolve!: () => void;
  const whenDestroyed = new Promise<void>((r) => (resolve = r));
  const cap = new TestInterface_Client(
    TestInterface.server(
      new TestCapDestructor(() => {
        destroyed = true;
        resolve();
      }),
    ),
  );
  return { cap, destroyed: () => destroyed, whenDestroyed };
}

rpcTest("Rpc.Release (rpc-test.c++ TEST(Rpc, Release))", async (ctx) => {
  using client = obj(ctx.boot, "testMoreStuff");
  let handle1: TestHandle_Client;
  {
    using p = client.getHandle();
    handle1 = (await p).handle;
  }
  const promise = client.getHandle();
  // C++ keeps handle2 alive through the RemotePromise's pipeline until `promise = nullptr`. In
  // capnts a capability belongs to whoever took it, and a call keeps nothing of its own
  // (docs/ownership.md): here a capability taken from the pipeline plays that part.
  const piped = promise.pipeline.handle;
  const handle2 = (await promise).handle;
  assert.equal(ctx.counters.handleCount, 2);
  handle1.close();
  await ctx.settle();
  assert.equal(ctx.counters.handleCount, 1);
  handle2.close();
  await ctx.settle();
  // handle2 is still held by the pipeline.
  assert.equal(ctx.counters.handleCount, 1);
  piped.close();
  await ctx.settle();
  assert.equal(ctx.counters.handleCount, 0);
  promise.cancel(); // nothing left to release
  await ctx.settle();
  assert.equal(ctx.counters.handleCount, 0);
});

rpcTest(
  "Rpc.Release: a capability read from results belongs to the reader; the call keeps none",
  async (ctx) => {
    using client = obj(ctx.boot, "testMoreStuff");
    const promise = client.getHandle(); // never disposed
    const handle = (await promise).handle;
    const again = (await promise).handle; // read again while the first is open: another reference
    assert.equal(ctx.counters.handleCount, 1);
    handle.close();
    await ctx.settle();
    assert.equal(ctx.counters.handleCount, 1, "the second reference still holds it");
    again.close();
    await ctx.settle();
    assert.equal(ctx.counters.handleCount, 0, "released with no dispose of the call and no gc()");
    // Read after every reference was closed: a capability that says why it is gone.
    const late = (await promise).handle;
    const outcome = await late.whenResolved().then(
      () => "resolved",
      (e: Error) => `${e.name}: ${e.message}`,
    );
    assert.match(outcome, /^ClosedHandleError: .*read before and every client read from it was closed/);
  },
);

rpcTest(
  "Rpc.ReleaseOnCancel (rpc-test.c++ TEST(Rpc, ReleaseOnCancel)): Finish crosses a Return carrying a cap",
  async (ctx) => {
    using client = obj(ctx.boot, "testMoreStuff");
    await client.whenResolved();
    const ct = ctx.clientTransport!;
    // Hold what the server sends so that our Finish and its Return cross.
    ct.hold = true;
    const promise = client.getHandle();
    for (let i = 0; i < 50 && ct.held.length === 0; i++) await new Promise((r) => setImmediate(r));
    assert.equal(ct.held.length, 1, "the Return is on its way");
    promise.cancel(); // Finish(releaseResultCaps = true) goes out while the Return is in flight.
    await new Promise((r) => setImmediate(r));
    ct.hold = false;
    ct.release();
    await ctx.settle();
    assert.equal(ctx.counters.handleCount, 0);
  },
  { modes: ["memory"] },
);

rpcTest("Rpc.ReleaseOnCancel over a stream (cancel soon after sending)", async (ctx) => {
  using client = obj(ctx.boot, "testMoreStuff");
  await client.whenResolved();
  {
    using _p = client.getHandle();
    await new Promise((r) => setImmediate(r));
  }
  await ctx.settle();
  assert.equal(ctx.counters.handleCount, 0);
});

rpcTest(
  "TwoPartyNetwork.Release (rpc-twoparty-test.c++ TEST(TwoPartyNetwork, Release)): Release goes out without further calls",
  async (ctx) => {
    using client = obj(ctx.boot, "testMoreStuff");
    let handle1: TestHandle_Client;
    {
      using p = client.getHandle();
      handle1 = (await p).handle;
    }
    const promise = client.getHandle();
    // What C++'s `promise` still holds once `handle2` is read: its pipeline, which holds the
    // response's capability.
    const pipelined = promise.pipeline.handle;
    const handle2 = (await promise).handle;
    assert.equal(ctx.counters.handleCount, 2);
    handle1.close();
    for (let i = 0; i < 1000 && ctx.counters.handleCount > 1; i++) await new Promise((r) => setTimeout(r, 1));
    assert.equal(ctx.counters.handleCount, 1);
    // handle2 dropped, the promise still held: the handle stays (C++ waits 10 ms, then checks).
    handle2.close();
    await new Promise((r) => setTimeout(r, 10));
    await ctx.settle();
    assert.equal(ctx.counters.handleCount, 1, "the promise's pipeline still holds the handle");
    pipelined.close();
    promise.cancel();
    for (let i = 0; i < 1000 && ctx.counters.handleCount > 0; i++) await new Promise((r) => setTimeout(r, 1));
    assert.equal(ctx.counters.handleCount, 0);
  },
);

rpcTest("Rpc.RetainAndRelease (rpc-test.c++ TEST(Rpc, RetainAndRelease))", async (ctx) => {
  const d = destructible();
  {
    using client = obj(ctx.boot, "testMoreStuff");
    {
      using p = client.hold((p) => {
        p.cap = d.cap;
      });
      await p;
    }
    d.cap.close();
    {
      using p = client.getCallSequence();
      assert.equal((await p).n, 1);
    }
    assert.equal(d.destroyed(), false);
    {
      using p = client.callHeld();
      assert.equal((await p).s, "bar");
    }
    {
      const p = client.getHeld();
      using capCopy = (await p).cap;
      p.cancel();
      {
        // Calling it goes straight to our own object: no message.
        const before = ctx.clientConn.stats.sent;
        using r = capCopy.foo((p) => {
          p.i = 123;
          p.j = true;
        });
        assert.equal((await r).x, "foo");
        assert.equal(ctx.clientConn.stats.sent, before);
      }
      {
        using r = client.callFoo((p) => {
          p.cap = capCopy;
        });
        assert.equal((await r).s, "bar");
      }
    }
    for (const n of [5, 6, 7]) {
      using p = client.getCallSequence();
      assert.equal((await p).n, n);
    }
    assert.equal(d.destroyed(), false);
  }
  // Releasing our client destroys the server object, which releases the cap it held.
  await d.whenDestroyed;
});

rpcTest("Rpc.SendTwice (rpc-test.c++ TEST(Rpc, SendTwice))", async (ctx) => {
  using client = obj(ctx.boot, "testMoreStuff");
  const d = destructible();
  {
    using p = client.callFoo((p) => {
      p.cap = d.cap;
    });
    assert.equal((await p).s, "bar");
  }
  {
    using p = client.getCallSequence();
    assert.equal((await p).n, 1);
  }
  {
    using p1 = client.callFoo((p) => {
      p.cap = d.cap;
    });
    using p2 = client.callFoo((p) => {
      p.cap = d.cap;
    });
    d.cap.close();
    assert.equal((await p1).s, "bar");
    assert.equal((await p2).s, "bar");
  }
  await d.whenDestroyed;
});

/** C++ expectNeverDone: the call has not finished once both vats are idle (the server waits on
 * the promise it was given). */
async function expectPending(ctx: Ctx, call: Promise<unknown>): Promise<void> {
  let done = false;
  call.then(
    () => (done = true),
    () => (done = true),
  );
  await ctx.settle();
  assert.equal(done, false, "the call waits on the promise it was given");
}

rpcTest(
  'RPC export the same promise twice (rpc-test.c++ KJ_TEST("export the same promise twice"))',
  async (ctx) => {
    using client = obj(ctx.boot, "testMoreStuff");
    await client.whenResolved();
    const { Message_Reader } = await import("../../src/gen/rpc.capnp.js");
    // C++ checks each callFoo() as it is sent: its one capability is a promise or a hosted
    // capability (exportIsPromise) with the export number expected at that point.
    let exportIsPromise = true;
    let expectedExportNumber = 0;
    let interceptCount = 0;
    const mismatches: string[] = [];
    ctx.clientTransport!.onSend = (m) => {
      const msg = m.getRoot(Message_Reader);
      if (msg.which !== "call") return;
      const call = msg.call;
      if (call.methodId !== 0 || call.interfaceId !== TestMoreStuff_Client._interface!.typeId) return;
      const table = call.params.capTable;
      const d = table.get(0);
      const want = exportIsPromise ? "senderPromise" : "senderHosted";
      const got =
        d.which === "senderPromise" ? d.senderPromise : d.which === "senderHosted" ? d.senderHosted : -1;
      if (table.length !== 1 || d.which !== want || got !== expectedExportNumber) {
        mismatches.push(
          `call ${interceptCount}: ${d.which} ${got}, expected ${want} ${expectedExportNumber}`,
        );
      }
      interceptCount++;
    };
    const sendReq = (cap: TestInterface_Client) => client.callFoo((p) => (p.cap = cap));
    const expectNeverDone = (call: Promise<unknown>) => expectPending(ctx, call);
    let callCount = 0;
    const impl = () =>
      TestInterface.server({
        foo(c) {
          callCount++;
          c.results.x = "foo";
        },
      } as Parameters<typeof TestInterface.server>[0]);
    using normalCap = new TestInterface_Client(impl());
    // Promises that never resolve during the test (C++ kj::NEVER_DONE); broken at the end so that
    // the server's waiting callFoo() calls finish before the leak check.
    const neverDone: ((e: Error) => void)[] = [];
    const never = () =>
      new TestInterface_Client(new Promise<TestInterface_Client>((_, reject) => neverDone.push(reject)));
    using promiseCap = never();

    // A promise capability in the params.
    exportIsPromise = true;
    expectedExportNumber = 0;
    const promise1 = sendReq(promiseCap);
    await expectNeverDone(promise1);
    assert.equal(interceptCount, 1);
    // The same promise again uses the same export table entry.
    const promise2 = sendReq(promiseCap);
    await expectNeverDone(promise2);
    assert.equal(interceptCount, 2);
    // A different promise uses a different entry.
    expectedExportNumber = 1;
    using other = never();
    const promise3 = sendReq(other);
    await expectNeverDone(promise3);
    assert.equal(interceptCount, 3);

    // Non-promise capabilities, all sent before waiting on any (these complete).
    exportIsPromise = false;
    expectedExportNumber = 2;
    const promise4 = sendReq(normalCap);
    const promise5 = sendReq(normalCap);
    expectedExportNumber = 3;
    using third = new TestInterface_Client(impl());
    const promise6 = sendReq(third);
    assert.equal(interceptCount, 6);
    assert.equal((await promise4).s, "bar");
    assert.equal((await promise5).s, "bar");
    assert.equal((await promise6).s, "bar");
    assert.equal(callCount, 3);
    assert.deepEqual(mismatches, []);

    ctx.clientTransport!.onSend = null;
    for (const reject of neverDone) reject(new Error("test over"));
    for (const p of [promise1, promise2, promise3]) await assert.rejects(p);
  },
  { modes: ["memory"] },
);

/**
 * C++ KJ_TEST("when OutgoingRpcMessage::send() throws, we don't leak exports"): each callFoo()
 * carries one promise capability, checked as it is sent (senderPromise with the expected export
 * number) and counted. A send that throws fails the call with the send's error and frees the
 * export; a call dropped while the server's (not cancellable) callFoo() waits keeps its export.
 */
rpcTest(
  "RPC when send() throws, we don't leak exports (rpc-test.c++ KJ_TEST(\"when OutgoingRpcMessage::send() throws, we don't leak exports\"))",
  async (ctx) => {
    using client = obj(ctx.boot, "testMoreStuff");
    await client.whenResolved();
    const { Message_Reader } = await import("../../src/gen/rpc.capnp.js");
    let expectedExportNumber = 0;
    let interceptCount = 0;
    let shouldThrowFromSend = false;
    const mismatches: string[] = [];
    ctx.clientTransport!.onSend = (m) => {
      const msg = m.getRoot(Message_Reader);
      if (msg.which !== "call") return;
      const call = msg.call;
      if (call.methodId !== 0 || call.interfaceId !== TestMoreStuff_Client._interface!.typeId) return;
      const table = call.params.capTable;
      const d = table.get(0);
      if (table.length !== 1 || d.which !== "senderPromise" || d.senderPromise !== expectedExportNumber) {
        mismatches.push(`call ${interceptCount}: ${d.which}, expected senderPromise ${expectedExportNumber}`);
      }
      interceptCount++;
      if (shouldThrowFromSend) throw new Error("intercepted");
    };
    // Promises that never resolve during the test (C++ kj::NEVER_DONE); broken at the end so that
    // the server's waiting callFoo() calls finish before the leak check.
    const neverDone: ((e: Error) => void)[] = [];
    const never = () =>
      new TestInterface_Client(new Promise<TestInterface_Client>((_, reject) => neverDone.push(reject)));
    /** C++ `KJ_EXPECT(!promise.poll(waitScope))`, then the call is dropped. */
    const sendAndDrop = async () => {
      using cap = never();
      const call = client.callFoo((x) => (x.cap = cap));
      await expectPending(ctx, call);
      call.cancel();
    };

    // (1), (2) send() throws: the call fails with the send's error, and export 0 is freed.
    for (let i = 1; i <= 2; i++) {
      shouldThrowFromSend = true;
      using cap = never();
      using r = client.callFoo((x) => (x.cap = cap));
      await assert.rejects(r, (e: Error) => e instanceof RpcError && /^intercepted$/.test(e.message));
      assert.equal(interceptCount, i);
    }
    // (3) A send that works uses export 0. The call is dropped, but the server's callFoo() is not
    // cancellable and never completes, so the export stays.
    shouldThrowFromSend = false;
    await sendAndDrop();
    assert.equal(interceptCount, 3);
    // (4) So the next promise export gets number 1; this call completes.
    expectedExportNumber = 1;
    {
      let fulfill!: (c: TestInterface_Client) => void;
      using cap = new TestInterface_Client(new Promise<TestInterface_Client>((r) => (fulfill = r)));
      using r = client.callFoo((x) => (x.cap = cap));
      await expectPending(ctx, r);
      assert.equal(interceptCount, 4);
      const chained = new Counters();
      fulfill(new TestInterface_Client(TestInterface.server(new TestInterfaceImpl(chained))));
      assert.equal((await r).s, "bar");
      assert.equal(chained.callCount, 1);
    }
    await ctx.settle();
    // (5) Export 1 is free again.
    expectedExportNumber = 1;
    await sendAndDrop();
    assert.equal(interceptCount, 5);
    assert.deepEqual(mismatches, []);

    ctx.clientTransport!.onSend = null;
    for (const reject of neverDone) reject(new Error("test over"));
  },
  { modes: ["memory"] },
);
