/**
 * Cloudflare's workerd (devDependency `workerd`, which carries the binary) serving capnts in a
 * Worker: the Worker is bundled from test/runtimes/programs/worker.ts with esbuild (browser
 * platform, no Node built-ins) and served on a loopback port (harness.ts startWorkerd).
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { haveRuntime, runtimeVersion, startWorkerd, stopAll } from "./harness.js";
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
});
