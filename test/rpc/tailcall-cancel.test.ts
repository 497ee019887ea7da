/**
 * Tail calls and cancellation, mirroring C++ rpc-test.c++ (TailCall, TailCallCancel,
 * TailCallCancelRace, Cancellation, Cancel) and rpc-twoparty-test.c++ ("Dropping capability
 * during call doesn't destroy server").
 */
import assert from "node:assert/strict";
import { Client, RpcError, type Server } from "capnts/rpc";
import {
  Counters,
  type Lifetimes,
  RacingGate,
  TestCapDestructor,
  TestHangingTailCallee,
  TestMoreStuffImpl,
  TestRacingTailCallerImpl,
  TestTailCalleeImpl,
} from "../fixtures/test-impls.js";
import {
  TestInterface,
  TestInterface_Client,
  TestMoreStuff,
  TestMoreStuff_Client,
  TestTailCallee,
  TestTailCallee_Client,
  TestTailCaller,
  TestTailCaller_Client,
} from "../interop/gen/test.capnp.js";
import { type Ctx, emptyTables, rpcTest, settleConns } from "./harness.js";
import { link } from "./link.js";
import { obj } from "./util.js";

/**
 * The body of C++ TEST(Rpc, TailCall): the server's TestTailCaller tail-calls `callee.foo()`;
 * calls pipelined on the result's capability before and after the return are ordered. Then,
 * with every reference dropped, the result capability (a TestCallOrder the callee made, counted
 * by the object itself) must have been destroyed: libcapnp destroys it.
 */
async function tailCallBody(
  ctx: Ctx,
  callee: TestTailCallee_Client,
  life: Lifetimes,
  checkCallCounts: () => void,
) {
  {
    using caller = obj(ctx.boot, "testTailCaller");
    using promise = caller.foo((p) => {
      p.i = 456;
      p.callee = callee;
    });
    using c0 = promise.pipeline.c;
    using dependentCall0 = c0.getCallSequence();
    const response = await promise;
    assert.equal(response.i, 456);
    assert.equal(response.t, "from TestTailCaller");
    using c1 = promise.pipeline.c;
    using dependentCall1 = c1.getCallSequence();
    assert.equal((await dependentCall0).n, 0);
    assert.equal((await dependentCall1).n, 1);
    using c2 = response.c;
    using dependentCall2 = c2.getCallSequence();
    assert.equal((await dependentCall2).n, 2);
    checkCallCounts();
    assert.deepEqual(life, { created: 1, destroyed: 0 }, "the result capability is alive while held");
  }
  callee.close();
  for (let i = 0; i < 20 && life.destroyed === 0; i++) await ctx.settle();
  assert.deepEqual(life, { created: 1, destroyed: 1 }, "the tail call's result capability is destroyed");
}

rpcTest("Rpc.TailCall (rpc-test.c++ TEST(Rpc, TailCall)), callee in the caller's vat", async (ctx) => {
  const counts = new Counters();
  const callee = new TestTailCallee_Client(TestTailCallee.server(new TestTailCalleeImpl(counts)));
  const { Message_Reader } = await import("../../src/gen/rpc.capnp.js");
  const seen: string[] = [];
  if (ctx.serverTransport !== null) {
    ctx.serverTransport.onSend = (m) => {
      const msg = m.getRoot(Message_Reader);
      if (msg.which === "call") seen.push(`call:${msg.call.sendResultsTo.which}`);
      if (msg.which === "return") seen.push(`return:${msg.return.which}`);
    };
  }
  await tailCallBody(ctx, callee, counts.tailResults, () => {
    assert.equal(counts.callCount, 1);
    assert.equal(ctx.counters.callCount, 1);
  });
  if (ctx.serverTransport !== null) {
    // The server sent the tail call back to us with sendResultsTo.yourself and answered our call
    // with takeFromOtherQuestion (what C++ does).
    assert.ok(seen.includes("call:yourself"), seen.join(","));
    assert.ok(seen.includes("return:takeFromOtherQuestion"), seen.join(","));
    ctx.serverTransport.onSend = null;
  }
});

rpcTest("Rpc.TailCall (rpc-test.c++ TEST(Rpc, TailCall)), callee in the server's vat", async (ctx) => {
  // The server's own TestTailCallee: the tail call stays in the server's vat.
  const callee = obj(ctx.boot, "testTailCallee");
  const life = ctx.counters.tailResults;
  // The server's counter counts the caller's and the callee's calls.
  await tailCallBody(ctx, callee, life, () => assert.equal(ctx.counters.callCount, 2));
});

