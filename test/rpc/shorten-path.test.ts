/**
 * Servers that present themselves as promises (C++ `Capability::Server::shortenPath()`), mirroring
 * rpc-twoparty-test.c++'s second KJ_TEST("Two-hop embargo") (TestCallOrderImplAsPromise), plus
 * the behaviour shortenPath() promises: the capability is a promise locally and on the wire, and
 * once the path is shortened new calls go to the new target.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Client, type RemotePromise } from "capnts/rpc";
import { Counters, TestCallOrderImpl, TestMoreStuffImpl } from "../fixtures/test-impls.js";
import {
  TestCallOrder,
  TestCallOrder_Client,
  type TestCallOrder_Server,
  TestMoreStuff,
  TestMoreStuff_Client,
} from "../interop/gen/test.capnp.js";
import { ALL_MODES, emptyTables, settleConns } from "./harness.js";
import { link } from "./link.js";

function seq(cap: TestCallOrder_Client, expected: number) {
  return cap.getCallSequence((p) => {
    p.expected = expected;
  });
}

async function n(p: RemotePromise<{ n: number }, never>): Promise<number> {
  try {
    return (await p).n;
  } finally {
    p.cancel();
  }
}

/** C++ TestCallOrderImplAsPromise: a TestCallOrder whose shortenPath() never completes. */
function testCallOrderImplAsPromise(): TestCallOrder_Server {
  const inner = new TestCallOrderImpl(new Counters());
  const impl: TestCallOrder_Server = {
    getCallSequence: (ctx) => inner.getCallSequence!(ctx),
    shortenPath() {
      return new Promise<Client>(() => {});
    },
  };
  return impl;
}

/** A TestCallOrder counting into `a` whose path is shortened when the test says so. */
function shortenable(a: TestCallOrderImpl, setShorten: (f: (c: Client) => void) => void) {
  const impl: TestCallOrder_Server = {
    getCallSequence: (ctx) => a.getCallSequence!(ctx),
    shortenPath: () => new Promise<Client>((r) => setShorten(r)),
  };
  return TestCallOrder.server(impl);
}

test("shortenPath(): locally, the capability is a promise until the path is shortened; new calls then go to the new target", async () => {
  const a = new TestCallOrderImpl(new Counters());
  const b = new TestCallOrderImpl(new Counters());
  let shorten!: (c: Client) => void;
  const server = shortenable(a, (f) => (shorten = f));
  using cap = new TestCallOrder_Client(server);
  assert.equal(await n(seq(cap, 0) as never), 0);
  let resolved = false;
  const whenResolved = cap.whenResolved().then(() => (resolved = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(resolved, false, "a server with shortenPath() is a promise");
  shorten(new TestCallOrder_Client(TestCallOrder.server(b)));
  await whenResolved;
  assert.equal(await n(seq(cap, 0) as never), 0, "the new target's own sequence");
  assert.equal(a.count, 1);
  assert.equal(b.count, 1);
});

for (const mode of ALL_MODES) {
  test(`shortenPath() over RPC: exported as a promise, the peer gets a Resolve and calls the shorter path [${mode}]`, async () => {
    const a = new TestCallOrderImpl(new Counters());
    const b = new TestCallOrderImpl(new Counters());
    let shorten!: (c: Client) => void;
    const server = shortenable(a, (f) => (shorten = f));
    const l = await link(mode, undefined, server);
    const settle = () => settleConns(mode !== "memory", l.a, l.b);
    {
      using cap = new TestCallOrder_Client(l.a.bootstrap());
      assert.equal(await n(seq(cap, 0) as never), 0);
      let resolved = false;
      const whenResolved = cap.whenResolved().then(() => (resolved = true));
      await settle();
      assert.equal(resolved, false, "imported as a promise (senderPromise)");
      shorten(new TestCallOrder_Client(TestCallOrder.server(b)));
      await whenResolved;
      assert.equal(await n(seq(cap, 0) as never), 0);
      assert.equal(await n(seq(cap, 1) as never), 1);
      assert.equal(a.count, 1);
      assert.equal(b.count, 2);
    }
    await settle();
    assert.deepEqual(l.a.tableSizes(), emptyTables());
    assert.deepEqual(l.b.tableSizes(), emptyTables());
    await l.close();
  });

  test(`Two-hop embargo, the echoed object presents itself as a promise (rpc-twoparty-test.c++ second KJ_TEST("Two-hop embargo"), TestCallOrderImplAsPromise) [${mode}]`, async () => {
    const counters = new Counters();
    // client ⇄ proxy ⇄ server; the proxy re-exports the server's bootstrap.
    const back = await link(mode, undefined, TestMoreStuff.server(new TestMoreStuffImpl(counters)));
    const proxyBoot = new Client(back.a.bootstrap());
    const front = await link(mode, undefined, proxyBoot);
    const settle = () => settleConns(mode !== "memory", front.a, front.b, back.a, back.b);
    {
      using client = new TestMoreStuff_Client(front.a.bootstrap());
      using cap = new TestCallOrder_Client(TestCallOrder.server(testCallOrderImplAsPromise()));
      assert.notEqual(cap._hook.whenMoreResolved(), null, "the object presents itself as a promise");
      using earlyCall = client.getCallSequence();
      using echo = client.echo((p) => (p.cap = cap));
      using pipeline = echo.pipeline.cap;
      const calls = [seq(pipeline, 0), seq(pipeline, 1)];
      await earlyCall;
      calls.push(seq(pipeline, 2));
      using resolved = (await echo).cap;
      calls.push(seq(pipeline, 3), seq(pipeline, 4), seq(pipeline, 5));
      const got = [];
      for (const c of calls) got.push(await n(c as never));
      assert.deepEqual(got, [0, 1, 2, 3, 4, 5]);
      void resolved;
    }
    proxyBoot.close();
    await settle();
    for (const c of [front.a, front.b, back.a, back.b]) assert.deepEqual(c.tableSizes(), emptyTables());
    await front.close();
    await back.close();
  });
}
