/**
 * The client patterns users write, written the way docs/ownership.md says (which is the way a
 * TypeScript user writes them: `using` for what they take, nothing for calls), must leave nothing
 * alive: once the pattern is done, every server object it made (counted by the objects
 * themselves, on both sides) is gone and the connection's tables are back where they were,
 * without gc() and without disposing any call.
 *
 * Each pattern runs over memory, TCP and Unix (rpcTest), and locally (no connection at all).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ClosedHandleError, RpcError } from "capnts/rpc";
import { Counters, TestMoreStuffImpl } from "../fixtures/test-impls.js";
import {
  TestMoreStuff_Client as MoreStuffClient,
  TestCallOrder,
  TestInterface,
  TestInterface_Client,
  TestMoreStuff,
  type TestMoreStuff_Client,
} from "../interop/gen/test.capnp.js";
import { type Ctx, rpcTest } from "./harness.js";
import { obj } from "./util.js";

/** Server objects made by a pattern, alive until their last reference goes. */
class Lives {
  made = 0;
  gone = 0;
  get alive(): number {
    return this.made - this.gone;
  }
  /** A TestInterface whose foo() answers as C++'s TestInterfaceImpl does. */
  testInterface() {
    this.made++;
    return TestInterface.server({
      foo: (ctx) => {
        ctx.results.x = "foo";
      },
      [Symbol.dispose]: () => {
        this.gone++;
      },
    } as Parameters<typeof TestInterface.server>[0]);
  }
  /** A TestCallOrder counting its calls. */
  callOrder() {
    this.made++;
    let n = 0;
    return TestCallOrder.server({
      getCallSequence: (ctx) => {
        ctx.results.n = n++;
      },
      [Symbol.dispose]: () => {
        this.gone++;
      },
    } as Parameters<typeof TestCallOrder.server>[0]);
  }
}

interface World {
  ms: TestMoreStuff_Client;
  counters: Counters;
  settle(): Promise<void>;
  /** The client connection's tables, or null when local. */
  tables(): Record<string, number> | null;
}

type Pattern = (w: World, lives: Lives) => Promise<void>;

/** Run `pattern`, then check that it left nothing alive. */
async function check(w: World, pattern: Pattern): Promise<void> {
  // Warm up: the TestMoreStuff object exists, and the connection has settled.
  await w.ms.getCallSequence();
  await w.settle();
  const tablesBefore = w.tables();
  const handlesBefore = w.counters.handleCount;
  const lives = new Lives();
  await pattern(w, lives);
  for (let i = 0; i < 20 && (lives.alive > 0 || w.counters.handleCount !== handlesBefore); i++) {
    await w.settle();
  }
  assert.equal(lives.alive, 0, "every server object the pattern made is gone");
  assert.equal(w.counters.handleCount, handlesBefore, "every handle the server made is gone");
  for (let i = 0; i < 20 && JSON.stringify(w.tables()) !== JSON.stringify(tablesBefore); i++)
    await w.settle();
  assert.deepEqual(w.tables(), tablesBefore, "the connection's tables are back to where they were");
}

