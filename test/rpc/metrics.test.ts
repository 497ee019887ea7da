/**
 * Queue metrics of the two-party network, mirroring C++ rpc-twoparty-test.c++
 * TEST(TwoPartyNetwork, Basic) as of 1.x: `getCurrentQueueCount()`, `getCurrentQueueSize()` (a
 * multiple of 8) and `getOutgoingMessageWaitTime()` with an injected clock, including the 1.x
 * fix (a send after an idle period reports no stale wait time). Run over the two-party network
 * on an in-memory byte stream pair and on real TCP and Unix sockets.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { newByteStreamPair, RpcError, TwoPartyClient } from "../../src/rpc/index.js";
import type { ByteStream } from "../../src/rpc/two-party.js";
import { canonicalAllTypes, TestInterface, TestInterface_Client } from "../interop/gen/test.capnp.js";
import { newCounters, testInterfaceImpl } from "./fixtures/impls.js";
import { ALL_MODES, emptyTables, type Mode, settleConns } from "./harness.js";
import { streamPair } from "./link.js";

async function streams(mode: Mode): Promise<[ByteStream, ByteStream, () => Promise<void>]> {
  if (mode === "memory") {
    const [a, b] = newByteStreamPair();
    return [a, b, async () => {}];
  }
  return streamPair(mode);
}

for (const mode of ALL_MODES) {
  test(`TwoPartyNetwork.Basic (rpc-twoparty-test.c++ TEST(TwoPartyNetwork, Basic)): queue metrics with an injected clock [${mode}]`, async () => {
    const counters = newCounters();
    const [sa, sb, closeStreams] = await streams(mode);
    let now = 5_000; // ms; C++ TestMonotonicClock
    const server = new TwoPartyClient(sb, TestInterface.server(testInterfaceImpl(counters)), "server");
    const tp = new TwoPartyClient(sa, undefined, "client", { clock: () => now });
    const network = tp.network;
    const conns = () => [...tp.rpcSystem.liveConnections, ...server.rpcSystem.liveConnections];
    // Real I/O (sockets) or timers (the in-memory byte streams deliver on setTimeout).
    const settle = () => settleConns(true, ...conns());

    assert.equal(network.getCurrentQueueCount(), 0);
    assert.equal(network.getCurrentQueueSize(), 0);
    assert.equal(network.getOutgoingMessageWaitTime(), 0);

    // Request the capability from the server (one Bootstrap message queued).
    const client = tp.bootstrap(TestInterface_Client);
    now += 1000;
    assert.equal(network.getCurrentQueueCount(), 1);
    assert.equal(network.getCurrentQueueSize() % 8, 0);
    assert.ok(network.getCurrentQueueSize() > 0);
    assert.equal(network.getOutgoingMessageWaitTime(), 1000);
    let oldSize = network.getCurrentQueueSize();

    const promise1 = client.foo((p) => {
      p.i = 123;
      p.j = true;
    });
    assert.equal(network.getCurrentQueueCount(), 2);
    assert.equal(network.getCurrentQueueSize() % 8, 0);
    assert.ok(network.getCurrentQueueSize() > oldSize);
    assert.equal(network.getOutgoingMessageWaitTime(), 1000);
    oldSize = network.getCurrentQueueSize();

    const req2 = client.bazRequest();
    req2.params.s = canonicalAllTypes;
    const promise2 = req2.send();
    assert.equal(network.getCurrentQueueCount(), 3);
    assert.equal(network.getCurrentQueueSize() % 8, 0);
    assert.ok(network.getCurrentQueueSize() > oldSize);
    oldSize = network.getCurrentQueueSize();

    now += 1000;
    const promise3 = client.bar();
    assert.equal(counters.callCount, 0);
    assert.equal(network.getCurrentQueueCount(), 4);
    assert.equal(network.getCurrentQueueSize() % 8, 0);
    assert.ok(network.getCurrentQueueSize() > oldSize);
    // The oldest message is now 2 seconds old.
    assert.equal(network.getOutgoingMessageWaitTime(), 2000);
    // The client class reports the network's numbers.
    assert.equal(tp.getCurrentQueueCount(), 4);
    assert.equal(tp.getCurrentQueueSize(), network.getCurrentQueueSize());
    assert.equal(tp.getOutgoingMessageWaitTime(), 2000);

    assert.equal((await promise1).x, "foo");
    await promise2;
    await assert.rejects(promise3, (e: unknown) => e instanceof RpcError && e.type === "unimplemented");
    assert.equal(counters.callCount, 2);

    // C++ finds a `Finish` still queued here, its wait time 0 s (the clock has not moved since
    // the last write). capnts sends Finish when the Return is handled and writes it the same
    // turn, so queue a message now instead: its wait time counts from when it was queued, not
    // from the earlier messages.
    promise1.cancel();
    promise2.cancel();
    promise3.cancel();
    const promise4 = client.foo((p) => {
      p.i = 123;
      p.j = true;
    });
    assert.ok(network.getCurrentQueueCount() > 0);
    assert.ok(network.getCurrentQueueSize() > 0);
    assert.equal(network.getOutgoingMessageWaitTime(), 0);

    // Let the I/O finish: nothing is queued.
    await new Promise((r) => setImmediate(r));
    assert.equal(network.getCurrentQueueCount(), 0);
    assert.equal(network.getCurrentQueueSize(), 0);
    assert.equal(network.getOutgoingMessageWaitTime(), 0);

    // A message sent after some idle time does not report the idle time (1.x fix).
    now += 10_000;
    const promise5 = client.foo((p) => {
      p.i = 123;
      p.j = true;
    });
    assert.equal(network.getCurrentQueueCount(), 1);
    assert.equal(network.getOutgoingMessageWaitTime(), 0);
    now += 500;
    assert.equal(network.getOutgoingMessageWaitTime(), 500);
    assert.equal((await promise4).x, "foo");
    assert.equal((await promise5).x, "foo");
    promise4.cancel();
    promise5.cancel();

    client.close();
    await settle();
    for (const c of conns()) assert.deepEqual(c.tableSizes(), emptyTables(), "leak check");
    await tp.close();
    await server.onDisconnect();
    await closeStreams();
  });
}
