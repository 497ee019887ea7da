/**
 * The Node side of the runtime tests: what they require of the calculator scenario
 * (programs/scenario.ts), and the Node capnts server they talk to.
 */
import assert from "node:assert/strict";
import { Runtime } from "capnts/rpc";
import { listenWebSocket } from "capnts/ws";
import {
  CalculatorHost,
  type ClientReport,
  type DropReport,
  type ServerReport,
} from "./programs/scenario.js";

/** What the calculator client must have seen, wherever it ran. */
export function checkClientReport(r: ClientReport): void {
  assert.equal(r.steps.length, 7, "every step of the calculator client ran");
  for (const s of r.steps) assert.ok(Math.abs(s.value - s.expected) < 1e-9, `${s.name}: ${s.value}`);
  // Pipelining: a step whose calls build on results not yet returned takes one round trip; the
  // same computation awaiting every call takes one per call.
  for (const s of r.steps) {
    if (s.name.startsWith("the same")) assert.equal(s.roundTrips, 5, s.name);
    else assert.equal(s.roundTrips, 1, `${s.name} is pipelined: one round trip`);
  }
  assert.ok(
    r.steps.some((s) => s.name.startsWith("client-side pow") && s.value === 512),
    "the server called the client's capability back",
  );
  assert.ok(r.error !== null, "the call the server fails must fail");
  assert.deepEqual(
    { rpcError: r.error.rpcError, type: r.error.type },
    { rpcError: true, type: "failed" },
    `a server-side exception arrives as RpcError(failed): ${r.error.message}`,
  );
  assert.match(r.error.message, /Wrong number of parameters/);
}

/** What the server must have left once its one client went: nothing. */
export function checkServerReport(r: ServerReport): void {
  assert.deepEqual(
    r,
    { served: 1, leaked: 0, connections: 0 },
    "the server served one client and released everything made for it",
  );
}

/** A call pending when the server went: it fails as `disconnected`, and onDisconnect fires. */
export function checkDropReport(r: DropReport): void {
  assert.ok(r.call !== null, "the pending call must fail");
  assert.deepEqual(
    { rpcError: r.call.rpcError, type: r.call.type, disconnected: r.disconnected },
    { rpcError: true, type: "disconnected", disconnected: true },
    `the pending call fails RpcError(disconnected) and onDisconnect resolves: ${r.call.message}`,
  );
}

/**
 * Runs `fn` against a Node calculator server on a loopback WebSocket (capnts/ws), given its URL and
 * a way to drop it (its sockets end with no close handshake: the server is gone). Afterwards the
 * server must have served one client and released everything made for it.
 */
export async function withNodeWebSocketServer(
  fn: (url: string, drop: () => Promise<void>) => Promise<void>,
): Promise<void> {
  const host = new CalculatorHost(Runtime.init());
  const listener = await listenWebSocket(host.server, { host: "127.0.0.1", port: 0 });
  try {
    await fn(listener.url, () => listener.close());
    checkServerReport(await host.report());
  } finally {
    await listener.close();
    await host.close();
  }
}
