/**
 * Capability lifetime: Release counts, export sharing, releasing on cancel, mirroring C++
 * rpc-test.c++ / rpc-twoparty-test.c++.
 */
import assert from "node:assert/strict";
import { RpcError } from "capnts/rpc";
import {
  type TestHandle_Client,
  TestInterface_Client,
  TestMoreStuff_Client,
} from "../interop/gen/test.capnp.js";
import { capDestructor } from "./fixtures/impls.js";
import { rpcTest } from "./harness.js";
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
    capDestructor(() => {
      destroyed = true;
      resolve();
    }),
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
    const handle2 = (await promise).handle;
    assert.equal(ctx.counters.handleCount, 2);
    handle1.close();
    for (let i = 0; i < 1000 && ctx.counters.handleCount > 1; i++) await new Promise((r) => setTimeout(r, 1));
    assert.equal(ctx.counters.handleCount, 1);
    handle2.close();
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

rpcTest(
  'RPC export the same promise twice (rpc-test.c++ KJ_TEST("export the same promise twice"))',
  async (ctx) => {
    using client = obj(ctx.boot, "testMoreStuff");
    await client.whenResolved();
    const ids: [string, number][] = [];
    const { Message_Reader } = await import("../../src/gen/rpc.capnp.js");
    ctx.clientTransport!.onSend = (m) => {
      const msg = m.getRoot(Message_Reader);
      if (msg.which !== "call") return;
      const call = msg.call;
      if (call.methodId !== 0 || call.interfaceId !== TestMoreStuff_Client._interface!.typeId) return;
      const d = call.params.capTable.get(0);
      if (d.which === "senderPromise") ids.push([d.which, d.senderPromise]);
      else if (d.which === "senderHosted") ids.push([d.which, d.senderHosted]);
      else ids.push([d.which, -1]);
    };
    let resolve1!: (c: TestInterface_Client) => void;
    let resolve2!: (c: TestInterface_Client) => void;
    using promise1 = new TestInterface_Client(new Promise<TestInterface_Client>((r) => (resolve1 = r)));
    using promise2 = new TestInterface_Client(new Promise<TestInterface_Client>((r) => (resolve2 = r)));
    const calls = [
      client.callFoo((p) => (p.cap = promise1)),
      client.callFoo((p) => (p.cap = promise1)),
      client.callFoo((p) => (p.cap = promise2)),
    ];
    const d1 = destructible();
    const d2 = destructible();
    resolve1(d1.cap);
    resolve2(d2.cap);
    await promise1.whenResolved();
    await promise2.whenResolved();
    const settled = destructible();
    calls.push(client.callFoo((p) => (p.cap = settled.cap)));
    calls.push(client.callFoo((p) => (p.cap = settled.cap)));
    const other = destructible();
    calls.push(client.callFoo((p) => (p.cap = other.cap)));
    for (const c of calls) {
      assert.equal((await c).s, "bar");
      c.cancel();
    }
    settled.cap.close();
    other.cap.close();
    assert.deepEqual(ids.slice(0, 3), [
      ["senderPromise", 0],
      ["senderPromise", 0],
      ["senderPromise", 1],
    ]);
    // A settled cap sent twice shares one ID; a new one gets the next free ID.
    assert.equal(ids[3]![0], "senderHosted");
    assert.equal(ids[3]![1], ids[4]![1]);
    assert.equal(ids[5]![0], "senderHosted");
    assert.notEqual(ids[5]![1], ids[3]![1]);
    ctx.clientTransport!.onSend = null;
  },
  { modes: ["memory"] },
);

rpcTest(
  "RPC when send() throws, we don't leak exports (rpc-test.c++ KJ_TEST(\"when OutgoingRpcMessage::send() throws, we don't leak exports\"))",
  async (ctx) => {
    using client = obj(ctx.boot, "testMoreStuff");
    await client.whenResolved();
    const { Message_Reader } = await import("../../src/gen/rpc.capnp.js");
    let throwNext = 0;
    let lastId = -1;
    ctx.clientTransport!.onSend = (m) => {
      const msg = m.getRoot(Message_Reader);
      if (msg.which !== "call" || msg.call.methodId !== 0) return;
      const d = msg.call.params.capTable.get(0);
      assert.equal(d.which, "senderPromise");
      lastId = d.senderPromise;
      if (throwNext > 0) {
        throwNext--;
        throw new Error("intercepted");
      }
    };
    const newPromise = () => {
      let resolve!: (c: TestInterface_Client) => void;
      const cap = new TestInterface_Client(new Promise<TestInterface_Client>((r) => (resolve = r)));
      return { cap, resolve };
    };
    // (1) send() throws twice: both calls fail, and export ID 0 is reused.
    throwNext = 2;
    for (let i = 0; i < 2; i++) {
      const p = newPromise();
      using r = client.callFoo((x) => (x.cap = p.cap));
      await assert.rejects(r, /intercepted/);
      assert.equal(lastId, 0);
      p.cap.close();
    }
    // (2) A send that works uses ID 0; its promise never resolves, so the export stays.
    const stuck = newPromise();
    const stuckCall = client.callFoo((x) => (x.cap = stuck.cap));
    await ctx.settle();
    assert.equal(lastId, 0);
    // (3) The next promise export gets ID 1; complete that call.
    const p3 = newPromise();
    {
      using r = client.callFoo((x) => (x.cap = p3.cap));
      await ctx.settle();
      assert.equal(lastId, 1);
      const d = destructible();
      p3.resolve(d.cap);
      assert.equal((await r).s, "bar");
    }
    p3.cap.close();
    await ctx.settle();
    // (4) ID 1 is free again.
    const p4 = newPromise();
    {
      using r = client.callFoo((x) => (x.cap = p4.cap));
      await ctx.settle();
      assert.equal(lastId, 1);
      const d = destructible();
      p4.resolve(d.cap);
      assert.equal((await r).s, "bar");
    }
    p4.cap.close();
    ctx.clientTransport!.onSend = null;
    // Let the stuck call finish so that the leak check can see empty tables.
    const d = destructible();
    stuck.resolve(d.cap);
    assert.equal((await stuckCall).s, "bar");
    stuckCall.cancel();
    stuck.cap.close();
    void RpcError;
  },
  { modes: ["memory"] },
);
