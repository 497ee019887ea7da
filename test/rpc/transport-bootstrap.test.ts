/**
 * Connecting, disconnecting and bootstrapping, mirroring C++ rpc-test.c++ ("loopback
 * bootstrap()", "handles exceptions thrown during disconnect") and rpc-twoparty-test.c++
 * (ConvenienceClasses, BootstrapFactory, Pipelining with a disconnect, "write error propagates to
 * read error"), plus the Runtime lifecycle.
 */
import assert from "node:assert/strict";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { nodeNet, Runtime } from "capnts/node";
import { Client, RpcError, ShutdownError } from "capnts/rpc";
import { whenIdle } from "capnts/testing";
import { RpcConnection } from "../../src/rpc/connection.js";
import { newMemoryTransportPair } from "../../src/rpc/memory-transport.js";
import {
  type ByteStream,
  newByteStreamPair,
  TwoPartyClient,
  TwoPartyServer,
} from "../../src/rpc/two-party.js";
import { Counters, TestInterfaceImpl, TestPipelineImpl } from "../fixtures/test-impls.js";
import {
  TestAuthenticatedBootstrap,
  TestAuthenticatedBootstrap_Client,
  TestExtends_Client,
  TestInterface,
  TestInterface_Client,
  TestPipeline,
  TestPipeline_Client,
} from "../interop/gen/test.capnp.js";
import { emptyTables, settleConns } from "./harness.js";
import { sleep } from "./util.js";

const MODES = ["tcp", "unix"] as const;

function address(mode: "tcp" | "unix"): string {
  return mode === "tcp"
    ? "127.0.0.1:0"
    : `unix:${join(tmpdir(), `capnts-tb-${process.pid}-${Math.random().toString(36).slice(2)}.sock`)}`;
}

for (const mode of MODES) {
  test(`TwoPartyNetwork.ConvenienceClasses (rpc-twoparty-test.c++ TEST(TwoPartyNetwork, ConvenienceClasses)) [${mode}]`, async () => {
    const counters = new Counters();
    await Runtime.run(async (rt) => {
      const server = rt.newServer(TestInterface.server(new TestInterfaceImpl(counters)));
      const { address: addr } = await server.listen(address(mode));
      const client = await rt.connect(addr);
      using cap = client.bootstrap(TestInterface_Client);
      using p = cap.foo((p) => {
        p.i = 123;
        p.j = true;
      });
      assert.equal(counters.callCount, 0);
      assert.equal((await p).x, "foo");
      assert.equal(counters.callCount, 1);
    });
  });

  test(`TwoPartyNetwork.BootstrapFactory (rpc-twoparty-test.c++ TEST(TwoPartyNetwork, BootstrapFactory)) [${mode}]`, async () => {
    let called = false;
    await Runtime.run(async (rt) => {
      const server = rt.newServer({
        createFor(vatId: unknown) {
          called = true;
          assert.equal((vatId as { side: number }).side, 1 /* client */);
          return TestAuthenticatedBootstrap.server({
            getCallerId(c) {
              c.results.initCaller().side = (vatId as { side: number }).side as never;
            },
          });
        },
      });
      const { address: addr } = await server.listen(address(mode));
      const client = await rt.connect(addr);
      using cap = client.bootstrap(TestAuthenticatedBootstrap_Client);
      using p = cap.getCallerId();
      assert.equal((await p).caller.side, 1);
      assert.equal(called, true);
    });
  });

  test(`TwoPartyNetwork.Pipelining (rpc-twoparty-test.c++ TEST(TwoPartyNetwork, Pipelining)) then disconnect [${mode}]`, async () => {
    const counters = new Counters();
    await Runtime.run(async (rt) => {
      const server = rt.newServer(TestPipeline.server(new TestPipelineImpl(counters)));
      const { address: addr } = await server.listen(address(mode));
      // The client's own socket, so that the test can end its write side (C++ shutdownWrite()).
      const socket = await nodeNet.connect(addr);
      const client = rt.connectStream(socket);
      let disconnected = false;
      void client.onDisconnect().then(() => (disconnected = true));
      using cap = client.bootstrap(TestPipeline_Client);
      let reverseCallCount = 0;
      const reverse = () =>
        new TestInterface_Client(
          TestInterface.server({
            foo(c) {
              reverseCallCount++;
              c.results.x = "foo";
            },
          }),
        );
      /** getCap() with a callback capability, then foo() and grault() pipelined on its result. */
      const getCapAndPipeline = () => {
        using inCap = reverse();
        const promise = cap.getCap((p) => {
          p.n = 234;
          p.inCap = inCap;
        });
        using pipelineCap = promise.pipeline.outBox.cap;
        using ext = pipelineCap.castAs(TestExtends_Client);
        return { promise, foo: pipelineCap.foo((p) => (p.i = 321)), grault: ext.grault() };
      };
      {
        const { promise, foo: p2, grault: p3 } = getCapAndPipeline();
        promise.cancel(); // Just to be annoying, drop the original promise.
        assert.equal(counters.callCount, 0);
        assert.equal(reverseCallCount, 0);
        assert.equal((await p2).x, "bar");
        assert.equal((await p3).textField, "foo");
        assert.equal(counters.callCount, 3);
        assert.equal(reverseCallCount, 1);
      }
      assert.equal(disconnected, false);
      // What if we disconnect? The client ends its write side; the server sees the end and goes,
      // and the client's onDisconnect fires.
      await socket.end();
      await client.onDisconnect();
      assert.equal(disconnected, true);
      {
        // Use the now-broken capability: the call and both pipelined calls fail DISCONNECTED.
        const { promise, foo: p5, grault: p6 } = getCapAndPipeline();
        const isDisconnected = (e: unknown) => e instanceof RpcError && e.type === "disconnected";
        await assert.rejects(p5, isDisconnected);
        await assert.rejects(p6, isDisconnected);
        await assert.rejects(promise, isDisconnected);
        assert.equal(counters.callCount, 3);
        assert.equal(reverseCallCount, 1);
      }
      assert.deepEqual(client.rpcSystem.liveConnections.length, 0);
    });
  });
}

