/**
 * capnts/websocket and capnts/ws in Node: a `ws` server (listenWebSocket) and WebSocket clients
 * (the `ws` package's on Node 20, the global one where Node has it), one Cap'n Proto message per
 * binary frame (C++ capnp/compat/websocket-rpc). Bad input — text frames, oversized and malformed
 * frames, an abrupt close — ends the connection with a typed error and a clear close code, and
 * leaves nothing behind (tables empty, every server object released).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Side, VatId_Builder, VatId_Reader } from "capnts/gen/rpc-twoparty.capnp.js";
import {
  MessageStreamClient,
  MessageStreamVatNetwork,
  RpcError,
  Runtime,
  TwoPartyClient,
  TwoPartyVatNetwork,
} from "capnts/rpc";
import {
  connectWebSocket,
  WebSocketCloseCode,
  type WebSocketConstructor,
  type WebSocketLike,
  WebSocketTransport,
} from "capnts/websocket";
import { MessageBuilder } from "capnts/wire";
import { listenWebSocket } from "capnts/ws";
import { WebSocketServer, WebSocket as WsWebSocket } from "ws";
import { countingWebSocket } from "../../examples/browser/round-trips.js";
import { Calculator_Client, Calculator_Operator } from "../../examples/calculator/calculator.capnp.js";
import { runClient } from "../../examples/calculator/client.js";
import { calculatorServer } from "../../examples/calculator/impl.js";
import { toolchainPaths } from "../../scripts/toolchains.mjs";
import { emptyTables, expectServersReleased, liveServers } from "../rpc/harness.js";
import { settledTables, waitingFunction } from "./fixtures/util.js";

const execFileP = promisify(execFile);

const clients: [string, WebSocketConstructor][] = [
  ["ws package", WsWebSocket as unknown as WebSocketConstructor],
];
const globalWs = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
if (globalWs !== undefined) clients.push(["global WebSocket", globalWs]);

/** Resolves with the first close event of `ws`. */
function closeOf(ws: WsWebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((r) => ws.once("close", (code, reason) => r({ code, reason: reason.toString() })));
}

async function withServer<T>(
  fn: (url: string, rt: Runtime, server: ReturnType<Runtime["newServer"]>) => Promise<T>,
  options: { traversalLimitInWords?: number } = {},
): Promise<T> {
  const baseline = liveServers();
  const rt = Runtime.init();
  const server = rt.newServer(calculatorServer());
  const l = await listenWebSocket(server, options);
  try {
    return await fn(l.url, rt, server);
  } finally {
    await rt.shutdown();
    await l.close();
    await expectServersReleased(baseline, "the test");
  }
}

for (const [name, Ctor] of clients) {
  test(`calculator over WebSocket (${name}): pipelining, a client capability called back, typed errors, tables empty after`, async () => {
    await withServer(async (url, rt, server) => {
      const counter = { roundTrips: 0 };
      const conn = rt.connectStream(
        await connectWebSocket(url, { WebSocket: countingWebSocket(Ctor, counter) }),
      );
      using calc = conn.bootstrap(Calculator_Client);
      const steps = await runClient(calc, counter, () => {});
      for (const s of steps) assert.ok(Math.abs(s.value - s.expected) < 1e-9, `${s.name}: ${s.value}`);
      const piped = steps.find((s) => s.name.startsWith("evaluate(4*6)"))!;
      const plain = steps.find((s) => s.name.startsWith("the same"))!;
      assert.equal(piped.roundTrips, 1, "pipelined calls go out in one round trip");
      assert.ok(plain.roundTrips > piped.roundTrips);

      // A server error arrives as a typed RpcError (rpc.capnp Exception type "failed").
      using addP = calc.getOperator((p) => (p.op = Calculator_Operator.add));
      using add = addP.pipeline.func;
      using r = add.call((p) => p.initParams(3));
      await assert.rejects(r, (e: unknown) => {
        assert.ok(e instanceof RpcError);
        assert.equal(e.type, "failed");
        assert.match(e.message, /Wrong number of parameters/);
        return true;
      });

      // Leak check: once the client let go of everything, the server's tables are empty.
      add.close();
      addP.cancel();
      r.cancel();
      calc.close();
      assert.deepEqual(await settledTables(server), emptyTables());
      await conn.close();
      await server.drain();
    });
  });
}

/** A call the server cannot finish (it waits for our function, which never answers), once the server has it. */
async function callThatWaits(calc: Calculator_Client) {
  const { fn, called } = waitingFunction();
  const pending = calc.evaluate((p) => {
    const c = p.initExpression().initCall();
    c.function = fn;
    c.initParams(0);
  });
  await called;
  return { pending, fn };
}