rpcTest("Rpc.TailCall (rpc-test.c++ TEST(Rpc, TailCall)), callee in a third vat", async (ctx) => {
  // Vat C serves the callee; the client vat is connected to it and passes the callee to the
  // server, which reaches it through the client vat (no Level 3): the server's tail call comes
  // back to the client with sendResultsTo.yourself and is forwarded to C from there.
  const counts = new Counters();
  const third = await link(ctx.mode, undefined, TestTailCallee.server(new TestTailCalleeImpl(counts)));
  try {
    const callee = new TestTailCallee_Client(third.a.bootstrap());
    await tailCallBody(ctx, callee, counts.tailResults, () => {
      assert.equal(counts.callCount, 1);
      assert.equal(ctx.counters.callCount, 1);
    });
    for (let i = 0; i < 20; i++) {
      if ([third.a, third.b].every((c) => Object.values(c.tableSizes()).every((v) => v === 0))) break;
      await settleConns(ctx.mode !== "memory", ctx.clientConn, ctx.serverConn, third.a, third.b);
    }
    assert.deepEqual(third.a.tableSizes(), emptyTables(), "client vat ⇄ third vat: tables empty");
    assert.deepEqual(third.b.tableSizes(), emptyTables(), "third vat ⇄ client vat: tables empty");
  } finally {
    await third.close();
  }
});

/**
 * The callee in the caller's vat has produced its results (a capability) when the caller's
 * question is dropped, before the server's Return{takeFromOtherQuestion} arrives: nobody takes
 * the redirected results, and they must still be released (C++ drops `redirectedResults`).
 * `end` drops the question, or ends the connection instead.
 */
async function untakenTailResults(ctx: Ctx, end: "drop-question" | "disconnect"): Promise<void> {
  const counts = new Counters();
  const life = counts.tailResults;
  using callee = new TestTailCallee_Client(TestTailCallee.server(new TestTailCalleeImpl(counts)));
  using caller = obj(ctx.boot, "testTailCaller");
  await ctx.settle();
  const { Message_Reader } = await import("../../src/gen/rpc.capnp.js");
  const incoming = ctx.clientTransport!;
  incoming.hold = true;
  const promise = caller.foo((p) => {
    p.i = 1;
    p.callee = callee;
  });
  await ctx.settle();
  const kinds = incoming.held.map((m) => {
    const msg = m.getRoot(Message_Reader);
    if (msg.which === "call") return `call:${msg.call.sendResultsTo.which}`;
    if (msg.which === "return") return `return:${msg.return.which}`;
    return msg.which;
  });
  // Then perhaps a Release: the server dropped the callee it read from its params once it made
  // the tail call (C++ releases the params in tailCall()).
  assert.deepEqual(kinds.slice(0, 2), ["call:yourself", "return:takeFromOtherQuestion"]);
  assert.deepEqual(kinds.slice(2), kinds.length > 2 ? ["release"] : []);
  incoming.release(1); // the tail call: the callee runs and makes its result object
  await ctx.settle();
  assert.equal(counts.callCount, 1);
  assert.deepEqual(life, { created: 1, destroyed: 0 });
  if (end === "drop-question") {
    promise.cancel(); // Finish, before the Return that would take the results
    incoming.hold = false;
    incoming.release();
  } else {
    promise.cancel();
    ctx.clientConn.disconnect(RpcError.disconnected("test over"));
  }
  for (let i = 0; i < 20 && life.destroyed === 0; i++) await ctx.settle();
  assert.deepEqual(life, { created: 1, destroyed: 1 }, "the untaken results are released");
}

rpcTest(
  "Rpc.TailCall: results redirected to the caller's vat and not taken (the call was dropped) are released",
  (ctx) => untakenTailResults(ctx, "drop-question"),
  { modes: ["memory"] },
);

rpcTest(
  "Rpc.TailCall: results redirected to the caller's vat and not taken (disconnected) are released",
  (ctx) => untakenTailResults(ctx, "disconnect"),
  { modes: ["memory"], noLeakCheck: true },
);

rpcTest("Rpc.TailCallCancel (rpc-test.c++ TEST(Rpc, TailCallCancel))", async (ctx) => {
  using caller = obj(ctx.boot, "testTailCaller");
  const counts = new Counters();
  using callee = new TestTailCallee_Client(TestTailCallee.server(new TestHangingTailCallee(counts)));
  {
    using promise = caller.foo((p) => {
      p.callee = callee;
    });
    assert.equal(counts.callCount, 0);
    await ctx.settle();
    assert.equal(counts.callCount, 1);
    assert.equal(counts.cancelCount, 0);
    void promise;
  }
  await ctx.settle();
  assert.equal(counts.callCount, 1);
  assert.equal(counts.cancelCount, 1);
});

/**
 * C++ KJ_TEST("tail call cancellation race") (TEST(Rpc, TailCallCancelRace) in 0.9.2): the
 * server's TestRacingTailCaller waits for a promise, then tail-calls the client's hanging
 * callee. It does not allow cancellation (C++ 1.x: a call is not cancellable unless its method
 * says so), so whichever comes first, the client's drop or the unblock, the tail call is made
 * exactly once and then cancelled exactly once. C++ unblocks and drops in the same turn; here
 * both orders are checked.
 */
