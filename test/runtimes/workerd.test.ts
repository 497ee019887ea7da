/**
 * Cloudflare's workerd (devDependency `workerd`, which carries the binary) serving capnts in a
 * Worker: the Worker is bundled from test/runtimes/programs/worker.ts with esbuild (browser
 * platform, no Node built-ins) and served on a loopback port (harness.ts startWorkerd).
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { Runtime } from "capnts/rpc";
import { listenWebSocket } from "capnts/ws";
import { WebSocket } from "ws";
import { checkClientReport, checkDropReport, checkServerReport } from "./checks.js";
import { haveRuntime, runtimeVersion, startWorkerd, stopAll } from "./harness.js";
import {
  CalculatorHost,
  type ClientReport,
  callWhileServerGoes,
  type DropReport,
  overWebSocket,
  type ServerReport,
  webSocketClient,
} from "./programs/scenario.js";
import { serializeRoundTrip } from "./programs/serialize.js";

const WORKER = "test/runtimes/programs/worker.ts";
/** Each test's bound; workerd never outlives it. */
const LIMIT = 30_000;

describe(`workerd (${runtimeVersion("workerd") ?? "not installed"})`, () => {
  after(stopAll);

  test("serialization in a Worker: the same bytes as Node, read back in both encodings", {
    timeout: LIMIT,
  }, async (t) => {
    if (!haveRuntime(t, "workerd")) return;
    const w = await startWorkerd(WORKER, LIMIT);
    try {
      const r = await fetch(`http://127.0.0.1:${w.port}/serialize`);
      assert.equal(r.status, 200, w.process.output());
      assert.deepEqual(await r.json(), serializeRoundTrip());
    } finally {
      await w.process.stop();
      w.remove();
    }
  });

  test("a Worker serves capnts over WebSocket to a Node client", { timeout: LIMIT }, async (t) => {
    if (!haveRuntime(t, "workerd")) return;
    const w = await startWorkerd(WORKER, LIMIT);
    try {
      checkClientReport(await webSocketClient(`ws://127.0.0.1:${w.port}/rpc`, WebSocket));
      const r = await fetch(`http://127.0.0.1:${w.port}/report`);
      assert.equal(r.status, 200, w.process.output());
      checkServerReport((await r.json()) as ServerReport);
    } finally {
      await w.process.stop();
      w.remove();
    }
  });

  test("a Worker calls a Node capnts server over WebSocket", { timeout: LIMIT }, async (t) => {
    if (!haveRuntime(t, "workerd")) return;
    const host = new CalculatorHost(Runtime.init());
    const listener = await listenWebSocket(host.server, { host: "127.0.0.1", port: 0 });
    const w = await startWorkerd(WORKER, LIMIT);
    try {
      const r = await fetch(`http://127.0.0.1:${w.port}/client?url=${encodeURIComponent(listener.url)}`);
      const body = await r.text();
      assert.equal(r.status, 200, `${body}\n${w.process.output()}`);
      checkClientReport(JSON.parse(body) as ClientReport);
      checkServerReport(await host.report());
    } finally {
      await w.process.stop();
      w.remove();
      await listener.close();
      await host.close();
    }
  });

  test("workerd is killed mid-call → the Node client's call to the Worker fails disconnected", {
    timeout: LIMIT,
  }, async (t) => {
    if (!haveRuntime(t, "workerd")) return;
    const w = await startWorkerd(WORKER, LIMIT);
    try {
      const report = await overWebSocket(`ws://127.0.0.1:${w.port}/rpc`, WebSocket, (conn) =>
        callWhileServerGoes(conn, () => w.process.proc.kill("SIGKILL")),
      );
      checkDropReport(report);
    } finally {
      await w.process.stop();
      w.remove();
    }
  });

  test("the Node server goes away mid-call → the Worker's call fails disconnected", {
    timeout: LIMIT,
  }, async (t) => {
    if (!haveRuntime(t, "workerd")) return;
    const host = new CalculatorHost(Runtime.init());
    const listener = await listenWebSocket(host.server, { host: "127.0.0.1", port: 0 });
    const w = await startWorkerd(WORKER, LIMIT);
    try {
      const response = fetch(`http://127.0.0.1:${w.port}/drop?url=${encodeURIComponent(listener.url)}`);
      await w.process.line(/^PENDING$/);
      await listener.close(); // drops the sockets (no close handshake): the server is gone
      const r = await response;
      const body = await r.text();
      assert.equal(r.status, 200, `${body}\n${w.process.output()}`);
      checkDropReport(JSON.parse(body) as DropReport);
      checkServerReport(await host.report());
    } finally {
      await w.process.stop();
      w.remove();
      await listener.close();
      await host.close();
    }
  });
});
