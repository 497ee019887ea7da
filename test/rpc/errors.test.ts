/**
 * Errors a user can act on (issue 11 item 6): failed connects name the address, bad addresses
 * fail before any name lookup, calls on a closed handle reject instead of throwing, errors from
 * the callee name the call (the reason sent over the wire stays C++'s), and a call through
 * `castAs` to an interface the server lacks names both interfaces.
 */
import assert from "node:assert/strict";
import dns from "node:dns";
import { mkdtempSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { nodeNet, parseAddress, Runtime } from "capnts/node";
import { AddressError, Client, ClosedHandleError, RpcError } from "capnts/rpc";
import { whenIdle } from "capnts/testing";
import { RpcConnection } from "../../src/rpc/connection.js";
import { forCall } from "../../src/rpc/errors.js";
import { newMemoryTransportPair } from "../../src/rpc/memory-transport.js";
import { Counters, TestInterfaceImpl, TestPipelineImpl } from "../fixtures/test-impls.js";
import {
  TestCallOrder_Client,
  TestInterface,
  TestInterface_Client,
  TestPipeline,
  TestPipeline_Client,
  TestStreaming,
  TestStreaming_Client,
} from "../interop/gen/test.capnp.js";
import { rpcTest, settleConns } from "./harness.js";
import { obj } from "./util.js";

async function rejection(p: PromiseLike<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  assert.fail("expected a rejection");
}

/** A TCP port on 127.0.0.1 that nothing listens on (it was just closed). */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

// ---- 1. connect failures ----------------------------------------------------------------------

async function connectFailure(address: string): Promise<RpcError> {
  const rt = Runtime.init();
  try {
    const e = await rejection(rt.connect(address));
    assert.ok(e instanceof RpcError, String(e));
    return e;
  } finally {
    await rt.shutdown();
  }
}

test("connection refused: an RpcError 'disconnected' naming the address, Node's error as cause", async () => {
  const address = `127.0.0.1:${await closedPort()}`;
  const e = await connectFailure(address);
  assert.equal(e.type, "disconnected");
  assert.equal(
    e.message,
    `Cannot connect to "${address}": connection refused (nothing is listening there) (ECONNREFUSED)`,
  );
  assert.equal((e.cause as NodeJS.ErrnoException).code, "ECONNREFUSED");
  // The provider alone (capnts/node's nodeNet) says the same.
  const e2 = await rejection(nodeNet.connect(address));
  assert.ok(e2 instanceof RpcError && e2.type === "disconnected");
  assert.equal(e2.message, e.message);
});

test("connect to a missing unix socket: 'disconnected', naming the path", async () => {
  const address = `unix:${join(mkdtempSync(join(tmpdir(), "capnts-errors-")), "none.sock")}`;
  const e = await connectFailure(address);
  assert.equal(e.type, "disconnected");
  assert.equal(e.message, `Cannot connect to "${address}": no such socket file (ENOENT)`);
  assert.equal((e.cause as NodeJS.ErrnoException).code, "ENOENT");
});

test("connect to a host that does not exist: 'disconnected', naming the address", async () => {
  // .invalid never resolves (RFC 6761); without a resolver the lookup fails as EAI_AGAIN.
  const address = "no-such-host.invalid:4000";
  const e = await connectFailure(address);
  assert.equal(e.type, "disconnected");
  const code = (e.cause as NodeJS.ErrnoException).code;
  assert.ok(code === "ENOTFOUND" || code === "EAI_AGAIN", String(code));
  assert.ok(e.message.startsWith(`Cannot connect to "${address}": `), e.message);
  assert.ok(e.message.endsWith(`(${code})`), e.message);
});

test("a NetProvider's own connect error becomes 'disconnected' naming the address", async () => {
  const cause = new Error("the modem is unplugged");
  const rt = Runtime.init({
    net: {
      listen: () => Promise.reject(new Error("unused")),
      connect: () => Promise.reject(cause),
    },
  });
  try {
    const e = await rejection(rt.connect("example.org:1"));
    assert.ok(e instanceof RpcError);
    assert.equal(e.type, "disconnected");
    assert.equal(e.message, 'Cannot connect to "example.org:1": the modem is unplugged');
    assert.equal(e.cause, cause);
  } finally {
    await rt.shutdown();
  }
});

// ---- 2. bad addresses -------------------------------------------------------------------------

const BAD_ADDRESSES: readonly [string, string][] = [
  ["http://127.0.0.1:80", 'this is a URL; "http://" has no place in an address'],
  ["tcp://localhost:4000", 'this is a URL; "tcp://" has no place in an address'],
  ["127.0.0.1", "it needs a port"],
  ["localhost:abc", 'the port "abc" is not a number from 0 to 65535'],
  ["localhost:65536", 'the port "65536" is not a number from 0 to 65535'],
  ["localhost:-1", 'the port "-1" is not a number from 0 to 65535'],
  ["localhost:", "the port is missing"],
  [":4000", "the host is missing"],
  ["::1:4000", "an IPv6 address must be written in brackets, as in [::1]:4000"],
  ["[::1]", "it needs a port"],
  ["[::1]4000", 'a ":" and the port must follow "]"'],
  ["[::1:4000", 'the IPv6 address has no closing "]"'],
  ["[example.org]:4000", '"example.org" is not an IPv6 address'],
  ["my host:4000", '"my host" is not a host name or IPv4 address'],
  ["example.org/path:80", '"example.org/path" is not a host name or IPv4 address'],
  ["unix:", "the socket path is empty"],
];

test("parseAddress: every bad form is an AddressError that says what is wrong and what is accepted", () => {
  for (const [address, problem] of BAD_ADDRESSES) {
    assert.throws(
      () => parseAddress(address),
      (e: unknown) => {
        assert.ok(e instanceof AddressError, `${address}: ${String(e)}`);
        assert.ok(e instanceof RpcError);
        assert.equal(e.address, address);
        assert.equal(
          e.message,
          `Invalid address ${JSON.stringify(address)}: ${problem}. Accepted forms: "host:port" (a host name or IPv4 address), "[IPv6]:port", "unix:/path/to.sock".`,
        );
        return true;
      },
    );
  }
});

test("parseAddress: the accepted forms", () => {
  assert.deepEqual(parseAddress("127.0.0.1:0"), { kind: "tcp", host: "127.0.0.1", port: 0 });
  assert.deepEqual(parseAddress("localhost:65535"), { kind: "tcp", host: "localhost", port: 65535 });
  assert.deepEqual(parseAddress("db-1.example.org:4000"), {
    kind: "tcp",
    host: "db-1.example.org",
    port: 4000,
  });
  assert.deepEqual(parseAddress("[::1]:4000"), { kind: "tcp", host: "::1", port: 4000 });
  assert.deepEqual(parseAddress("[fe80::1%eth0]:4000"), { kind: "tcp", host: "fe80::1%eth0", port: 4000 });
  assert.deepEqual(parseAddress("*:4000"), { kind: "tcp", host: "*", port: 4000 });
  assert.deepEqual(parseAddress("unix:/run/app.sock"), { kind: "unix", path: "/run/app.sock" });
  assert.deepEqual(parseAddress("unix:rel/app.sock"), { kind: "unix", path: "rel/app.sock" });
});

test("connect() and listen() reject (never throw) on a bad address, before any name lookup", async () => {
  const lookup = dns.lookup;
  let lookups = 0;
  dns.lookup = ((...args: Parameters<typeof lookup>) => {
    lookups++;
    return (lookup as (...a: unknown[]) => unknown).apply(dns, args);
  }) as typeof lookup;
  const rt = Runtime.init();
  try {
    for (const [address] of BAD_ADDRESSES) {
      let connecting: Promise<unknown> | undefined;
      assert.doesNotThrow(() => {
        connecting = rt.connect(address);
      });
      assert.ok((await rejection(connecting!)) instanceof AddressError, address);
      let listening: Promise<unknown> | undefined;
      const server = rt.newServer(TestInterface.server({}));
      assert.doesNotThrow(() => {
        listening = server.listen(address);
      });
      assert.ok((await rejection(listening!)) instanceof AddressError, address);
    }
    // "*" is for listening only.
    const star = await rejection(rt.connect("*:4000"));
    assert.ok(star instanceof AddressError);
    assert.match(star.message, /"\*" \(every interface\) is for listening/);
    assert.equal(lookups, 0);
    // The spy sees the lookups of a good address (it would have seen the bad ones).
    const e = await rejection(rt.connect(`localhost:${await closedPort()}`));
    assert.ok(e instanceof RpcError && e.type === "disconnected", String(e));
    assert.ok(lookups > 0);
  } finally {
    dns.lookup = lookup;
    await rt.shutdown();
  }
});

test('listen("*:0") listens on every interface', async () => {
  const rt = Runtime.init();
  try {
    const server = rt.newServer(TestInterface.server(new TestInterfaceImpl(new Counters())));
    const { port } = await server.listen("*:0");
    assert.ok(port !== undefined && port > 0);
    const client = await rt.connect(`127.0.0.1:${port}`);
    using cap = client.bootstrap(TestInterface_Client);
    using r = cap.foo((p) => {
      p.i = 123;
      p.j = true;
    });
    assert.equal((await r).x, "foo");
  } finally {
    await rt.shutdown();
  }
});

// ---- 3. closed handles ------------------------------------------------------------------------

function closedError(what: string): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(e instanceof ClosedHandleError, String(e));
    assert.ok(e instanceof RpcError);
    assert.equal(e.type, "failed");
    assert.equal(e.message, `This capability handle was closed: ${what}.`);
    return true;
  };
}

