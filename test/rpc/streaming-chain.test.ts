/**
 * rpc-twoparty-test.c++ KJ_TEST("Streaming over a chain of local and remote RPC calls"): a
 * streaming call made on a local promise stays a streaming call once the promise resolves to a
 * remote capability (whose own server is still a promise): the window applies over the remote
 * hop, and `finishStream()` completes only after every streamed call ran, in order.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Client } from "capnts/rpc";
import { whenIdle } from "capnts/testing";
import { TestStreaming, TestStreaming_Client, type TestStreaming_Server } from "../interop/gen/test.capnp.js";
import { ALL_MODES, emptyTables, settleConns } from "./harness.js";
import { link } from "./link.js";

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

/** C++ TestStreamingImpl. */
function streamingImpl() {
  const impl = {
    iSum: 0,
    pending: [] as (() => void)[],
    doStreamI(ctx: { params: { i: number } }) {
      impl.iSum += ctx.params.i;
      return new Promise<void>((r) => impl.pending.push(r));
    },
    finishStream(ctx: { results: { totalI: number } }) {
      ctx.results.totalI = impl.iSum;
    },
  };
  return impl;
}

for (const mode of ALL_MODES) {
  test(`Streaming over a chain of local and remote RPC calls (rpc-twoparty-test.c++) [${mode}]`, async () => {
    // A local promise that will be fulfilled with a remote capability.
    let localFulfill!: (c: TestStreaming_Client) => void;
    using promisedClient = new TestStreaming_Client(
      new Promise<TestStreaming_Client>((r) => (localFulfill = r)),
    );
    let count = 1;
    let promise: Promise<void> = promisedClient.doStreamI((p) => (p.i = 1));
    // Blocked on the promised client.
    assert.equal(await polled(promise), false);

    // A remote server (itself a promise for now) with a 1024-byte window, as C++'s MockSndbufStream.
    let remoteFulfill!: (c: Client) => void;
    const serverCap = new Client(new Promise<Client>((r) => (remoteFulfill = r)));
    const l = await link(mode, undefined, serverCap, { streamWindow: 1024 });
    const settle = () => settleConns(mode !== "memory", l.a, l.b);
    const clientCap = new TestStreaming_Client(l.a.bootstrap());

    // Fulfilling the local promise with the remote capability unblocks the streaming call: it is
    // forwarded as a streaming call, within the window.
    localFulfill(clientCap);
    assert.equal(await polled(promise), true);

    // Send stream requests until we can't anymore.
    while (await polled(promise)) {
      await promise;
      const i = ++count;
      promise = promisedClient.doStreamI((p) => (p.i = i));
      assert.ok(count < 1000);
    }
    // Several stream requests fit in the flow control window.
    assert.ok(count > 5, `sent ${count}`);

    using finishPromise = promisedClient.finishStream();
    assert.equal(await polled(finishPromise), false);

    // Finish calls on the server.
    const server = streamingImpl();
    remoteFulfill(new TestStreaming_Client(TestStreaming.server(server as unknown as TestStreaming_Server)));
    assert.equal(await polled(promise), false);
    let countReceived = 0;
    for (let k = 0; k < count; k++) {
      await settle();
      assert.equal(server.iSum, ++countReceived, "one call at a time, in order");
      server.iSum = 0;
      assert.equal(server.pending.length, 1);
      server.pending.shift()!();
      if (k < count - 1) assert.equal(await polled(finishPromise), false);
    }
    await settle();
    assert.equal(await polled(finishPromise), true);
    await finishPromise;
    await promise;

    finishPromise.cancel();
    promisedClient.close();
    serverCap.close();
    await settle();
    assert.deepEqual(l.a.tableSizes(), emptyTables());
    assert.deepEqual(l.b.tableSizes(), emptyTables());
    await l.close();
  });
}