const PATTERNS: [string, Pattern][] = [
  [
    "await a call, use a capability from its results",
    async ({ ms, counters }, lives) => {
      {
        using handle = (await ms.getHandle()).handle;
        assert.equal(counters.handleCount, 1);
        assert.equal(handle.closed, false);
      }
      {
        using cap = (await ms.echo((p) => (p.cap = lives.callOrder()))).cap;
        assert.equal((await cap.getCallSequence()).n, 0);
        assert.equal(lives.alive, 1);
      }
    },
  ],
  [
    "a chain of pipelined calls",
    async ({ ms }, lives) => {
      using first = ms.echo((p) => (p.cap = lives.callOrder())).pipeline.cap;
      using second = ms.echo((p) => (p.cap = first)).pipeline.cap;
      const [a, b] = await Promise.all([first.getCallSequence(), second.getCallSequence()]);
      assert.deepEqual([a.n, b.n].sort(), [0, 1]);
      using handle = ms.getHandle().pipeline.handle;
      await handle.whenResolved();
    },
  ],
  [
    "a callback passed to a server for the call",
    async ({ ms }, lives) => {
      assert.equal((await ms.callFoo((p) => (p.cap = lives.testInterface()))).s, "bar");
      // A client of our own, passed as a parameter: ours to close, the params take their own.
      using cb = new TestInterface.Client(lives.testInterface());
      assert.equal((await ms.callFooWhenResolved((p) => (p.cap = cb))).s, "bar");
    },
  ],
  [
    "a subscription object held, then closed",
    async ({ ms, counters }) => {
      const subscriptions = [];
      for (let i = 0; i < 3; i++) subscriptions.push((await ms.getHandle()).handle);
      assert.equal(counters.handleCount, 3);
      for (const s of subscriptions) s.close();
    },
  ],
  [
    "calls made in a loop",
    async ({ ms, counters }, lives) => {
      for (let i = 0; i < 20; i++) {
        using handle = (await ms.getHandle()).handle;
        assert.ok(counters.handleCount >= 1);
        void handle;
        await ms.getCallSequence(); // an awaited call with plain results, never disposed
      }
      for (let i = 0; i < 10; i++) {
        using cap = ms.echo((p) => (p.cap = lives.callOrder())).pipeline.cap;
        await cap.getCallSequence();
      }
    },
  ],
  [
    "an error thrown in the middle of a scope",
    async ({ ms }, lives) => {
      const attempt = async (): Promise<void> => {
        using handle = (await ms.getHandle()).handle;
        using cap = ms.echo((p) => (p.cap = lives.callOrder())).pipeline.cap;
        await cap.getCallSequence();
        void handle;
        throw new Error("boom");
      };
      await assert.rejects(attempt(), /boom/);
      // A call that fails on the server side, with a capability in its params.
      await assert.rejects(
        ms.callFoo((p) => (p.cap = new TestInterface.Client(new Error("broken callback")))),
        (e: unknown) => e instanceof RpcError,
      );
    },
  ],
  [
    "a server keeping a callback past the call",
    async ({ ms, settle }, lives) => {
      await ms.hold((p) => (p.cap = lives.testInterface()));
      await settle();
      assert.equal(lives.alive, 1, "the server holds it");
      assert.equal((await ms.callHeld()).s, "bar");
      // Holding another releases the first (the server closes what it kept).
      await ms.hold((p) => (p.cap = lives.testInterface()));
      await settle();
      assert.equal(lives.alive, 1);
      // And the server lets it go: hold() a null capability.
      await ms.hold((p) => (p.cap = null));
    },
  ],
];

function connected(ctx: Ctx): World {
  const ms = obj(ctx.boot, "testMoreStuff");
  ctx.defer(ms);
  const conn = ctx.clientConn;
  return {
    ms,
    counters: ctx.counters,
    settle: ctx.settle,
    tables: () => {
      const { questions, answers, exports, imports, embargoes } = conn.tableSizes();
      return { questions, answers, exports, imports, embargoes };
    },
  };
}

for (const [name, pattern] of PATTERNS) {
  rpcTest(`ownership pattern: ${name}`, (ctx) => check(connected(ctx), pattern));
  test(`ownership pattern: ${name} [local]`, async () => {
    const counters = new Counters();
    using ms = new MoreStuffClient(TestMoreStuff.server(new TestMoreStuffImpl(counters)));
    const settle = () => new Promise<void>((r) => setImmediate(r));
    await check({ ms, counters, settle, tables: () => null }, pattern);
  });
}

test("a client made from a promise takes the client the promise resolves to; a second client from the same promise fails with ClosedHandleError, a dup() of the first works (docs/ownership.md)", async () => {
  const lives = new Lives();
  let resolve!: (c: TestInterface_Client) => void;
  const promise = new Promise<TestInterface_Client>((r) => (resolve = r));
  using first = new TestInterface_Client(promise);
  using second = new TestInterface_Client(promise);
  using copy = first.dup();
  const resolved = new TestInterface_Client(lives.testInterface());
  resolve(resolved);
  assert.equal((await first.foo()).x, "foo");
  assert.equal((await copy.foo()).x, "foo");
  assert.ok(resolved.closed, "the first client took the resolved client over");
  await assert.rejects(second.foo(), (e: unknown) => e instanceof ClosedHandleError);
  first.close();
  copy.close();
  assert.equal(lives.alive, 0);
});