test("a call on a closed handle returns a rejected promise naming the method", async () => {
  const cap = new TestInterface_Client(TestInterface.server(new TestInterfaceImpl(new Counters())));
  cap.close();
  let p: ReturnType<TestInterface_Client["foo"]> | undefined;
  assert.doesNotThrow(() => {
    p = cap.foo((p) => {
      p.i = 123;
    });
  });
  await assert.rejects(p!, closedError("cannot call TestInterface.foo()"));
  // .catch() sees it too.
  const caught = await cap.bar().catch((e: unknown) => e);
  assert.ok(closedError("cannot call TestInterface.bar()")(caught));
  p!.cancel();
});

test("Request.send() on a closed handle returns a rejected promise", async () => {
  const cap = new TestInterface_Client(TestInterface.server(new TestInterfaceImpl(new Counters())));
  cap[Symbol.dispose]();
  const req = cap.fooRequest();
  req.params.i = 123;
  using p = req.send();
  await assert.rejects(p, closedError("cannot call TestInterface.foo()"));
});

test("a pipelined call through a call on a closed handle rejects with the same error", async () => {
  const cap = new TestPipeline_Client(TestPipeline.server(new TestPipelineImpl(new Counters())));
  cap.close();
  using p = cap.getCap((p) => (p.n = 234));
  using q = p.pipeline.outBox.cap.foo();
  await assert.rejects(p, closedError("cannot call TestPipeline.getCap()"));
  await assert.rejects(q, closedError("cannot call TestPipeline.getCap()"));
});

