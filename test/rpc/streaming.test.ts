/**
 * Streaming calls (`-> stream`), mirroring C++ rpc-twoparty-test.c++ ("Streaming over RPC",
 * "Streaming over RPC no premature cancellation when client dropped"): the client sends at once
 * and only waits when the window is full; the server runs streaming calls one at a time.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { whenIdle } from "capnts/testing";
import { RpcConnection } from "../../src/rpc/connection.js";
import { newMemoryTransportPair } from "../../src/rpc/memory-transport.js";
import { TestStreaming, TestStreaming_Client } from "../interop/gen/test.capnp.js";
import { emptyTables, settleConns } from "./harness.js";

function streamingServer() {
  // iSum as C++'s TestStreamingImpl (the test may reset it); total is never reset.
  const state = { iSum: 0, total: 0, running: 0, maxRunning: 0, pending: [] as (() => void)[] };
  const server = TestStreaming.server({
    doStreamI(ctx) {
      state.iSum += ctx.params.i;
      state.total += ctx.params.i;
      state.running++;
      state.maxRunning = Math.max(state.maxRunning, state.running);
      return new Promise<void>((r) =>
        state.pending.push(() => {
          state.running--;
          r();
        }),
      );
    },
    finishStream(ctx) {
      ctx.results.totalI = state.total;
    },
  });
  return { state, server };
}

test('Streaming over RPC (rpc-twoparty-test.c++ KJ_TEST("Streaming over RPC")): the window admits several calls, one completion frees one more', async () => {
  const { state, server } = streamingServer();
  const [a, b] = newMemoryTransportPair({ streamWindow: 1024 }, {});
  const clientConn = new RpcConnection(a, {});
  const serverConn = new RpcConnection(b, { bootstrap: () => server._client() });
  clientConn.start();
  serverConn.start();
  const settle = () => settleConns(false, clientConn, serverConn);
  using cap = new TestStreaming_Client(clientConn.bootstrap());
  await cap.whenResolved();
  // Send until a send() does not settle at once.
  let sent = 0;
  let expectedSum = 0;
  let blocked: Promise<void> | null = null;
  for (; sent < 1000; ) {
    const i = sent + 1;
    const p = cap.doStreamI((x) => (x.i = i));
    expectedSum += i;
    sent++;
    let settled = false;
    p.then(() => (settled = true));
    await whenIdle();
    await new Promise((r) => setImmediate(r));
    if (!settled) {
      blocked = p;
      break;
    }
  }
  assert.ok(sent > 5, `the window admitted ${sent} calls`);
  await settle();
  // The server runs them one at a time (it has only seen the first so far).
  assert.equal(state.maxRunning, 1);
  /** Whether `p` settled by the time everything has moved. */
  const settlesNow = async (p: Promise<void>): Promise<boolean> => {
    let settled = false;
    p.then(() => (settled = true));
    await settle();
    return settled;
  };
  const send = (): Promise<void> => {
    const i = ++sent;
    expectedSum += i;
    return cap.doStreamI((x) => (x.i = i));
  };
  // Calls finish server-side one at a time; each completion lets the client send more.
  let countReceived = 0;
  for (let k = 0; k < 50; k++) {
    assert.equal(
      state.iSum,
      ++countReceived,
      `round ${k}: the server is running exactly call ${countReceived}`,
    );
    state.iSum = 0;
    state.pending.shift()!();
    assert.equal(await settlesNow(blocked!), true, `round ${k}: a completion unblocks the sender`);
    blocked = send();
    if (await settlesNow(blocked)) {
      // C++: the first calls were larger (pipelined on the bootstrap), so one completion may free
      // room for two; never for more.
      blocked = send();
      assert.equal(
        await settlesNow(blocked),
        false,
        `round ${k}: one completion freed room for more than two calls`,
      );
    }
  }
  while (state.pending.length > 0) {
    state.pending.shift()!();
    await settle();
  }
  await blocked;
  using fin = cap.finishStream();
  assert.equal((await fin).totalI, expectedSum);
  assert.equal(state.maxRunning, 1);
  cap.close();
  await settle();
  assert.deepEqual(clientConn.tableSizes(), emptyTables());
  assert.deepEqual(serverConn.tableSizes(), emptyTables());
});

/**
 * C++ KJ_TEST("Streaming over RPC no premature cancellation when client dropped"): the server
 * (TestStreamingCancellationBug) holds each doStreamI() and adds `i` only once it is let go, so a
 * call cancelled by the client's drop would not count. C++ drops the client before the server
 * has run anything; `when` "mid-call" drops it while the server is inside the first call.
 */
for (const when of ["before-delivery", "mid-call"] as const) {
  test(`Streaming over RPC no premature cancellation when client dropped (rpc-twoparty-test.c++ KJ_TEST("Streaming over RPC no premature cancellation when client dropped")), ${when}`, async () => {
    let iSum = 0;
    const held: (() => void)[] = [];
    const server = TestStreaming.server({
      async doStreamI(ctx) {
        const i = ctx.params.i;
        await new Promise<void>((r) => held.push(r));
        // Counted only here, so a cancelled call is seen.
        iSum += i;
      },
      finishStream(ctx) {
        ctx.results.totalI = iSum;
      },
    });
    const [a, b] = newMemoryTransportPair();
    const clientConn = new RpcConnection(a, {});
    const serverConn = new RpcConnection(b, { bootstrap: () => server._client() });
    clientConn.start();
    serverConn.start();
    const settle = () => settleConns(false, clientConn, serverConn);
    const cap = new TestStreaming_Client(clientConn.bootstrap());
    const p1 = cap.doStreamI((x) => (x.i = 123));
    const p2 = cap.doStreamI((x) => (x.i = 456));
    const fin = cap.finishStream();
    if (when === "mid-call") {
      await settle();
      assert.equal(held.length, 1, "the server is inside the first call; the second waits");
    }
    assert.equal(iSum, 0);
    // Drop the client. This must not cancel the calls already made.
    cap.close();
    let finished = false;
    fin.then(
      () => (finished = true),
      () => (finished = true),
    );
    for (let i = 0; i < 10 && !finished; i++) {
      await settle();
      held.shift()?.();
    }
    await p1;
    await p2;
    assert.equal((await fin).totalI, 579);
    assert.equal(iSum, 579);
    fin.cancel();
    await settle();
    assert.deepEqual(clientConn.tableSizes(), emptyTables());
    assert.deepEqual(serverConn.tableSizes(), emptyTables());
  });
}
