/**
 * Flow controllers of streaming calls, mirroring C++ rpc-test.c++'s AdaptiveFlowController tests
 * (a stream simulated with a fake clock, configurable round trip and bandwidth, acks in order:
 * C++'s StreamSimulator) and "WindowFlowController: destroying with blocked senders fulfills
 * them"; then both controllers as the two-party network uses them.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  type FlowSend,
  newAdaptiveController,
  newByteStreamPair,
  newFixedWindowController,
  newVariableWindowController,
  RpcError,
  type RpcFlowController,
  TwoPartyClient,
  TwoPartyServer,
  useAdaptiveFlowControl,
} from "capnts/rpc";
import { whenIdle } from "capnts/testing";
import { TestStreaming, TestStreaming_Client } from "../interop/gen/test.capnp.js";

/** C++ CHUNK_SIZES: the sizes saturateFor() sends, in turn. */
const CHUNK_SIZES = [32 * 1024, 4 * 1024, 16000, 12345, 16, 9999, 4321, 8];

/**
 * C++ StreamSimulator: sends chunks over a link of `bandwidth` bytes per millisecond (a chunk
 * starts once the previous one has gone) whose ack arrives one `rtt` after the chunk has gone;
 * time only moves when the next ack is delivered. Times in milliseconds.
 */
class StreamSimulator {
  rtt = 100;
  /** 10 kB/ms = 1 MB per round trip: more than the initial 256 KiB window. */
  bandwidth = 10 * 1024;
  now = 0;
  readonly fc: RpcFlowController = newAdaptiveController(256 * 1024, () => this.now);
  private linkOccupiedUntil = 0;
  private readonly inFlight: { ack: FlowSend["ack"]; ackTime: number }[] = [];
  private last: FlowSend["ready"] | null = null;

  bdp(): number {
    return Math.floor(this.rtt * this.bandwidth);
  }
  /** Whether the last send's promise has not yet said "send the next one". */
  get blocked(): boolean {
    if (this.last === null) return false;
    assert.ok(!this.last.rejected, "a send failed");
    return !this.last.fulfilled;
  }
  inFlightCount(): number {
    return this.inFlight.length;
  }
  send(size: number): void {
    if (this.linkOccupiedUntil < this.now) this.linkOccupiedUntil = this.now;
    this.linkOccupiedUntil += size / this.bandwidth;
    const { ready, ack } = this.fc.sent(size);
    this.inFlight.push({ ack, ackTime: this.linkOccupiedUntil + this.rtt });
    this.last = ready;
  }
  /** Send `chunkSize` chunks until blocked; returns how many were sent (the last one blocked). */
  fillWindow(chunkSize: number): number {
    let count = 0;
    do {
      count++;
      this.send(chunkSize);
    } while (!this.blocked);
    return count;
  }
  /** Move the clock to the next ack and deliver it. */
  waitForNextAck(): void {
    const entry = this.inFlight.shift();
    if (entry === undefined) return;
    this.now = entry.ackTime;
    entry.ack();
  }
  /** The application writes as fast as it may for `duration`, then every ack is delivered. */
  saturateFor(duration: number): void {
    const end = this.now + duration;
    let i = 0;
    while (this.now < end) {
      if (this.blocked) this.waitForNextAck();
      else this.send(CHUNK_SIZES[i++ % CHUNK_SIZES.length]!);
    }
    while (this.inFlightCount() > 0) this.waitForNextAck();
  }
}

const KiB = 1024;

test('AdaptiveFlowController: blocks when window is full (rpc-test.c++ KJ_TEST("AdaptiveFlowController: blocks when window is full"))', () => {
  const sim = new StreamSimulator();
  // 256 KiB window, widened by the largest message (64 KiB): the fifth chunk blocks.
  assert.equal(sim.fillWindow(64 * KiB), 5);
});

test('AdaptiveFlowController: unblocks after ack frees space (rpc-test.c++ KJ_TEST("AdaptiveFlowController: unblocks after ack frees space"))', () => {
  const sim = new StreamSimulator();
  for (let t = 0; t < 4; t++) {
    sim.now = t;
    sim.send(64 * KiB);
  }
  assert.equal(sim.blocked, false);
  sim.now = 4;
  sim.send(64 * KiB);
  assert.equal(sim.blocked, true);
  // The first ack alone unblocks.
  sim.waitForNextAck();
  assert.equal(sim.blocked, false);
  sim.send(64 * KiB);
});

test('AdaptiveFlowController: window grows during startup (rpc-test.c++ KJ_TEST("AdaptiveFlowController: window grows during startup"))', () => {
  const sim = new StreamSimulator();
  sim.saturateFor(sim.rtt * 5);
  // Past the initial 256 KiB (4 chunks of 64 KiB).
  const count = sim.fillWindow(64 * KiB);
  assert.ok(count > 4, `${count} chunks`);
});