function tailCallCancelRace(order: "unblock-then-drop" | "drop-then-unblock"): void {
  let unblock!: () => void;
  rpcTest(
    `Rpc.TailCallCancelRace (rpc-test.c++ KJ_TEST("tail call cancellation race")), ${order}`,
    async (ctx) => {
      using caller = ctx.boot.castAs(TestTailCaller_Client);
      const counts = new Counters();
      using callee = new TestTailCallee_Client(TestTailCallee.server(new TestHangingTailCallee(counts)));
      {
        using promise = caller.foo((p) => {
          p.callee = callee;
        });
        await ctx.settle();
        assert.equal(counts.callCount, 0);
        assert.equal(counts.cancelCount, 0);
        // Unblock the server and, in the same turn, drop the client's call.
        if (order === "unblock-then-drop") unblock();
        promise.cancel();
        if (order === "drop-then-unblock") unblock();
      }
      await ctx.settle();
      assert.equal(counts.callCount, 1, "the tail call is made once");
      assert.equal(counts.cancelCount, 1, "and cancelled once");
    },
    {
      // The server's TestRacingTailCaller (no c.allowCancellation(): C++'s is not cancellable).
      serverBootstrap: (c) => {
        const gate = new RacingGate();
        unblock = () => gate.open();
        return TestTailCaller.server(new TestRacingTailCallerImpl(c, gate));
      },
    },
  );
}
tailCallCancelRace("unblock-then-drop");
tailCallCancelRace("drop-then-unblock");

rpcTest("Rpc.Cancellation (rpc-test.c++ TEST(Rpc, Cancellation))", async (ctx) => {
  using client = obj(ctx.boot, "testMoreStuff");
  let destroyed = false;
  let onDestroyed!: () => void;
  const destruction = new Promise<void>((r) => (onDestroyed = r));
  let returned = false;
  {
    using cap = new TestInterface_Client(
      TestInterface.server(
        new TestCapDestructor(() => {
          destroyed = true;
          onDestroyed();
        }),
      ),
    );
    const promise = client.expectCancel((p) => {
      p.cap = cap;
    });
    promise.then(
      () => (returned = true),
      () => {},
    );
    for (let i = 0; i < 6; i++) await ctx.settle();
    assert.equal(destroyed, false);
    assert.equal(returned, false);
    promise.cancel(); // request cancellation
  }
  await destruction;
  assert.equal(destroyed, true);
  assert.equal(returned, false);
  await ctx.settle();
  assert.equal(ctx.counters.cancelCount, 1);
});

rpcTest("Rpc.Cancel (rpc-test.c++ TEST(Rpc, Cancel))", async (ctx) => {
  using client = obj(ctx.boot, "testMoreStuff");
  let destroyed = false;
  let onDestroyed!: () => void;
  const destruction = new Promise<void>((r) => (onDestroyed = r));
  {
    using cap = new TestInterface_Client(
      TestInterface.server(
        new TestCapDestructor(() => {
          destroyed = true;
          onDestroyed();
        }),
      ),
    );
    using _response = client.neverReturn((p) => {
      p.cap = cap;
    });
    {
      using s = client.getCallSequence();
      assert.equal((await s).n, 1);
    }
    {
      using s = client.getCallSequence();
      assert.equal((await s).n, 2);
    }
    assert.equal(destroyed, false);
  }
  await destruction;
  assert.equal(destroyed, true);
});

rpcTest(
  "Dropping capability during call doesn't destroy server (rpc-twoparty-test.c++)",
  async (ctx) => {
    using more = ctx.boot.castAs(TestMoreStuff_Client);
    const p = more.getHeld();
    using cap = (await p).cap;
    p.cancel();
    using call = cap.foo((x) => {
      x.i = 123;
      x.j = true;
    });
    await ctx.settle();
    assert.equal(live.count, 1);
    cap.close();
    await ctx.settle();
    assert.equal(live.count, 1, "dropping the cap does not destroy the server");
    call.cancel();
    await ctx.settle();
    assert.equal(live.count, 1, "the call is not cancellable, so it keeps the server");
    live.finish();
    await ctx.settle();
    assert.equal(live.count, 0);
  },
  {
    serverBootstrap: () => {
      const impl = new TestMoreStuffImpl(new Counters());
      impl.getHeld = (c) => {
        live.count++;
        using x = new TestInterface_Client(
          TestInterface.server({
            foo(cc: import("capnts/rpc").CallContext<unknown, { x: string }>) {
              cc.results.x = "foo";
              return new Promise<void>((r) => (live.finish = r));
            },
            [Symbol.dispose]() {
              live.count--;
            },
          }),
        );
        c.results.cap = x;
      };
      return TestMoreStuff.server(impl) as Server;
    },
  },
);
const live = { count: 0, finish: () => {} };
void Client;
