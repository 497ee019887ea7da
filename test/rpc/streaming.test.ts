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
  const state = { iSum: 0, running: 0, maxRunning: 0, pending: [] as (() => void)[] };
  const server = TestStreaming.server({
    doStreamI(ctx) {
      state.iSum += ctx.params.i;
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
      ctx.results.totalI = state.iSum;
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
  for (let k = 0; k < 10; k++) {
    // Completing one call frees room for (about) one more send.
    let settled = false;
    blocked!.then(() => (settled = true));
    state.pending.shift()!();
    await settle();
    assert.equal(settled, true);
    const i = sent + 1;
    blocked = cap.doStreamI((x) => (x.i = i));
    expectedSum += i;
    sent++;
    await settle();
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

test("Streaming over RPC no premature cancellation when client dropped (rpc-twoparty-test.c++)", async () => {
  const { state, server } = streamingServer();
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
  cap.close();
  await settle();
  while (state.pending.length > 0 || state.running > 0) {
    state.pending.shift()?.();
    await settle();
  }
  await p1;
  await p2;
  assert.equal((await fin).totalI, 579);
  fin.cancel();
  await settle();
  assert.deepEqual(clientConn.tableSizes(), emptyTables());
  assert.deepEqual(serverConn.tableSizes(), emptyTables());
});