test('AdaptiveFlowController: exits startup after window growth plateaus (rpc-test.c++ KJ_TEST("AdaptiveFlowController: exits startup after window growth plateaus"))', () => {
  const sim = new StreamSimulator();
  sim.saturateFor(sim.rtt * 50);
  const countBefore = sim.fillWindow(64 * KiB);
  while (sim.inFlightCount() > 0) sim.waitForNextAck();
  sim.saturateFor(sim.rtt * 10);
  const countAfter = sim.fillWindow(64 * KiB);
  // In steady state the window no longer doubles.
  assert.ok(countAfter <= countBefore * 2, `${countBefore} then ${countAfter} chunks`);
});

test('AdaptiveFlowController: steady-state window converges near BDP (rpc-test.c++ KJ_TEST("AdaptiveFlowController: steady-state window converges near BDP"))', () => {
  const sim = new StreamSimulator();
  sim.saturateFor(sim.rtt * 50);
  const estimatedWindow = sim.fillWindow(64 * KiB) * 64 * KiB;
  // About 1.25 × BDP; C++ allows BDP to 2 × BDP.
  assert.ok(estimatedWindow >= sim.bdp(), `${estimatedWindow} < BDP ${sim.bdp()}`);
  assert.ok(estimatedWindow <= sim.bdp() * 2, `${estimatedWindow} > 2 × BDP ${sim.bdp()}`);
});

test('AdaptiveFlowController: window does not shrink when app-limited (rpc-test.c++ KJ_TEST("AdaptiveFlowController: window does not shrink when app-limited"))', () => {
  const sim = new StreamSimulator();
  sim.saturateFor(sim.rtt * 100);
  const countBefore = sim.fillWindow(64 * KiB);
  while (sim.inFlightCount() > 0) sim.waitForNextAck();
  assert.equal(sim.blocked, false);
  // Small chunks, each acked before the next: the application, not the pipe, limits the rate.
  for (let i = 0; i < 100; i++) {
    sim.send(1024);
    sim.waitForNextAck();
  }
  const countAfter = sim.fillWindow(64 * KiB);
  assert.ok(countAfter + 2 >= countBefore, `${countBefore} then ${countAfter} chunks`);
});

test('AdaptiveFlowController: window shrinks when bandwidth decreases (rpc-test.c++ KJ_TEST("AdaptiveFlowController: window shrinks when bandwidth decreases"))', () => {
  const sim = new StreamSimulator();
  sim.saturateFor(sim.rtt * 50);
  const countBefore = sim.fillWindow(64 * KiB);
  while (sim.inFlightCount() > 0) sim.waitForNextAck();
  assert.equal(sim.blocked, false);
  sim.bandwidth /= 4;
  sim.saturateFor(sim.rtt * 200);
  const countAfter = sim.fillWindow(64 * KiB);
  assert.ok(countAfter < countBefore, `${countBefore} then ${countAfter} chunks`);
});

test('AdaptiveFlowController: minimum window is enforced (rpc-test.c++ KJ_TEST("AdaptiveFlowController: minimum window is enforced"))', () => {
  const sim = new StreamSimulator();
  // A tiny BDP: 1 ms round trip, 1 byte per ms, for 10,000,000 ms.
  sim.rtt = 1;
  sim.bandwidth = 1;
  sim.saturateFor(10_000_000);
  // 64 KiB minimum, plus the largest message seen (32 KiB).
  const estimatedWindow = sim.fillWindow(1024) * 1024;
  assert.ok(estimatedWindow <= 96 * KiB, `${estimatedWindow}`);
  assert.ok(estimatedWindow >= 64 * KiB, `${estimatedWindow}`);
});

/** C++ "…: destroying with blocked senders fulfills them": the acks never arrive (a dead peer). */
function destroyingFulfillsBlockedSenders(fc: RpcFlowController): void {
  const first = fc.sent(256 * KiB);
  assert.equal(first.ready.fulfilled, true);
  const second = fc.sent(256 * KiB);
  assert.equal(second.ready.settled, false, "the second send blocks");
  fc.destroy();
  assert.equal(second.ready.fulfilled, true, "fulfilled, not rejected");
}

test('AdaptiveFlowController: destroying with blocked senders fulfills them (rpc-test.c++ KJ_TEST("AdaptiveFlowController: destroying with blocked senders fulfills them"))', () => {
  destroyingFulfillsBlockedSenders(newAdaptiveController(256 * KiB, () => 0));
});

test('WindowFlowController: destroying with blocked senders fulfills them (rpc-test.c++ KJ_TEST("WindowFlowController: destroying with blocked senders fulfills them"))', () => {
  destroyingFulfillsBlockedSenders(newFixedWindowController(256 * KiB));
});

