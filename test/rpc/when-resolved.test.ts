/**
 * Issue 6: `Client.whenResolved()` and observing resolution order. Promise capabilities report
 * their resolutions in the order they resolve, and calls queued on a promise are delivered before
 * anything that reacts to its resolution (C++ capability.c++ QueuedClient: "previously-queued
 * calls are delivered before any new calls made in response to the resolution").
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Client, RpcError } from "capnts/rpc";
import { Counters, TestCallOrderImpl } from "../fixtures/test-impls.js";
import { TestCallOrder, TestCallOrder_Client } from "../interop/gen/test.capnp.js";

test("whenResolved(): settles in resolution order; queued calls are delivered first; a broken promise rejects", async () => {
  const fulfill: Record<string, (c: TestCallOrder_Client) => void> = {};
  const caps: Record<string, TestCallOrder_Client> = {};
  for (const k of ["a", "b", "c"]) {
    caps[k] = new TestCallOrder_Client(new Promise<TestCallOrder_Client>((r) => (fulfill[k] = r)));
  }
  const order: string[] = [];
  const done = Object.entries(caps).map(([k, c]) => c.whenResolved().then(() => order.push(k)));
  const impl = new TestCallOrderImpl(new Counters());
  const target = new TestCallOrder_Client(TestCallOrder.server(impl));
  // A call queued on `b` before it resolves.
  using queued = caps.b!.getCallSequence();
  let countAtResolution = -1;
  const b = caps.b!.whenResolved().then(() => (countAtResolution = impl.count));
  fulfill.b!(target.dup());
  fulfill.a!(target.dup());
  fulfill.c!(target.dup());
  await Promise.all(done);
  await b;
  assert.deepEqual(order, ["b", "a", "c"]);
  assert.equal((await queued).n, 0);
  assert.equal(countAtResolution, 1, "the queued call ran before the resolution was observed");
  // Calls made after the resolution follow the queued one.
  using after = caps.b!.getCallSequence();
  assert.equal((await after).n, 1);
  // A promise that breaks: whenResolved() rejects with its error.
  using broken = new Client(Promise.reject(new Error("nope")));
  await assert.rejects(broken.whenResolved(), (e: unknown) => e instanceof RpcError);
  // A settled capability is resolved at once.
  await target.whenResolved();
  for (const c of Object.values(caps)) c.close();
  target.close();
});