test("MessageStreamClient (no byte-stream framing) over WebSocket: the calculator, then the server going away", async () => {
  const baseline = liveServers();
  const rt = Runtime.init();
  const server = rt.newServer(calculatorServer());
  const l = await listenWebSocket(server);
  const counter = { roundTrips: 0 };
  const client = new MessageStreamClient(
    await connectWebSocket(l.url, {
      WebSocket: countingWebSocket(WsWebSocket as unknown as WebSocketConstructor, counter),
    }),
  );
  assert.ok(client.network instanceof MessageStreamVatNetwork);
  assert.ok(!(client.network instanceof TwoPartyVatNetwork) && !(client instanceof TwoPartyClient));
  using calc = client.bootstrap(Calculator_Client);
  const steps = await runClient(calc, counter, () => {});
  for (const s of steps) assert.ok(Math.abs(s.value - s.expected) < 1e-9, `${s.name}: ${s.value}`);
  assert.equal(steps.find((s) => s.name.startsWith("evaluate(4*6)"))!.roundTrips, 1, "pipelined");
  // The server goes away with a call pending: onDisconnect, the call fails `disconnected`.
  const waiting = await callThatWaits(calc);
  using pending = waiting.pending;
  const never = waiting.fn;
  await l.close();
  await client.onDisconnect();
  await assert.rejects(pending, (e: unknown) => e instanceof RpcError && e.type === "disconnected");
  await client.close();
  await rt.shutdown();
  never.close();
  await expectServersReleased(baseline, "the test");
});

test("Node 24 and 26, with their global WebSocket: connectWebSocket(url) alone reaches a capnts server", async (t) => {
  const nodes = Object.entries(toolchainPaths()).filter(([n]) => n.startsWith("node"));
  const missing = nodes.filter(([, p]) => p === null).map(([n]) => n);
  if (missing.length > 0) {
    // CI installs them (.ci/run: npm run toolchains); elsewhere they may be missing.
    if (process.env.CI) assert.fail(`${missing.join(", ")} not installed`);
    t.skip(`${missing.join(", ")} not installed: run \`npm run toolchains\``);
    return;
  }
  await withServer(async (url) => {
    for (const [name, node] of nodes) {
      const client = fileURLToPath(new URL("./fixtures/global-websocket-client.ts", import.meta.url));
      const { stdout } = await execFileP(node!, ["--import", "tsx", client, url], { timeout: 60_000 });
      assert.equal(stdout.trim(), "value 123", name);
    }
  });
});

test("the server going away (ws terminated): onDisconnect, pending calls fail disconnected", async () => {
  const baseline = liveServers();
  const rt = Runtime.init();
  const server = rt.newServer(calculatorServer());
  const l = await listenWebSocket(server);
  const client = Runtime.init();
  const conn = client.connectStream(
    await connectWebSocket(l.url, { WebSocket: WsWebSocket as unknown as WebSocketConstructor }),
  );
  using calc = conn.bootstrap(Calculator_Client);
  const waiting = await callThatWaits(calc);
  using pending = waiting.pending;
  const never = waiting.fn;
  await l.close(); // terminates the sockets: no close frame, as when a server process dies
  await conn.onDisconnect();
  await assert.rejects(pending, (e: unknown) => e instanceof RpcError && e.type === "disconnected");
  await rt.shutdown();
  await client.shutdown();
  never.close();
  await expectServersReleased(baseline, "the test");
});

test("a text frame is refused: close 1003 with the reason, the server's connection ends", async () => {
  await withServer(async (url, _rt, server) => {
    const ws = new WsWebSocket(url);
    await new Promise((r) => ws.once("open", r));
    const closed = closeOf(ws);
    ws.send("hello");
    const c = await closed;
    assert.equal(c.code, WebSocketCloseCode.unsupportedData);
    assert.match(c.reason, /text message; expected only binary/);
    await server.drain();
  });
});

test("a frame that is not a Cap'n Proto message is refused: close 1007", async () => {
  await withServer(async (url, _rt, server) => {
    const ws = new WsWebSocket(url);
    await new Promise((r) => ws.once("open", r));
    const closed = closeOf(ws);
    // A segment table promising 100 words, and 8 bytes.
    ws.send(new Uint8Array([0, 0, 0, 0, 100, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8]));
    const c = await closed;
    assert.equal(c.code, WebSocketCloseCode.invalidPayload);
    assert.match(c.reason, /ends prematurely/);
    await server.drain();
  });
});

test("an oversized frame is refused: the ws server closes with 1009 before reading it", async () => {
  await withServer(
    async (url, _rt, server) => {
      const ws = new WsWebSocket(url);
      await new Promise((r) => ws.once("open", r));
      const closed = closeOf(ws);
      ws.send(new Uint8Array(64 * 1024));
      assert.equal((await closed).code, WebSocketCloseCode.messageTooBig);
      await server.drain();
    },
    { traversalLimitInWords: 1024 },
  );
});