test("a streaming call on a closed handle rejects", async () => {
  const cap = new TestStreaming_Client(null);
  cap.close();
  await assert.rejects(
    cap.doStreamI((p) => (p.i = 1)),
    closedError("cannot call TestStreaming.doStreamI()"),
  );
});

test("closed handle: whenResolved() and getFd() reject; dup() and castAs() throw", async () => {
  const cap = new TestInterface_Client(TestInterface.server(new TestInterfaceImpl(new Counters())));
  cap.close();
  assert.ok(cap.closed);
  await assert.rejects(cap.whenResolved(), closedError("cannot whenResolved() this TestInterface"));
  await assert.rejects(cap.getFd(), closedError("cannot getFd() this TestInterface"));
  assert.throws(() => cap.dup(), closedError("cannot dup() this TestInterface"));
  assert.throws(() => cap.castAs(TestCallOrder_Client), closedError("cannot castAs() this TestInterface"));
  // Passing it as a capability in params: the call is not sent and its promise rejects.
  using other = new TestPipeline_Client(TestPipeline.server(new TestPipelineImpl(new Counters())));
  using p = other.getCap((p) => {
    p.n = 234;
    p.inCap = cap;
  });
  await assert.rejects(p, closedError("cannot use this TestInterface"));
});

test("an error while filling in the params rejects the call's promise instead of throwing", async () => {
  const c = new Counters();
  using cap = new TestInterface_Client(TestInterface.server(new TestInterfaceImpl(c)));
  const bug = new TypeError("bug in the caller");
  let p: ReturnType<TestInterface_Client["foo"]> | undefined;
  assert.doesNotThrow(() => {
    p = cap.foo(() => {
      throw bug;
    });
  });
  assert.equal(await rejection(p!), bug);
  p!.cancel();
  await whenIdle();
  assert.equal(c.callCount, 0);
});