test('RPC loopback bootstrap() (rpc-test.c++ KJ_TEST("loopback bootstrap()"))', async () => {
  const counters = new Counters();
  const [a, b] = newByteStreamPair();
  const client = new TwoPartyClient(a, TestInterface.server(new TestInterfaceImpl(counters)), "client");
  const server = new TwoPartyClient(b, undefined, "server");
  // Bootstrapping our own VatId gives our own bootstrap: no network involved.
  using cap = client.rpcSystem.bootstrap({ side: 1 }, TestInterface_Client);
  using p = cap.foo((p) => {
    p.i = 123;
    p.j = true;
  });
  assert.equal((await p).x, "foo");
  assert.equal(counters.callCount, 1);
  const conn = client.rpcSystem.liveConnections[0];
  assert.equal(conn?.stats.sent ?? 0, 0);
  await client.close();
  await server.close();
});

/**
 * C++ KJ_TEST("handles exceptions thrown during disconnect"): the server's transport throws from
 * its shutdown once the server aborts on an invalid message; C++ expects that exception logged
 * (KJ_EXPECT_LOG(ERROR, "a_disconnect_exception")). capnts reports it through the connection's
 * `onError` (console.error by default), once.
 */
test('RPC handles exceptions thrown during disconnect (rpc-test.c++ KJ_TEST("handles exceptions thrown during disconnect"))', async () => {
  const [x, y] = newMemoryTransportPair();
  y.shutdown = () => Promise.reject(new Error("a_disconnect_exception"));
  const reported: unknown[] = [];
  const server = new RpcConnection(y, {
    bootstrap: () => TestInterface.server(new TestInterfaceImpl(new Counters()))._client(),
    onError: (e) => reported.push(e),
  });
  server.start();
  const raw: unknown[] = [];
  x.start({ message: (m) => raw.push(m), closed: () => raw.push(null) });
  const { MessageBuilder } = await import("capnts/wire");
  const { Message_Builder } = await import("../../src/gen/rpc.capnp.js");
  const m = new MessageBuilder();
  const ret = m.initRoot(Message_Builder).initReturn();
  ret.answerId = 1234;
  ret.setCanceled();
  x.send(m);
  for (let i = 0; i < 5; i++) await whenIdle();
  assert.ok(server.error !== null);
  assert.deepEqual(server.tableSizes(), emptyTables());
  await server.whenShutDown();
  assert.equal(reported.length, 1, "the shutdown's exception is reported once");
  assert.match(String((reported[0] as Error).message), /a_disconnect_exception/);
});

