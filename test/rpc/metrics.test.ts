/**
 * Queue metrics of the two-party network, mirroring C++ rpc-twoparty-test.c++
 * TEST(TwoPartyNetwork, Basic) as of 1.x: `getCurrentQueueCount()`, `getCurrentQueueSize()` (a
 * multiple of 8) and `getOutgoingMessageWaitTime()` with an injected clock, including the 1.x
 * fix (a send after an idle period reports no stale wait time). Run over the two-party network
 * on an in-memory byte stream pair and on real TCP and Unix sockets.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { newByteStreamPair, RpcError, TwoPartyClient } from "capnts/rpc";
import type { ByteStream } from "../../src/rpc/two-party.js";
import { Counters, TestInterfaceImpl } from "../fixtures/test-impls.js";
import { canonicalAllTypes, TestInterface, TestInterface_Client } from "../interop/gen/test.capnp.js";
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
    const counters = new Counters();
    const [sa, sb, closeStreams] = await streams(mode);
    let now = 5_000; // ms; C++ TestMonotonicClock
    const server = new TwoPartyClient(sb, TestInterface.server(new TestInterfaceImpl(counters)), "server");
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

// C++ counts an outgoing message in the queue until its write completes, i.e. until the kernel
// has taken its bytes; with a peer that stops reading, the queue grows. Node accepts writes into
// the socket's own buffer instead of making us wait, so the metrics count what that buffer still
// holds (ByteStream.writableBytes), not only what the network has not handed to the socket yet.
for (const mode of ["tcp", "unix"] as const) {
  test(`queue metrics count messages the socket has not written yet (a peer that stops reading) [${mode}]`, {
    timeout: 60_000,
  }, async () => {
    const { TwoPartyVatNetwork } = await import("../../src/rpc/two-party.js");
    const { MessageBuilder } = await import("capnts/wire");
    const { TestAllTypes_Builder } = await import("../interop/gen/test.capnp.js");
    const [sa, sb, closeStreams] = await streams(mode);
    let now = 1_000;
    const network = new TwoPartyVatNetwork(sa, "client", { clock: () => now });
    network.start({ message() {}, closed() {} });
    let received = 0;
    sb.start(
      (chunk) => {
        received += chunk.length;
      },
      () => {},
    );
    sb.pause?.();
    const message = (): InstanceType<typeof MessageBuilder> => {
      const mb = new MessageBuilder();
      mb.initRoot(TestAllTypes_Builder).dataField = new Uint8Array(1 << 20);
      return mb;
    };
    try {
      // Write 1 MiB messages until the kernel's buffers are full and the socket holds some.
      let sent = 0;
      for (; sent < 96 && network.getCurrentQueueCount() === 0; sent++) {
        network.send(message());
        await new Promise((r) => setTimeout(r, 5));
      }
      assert.ok(network.getCurrentQueueCount() > 0, `still nothing queued after ${sent} MiB`);
      const size = network.getCurrentQueueSize();
      assert.ok(size >= 1 << 20, `queued ${size} bytes`);
      assert.equal(size % 8, 0);
      now += 250;
      assert.ok(network.getOutgoingMessageWaitTime() >= 250);
      // The peer reads again: the socket drains and the queue empties.
      sb.resume?.();
      for (let i = 0; i < 2000 && network.getCurrentQueueSize() > 0; i++)
        await new Promise((r) => setTimeout(r, 5));
      assert.equal(network.getCurrentQueueSize(), 0);
      assert.equal(network.getCurrentQueueCount(), 0);
      assert.equal(network.getOutgoingMessageWaitTime(), 0);
      assert.ok(received > 0);
    } finally {
      // Let the socket drain, or ending it would wait for the peer for ever.
      sb.resume?.();
      await network.shutdown();
      await closeStreams();
    }
  });
}