test("the pipeline of a disposed call: its calls reject, naming the call", async () => {
  using cap = new TestPipeline_Client(TestPipeline.server(new TestPipelineImpl(new Counters())));
  const p = cap.getCap((p) => (p.n = 234));
  p.cancel();
  using q = p.pipeline.outBox.cap.foo();
  await assert.rejects(q, (e: unknown) => {
    assert.ok(e instanceof RpcError);
    assert.equal(
      e.message,
      "The pipeline of the call to TestPipeline.getCap was used after the call was disposed.",
    );
    return true;
  });
});

rpcTest("a call on a closed remote capability rejects; the connection goes on", async (ctx) => {
  const client = obj(ctx.boot, "testMoreStuff");
  client.close();
  // getCallSequence is TestMoreStuff's by inheritance: named by the interface that declares it.
  await assert.rejects(client.getCallSequence(), closedError("cannot call TestCallOrder.getCallSequence()"));
  using again = obj(ctx.boot, "testMoreStuff");
  using p = again.getCallSequence((p) => (p.expected = 0));
  assert.equal((await p).n, 0);
});

// ---- 4. errors from the callee name the call --------------------------------------------------

rpcTest(
  "an error the server sends names the method; the reason it forwards is C++'s, unchanged",
  async (ctx) => {
    using client = obj(ctx.boot, "testMoreStuff");
    // The server's callFoo awaits cap.foo(), which fails in the client's vat, and lets the error
    // propagate: what it sends back is the reason as it came, without the name of its own call.
    const failing = TestInterface.server({
      foo() {
        throw RpcError.failed("boom");
      },
    });
    using p = client.callFoo((p) => (p.cap = failing));
    const e = await rejection(p);
    assert.ok(e instanceof RpcError);
    assert.equal(e.type, "failed");
    assert.equal(e.reason, "remote exception: boom");
    assert.equal(e.method, "TestMoreStuff.callFoo");
    assert.equal(e.message, "remote exception: boom (in call to TestMoreStuff.callFoo)");
  },
);

rpcTest("an inherited method is named by the interface that declares it", async (ctx) => {
  using ext = obj(ctx.boot, "testExtends");
  using p = ext.bar();
  const e = await rejection(p);
  assert.ok(e instanceof RpcError);
  assert.equal(e.type, "unimplemented");
  assert.equal(e.method, "TestInterface.bar");
  assert.equal(e.message, `${e.reason} (in call to TestInterface.bar)`);
});

