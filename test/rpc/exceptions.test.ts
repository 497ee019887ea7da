/**
 * Exceptions crossing the wire, mirroring C++ rpc-test.c++ ("method throws exception", "... won't
 * redundantly add remote exception prefix", "... with trace encoder") and rpc-twoparty-test.c++
 * (TwoPartyNetwork.HugeMessage). C++'s `e.getDescription()` is our `e.reason`; `e.message` adds
 * the call that failed.
 */
import assert from "node:assert/strict";
import { RpcError } from "capnts/rpc";
import { TestInterface_Client } from "../interop/gen/test.capnp.js";
import { type Ctx, rpcTest } from "./harness.js";
import { obj } from "./util.js";

async function failure(p: PromiseLike<unknown> & { cancel(): void }): Promise<RpcError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof RpcError, String(e));
    return e;
  } finally {
    p.cancel();
  }
  assert.fail("expected the call to fail");
}

rpcTest('RPC method throws exception (rpc-test.c++ KJ_TEST("method throws exception"))', async (ctx) => {
  using client = obj(ctx.boot, "testMoreStuff");
  const e = await failure(client.throwException());
  assert.equal(e.reason, "remote exception: test exception");
  assert.equal(e.message, "remote exception: test exception (in call to TestMoreStuff.throwException)");
  assert.equal(e.method, "TestMoreStuff.throwException");
  assert.equal(e.type, "failed");
  assert.equal(e.remoteTrace, undefined);
});

rpcTest(
  "RPC method throws exception won't redundantly add remote exception prefix (rpc-test.c++ KJ_TEST(\"method throws exception won't redundantly add remote exception prefix\"))",
  async (ctx) => {
    using client = obj(ctx.boot, "testMoreStuff");
    const e = await failure(client.throwRemoteException());
    assert.equal(e.reason, "remote exception: test exception");
    assert.equal(
      e.message,
      "remote exception: test exception (in call to TestMoreStuff.throwRemoteException)",
    );
    assert.equal(e.remoteTrace, undefined);
  },
);

rpcTest(
  'RPC method throws exception with trace encoder (rpc-test.c++ KJ_TEST("method throws exception with trace encoder"))',
  async (ctx) => {
    ctx.serverConn.traceEncoder = (e) => `trace for ${e.message}`;
    using client = obj(ctx.boot, "testMoreStuff");
    const e = await failure(client.throwException());
    assert.equal(e.reason, "remote exception: test exception");
    assert.equal(e.remoteTrace, "trace for test exception");
  },
);

rpcTest(
  'RPC method throws exception with detail (rpc-test.c++ KJ_TEST("method throws exception with detail"))',
  async (ctx) => {
    using client = obj(ctx.boot, "testMoreStuff");
    const e = await failure(client.throwExceptionWithDetail());
    assert.equal(e.reason, "remote exception: test exception");
    assert.equal(e.remoteTrace, undefined);
    const detail = e.getDetail(1n);
    assert.ok(detail !== undefined, "detail 1 crossed the wire");
    assert.equal(new TextDecoder().decode(detail), "foo");
    assert.deepEqual(
      e.details?.map((d) => d.id),
      [1n],
    );
  },
);

/**
 * rpc-test.c++ KJ_TEST("disconnection exception retains details"): a connection ended with an
 * exception that carries details keeps them (rpc.c++ `disconnect()`), seen from both ends: a call
 * made afterwards on the side that ended it fails DISCONNECTED with them, and the peer gets them
 * in the Abort (rpc.capnp `Exception.details`).
 */
const disconnectionSeenBy: {
  side: string;
  error: (ctx: Ctx, client: TestInterface_Client) => Promise<RpcError>;
}[] = [
  {
    side: "the side that ended it: a call made afterwards",
    error: (_ctx, client) =>
      failure(
        client.foo((p) => {
          p.i = 1;
        }),
      ),
  },
  {
    side: "the peer that ended the connection: an Abort carries them",
    error: async (ctx) => {
      for (let i = 0; i < 20 && ctx.serverConn.error === null; i++) await ctx.settle();
      const e = ctx.serverConn.error;
      assert.ok(e !== null, "the server saw the Abort");
      return e;
    },
  },
];

for (const { side, error } of disconnectionSeenBy) {
  rpcTest(
    `RPC disconnection exception retains details (rpc-test.c++ KJ_TEST("disconnection exception retains details")), seen by ${side}`,
    async (ctx) => {
      using client = ctx.boot.castAs(TestInterface_Client);
      await client.whenResolved();
      // Disconnect the client's connection with an exception that has details.
      ctx.clientConn.disconnect(
        new RpcError("failed", "a_disconnection_exception", {
          details: [
            { id: 1n, data: new TextEncoder().encode("foo") },
            { id: 0xfedcba9876543210n, data: new Uint8Array([0, 255]) },
          ],
        }),
      );
      const e = await error(ctx, client);
      assert.equal(e.type, "disconnected");
      assert.match(e.message, /a_disconnection_exception/);
      assert.equal(new TextDecoder().decode(e.getDetail(1n)), "foo");
      assert.deepEqual(e.getDetail(0xfedcba9876543210n), new Uint8Array([0, 255]));
    },
    { noLeakCheck: true },
  );
}

rpcTest("RPC exception types cross the wire (rpc.capnp Exception.Type)", async (ctx) => {
  using client = obj(ctx.boot, "testInterface");
  const e = await failure(client.bar());
  assert.equal(e.type, "unimplemented");
  assert.match(e.reason, /^remote exception: Method not implemented/);
});

rpcTest(
  "TwoPartyNetwork.HugeMessage (rpc-twoparty-test.c++ TEST(TwoPartyNetwork, HugeMessage))",
  async (ctx) => {
    using client = obj(ctx.boot, "testMoreStuff");
    // Oversized request fails locally.
    {
      using p = client.methodWithDefaults((p) => {
        p.a = "x".repeat(100_000_000);
      });
      await assert.rejects(p, /larger than our single-message size limit/);
    }
    // Oversized response fails: the server sends an exception Return instead.
    {
      const e = await failure(client.getEnormousString());
      assert.match(e.message, /larger than our single-message size limit/);
    }
    // The connection is still up.
    {
      using p = client.getCallSequence((p) => (p.expected = 0));
      assert.equal((await p).n, 0);
    }
  },
  { modes: ["memory", "tcp"] },
);
