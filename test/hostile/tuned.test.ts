/**
 * Issue 13's memory goals, on a capnts server run as docs/rpc.md tells operators to run one that
 * faces untrusted peers (`SERVER_V8_FLAGS`: V8's young generation and old-generation growth
 * held down). Without them V8 keeps several times the live heap around answers that live a
 * fraction of a second (BENCHMARKS.md, "Hostile peers"); hostile.test.ts bounds the server as
 * Node starts it.
 *
 * Both are measured from a server that has served a well-behaved client and 500 connections first:
 * what compiling its code costs Node is paid once, whatever the load (tens of MiB on Node 24), and
 * is not what a flood or churn costs.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, test } from "node:test";
import {
  bootstrapFrame,
  flood,
  freshClientWorks,
  procStats,
  RawConn,
  SERVER_V8_FLAGS,
  type ServerProcess,
  type ServerStats,
  startTsServer,
  warmUp,
  whenSettled,
} from "./peer.js";

const MiB = 1024 * 1024;
let server: ServerProcess;

/** `n` connect/Bootstrap/disconnect cycles, 50 at a time (half of them wait for the Return). */
async function cycles(n: number): Promise<void> {
  const one = async (i: number) => {
    const c = await RawConn.open(server.port);
    c.write(bootstrapFrame(0));
    if (i % 2 === 0) await c.next(10_000);
    c.close();
  };
  for (let i = 0; i < n; i += 50) await Promise.all(Array.from({ length: 50 }, (_, k) => one(i + k)));
}

before(async () => {
  server = await startTsServer({}, undefined, [], SERVER_V8_FLAGS);
  // Calls and connections' setup and teardown compiled.
  await warmUp(server.port);
  await cycles(500);
});

after(async () => {
  await server?.stop();
});

const settled = (): Promise<ServerStats> => whenSettled(server);

test("10,000 connect/Bootstrap/disconnect cycles: FDs back exactly, RSS within 10 MiB of the start", async (t) => {
  const base = await settled();
  await cycles(10_000);
  await freshClientWorks(server.port);
  const s = await settled();
  assert.equal(s.connections, 0, "connections left open");
  assert.equal(s.fds, base.fds, `FDs: ${base.fds} at the start, ${s.fds} now`);
  const grew = (s.rss - base.rss) / MiB;
  t.diagnostic(
    `RSS ${(base.rss / MiB).toFixed(1)} -> ${(s.rss / MiB).toFixed(1)} MiB, FDs ${base.fds} -> ${s.fds}`,
  );
  assert.ok(grew < 10, `RSS grew ${grew.toFixed(1)} MiB over 10,000 cycles`);
});

test("a reading flood with no window (calls as fast as the socket takes them, every reply read and finished): server RSS grows under 64 MiB at its peak, and a fresh client is served after", async (t) => {
  const base = await settled();
  let peak = base.rss;
  const sampling = setInterval(() => {
    void procStats(server.pid)
      .then((s) => {
        peak = Math.max(peak, s.rss);
      })
      .catch(() => {});
  }, 50);
  const c = await RawConn.open(server.port);
  let result: { sent: number; replies: number };
  try {
    result = await flood(c, 3000, Number.POSITIVE_INFINITY);
  } finally {
    clearInterval(sampling);
    c.close();
  }
  assert.ok(result.replies > 10_000, `only ${result.replies} replies to ${result.sent} calls`);
  const grew = (peak - base.rss) / MiB;
  t.diagnostic(`peak RSS +${grew.toFixed(1)} MiB, ${result.replies} replies to ${result.sent} calls`);
  assert.ok(grew < 64, `RSS grew ${grew.toFixed(1)} MiB at its peak (${result.replies} replies)`);
  assert.ok(server.alive(), "the server process died");
  await freshClientWorks(server.port);
});

test("docs/rpc.md recommends the flags these tests run the server with", () => {
  const doc = readFileSync(new URL("../../docs/rpc.md", import.meta.url), "utf8");
  assert.ok(doc.includes(`node ${SERVER_V8_FLAGS.join(" ")} server.js`), "docs/rpc.md names other flags");
});
