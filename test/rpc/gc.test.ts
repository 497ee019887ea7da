/**
 * The garbage-collection safety net: capabilities and responses nobody released are released when
 * collected, so a program that forgets `close()` does not keep the peer's objects forever.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { RpcConnection } from "../../src/rpc/connection.js";
import { newMemoryTransportPair } from "../../src/rpc/memory-transport.js";
import { Counters, newTestBootstrap } from "../fixtures/test-impls.js";
import { TestBootstrap_Client } from "../interop/gen/test.capnp.js";
import { emptyTables, settleConns } from "./harness.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

test("handles and responses that are never closed are released once collected", async () => {
  const counters = new Counters();
  const boot = newTestBootstrap(counters);
  const [a, b] = newMemoryTransportPair();
  const clientConn = new RpcConnection(a, {});
  const serverConn = new RpcConnection(b, { bootstrap: () => boot._client() });
  clientConn.start();
  serverConn.start();
  const settle = () => settleConns(false, clientConn, serverConn);
  // The responses are held until the count is checked: a collection that happens to run earlier
  // (a scavenge can) would otherwise release some handles before the check.
  let held: unknown[] | null = [];
  await (async () => {
    // Forget to close anything: the bootstrap, the TestMoreStuff, ten handles and their responses.
    const bs = new TestBootstrap_Client(clientConn.bootstrap());
    const more = bs.testMoreStuff().pipeline.cap;
    for (let i = 0; i < 10; i++) held?.push(await more.getHandle());
  })();
  await settle();
  assert.equal(counters.handleCount, 10);
  assert.equal(held.length, 10);
  held = null; // now unreachable, never closed
  for (let i = 0; i < 10 && Object.values(clientConn.tableSizes()).some((v) => v > 0); i++) {
    gc();
    await new Promise((r) => setTimeout(r, 10));
    await settle();
  }
  assert.equal(counters.handleCount, 0);
  assert.deepEqual(clientConn.tableSizes(), emptyTables());
  assert.deepEqual(serverConn.tableSizes(), emptyTables());
});
