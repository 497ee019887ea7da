/**
 * Cloudflare's workerd (devDependency `workerd`, which carries the binary) serving capnts in a
 * Worker: the Worker is bundled from test/runtimes/programs/worker.ts with esbuild (browser
 * platform, no Node built-ins) and served on a loopback port (harness.ts startWorkerd).
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { WebSocket } from "ws";
import { checkClientReport, checkDropReport, checkServerReport, withNodeWebSocketServer } from "./checks.js";
import { haveRuntime, runtimeVersion, startWorkerd, stopAll, type Workerd } from "./harness.js";
import {
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

/** Runs `fn` with workerd serving the test Worker; stops it and removes its files afterwards. */
async function withWorkerd(fn: (w: Workerd) => Promise<void>): Promise<void> {
  const w = await startWorkerd(WORKER, LIMIT);
  try {
    await fn(w);
  } finally {
    await w.process.stop();
    w.remove();
  }
}

/** The Worker's JSON answer to `response` (a 200, else the failure with workerd's output). */
async function json<T>(w: Workerd, response: Promise<Response>): Promise<T> {
  const r = await response;
  const body = await r.text();
  assert.equal(r.status, 200, `${body}\n${w.process.output()}`);
  return JSON.parse(body) as T;
}

describe(`workerd (${runtimeVersion("workerd") ?? "not installed"})`, () => {
  after(stopAll);

  test("serialization in a Worker: the same bytes as Node, read back in both encodings", {
    timeout: LIMIT,
  }, async (t) => {
    if (!haveRuntime(t, "workerd")) return;
    await withWorkerd(async (w) => {
      assert.deepEqual(await json(w, fetch(`${w.url}/serialize`)), serializeRoundTrip());
    });
  });

  test("a Worker serves capnts over WebSocket to a Node client", { timeout: LIMIT }, async (t) => {
    if (!haveRuntime(t, "workerd")) return;
    await withWorkerd(async (w) => {
      checkClientReport(await webSocketClient(`ws://127.0.0.1:${w.port}/rpc`, WebSocket));
      checkServerReport(await json<ServerReport>(w, fetch(`${w.url}/report`)));
    });
  });

  test("a Worker calls a Node capnts server over WebSocket", { timeout: LIMIT }, async (t) => {
    if (!haveRuntime(t, "workerd")) return;
    await withNodeWebSocketServer((url) =>
      withWorkerd(async (w) => {
        const target = encodeURIComponent(url);
        checkClientReport(await json<ClientReport>(w, fetch(`${w.url}/client?url=${target}`)));
      }),
    );
  });

  test("workerd is killed mid-call → the Node client's call to the Worker fails disconnected", {
    timeout: LIMIT,
  }, async (t) => {
    if (!haveRuntime(t, "workerd")) return;
    await withWorkerd(async (w) => {
      const report = await overWebSocket(`ws://127.0.0.1:${w.port}/rpc`, WebSocket, (conn) =>
        callWhileServerGoes(conn, () => w.process.proc.kill("SIGKILL")),
      );
      checkDropReport(report);
    });
  });

  test("the Node server goes away mid-call → the Worker's call fails disconnected", {
    timeout: LIMIT,
  }, async (t) => {
    if (!haveRuntime(t, "workerd")) return;
    await withNodeWebSocketServer((url, drop) =>
      withWorkerd(async (w) => {
        const response = fetch(`${w.url}/drop?url=${encodeURIComponent(url)}`);
        await w.process.line(/^PENDING$/);
        await drop();
        checkDropReport(await json<DropReport>(w, response));
      }),
    );
  });
});