test("a failed streaming call: later calls reject with the server's error, naming the method", async () => {
  const server = TestStreaming.server({
    doStreamI() {
      throw RpcError.failed("stream broke");
    },
  });
  const [a, b] = newMemoryTransportPair({}, {});
  const clientConn = new RpcConnection(a, {});
  const serverConn = new RpcConnection(b, { bootstrap: () => server._client() });
  clientConn.start();
  serverConn.start();
  try {
    using cap = new TestStreaming_Client(clientConn.bootstrap());
    await cap.whenResolved();
    await cap.doStreamI((p) => (p.i = 1)); // within the window: settles at once
    await settleConns(false, clientConn, serverConn);
    const e = await rejection(cap.doStreamI((p) => (p.i = 2)));
    assert.ok(e instanceof RpcError, String(e));
    assert.equal(e.reason, "remote exception: stream broke");
    assert.equal(e.message, "remote exception: stream broke (in call to TestStreaming.doStreamI)");
  } finally {
    clientConn.disconnect(RpcError.disconnected("test over"));
    serverConn.disconnect(RpcError.disconnected("test over"));
  }
});

test("a local error is not renamed; an unknown interface's is (forCall)", () => {
  const name = {
    interfaceName: "Calculator",
    interfaceId: 0x97983392df35cc36n,
    methodName: "evaluate",
    methodId: 0,
  };
  const local = RpcError.failed("x");
  assert.equal(forCall(local, name), local);
  const disconnected = RpcError.disconnected("Peer disconnected.");
  assert.equal(forCall(disconnected, name), disconnected);
  // A C++ peer's wording (capability.c++ internalUnimplemented, kj's "name = value" fields).
  const cpp = RpcError.fromRemote(
    "unimplemented",
    "Requested interface not implemented.; actualInterfaceName = calculator.capnp:Calculator.Value; requestedTypeId = 10923537602090224694",
  );
  const named = forCall(cpp, name) as RpcError;
  assert.equal(named.reason, cpp.message);
  assert.equal(
    named.message,
    `${cpp.message} (in call to Calculator.evaluate: the capability implements calculator.capnp:Calculator.Value, not Calculator)`,
  );
  // Untyped client: the ids instead of names.
  const untyped = forCall(RpcError.fromRemote("failed", "no"), {
    interfaceName: undefined,
    interfaceId: 0xabcn,
    methodName: undefined,
    methodId: 3,
  }) as RpcError;
  assert.equal(untyped.message, "remote exception: no (in call to 0xabc.@3)");
  // Named once: a named error passes through another call unchanged.
  assert.equal(forCall(named, { ...name, methodName: "other" }), named);
});

rpcTest("RpcError.captureCallSites: the error carries the caller's stack", async (ctx) => {
  using client = obj(ctx.boot, "testMoreStuff");
  {
    using p = client.throwException();
    const e = await rejection(p);
    assert.ok(e instanceof RpcError);
    assert.doesNotMatch(e.stack ?? "", /errors\.test\.ts/);
  }
  RpcError.captureCallSites = true;
  try {
    using p = client.throwException();
    const e = await rejection(p);
    assert.ok(e instanceof RpcError);
    const stack = e.stack ?? "";
    assert.ok(stack.startsWith(`RpcError: ${e.message}\n`), stack);
    // The generated method, then this file: no runtime frames.
    const frames = stack.split("\n").slice(1);
    assert.match(frames[0] ?? "", /TestMoreStuff_Client\.throwException/, stack);
    assert.match(frames[1] ?? "", /errors\.test\.ts/, stack);
    assert.doesNotMatch(stack, /src[\\/]rpc[\\/]/);
    // Request.send(): this file comes first.
    using q = client.throwExceptionRequest().send();
    const e2 = await rejection(q);
    assert.ok(e2 instanceof RpcError);
    assert.match((e2.stack ?? "").split("\n")[1] ?? "", /errors\.test\.ts/, e2.stack);
  } finally {
    RpcError.captureCallSites = false;
  }
});

// ---- 5. castAs to an interface the server does not implement ----------------------------------

