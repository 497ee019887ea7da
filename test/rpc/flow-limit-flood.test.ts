/**
 * Issue 6 proof: a client flooding a server whose RpcSystem has a flow limit (C++
 * `setFlowLimit`). The server holds every call until the test releases it; the words of calls in
 * flight on the server never exceed the limit by more than one message, and every call still
 * completes. No timing assertions: it counts calls and words.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { RemotePromise } from "capnts/rpc";
import { canonicalAllTypes, TestInterface, TestInterface_Client } from "../interop/gen/test.capnp.js";
import { ALL_MODES, emptyTables, settleConns } from "./harness.js";
import { link } from "./link.js";

for (const mode of ALL_MODES) {
  test(`setFlowLimit: a flooding client, the server's calls in flight stay bounded and every call completes [${mode}]`, async () => {
    const held: (() => void)[] = [];
    let maxHeld = 0;
    let maxWords = 0;
    let completed = 0;
    /** Words of the first call's message, as the server counts them. */
    let callWords = 0;
    let serverConn: { callWordsInFlight: number } | null = null;
    const server = TestInterface.server({
      baz() {
        const w = serverConn?.callWordsInFlight ?? 0;
        if (callWords === 0) callWords = w;
        maxWords = Math.max(maxWords, w);
        return new Promise<void>((r) =>
          held.push(() => {
            completed++;
            r();
          }),
        );
      },
    });
    const l = await link(mode, undefined, server);
    serverConn = l.b;
    const settle = () => settleConns(mode !== "memory", l.a, l.b);
    const LIMIT = 2000; // words
    l.b.setFlowLimit(LIMIT);
    const N = 300;
    {
      using cap = new TestInterface_Client(l.a.bootstrap());
      const calls: RemotePromise<unknown>[] = [];
      for (let i = 0; i < N; i++) {
        const req = cap.bazRequest();
        req.params.s = canonicalAllTypes;
        calls.push(req.send() as RemotePromise<unknown>);
      }
      // Release held calls as they arrive until all are done.
      for (let rounds = 0; completed < N && rounds < 10_000; rounds++) {
        await settle();
        maxHeld = Math.max(maxHeld, held.length);
        assert.ok(l.b.callWordsInFlight <= LIMIT + callWords, `words in flight ${l.b.callWordsInFlight}`);
        for (const f of held.splice(0)) f();
      }
      for (const c of calls) {
        await c;
        c.cancel();
      }
    }
    assert.equal(completed, N);
    // Bounded: the server stops reading new calls once the words in flight pass the limit, so at
    // most the limit plus one call's words are held at any time.
    assert.ok(callWords > 0);
    assert.ok(maxWords <= LIMIT + callWords, `max words in flight ${maxWords} (a call: ${callWords})`);
    assert.ok(
      maxHeld <= Math.floor(LIMIT / callWords) + 1,
      `at most ${maxHeld} calls held at once (a call: ${callWords} words)`,
    );
    assert.ok(maxHeld < N);
    await settle();
    assert.deepEqual(l.a.tableSizes(), emptyTables());
    assert.deepEqual(l.b.tableSizes(), emptyTables());
    await l.close();
  });
}