test("window flow controllers: a failed call fails the blocked and every later send; a variable window is read again", () => {
  let window = 1000;
  const fc = newVariableWindowController(() => window);
  const a = fc.sent(600);
  const b = fc.sent(600);
  const c = fc.sent(600);
  assert.equal(b.ready.fulfilled, true, "1200 bytes in flight < 1000 + 600");
  assert.equal(c.ready.settled, false, "1800 bytes in flight ≥ 1000 + 600");
  window = 2000; // read again at the next ack
  a.ack();
  assert.equal(c.ready.fulfilled, true);
  const d = fc.sent(3000);
  const e = fc.sent(3000);
  assert.equal(d.ready.fulfilled, true);
  assert.equal(e.ready.settled, false);
  d.ack(RpcError.failed("stream failed"));
  assert.equal(e.ready.rejected, true, "the blocked send fails with the call's error");
  assert.equal(fc.sent(1).ready.rejected, true, "and every later send");
  b.ack();
  c.ack();
  assert.equal(fc.sent(1).ready.rejected, true, "a call in flight succeeding changes nothing");
});

/** A TestStreaming server that holds every call (a peer that stops acknowledging). */
function holdingServer() {
  const held: (() => void)[] = [];
  const server = TestStreaming.server({
    doStreamI() {
      return new Promise<void>((r) => held.push(r));
    },
    finishStream(ctx) {
      ctx.results.totalI = 0;
    },
  });
  return { held, server };
}

async function twoParty(options: ConstructorParameters<typeof TwoPartyClient>[3]) {
  const { held, server } = holdingServer();
  const [a, b] = newByteStreamPair();
  const tpServer = new TwoPartyServer(server);
  void tpServer.accept(b);
  const client = new TwoPartyClient(a, undefined, "client", { streamWindow: 1024, ...options });
  const cap = client.bootstrap(TestStreaming_Client);
  await cap.whenResolved();
  return { held, cap, client, tpServer };
}

/** Send streaming calls until one's send() does not settle; returns it and how many went. */
async function sendUntilBlocked(cap: TestStreaming_Client) {
  for (let sent = 1; sent <= 1000; sent++) {
    const p = cap.doStreamI((x) => (x.i = sent));
    let settled = false;
    p.then(
      () => (settled = true),
      () => (settled = true),
    );
    await whenIdle();
    await new Promise((r) => setImmediate(r));
    if (!settled) return { blocked: p, sent };
  }
  throw new Error("never blocked");
}

test("a capability released while its streaming send is blocked lets the sender go (C++ ~RpcClient destroys its flow controller)", async () => {
  const { held, cap, client, tpServer } = await twoParty({});
  const { blocked } = await sendUntilBlocked(cap);
  let outcome = "pending";
  blocked.then(
    () => (outcome = "fulfilled"),
    (e: Error) => (outcome = `rejected: ${e.message}`),
  );
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(outcome, "pending", "the peer acknowledges nothing");
  cap.close();
  await whenIdle();
  await new Promise((r) => setImmediate(r));
  assert.equal(outcome, "fulfilled");
  for (const r of held.splice(0)) r();
  await client.close();
  await tpServer.close();
});

/**
 * How many more streaming calls fit once three calls have been acknowledged, a few milliseconds
 * apart: one or two with a 1024-byte window; far more with the adaptive controller, whose window
 * never goes below 64 KiB once it has measured something.
 */
async function admittedAfterAcks(cap: TestStreaming_Client, held: (() => void)[]): Promise<number> {
  await sendUntilBlocked(cap);
  for (let i = 0; i < 3; i++) {
    await new Promise((r) => setTimeout(r, 2));
    held.shift()!();
    await whenIdle();
    await new Promise((r) => setImmediate(r));
  }
  return (await sendUntilBlocked(cap)).sent;
}

async function release(
  held: (() => void)[],
  cap: TestStreaming_Client,
  ...ends: { close(): Promise<void> }[]
) {
  for (let i = 0; i < 2000 && held.length > 0; i++) {
    held.shift()!();
    await whenIdle();
    await new Promise((r) => setImmediate(r));
  }
  cap.close();
  for (const e of ends) await e.close();
}

test("TwoPartyClient newStream option: streaming calls use the flow controller it makes (C++ TwoPartyVatNetwork::newStream()), given the stream window", async () => {
  const windows: number[] = [];
  const { held, cap, client, tpServer } = await twoParty({
    newStream: (window, clock) => {
      windows.push(window);
      return newAdaptiveController(window, clock);
    },
  });
  const admitted = await admittedAfterAcks(cap, held);
  assert.deepEqual(windows, [1024], "one controller per capability, from the stream window");
  assert.ok(admitted > 20, `${admitted} calls admitted after the acks`);
  await release(held, cap, client, tpServer);
});

test("useAdaptiveFlowControl(): later two-party networks use the adaptive controller (C++ TwoPartyVatNetwork::useAdaptiveFlowControl())", async () => {
  const w = await twoParty({});
  const windowAdmitted = await admittedAfterAcks(w.cap, w.held);
  assert.ok(windowAdmitted <= 4, `the window controller admitted ${windowAdmitted}`);
  await release(w.held, w.cap, w.client, w.tpServer);
  useAdaptiveFlowControl();
  const a = await twoParty({});
  const adaptiveAdmitted = await admittedAfterAcks(a.cap, a.held);
  assert.ok(adaptiveAdmitted > 20, `the adaptive controller admitted ${adaptiveAdmitted}`);
  await release(a.held, a.cap, a.client, a.tpServer);
});