const UNKNOWN_INTERFACE =
  "Requested interface not implemented.; actualInterfaceName = TestInterface; requestedTypeId = 0x";

function castAsError(remote: boolean): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(e instanceof RpcError, String(e));
    assert.equal(e.type, "unimplemented");
    const id = TestCallOrder_Client._interface.typeId.toString(16);
    const reason = `${remote ? "remote exception: " : ""}${UNKNOWN_INTERFACE}${id}`;
    assert.equal(e.reason, reason);
    assert.equal(e.method, "TestCallOrder.getCallSequence");
    assert.equal(
      e.message,
      `${reason} (in call to TestCallOrder.getCallSequence: the capability implements TestInterface, not TestCallOrder)`,
    );
    return true;
  };
}

test("castAs to an interface a local server lacks: the error names both interfaces", async () => {
  using cap = new TestInterface_Client(TestInterface.server(new TestInterfaceImpl(new Counters())));
  using wrong = cap.castAs(TestCallOrder_Client);
  using p = wrong.getCallSequence();
  await assert.rejects(p, castAsError(false));
});

rpcTest("castAs to an interface a remote server lacks: the error names both interfaces", async (ctx) => {
  using cap = obj(ctx.boot, "testInterface");
  using wrong = cap.castAs(TestCallOrder_Client);
  using p = wrong.getCallSequence();
  await assert.rejects(p, castAsError(true));
});

test("a closed untyped Client says 'capability'", () => {
  using cap = new TestInterface_Client(TestInterface.server(new TestInterfaceImpl(new Counters())));
  const untyped = cap.castAs(Client);
  assert.equal(untyped.constructor, Client);
  untyped.close();
  assert.throws(() => untyped.dup(), closedError("cannot dup() this capability"));
});

test("a promised capability that resolves to a closed handle breaks with a ClosedHandleError", async () => {
  const closed = new TestInterface_Client(TestInterface.server(new TestInterfaceImpl(new Counters())));
  closed.close();
  using promised = new TestInterface_Client(Promise.resolve(closed));
  await assert.rejects(
    promised.whenResolved(),
    closedError("cannot resolve a promised capability to this TestInterface"),
  );
  using p = promised.foo();
  await assert.rejects(p, closedError("cannot resolve a promised capability to this TestInterface"));
});

rpcTest("a pipeline kept past its call's disposal gives capabilities whose calls reject", async (ctx) => {
  using cap = obj(ctx.boot, "testPipeline");
  const rp = cap.getCap((p) => {
    p.n = 234;
    p.inCap = TestInterface.server(new TestInterfaceImpl(ctx.counters));
  });
  const pipeline = rp.pipeline;
  rp.cancel();
  using late = pipeline.outBox.cap;
  using q = late.foo((p) => {
    p.i = 123;
    p.j = true;
  });
  await assert.rejects(q, (e: unknown) => {
    assert.ok(e instanceof RpcError, String(e));
    assert.equal(e.message, "This pipeline was used after it was released (closed or disposed).");
    return true;
  });
});

rpcTest(
  "a call canceled before it returned rejects for whoever still awaits it, naming the call",
  async (ctx) => {
    using client = obj(ctx.boot, "testMoreStuff");
    await client.whenResolved();
    const call = client.neverReturn((p) => (p.cap = TestInterface.server({})));
    const awaited = call.then(
      () => "returned",
      (e: unknown) => e,
    );
    await ctx.settle();
    call.cancel();
    const e = await awaited;
    assert.ok(e instanceof RpcError);
    assert.equal(e.type, "failed");
    assert.equal(e.message, "Call was canceled by the caller (in call to TestMoreStuff.neverReturn).");
    // Awaited only after the cancel: the same.
    await assert.rejects(call, /Call was canceled by the caller/);
    await ctx.settle();
    assert.equal(ctx.counters.cancelCount, 1, "the callee heard of the cancellation");
  },
);
