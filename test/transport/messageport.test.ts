/**
 * capnts/messageport: RPC over a MessageChannel and between Node worker_threads. Each turn's
 * messages cross as one transferred ArrayBuffer (no copy); anything else on the port ends the
 * connection with a typed error; a shutdown reaches the other side as a clean end.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { MessageChannel, Worker } from "node:worker_threads";
import { Message_Reader } from "capnts/gen/rpc.capnp.js";
import { type MessagePortLike, MessagePortTransport } from "capnts/messageport";
import { RpcError, Runtime } from "capnts/rpc";
import { decodeFrame, decodeFrames } from "capnts/serialize";
import { MessageReader } from "capnts/wire";
import { Calculator_Client } from "../../examples/calculator/calculator.capnp.js";
import { runClient } from "../../examples/calculator/client.js";
import { calculatorServer } from "../../examples/calculator/impl.js";
import { emptyTables, expectServersReleased, liveServers } from "../rpc/harness.js";

/** Counts turns with posts (a round trip is a turn in which the client had to post). */
function counting(port: MessagePortLike): MessagePortLike & { roundTrips: number; posted: ArrayBuffer[] } {
  const p = port as MessagePortLike & { roundTrips: number; posted: ArrayBuffer[] };
  const post = port.postMessage.bind(port);
  p.roundTrips = 0;
  p.posted = [];
  p.postMessage = (m: unknown, transfer: ArrayBuffer[]) => {
    if (m instanceof ArrayBuffer) {
      p.posted.push(m);
      for (const segs of decodeFrames(new Uint8Array(m))) {
        const which = new MessageReader(segs).getRoot(Message_Reader).which;
        if (which === "call" || which === "bootstrap") {
          p.roundTrips++;
          break;
        }
      }
    }
    post(m, transfer);
  };
  return p;
}

test("calculator over a MessageChannel: pipelining, callbacks, buffers transferred, clean end on both sides", async () => {
  const baseline = liveServers();
  const { port1, port2 } = new MessageChannel();
  const rt = Runtime.init();
  const server = rt.newServer(calculatorServer());
  const served = server.accept(new MessagePortTransport(port2));
  const cport = counting(port1);
  const conn = rt.connectStream(new MessagePortTransport(cport));
  const calc = conn.bootstrap(Calculator_Client);
  const steps = await runClient(calc, cport, () => {});
  for (const s of steps) assert.ok(Math.abs(s.value - s.expected) < 1e-9, `${s.name}: ${s.value}`);
  // The pipelined step's dependent calls all left in one post.
  assert.equal(steps.find((s) => s.name.startsWith("evaluate(4*6)"))!.roundTrips, 1);
  // Transferred, not copied: what was posted is detached on this side.
  assert.ok(cport.posted.length > 0);
  assert.ok(cport.posted.every((b) => b.byteLength === 0));
  calc.close();
  const sc = server.connections[0]!.rpcSystem.liveConnections[0]!;
  for (let i = 0; i < 200 && Object.values(sc.tableSizes()).some((v) => v !== 0); i++) {
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.deepEqual(sc.tableSizes(), emptyTables());
  // Our shutdown reaches the server as the end of the stream: its connection ends by itself.
  await conn.close();
  await served;
  await rt.shutdown();
  await expectServersReleased(baseline, "the test");
});

test("calculator in a worker_threads Worker, called over its port", async () => {
  const worker = new Worker(new URL("./fixtures/calculator-worker.mjs", import.meta.url));
  const exited = new Promise<number>((r) => worker.once("exit", r));
  const rt = Runtime.init();
  const conn = rt.connectStream(new MessagePortTransport(worker as unknown as MessagePortLike));
  {
    using calc = conn.bootstrap(Calculator_Client);
    const counter = { roundTrips: 0 };
    const steps = await runClient(calc, counter, () => {});
    for (const s of steps) assert.ok(Math.abs(s.value - s.expected) < 1e-9, `${s.name}: ${s.value}`);
  }
  await rt.shutdown();
  // The worker's server saw the end, shut down and closed its port: the thread ends on its own.
  assert.equal(await exited, 0);
});

for (const [what, bad, pattern] of [
  ["a string", "hello", /other than Cap'n Proto messages/],
  ["a truncated frame", new Uint8Array([0, 0, 0, 0, 100, 0, 0, 0, 1, 2, 3, 4]).buffer, /ends prematurely/],
  ["a frame over the limit", new Uint8Array([0, 0, 0, 0, 0, 0, 1, 0]).buffer, /too large/],
] as const) {
  test(`${what} on the port ends the connection with a typed error, nothing left behind`, async () => {
    const baseline = liveServers();
    const { port1, port2 } = new MessageChannel();
    const rt = Runtime.init();
    const server = rt.newServer(calculatorServer());
    const served = server.accept(new MessagePortTransport(port2, { traversalLimitInWords: 1024 }));
    // The peer: a raw port that sends junk and reads the Abort that comes back.
    const replies: unknown[] = [];
    port1.on("message", (m) => replies.push(m));
    port1.postMessage(bad);
    await served;
    for (let i = 0; i < 100 && !replies.includes(null); i++) await new Promise((r) => setTimeout(r, 5));
    // An Abort (a Cap'n Proto message) and then the end marker.
    assert.ok(
      replies.length >= 2 && replies[0] instanceof ArrayBuffer,
      `${replies.length} ${replies.map((r) => Object.prototype.toString.call(r))}`,
    );
    assert.equal(replies.at(-1), null);
    const abort = new MessageReader(decodeFrame(new Uint8Array(replies[0] as ArrayBuffer)).segments).getRoot(
      Message_Reader,
    );
    assert.equal(abort.which, "abort");
    assert.match(abort.abort.reason, pattern);
    port1.close();
    await rt.shutdown();
    await expectServersReleased(baseline, "the test");
  });
}

test("a port closed by the other side (Node's close event) fails pending calls as disconnected", async () => {
  const { port1, port2 } = new MessageChannel();
  const rt = Runtime.init();
  const conn = rt.connectStream(new MessagePortTransport(port1));
  using calc = conn.bootstrap(Calculator_Client);
  port2.close();
  await assert.rejects(
    calc.whenResolved(),
    (e: unknown) => e instanceof RpcError && e.type === "disconnected",
  );
  await conn.onDisconnect();
  await rt.shutdown();
});
