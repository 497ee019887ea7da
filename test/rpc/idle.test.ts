/**
 * Idle connections (C++ `Connection::setIdle()`), mirroring rpc-test.c++ KJ_TEST("connections set
 * idle when appropriate") and KJ_TEST("clean connection shutdown"). Over the in-memory transport,
 * which records what the connection tells it and counts messages sent while idle (C++'s test
 * network fails on one).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { RpcError } from "capnts/rpc";
import { type ConnectionOptions, RpcConnection } from "../../src/rpc/connection.js";
import { newMemoryTransportPair } from "../../src/rpc/memory-transport.js";
import { Counters, newTestBootstrap } from "../fixtures/test-impls.js";
import { TestBootstrap_Client, type TestMoreStuff_Client } from "../interop/gen/test.capnp.js";
import { emptyTables, settleConns } from "./harness.js";

/** C++ TestContext: a client vat connected to a server vat whose bootstrap is TestBootstrap. */
function context(clientOptions: ConnectionOptions = {}) {
  const counters = new Counters();
  const boot = newTestBootstrap(counters);
  const [a, b] = newMemoryTransportPair({ vatId: "client" }, { vatId: "server" });
  const serverConn = new RpcConnection(b, { bootstrap: () => boot._client() });
  const clientConn = new RpcConnection(a, clientOptions);
  serverConn.start();
  clientConn.start();
  /** C++ `context.connect().getTestMoreStuffRequest().send().getCap()`: the bootstrap dropped. */
  const connect = (): TestMoreStuff_Client => {
    using bootstrap = new TestBootstrap_Client(clientConn.bootstrap());
    using call = bootstrap.testMoreStuff();
    return call.pipeline.cap;
  };
  const settle = () => settleConns(false, clientConn, serverConn);
  return { clientConn, serverConn, clientTransport: a, serverTransport: b, connect, settle, counters };
}

test('connections set idle when appropriate (rpc-test.c++ KJ_TEST("connections set idle when appropriate"))', async () => {
  const c = context();
  let client: TestMoreStuff_Client | null = c.connect();
  await c.settle();
  const idle = () => [c.clientTransport.isIdle, c.serverTransport.isIdle];
  assert.deepEqual(idle(), [false, false]);
  client.close();
  await c.settle();
  // The only capability was dropped: both sides are idle.
  assert.deepEqual(idle(), [true, true]);
  // Bootstrap again: not idle any more.
  client = c.connect();
  await c.settle();
  assert.deepEqual(idle(), [false, false]);
  // Start a call and drop the capability at once: the call keeps both sides busy.
  const promise = client.neverReturn();
  client.close();
  await c.settle();
  assert.deepEqual(idle(), [false, false]);
  // Cancel the call: idle again.
  promise.cancel();
  await c.settle();
  assert.deepEqual(idle(), [true, true]);
  assert.equal(
    c.clientTransport.sentWhileIdle + c.serverTransport.sentWhileIdle,
    0,
    "nothing sent while idle",
  );
  c.clientConn.disconnect(RpcError.disconnected("test over"));
  c.serverConn.disconnect(RpcError.disconnected("test over"));
});

test('clean connection shutdown (rpc-test.c++ KJ_TEST("clean connection shutdown"))', async () => {
  let reported = 0;
  const c = context({ onError: () => reported++ });
  {
    using client = c.connect();
    await c.settle();
    void client;
  }
  await c.settle();
  const sent = c.clientTransport.sentCount;
  const received = c.clientTransport.receivedCount;
  // The network ends the client's connection because it is idle, as setIdle() allows.
  assert.equal(c.clientTransport.isIdle, true);
  c.clientTransport.initiateIdleShutdown();
  await c.settle();
  // Both connections have ended, quietly.
  assert.ok(c.clientConn.error !== null, "the client's connection ended");
  assert.ok(c.serverConn.error !== null, "the server's connection ended");
  assert.equal(c.clientConn.error.type, "disconnected");
  assert.deepEqual(c.clientConn.tableSizes(), emptyTables());
  assert.deepEqual(c.serverConn.tableSizes(), emptyTables());
  // No message during the shutdown, not even an Abort.
  assert.equal(c.clientTransport.sentCount, sent);
  assert.equal(c.clientTransport.receivedCount, received);
  assert.equal(c.serverTransport.sentWhileIdle, 0);
  assert.equal(reported, 0);
});
