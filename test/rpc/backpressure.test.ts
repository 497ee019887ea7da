/**
 * Reading follows handling, and writing respects the peer (issue 13), over a scripted byte
 * stream: the server's backlog of received but unhandled messages stays within its bound and
 * the stream is paused and resumed to keep it there; a peer that leaves our output unread gets
 * its new calls held until the output drains; a peer that has gone has its queued calls dropped
 * unhandled. C++ reads the next message only after handling the previous one
 * (rpc.c++ messageLoop), so TCP pushes back on a sender that outpaces it.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { TwoPartyServer } from "capnts/rpc";
import { whenIdle } from "capnts/testing";
import { Calculator } from "../../examples/calculator/calculator.capnp.js";
import type { ByteStream } from "../../src/rpc/two-party.js";
import { bootstrapFrame, evaluateFrame } from "../hostile/peer.js";
import { CalculatorImpl } from "../interop/ts/calculator.js";

/** The server's side of a connection, driven by the test. */
class ScriptedStream implements ByteStream {
  onData: ((c: Uint8Array) => void) | null = null;
  onEnd: ((e: Error | null) => void) | null = null;
  written = 0;
  /** Bytes the "kernel" has not taken (what writableBytes() reports). */
  unsent = 0;
  paused = false;
  pauses = 0;
  drainCb: (() => void) | null = null;
  start(onData: (c: Uint8Array) => void, onEnd: (e: Error | null) => void): void {
    this.onData = onData;
    this.onEnd = onEnd;
  }
  write(data: Uint8Array): void {
    this.written += data.length;
  }
  async end(): Promise<void> {}
  writableBytes(): number {
    return this.unsent;
  }
  pause(): void {
    if (!this.paused) this.pauses++;
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
  onDrain(cb: () => void): void {
    this.drainCb = cb;
  }
}

function concat(frames: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
  let o = 0;
  for (const f of frames) {
    out.set(f, o);
    o += f.length;
  }
  return out;
}

/** Received messages the connection holds unhandled (internal state, read for the bound). */
function backlog(server: TwoPartyServer): number {
  const c = server.connections[0];
  if (c === undefined) return 0;
  const conns = (c.rpcSystem as unknown as { connections: Map<unknown, object> }).connections;
  let n = 0;
  for (const conn of conns.values()) {
    const q = conn as unknown as { inbound: unknown[]; inboundHead: number };
    n += q.inbound.length - q.inboundHead;
  }
  return n;
}

/** A calculator server counting evaluate() calls (and the largest backlog seen), on `stream`. */
function serve(stream: ScriptedStream, options: Record<string, number>) {
  const impl = new CalculatorImpl();
  const counter = { evaluated: 0, maxBacklog: 0, server: null as unknown as TwoPartyServer };
  const evaluate = impl.evaluate.bind(impl);
  impl.evaluate = (ctx) => {
    counter.evaluated++;
    counter.maxBacklog = Math.max(counter.maxBacklog, backlog(counter.server));
    return evaluate(ctx);
  };
  counter.server = new TwoPartyServer(Calculator.server(impl), options);
  void counter.server.accept(stream);
  return counter;
}

test("a burst of 300 calls in one chunk: the backlog stays within maxBacklogMessages, the stream is paused and resumed, and every call is answered", async () => {
  const s = new ScriptedStream();
  const counter = serve(s, { maxBacklogMessages: 8 });
  const frames = [bootstrapFrame(0)];
  for (let q = 1; q <= 300; q++) frames.push(evaluateFrame(q, 0, q));
  s.onData!(concat(frames));
  // Only the bound's worth of messages was taken out of the chunk; the rest wait as bytes.
  assert.ok(s.paused, "reading was not paused");
  for (let i = 0; i < 1000 && counter.evaluated < 300; i++) await whenIdle();
  assert.equal(counter.evaluated, 300);
  assert.ok(counter.maxBacklog <= 8, `backlog reached ${counter.maxBacklog}`);
  assert.ok(!s.paused, "reading was not resumed");
  assert.ok(s.pauses > 10, `paused ${s.pauses} times`);
});

test("a peer that does not take our output: its new calls wait once the unsent output passes maxUnsentBytes, and go on when it drains", async () => {
  const s = new ScriptedStream();
  const counter = serve(s, { maxUnsentBytes: 1000, maxBacklogMessages: 16 });
  s.onData!(concat([bootstrapFrame(0), evaluateFrame(1, 0, 1)]));
  for (let i = 0; i < 50 && counter.evaluated < 1; i++) await whenIdle();
  assert.equal(counter.evaluated, 1);
  // The kernel stops taking our writes.
  s.unsent = 5000;
  const more = [];
  for (let q = 2; q <= 100; q++) more.push(evaluateFrame(q, 0, q));
  s.onData!(concat(more));
  for (let i = 0; i < 50; i++) await whenIdle();
  assert.equal(counter.evaluated, 1, "calls were handled while our output sat unread");
  assert.ok(s.paused, "the backlog filled but reading went on");
  // The peer reads: the stream drains.
  s.unsent = 0;
  s.drainCb!();
  for (let i = 0; i < 1000 && counter.evaluated < 100; i++) await whenIdle();
  assert.equal(counter.evaluated, 100);
});

test("the peer ends the stream with calls still queued: they are dropped unhandled and the connection ends", async () => {
  const s = new ScriptedStream();
  const counter = serve(s, { maxBacklogMessages: 1000 });
  const frames = [bootstrapFrame(0)];
  for (let q = 1; q <= 200; q++) frames.push(evaluateFrame(q, 0, q));
  s.onData!(concat(frames));
  s.onEnd!(null);
  for (let i = 0; i < 100; i++) await whenIdle();
  assert.equal(counter.evaluated, 0, "calls from a peer that had gone were run");
  assert.equal(counter.server.connections.length, 0, "the connection did not end");
});