test("a transport shutdown failing with DISCONNECTED, or after a receive error, is not reported (rpc.c++ RpcConnectionState::disconnect())", async () => {
  for (const how of ["disconnected", "receive-error"] as const) {
    const [x, y] = newMemoryTransportPair();
    y.shutdown = () =>
      Promise.reject(how === "disconnected" ? RpcError.disconnected("socket gone") : new Error("EPIPE"));
    const reported: unknown[] = [];
    const server = new RpcConnection(y, { onError: (e) => reported.push(e) });
    server.start();
    x.start({ message: () => {}, closed: () => {} });
    if (how === "disconnected") server.disconnect(RpcError.failed("test over"));
    else y.fail(RpcError.failed("read failed"));
    for (let i = 0; i < 5; i++) await whenIdle();
    await server.whenShutDown();
    assert.deepEqual(reported, [], how);
  }
});

test('write error propagates to read error (rpc-twoparty-test.c++ KJ_TEST("write error propagates to read error"))', async () => {
  const counters = new Counters();
  const [a, b] = newByteStreamPair();
  let failWrites = false;
  const faulty: ByteStream = {
    start: (d, e) => a.start(d, e),
    write(data) {
      if (failWrites) throw new Error("abortRead() has been called");
      a.write(data);
    },
    end: () => a.end(),
  };
  const server = new TwoPartyServer(TestInterface.server(new TestInterfaceImpl(counters)));
  void server.accept(b);
  const client = new TwoPartyClient(faulty);
  using cap = client.bootstrap(TestInterface_Client);
  {
    using p = cap.foo((p) => {
      p.i = 123;
      p.j = true;
    });
    assert.equal((await p).x, "foo");
  }
  failWrites = true;
  using p2 = cap.foo((p) => {
    p.i = 123;
    p.j = true;
  });
  // Rejected with the write error by the time the event loop has run out of work, with no I/O
  // and no timer in between (C++: `KJ_ASSERT(promise.poll(waitScope))`).
  let outcome: string | null = null;
  p2.then(
    () => (outcome = "ok"),
    (e: Error) => (outcome = e.message),
  );
  await whenIdle();
  await Promise.resolve();
  assert.equal(outcome, "abortRead() has been called");
  await client.close();
  await server.close();
});

test("Runtime: shutdown is idempotent, closes everything, and refuses work afterwards", async () => {
  const counters = new Counters();
  const rt = Runtime.init();
  const server = rt.newServer(TestInterface.server(new TestInterfaceImpl(counters)));
  const { address: addr, port } = await server.listen("127.0.0.1:0");
  assert.ok(typeof port === "number" && port > 0);
  const client = await rt.connect(addr);
  using cap = client.bootstrap(TestInterface_Client);
  {
    using p = cap.foo((p) => {
      p.i = 123;
      p.j = true;
    });
    assert.equal((await p).x, "foo");
  }
  const conn = client.rpcSystem.liveConnections[0]!;
  const s1 = rt.shutdown();
  const s2 = rt.shutdown();
  assert.equal(s1, s2);
  await s1;
  assert.deepEqual(conn.tableSizes(), emptyTables());
  assert.throws(() => rt.newServer(TestInterface.server({})), ShutdownError);
  await assert.rejects(rt.connect(addr), ShutdownError);
  using p = cap.foo((p) => {
    p.i = 123;
    p.j = true;
  });
  await assert.rejects(
    p,
    (e: unknown) => e instanceof RpcError && e.type === "disconnected" && /shut down/.test(e.message),
  );
});

