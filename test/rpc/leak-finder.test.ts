/**
 * The leak finder (docs/ownership.md "Finding leaks"): `trackCapabilities` records where each
 * capability reference was made, `rt.liveCapabilities()` lists the open ones, and the garbage
 * collector's safety net reports every reference it had to release.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { Runtime } from "capnts/node";
import type { LiveCapability } from "capnts/rpc";
import { Counters, TestMoreStuffImpl } from "../fixtures/test-impls.js";
import { type TestHandle_Client, TestMoreStuff, TestMoreStuff_Client } from "../interop/gen/test.capnp.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

const root = fileURLToPath(new URL("../..", import.meta.url));

/** Run fixtures/leak-child.ts in a fresh process (tracking is process-wide), with `env` added. */
function runChild(
  mode: string,
  env: Record<string, string> = {},
): { status: number | null; out: string; err: string } {
  const r = spawnSync(
    process.execPath,
    ["--conditions=capnts-source", "--import", "tsx", "test/rpc/fixtures/leak-child.ts", mode],
    { cwd: root, env: { ...process.env, ...env }, encoding: "utf8", timeout: 60_000 },
  );
  return { status: r.status, out: r.stdout, err: r.stderr };
}

test("off by default: liveCapabilities() says how to turn it on", () => {
  const r = runChild("list", { CAPNTS_TRACK_CAPABILITIES: "" });
  assert.equal(r.status, 0, r.err);
  assert.match(
    r.out,
    /^error Capability tracking is off: use Runtime.init\(\{ trackCapabilities: true \}\) or set CAPNTS_TRACK_CAPABILITIES=1\./,
  );
});

test("CAPNTS_TRACK_CAPABILITIES=1 turns it on", () => {
  const r = runChild("list", { CAPNTS_TRACK_CAPABILITIES: "1" });
  assert.equal(r.status, 0, r.err);
  assert.equal(r.out.trim(), "live 1 false");
});

test("live references are listed with their interface, target and creation stack until closed", async () => {
  const leaks: LiveCapability[] = [];
  await using rt = Runtime.init({ trackCapabilities: true, onCapabilityLeak: (l) => leaks.push(l) });
  const counters = new Counters();
  const server = rt.newServer(TestMoreStuff.server(new TestMoreStuffImpl(counters)));
  const { address } = await server.listen("127.0.0.1:0");
  const before = rt.liveCapabilities().length;
  const ms = await rt.bootstrap(address, TestMoreStuff_Client);
  const handle = (await ms.getHandle()).handle;
  const mine = rt.liveCapabilities().slice(before);
  const byInterface = new Map(mine.map((c) => [c.interface, c]));
  assert.deepEqual([...byInterface.keys()].sort(), ["TestHandle", "TestMoreStuff"]);
  const h = byInterface.get("TestHandle")!;
  assert.equal(h.client, handle);
  assert.match(h.target, /^import #\d+$/);
  assert.match(h.stack, /leak-finder\.test\.ts/, "the stack names the line that read the handle");
  const local = rt.liveCapabilities().find((c) => c.target.startsWith("local server"));
  assert.ok(local === undefined || local.target === "local server TestMoreStuff");
  handle.close();
  ms.close();
  assert.equal(rt.liveCapabilities().length, before, "closed references are no longer listed");
  assert.deepEqual(leaks, []);
});

test("a reference the garbage collector releases is reported with the stack that made it", async () => {
  const leaks: LiveCapability[] = [];
  await using rt = Runtime.init({ trackCapabilities: true, onCapabilityLeak: (l) => leaks.push(l) });
  const counters = new Counters();
  using ms = new TestMoreStuff_Client(TestMoreStuff.server(new TestMoreStuffImpl(counters)));
  await (async function makeAndForget() {
    const h: TestHandle_Client = (await ms.getHandle()).handle;
    assert.equal(h.closed, false);
  })();
  assert.equal(counters.handleCount, 1);
  for (let i = 0; i < 50 && counters.handleCount > 0; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(counters.handleCount, 0, "the safety net released the forgotten handle");
  const forgotten = leaks.filter((l) => l.interface === "TestHandle");
  assert.equal(forgotten.length, 1);
  assert.equal(forgotten[0]!.target, "local server TestHandle");
  assert.match(forgotten[0]!.stack, /makeAndForget/);
  assert.equal(forgotten[0]!.client, undefined);
  assert.equal(rt.liveCapabilities().filter((c) => c.interface === "TestHandle").length, 0);
});

test("the default report is a console warning naming the interface and the stack", () => {
  const r = runChild("forget", { CAPNTS_TRACK_CAPABILITIES: "" });
  assert.equal(r.status, 0, r.err);
  assert.equal(r.out.trim(), "handles 0");
  assert.match(
    r.err,
    /capnts: a TestHandle reference \(local server TestHandle\) was never closed; the garbage collector released it\. It was created here:\nError: capability created\n/,
  );
  assert.match(r.err, /forgetAHandle/);
});
