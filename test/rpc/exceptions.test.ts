/**
 * Exceptions crossing the wire, mirroring C++ rpc-test.c++ ("method throws exception", "... won't
 * redundantly add remote exception prefix", "... with trace encoder") and rpc-twoparty-test.c++
 * (TwoPartyNetwork.HugeMessage). C++'s `e.getDescription()` is our `e.reason`; `e.message` adds
 * the call that failed.
 */
import assert from "node:assert/strict";
import { RpcError } from "capnts/rpc";
import { rpcTest } from "./harness.js";
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
