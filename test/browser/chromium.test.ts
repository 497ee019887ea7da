/**
 * capnts in headless Chromium (issue 15): a page served on loopback talks to a Node capnts server
 * over WebSocket — pipelining, a page capability called back by the server, a server error as a
 * typed RpcError, the server restarted (onDisconnect, pending calls fail `disconnected`, nothing
 * left on the server, a new connection works) — and calls a capnts server inside a Web Worker
 * over MessagePort.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Runtime } from "capnts/rpc";
import { listenWebSocket, type WebSocketListener } from "capnts/ws";
import type { Browser, Page } from "playwright-core";
import { bundle, serveFiles } from "../../examples/browser/serve.js";
import { calculatorServer } from "../../examples/calculator/impl.js";
import { expectServersReleased, liveServers } from "../rpc/harness.js";
import { chromiumMissing, launchChromium, pageErrors } from "./chromium.js";

const skip = chromiumMissing();

type Tests = typeof import("./page.js") extends unknown
  ? Record<string, (...a: never[]) => Promise<unknown>>
  : never;

let browser: Browser;
let page: Page;
let errors: string[];
let http: Awaited<ReturnType<typeof serveFiles>>;

/** A Node capnts calculator server on a WebSocket. */
async function startServer(port = 0): Promise<{ rt: Runtime; listener: WebSocketListener }> {
  const rt = Runtime.init();
  const listener = await listenWebSocket(rt.newServer(calculatorServer()), { port });
  return { rt, listener };
}

function run<T>(name: string, ...args: unknown[]): Promise<T> {
  return page.evaluate(
    ([n, a]) => (globalThis as unknown as { tests: Tests }).tests[n as string]!(...(a as never[])),
    [name, args] as const,
  ) as Promise<T>;
}

interface StepSummary {
  name: string;
  value: number;
  expected: number;
  roundTrips: number;
}

before(async () => {
  if (skip) return;
  const files = await bundle({
    page: new URL("./page.ts", import.meta.url).href,
    worker: new URL("../../examples/browser/worker.ts", import.meta.url).href,
  });
  files.set("/index.html", {
    type: "text/html; charset=utf-8",
    body: '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>capnts test</title><script type="module" src="page.js"></script>',
  });
  http = await serveFiles(files);
  browser = await launchChromium();
  page = await browser.newPage();
  errors = pageErrors(page);
  await page.goto(http.url);
  await page.waitForFunction(() => "tests" in globalThis);
});

after(async () => {
  if (skip) return;
  await browser?.close();
  await http?.close();
});

function checkSteps(steps: StepSummary[]): void {
  for (const s of steps) assert.ok(Math.abs(s.value - s.expected) < 1e-9, `${s.name}: ${s.value}`);
}

test("Chromium: the calculator over WebSocket, pipelined, with a page function called back", {
  skip,
}, async () => {
  const baseline = liveServers();
  const { rt, listener } = await startServer();
  try {
    const steps = await run<StepSummary[]>("calculator", listener.url);
    checkSteps(steps);
    const piped = steps.find((s) => s.name.startsWith("evaluate(4*6)"))!;
    const plain = steps.find((s) => s.name.startsWith("the same"))!;
    assert.equal(piped.roundTrips, 1, "5 dependent calls in one round trip");
    assert.ok(plain.roundTrips > piped.roundTrips);
    const pow = steps.find((s) => s.name.includes("called back by the server"))!;
    assert.equal(pow.value, 512);
  } finally {
    await rt.shutdown();
    await listener.close();
  }
  await expectServersReleased(baseline, "the test");
  assert.deepEqual(errors, []);
});

test("Chromium: a server error is a typed RpcError in the page", { skip }, async () => {
  const { rt, listener } = await startServer();
  try {
    const e = await run<{ isRpcError: boolean; type: string; message: string }>("serverError", listener.url);
    assert.equal(e.isRpcError, true);
    assert.equal(e.type, "failed");
    assert.match(e.message, /Wrong number of parameters/);
  } finally {
    await rt.shutdown();
    await listener.close();
  }
});

test("Chromium: the server restarts: onDisconnect, the pending call fails disconnected, nothing left, reconnecting works", {
  skip,
}, async () => {
  const baseline = liveServers();
  const first = await startServer();
  const port = first.listener.port;
  assert.equal(await run("startPending", first.listener.url), true);
  // The server process goes away (its runtime shuts down, the listener closes).
  await first.rt.shutdown();
  await first.listener.close();
  const outcome = await run<{ disconnected: boolean; error: { isRpcError: boolean; type: string } }>(
    "pendingOutcome",
  );
  assert.equal(outcome.disconnected, true);
  assert.equal(outcome.error.isRpcError, true);
  assert.equal(outcome.error.type, "disconnected");
  await expectServersReleased(baseline, "the first server's life");
  // The same address again: a new server, a new connection from the same page.
  const second = await startServer(port);
  try {
    checkSteps(await run<StepSummary[]>("calculator", second.listener.url));
  } finally {
    await second.rt.shutdown();
    await second.listener.close();
  }
  await expectServersReleased(baseline, "the test");
});

test("Chromium: a capnts server in a Web Worker, called from the page over MessagePort", {
  skip,
}, async () => {
  const steps = await run<StepSummary[]>("worker");
  checkSteps(steps);
  assert.equal(steps.find((s) => s.name.startsWith("evaluate(4*6)"))!.value, 27);
  assert.equal(await run<number>("channel"), 42);
  assert.deepEqual(errors, []);
});
