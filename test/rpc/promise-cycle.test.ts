/**
 * A cycle of capability promises across two vats (hooks.ts resolvesTo). rpc.capnp lets either
 * side resolve a promise to any capability, its peer's promises included, so a peer can make
 * ours resolve into itself. rpc.c++ then loops (0.9.2 getInnermostClient(), 1.x
 * resolveExportedPromise()); capnts did too, freezing the whole process at 100% CPU. The promise
 * that would close the cycle breaks instead.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { BrokenClient, newBrokenCap } from "../../src/rpc/broken.js";
import { innermost, resolvesTo } from "../../src/rpc/hooks.js";
import { QueuedClient } from "../../src/rpc/local-request.js";

const root = fileURLToPath(new URL("../..", import.meta.url));

test("a promise resolved into a cycle through the peer breaks: the call fails, nothing hangs", () => {
  const r = spawnSync(
    process.execPath,
    ["--conditions=capnts-source", "--import", "tsx", "test/rpc/fixtures/promise-cycle-child.ts"],
    { cwd: root, encoding: "utf8", timeout: 60_000 },
  );
  assert.equal(r.signal, null, `the child was killed (${r.signal}): it hung. ${r.stderr}`);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^call: A capability promise resolved to itself \(a cycle of promises\)\.$/m);
  assert.match(r.stdout, /^done$/m);
});

test("local promises: resolving one into a cycle breaks it, and innermost() stops on a cycle", () => {
  const a = new QueuedClient();
  const b = new QueuedClient();
  const c = new QueuedClient();
  a.resolve(b);
  b.resolve(c);
  assert.ok(resolvesTo(a, c));
  assert.ok(!resolvesTo(c, a));
  c.resolve(a); // would close a -> b -> c -> a
  const end = innermost(a);
  assert.ok(end instanceof BrokenClient);
  assert.match(end.brokenError!.message, /resolved to itself/);
  // A chain ending in a capability is followed to it.
  const x = new QueuedClient();
  const cap = newBrokenCap("end");
  x.resolve(cap);
  assert.equal(innermost(x), cap);
  for (const h of [a, b, c, x, cap]) h.release();
});

test("innermost() and resolvesTo() end on a cycle however it was made", () => {
  // Link hooks into a cycle behind resolve()'s back: the walks must still end.
  const hooks = Array.from({ length: 5 }, () => new QueuedClient());
  const link = (from: QueuedClient, to: QueuedClient) => {
    (from as unknown as { redirect: QueuedClient }).redirect = to;
  };
  const [h0, h1, h2, h3, h4] = hooks as [
    QueuedClient,
    QueuedClient,
    QueuedClient,
    QueuedClient,
    QueuedClient,
  ];
  link(h0, h1); // h0 -> h1 -> h2 -> h3 -> h1
  link(h1, h2);
  link(h2, h3);
  link(h3, h1);
  assert.ok([h1, h2, h3].includes(innermost(h0) as QueuedClient));
  assert.ok(resolvesTo(h0, h3), "a hook on the cycle");
  assert.ok(resolvesTo(h0, h1));
  assert.ok(!resolvesTo(h0, h4), "not on the chain");
  assert.ok(!resolvesTo(h1, h0), "before the cycle");
  for (const h of hooks) (h as unknown as { redirect: null }).redirect = null;
  for (const h of hooks) h.release();
});