test("a client transport refuses an oversized frame from the server (no maxPayload in browsers): close 1009", async () => {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise((r) => wss.once("listening", r));
  const port = (wss.address() as { port: number }).port;
  const got = new Promise<{ code: number; reason: string }>((resolve) =>
    wss.once("connection", (s) => {
      s.once("close", (code, reason) => resolve({ code, reason: reason.toString() }));
      // A valid frame header for a 2000-word message: over the client's 1024-word limit.
      const big = new Uint8Array(8 + 2000 * 8);
      new DataView(big.buffer).setUint32(4, 2000, true);
      s.send(big);
    }),
  );
  const rt = Runtime.init();
  const t = await connectWebSocket(`ws://127.0.0.1:${port}`, {
    WebSocket: WsWebSocket as unknown as WebSocketConstructor,
    traversalLimitInWords: 1024,
  });
  const conn = rt.connectStream(t);
  using calc = conn.bootstrap(Calculator_Client);
  await assert.rejects(calc.whenResolved(), (e: unknown) => e instanceof RpcError);
  const c = await got;
  assert.equal(c.code, WebSocketCloseCode.messageTooBig);
  assert.match(c.reason, /too large/);
  await rt.shutdown();
  await new Promise((r) => wss.close(r));
});

test("sending a message at or over the peer's limit throws and sends nothing (C++ HugeMessage)", async () => {
  await withServer(async (url, rt) => {
    const t = await connectWebSocket(url, {
      WebSocket: WsWebSocket as unknown as WebSocketConstructor,
      traversalLimitInWords: 64,
    });
    const conn = rt.connectStream(t);
    using calc = conn.bootstrap(Calculator_Client);
    using fP = calc.defFunction((p) => {
      p.paramCount = 0;
      const call = p.initBody().initCall();
      const params = call.initParams(200);
      for (let i = 0; i < 200; i++) params.get(i).literal = i;
    });
    await assert.rejects(fP, /larger than our single-message size limit/);
    // The connection still works.
    using v = calc.evaluate((p) => (p.initExpression().literal = 7)).pipeline.value;
    using r = v.read();
    assert.equal((await r).value, 7);
  });
});

/** A scripted socket: the test decides bufferedAmount and delivers messages by hand. */
class FakeSocket implements WebSocketLike {
  readyState = 1;
  bufferedAmount = 0;
  binaryType = "blob";
  sent: Uint8Array[] = [];
  paused = 0;
  resumed = 0;
  private listeners = new Map<string, Set<(e: unknown) => void>>();
  send(data: Uint8Array): void {
    this.sent.push(data);
  }
  close(code?: number, reason?: string): void {
    this.readyState = 3;
    this.emit("close", { code, reason });
  }
  addEventListener(type: string, l: (e: unknown) => void): void {
    let s = this.listeners.get(type);
    if (s === undefined) this.listeners.set(type, (s = new Set()));
    s.add(l);
  }
  removeEventListener(type: string, l: (e: unknown) => void): void {
    this.listeners.get(type)?.delete(l);
  }
  emit(type: string, e: unknown): void {
    for (const l of this.listeners.get(type) ?? []) l(e);
  }
  pause(): void {
    this.paused++;
  }
  resume(): void {
    this.resumed++;
  }
}

test("backpressure: over the high-water mark of bufferedAmount reading pauses, and resumes once it drains", async () => {
  const s = new FakeSocket();
  assert.equal(s.binaryType, "blob");
  const t = new WebSocketTransport(s, { highWaterMark: 1000 });
  assert.equal(s.binaryType, "arraybuffer");
  const got: number[] = [];
  let ended: RpcError | null | undefined;
  t.start({ message: (m) => got.push(m.getRoot(VatId_Reader).side), closed: (e) => (ended = e) });
  const msg = () => {
    const b = new MessageBuilder();
    b.initRoot(VatId_Builder).side = Side.server;
    return b;
  };
  const frame = (() => {
    t.send(msg());
    return s.sent[0]!;
  })();
  s.emit("message", { data: frame.slice().buffer });
  assert.equal(got.length, 1);
  // The socket holds more than the mark after a send: reading stops (ws: socket.pause()).
  s.bufferedAmount = 5000;
  t.send(msg());
  assert.equal(s.paused, 1);
  s.emit("message", { data: frame.slice().buffer });
  assert.equal(got.length, 1, "held while the socket's send buffer is over the mark");
  assert.equal(t.getCurrentQueueSize(), 5000);
  s.bufferedAmount = 0;
  for (let i = 0; i < 100 && got.length < 2; i++) await new Promise((r) => setTimeout(r, 5));
  assert.equal(got.length, 2, "delivered once the buffer drained");
  assert.deepEqual(got, [Side.server, Side.server]);
  assert.equal(s.resumed, 1);
  await t.shutdown();
  assert.equal(s.readyState, 3);
  assert.equal(ended, null);
});