test("Runtime: await using and Runtime.run", async () => {
  let rtRef: Runtime | null = null;
  {
    await using rt = Runtime.init();
    rtRef = rt;
    const server = rt.newServer(TestInterface.server({}));
    await server.listen("127.0.0.1:0");
  }
  assert.equal(rtRef.isShutDown, true);
  const r = await Runtime.run(async (rt) => {
    assert.equal(rt.isShutDown, false);
    return 42;
  });
  assert.equal(r, 42);
});

test("core Runtime without sockets explains what is missing", async () => {
  const { Runtime: CoreRuntime } = await import("capnts/rpc");
  const rt = CoreRuntime.init();
  await assert.rejects(rt.connect("127.0.0.1:1"), /no socket provider/);
  await rt.shutdown();
});

void Client;
void settleConns;

test("TwoPartyServer.drain() resolves once every accepted connection has closed", async () => {
  const server = new TwoPartyServer(TestInterface.server(new TestInterfaceImpl(new Counters())));
  const [a, b] = newByteStreamPair();
  void server.accept(b);
  const client = new TwoPartyClient(a);
  using cap = client.bootstrap(TestInterface_Client);
  await cap.whenResolved();
  let drained = false;
  const d = server.drain().then(() => (drained = true));
  await sleep(5);
  assert.equal(drained, false);
  await client.close();
  await d;
  assert.equal(drained, true);
});

test("RpcSystem.setFlowLimit: reading pauses while too many call words are in flight, and resumes", async () => {
  const counters = new Counters();
  let release!: () => void;
  let gate = new Promise<void>((r) => (release = r));
  const server = new TwoPartyServer(
    TestInterface.server({
      async foo(c) {
        counters.callCount++;
        await gate;
        c.results.x = "foo";
      },
    }),
    { flowLimit: 1 },
  );
  const [a, b] = newByteStreamPair();
  void server.accept(b);
  const client = new TwoPartyClient(a);
  using cap = client.bootstrap(TestInterface_Client);
  await cap.whenResolved();
  const calls = Array.from({ length: 5 }, () => cap.foo((p) => (p.i = 1)));
  await sleep(20);
  // One call is in flight (over the limit): the others wait unread.
  assert.equal(counters.callCount, 1);
  release();
  gate = Promise.resolve();
  for (const c of calls) {
    assert.equal((await c).x, "foo");
    c.cancel();
  }
  assert.equal(counters.callCount, 5);
  await client.close();
  await server.close();
});

test("scripted: an incoming frame over the size limit ends the connection with an Abort (TCP)", async () => {
  const { FrameReader } = await import("capnts/serialize");
  const { Message_Reader } = await import("../../src/gen/rpc.capnp.js");
  const { MessageReader } = await import("capnts/wire");
  const { nodeNet } = await import("capnts/node");
  await Runtime.run(async (rt) => {
    const server = rt.newServer(TestInterface.server({}));
    const { address: addr } = await server.listen("127.0.0.1:0");
    const raw = await nodeNet.connect(addr);
    const frames = new FrameReader();
    const got: string[] = [];
    let ended!: () => void;
    const end = new Promise<void>((r) => (ended = r));
    raw.start(
      (chunk) => {
        frames.push(chunk);
        for (let m = frames.next(); m !== undefined; m = frames.next())
          got.push(new MessageReader(m).getRoot(Message_Reader).which);
      },
      () => ended(),
    );
    // A segment table announcing one segment of 2^28 words (2 GiB).
    const header = new Uint8Array(8);
    new DataView(header.buffer).setUint32(4, 1 << 28, true);
    raw.write(header);
    await end;
    assert.deepEqual(got, ["abort"]);
  });
});
