// bench/hostile/main.ts: a capnts server and the C++ 0.9.2 calculator-server (test/interop) under
// the same hostile clients, in one run (issue 13). Each server runs alone in its own process;
// this program is the client and reads the server's RSS and FDs from /proc.
//
//   node --conditions=capnts-source --import tsx bench/hostile/main.ts [--ms=N] [--cycles=N]
//        [--questions=N] [--server=ts,cpp] [--from-source] [--node-flags="FLAG FLAG"]
//
// The capnts server runs as users run it: the library from dist/ and the program compiled to
// JavaScript (bench/hostile/build.mjs builds both first); --from-source runs it through tsx, as
// the tests do (keepNames then adds a property dictionary to every named closure).
//
// Workloads:
//   reading flood      after a warm-up (20,000 calls from a well-behaved client), evaluate(literal)
//                      calls as fast as the socket takes them for --ms (default 5000); every
//                      Return is read and answered with a Finish. Replies/s and the server's peak
//                      RSS (sampled every 50 ms). Again with no Finish sent (every answer and its
//                      Value then stay until the connection ends; no warm-up).
//   non-reading flood  the same calls, replies never read, for --ms. Calls the server took (the
//                      bytes our socket got rid of) and its peak RSS.
//   churn              --cycles (default 10000) connect / Bootstrap / disconnect cycles, 50 at a
//                      time: RSS and FDs after, against before.
//   table memory       --questions (default 20000) Bootstraps, then as many evaluate() calls,
//                      never finished (replies read): server RSS per outstanding question.
//
// Servers (--server, default ts,cpp): ts, the capnts server as Node starts it; ts-tuned, the
// same with the V8 flags docs/rpc.md recommends for a server facing untrusted peers
// (SERVER_V8_FLAGS); cpp, the C++ 0.9.2 calculator-server.
//
// Prints one markdown table per workload.
import * as net from "node:net";
import {
  bootstrapFrame,
  patchableEvaluate,
  patchableFinish,
  procStats,
  RawConn,
  SERVER_V8_FLAGS,
  type ServerProcess,
  startCppServer,
  startTsServer,
  WARM_CALLS,
  warmUp,
} from "../../test/hostile/peer.js";
import { buildInterop } from "../../test/interop/build.mjs";
import { buildHostileServer } from "./build.mjs";

const args = process.argv.slice(2);
function opt(name: string, def: number): number {
  const a = args.find((x) => x.startsWith(`--${name}=`));
  return a === undefined ? def : Number(a.slice(name.length + 3));
}
const MS = opt("ms", 5000);
const CYCLES = opt("cycles", 10_000);
const QUESTIONS = opt("questions", 20_000);
/** Node and V8 flags for the capnts server, e.g. --node-flags="--max-semi-space-size=2". */
const NODE_FLAGS = (args.find((x) => x.startsWith("--node-flags="))?.slice(13) ?? "")
  .split(" ")
  .filter((f) => f !== "");
const serverArg = args.find((x) => x.startsWith("--server="))?.slice(9) ?? "ts,cpp";
/** ts-tuned: the capnts server with the V8 flags docs/rpc.md gives for untrusted peers. */
const TUNED_FLAGS = SERVER_V8_FLAGS;
type Kind = "ts" | "ts-tuned" | "cpp";
const KINDS = serverArg.split(",") as Kind[];
const MiB = 1024 * 1024;
const compiledServer =
  KINDS.some((k) => k !== "cpp") && !args.includes("--from-source") ? buildHostileServer() : undefined;

async function start(kind: Kind): Promise<ServerProcess> {
  if (kind === "ts") return startTsServer({}, compiledServer, [], NODE_FLAGS);
  if (kind === "ts-tuned") return startTsServer({}, compiledServer, [], [...TUNED_FLAGS, ...NODE_FLAGS]);
  const { binDir } = (await buildInterop()) as { binDir: string };
  return startCppServer(`${binDir}/calculator-server`);
}

/** Samples the server's RSS every 50 ms until stopped; returns the peak. */
function sampler(pid: number): { stop(): number } {
  let peak = 0;
  const t = setInterval(() => {
    void procStats(pid)
      .then((s) => {
        peak = Math.max(peak, s.rss);
      })
      .catch(() => {});
  }, 50);
  return {
    stop() {
      clearInterval(t);
      return peak;
    },
  };
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The question ID of a Return in one frame `f` (single segment, as both servers write), read
 * from the bytes: the client must not be what limits the reply rate. -1 for anything else.
 */
function returnAnswerId(v: DataView, at: number, words: number): number {
  const base = at + 8; // one segment: the table is one word
  if (words < 2) return -1;
  const lo = v.getInt32(base, true);
  if ((lo & 3) !== 0) return -1;
  const msg = base + 8 + (lo >> 2) * 8;
  if (v.getUint16(msg, true) !== 3) return -1; // Message.return
  const dataWords = v.getUint16(base + 4, true);
  const p = msg + dataWords * 8;
  const plo = v.getInt32(p, true);
  if ((plo & 3) !== 0) return -1;
  return v.getUint32(p + 8 + (plo >> 2) * 8, true);
}

interface FloodResult {
  sent: number;
  replies: number;
  peak: number;
  /** capnts: answers in the server's tables and its live JS heap at the end (after a GC). */
  held: string;
}

/** Calls as fast as they go for MS; `reading`: read Returns (and Finish each if `finish`). */
async function flood(server: ServerProcess, reading: boolean, finish = true): Promise<FloodResult> {
  const s = net.connect({ port: server.port, host: "127.0.0.1" });
  await new Promise<void>((r) => s.once("connect", () => r()));
  s.setNoDelay(true);
  s.on("error", () => {});
  const call = patchableEvaluate(0);
  const fin = patchableFinish();
  let replies = 0;
  if (reading) {
    let pending: Uint8Array | null = null;
    s.on("data", (chunk: Buffer) => {
      let buf = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      if (pending !== null) {
        const b = new Uint8Array(pending.length + buf.length);
        b.set(pending);
        b.set(buf, pending.length);
        buf = b;
        pending = null;
      }
      const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
      const ids: number[] = [];
      let o = 0;
      while (o + 8 <= buf.length) {
        const segs = v.getUint32(o, true) + 1;
        const table = ((segs >>> 1) + 1) * 8;
        if (o + table > buf.length) break;
        let words = 0;
        for (let i = 0; i < segs; i++) words += v.getUint32(o + 4 + i * 4, true);
        const size = table + words * 8;
        if (o + size > buf.length) break;
        const id = segs === 1 ? returnAnswerId(v, o, words) : -1;
        // The Bootstrap's question (0) is never finished: every call is pipelined on it, and
        // a call on a finished question fails (capnts, rpc.c++ 1.x) or aborts (C++ 0.9.2).
        if (id > 0) ids.push(id);
        else if (id === 0) replies++;
        o += size;
      }
      if (o < buf.length) pending = buf.slice(o);
      replies += ids.length;
      if (ids.length > 0 && finish) {
        const out = new Uint8Array(fin.bytes.length * ids.length);
        const ov = new DataView(out.buffer);
        for (let i = 0; i < ids.length; i++) {
          out.set(fin.bytes, i * fin.bytes.length);
          ov.setUint32(i * fin.bytes.length + fin.at, ids[i]!, true);
        }
        s.write(out);
      }
    });
  } else {
    s.pause();
  }
  s.write(bootstrapFrame(0));
  const BATCH = 512;
  const sampling = sampler(server.pid);
  let qid = 1;
  let sentBytes = 0;
  const deadline = Date.now() + MS;
  while (Date.now() < deadline && !s.destroyed) {
    if (s.writableLength < 512 * 1024) {
      const buf = new Uint8Array(call.bytes.length * BATCH);
      const bv = new DataView(buf.buffer);
      for (let i = 0; i < BATCH; i++) {
        buf.set(call.bytes, i * call.bytes.length);
        bv.setUint32(i * call.bytes.length + call.at, qid++, true);
      }
      s.write(buf);
      sentBytes += buf.length;
      await new Promise((r) => setImmediate(r));
    } else {
      await new Promise<void>((r) => {
        const done = () => {
          clearTimeout(t);
          s.off("drain", done);
          r();
        };
        const t = setTimeout(done, Math.max(1, Math.min(50, deadline - Date.now())));
        s.on("drain", done);
      });
    }
  }
  // Calls that left our process (the rest sat in our socket's buffer).
  const taken = Math.floor((sentBytes - s.writableLength) / call.bytes.length);
  const peak = sampling.stop();
  let held = "- | -";
  if (server.kind === "ts") {
    const st = await server.stats();
    held = `${(st.answers ?? 0).toLocaleString("en")} | ${(st.heap / MiB).toFixed(0)}`;
  }
  s.destroy();
  return { sent: taken, replies, peak, held };
}

/** Served WARM_CALLS calls of a well-behaved client first (see peer.ts warmUp). */
async function warmed(server: ServerProcess): Promise<void> {
  await warmUp(server.port, WARM_CALLS);
  await idleStats(server);
}

/** RSS and FDs after the server's connections have gone (give it a moment to clean up). */
async function idleStats(server: ServerProcess) {
  let s = await server.stats();
  for (let i = 0; i < 50 && s.connections > 0; i++) {
    await delay(100);
    s = await server.stats();
  }
  await delay(300);
  const p = await procStats(server.pid);
  return { rss: p.rss, fds: p.fds, heap: s.heap };
}

async function churn(server: ServerProcess) {
  const one = async () => {
    const c = await RawConn.open(server.port);
    c.write(bootstrapFrame(0));
    await c.next(10_000);
    c.close();
  };
  const cycles = async (n: number) => {
    for (let i = 0; i < n; i += 50) await Promise.all(Array.from({ length: Math.min(50, n - i) }, one));
  };
  const cold = await idleStats(server);
  // A warm-up of 3000 cycles first: the allocators' high-water mark (V8's heap spaces, malloc
  // arenas, read buffers) is reached then and is not given back, leak or not.
  await cycles(3000);
  const before = await idleStats(server);
  const t0 = Date.now();
  await cycles(CYCLES);
  const secs = (Date.now() - t0) / 1000;
  const after = await idleStats(server);
  return { cold, before, after, secs };
}

async function tableMemory(server: ServerProcess) {
  const c = await RawConn.open(server.port);
  let returns = 0;
  c.onMessage = (m) => {
    if (m.which === "return") returns++;
  };
  const before = await procStats(server.pid);
  // Bootstraps, never finished.
  for (let q = 0; q < QUESTIONS; q++) {
    c.write(bootstrapFrame(q));
    if (q % 500 === 499) await c.until(() => returns >= q + 1 - 2000, 60_000);
  }
  await c.until(() => returns >= QUESTIONS, 120_000, "the Bootstraps' Returns");
  await delay(300);
  const boots = await procStats(server.pid);
  // evaluate() calls on the first bootstrap, never finished (each holds its answer and Value).
  const call = patchableEvaluate(0);
  for (let i = 0; i < QUESTIONS; i++) {
    const b = call.bytes.slice();
    new DataView(b.buffer).setUint32(call.at, QUESTIONS + i, true);
    c.write(b);
    if (i % 500 === 499) await c.until(() => returns >= QUESTIONS + i + 1 - 2000, 60_000);
  }
  await c.until(() => returns >= 2 * QUESTIONS, 120_000, "the calls' Returns");
  await delay(300);
  const calls = await procStats(server.pid);
  c.close();
  return { bootstrap: (boots.rss - before.rss) / QUESTIONS, call: (calls.rss - boots.rss) / QUESTIONS };
}

const rows: Record<string, Record<string, string>> = {};
function put(table: string, kind: string, value: string): void {
  rows[table] ??= {};
  rows[table][kind] = value;
}
const NAME = { ts: "capnts", "ts-tuned": `capnts, ${TUNED_FLAGS.join(" ")}`, cpp: "C++ 0.9.2" } as const;

for (const kind of KINDS) {
  console.error(`# ${NAME[kind]}: reading flood`);
  let server = await start(kind);
  const cold = (await procStats(server.pid)).rss;
  await warmed(server);
  const base = (await procStats(server.pid)).rss;
  const r = await flood(server, true);
  put(
    "Reading flood",
    kind,
    `| ${NAME[kind]} | ${Math.round(r.replies / (MS / 1000)).toLocaleString("en")} | ${r.sent.toLocaleString("en")} | ${(cold / MiB).toFixed(0)} | ${(base / MiB).toFixed(0)} | ${(r.peak / MiB).toFixed(0)} | +${((r.peak - base) / MiB).toFixed(0)} | ${r.held} |`,
  );
  await server.stop();

  console.error(`# ${NAME[kind]}: reading flood without Finish`);
  server = await start(kind);
  const base1 = (await procStats(server.pid)).rss;
  const nf = await flood(server, true, false);
  put(
    "Reading flood, no Finish",
    kind,
    `| ${NAME[kind]} | ${Math.round(nf.replies / (MS / 1000)).toLocaleString("en")} | ${nf.sent.toLocaleString("en")} | ${(base1 / MiB).toFixed(0)} | ${(nf.peak / MiB).toFixed(0)} | +${((nf.peak - base1) / MiB).toFixed(0)} | ${nf.held} |`,
  );
  await server.stop();

  console.error(`# ${NAME[kind]}: non-reading flood`);
  server = await start(kind);
  const base2 = (await procStats(server.pid)).rss;
  const n = await flood(server, false);
  put(
    "Non-reading flood",
    kind,
    `| ${NAME[kind]} | ${n.sent.toLocaleString("en")} | ${(base2 / MiB).toFixed(0)} | ${(n.peak / MiB).toFixed(0)} | +${((n.peak - base2) / MiB).toFixed(0)} |`,
  );
  await server.stop();

  console.error(`# ${NAME[kind]}: churn`);
  server = await start(kind);
  const ch = await churn(server);
  put(
    "Churn",
    kind,
    `| ${NAME[kind]} | ${CYCLES.toLocaleString("en")} | ${ch.secs.toFixed(1)} | ${(ch.cold.rss / MiB).toFixed(1)} | ${(ch.before.rss / MiB).toFixed(1)} → ${(ch.after.rss / MiB).toFixed(1)} (${ch.after.rss >= ch.before.rss ? "+" : ""}${((ch.after.rss - ch.before.rss) / MiB).toFixed(1)}) | ${ch.before.fds} → ${ch.after.fds} | ${kind !== "cpp" ? `${(ch.before.heap / MiB).toFixed(1)} → ${(ch.after.heap / MiB).toFixed(1)}` : "-"} |`,
  );
  await server.stop();

  console.error(`# ${NAME[kind]}: table memory`);
  server = await start(kind);
  const t = await tableMemory(server);
  put(
    "Table memory",
    kind,
    `| ${NAME[kind]} | ${QUESTIONS.toLocaleString("en")} | ${Math.round(t.bootstrap)} | ${Math.round(t.call)} |`,
  );
  await server.stop();
}

const HEAD: Record<string, string> = {
  "Reading flood": `### Reading flood (${MS / 1000} s, after a warm-up of ${WARM_CALLS.toLocaleString("en")} calls)\n\n| server | replies/s | calls taken | RSS at start (MiB) | RSS before (MiB) | peak RSS (MiB) | growth (MiB) | answers held at the end | live JS heap at the end (MiB) |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|`,
  "Reading flood, no Finish": `### Reading flood, Returns read but never finished (${MS / 1000} s)\n\n| server | replies/s | calls taken | RSS before (MiB) | peak RSS (MiB) | growth (MiB) | answers held at the end | live JS heap at the end (MiB) |\n|---|---:|---:|---:|---:|---:|---:|---:|`,
  "Non-reading flood": `### Non-reading flood (${MS / 1000} s)\n\n| server | calls taken | RSS before (MiB) | peak RSS (MiB) | growth (MiB) |\n|---|---:|---:|---:|---:|`,
  Churn:
    "### Connect / Bootstrap / disconnect cycles (after 3000 warm-up cycles)\n\n| server | cycles | seconds | RSS at start (MiB) | RSS (MiB) before → after | FDs before → after | JS heap after GC (MiB) |\n|---|---:|---:|---:|---|---|---|",
  "Table memory":
    "### Memory per outstanding question (RSS growth / questions)\n\n| server | questions | bytes per Bootstrap | bytes per evaluate() call |\n|---|---:|---:|---:|",
};
for (const [table, byKind] of Object.entries(rows)) {
  console.log(`${HEAD[table]}\n${Object.values(byKind).join("\n")}\n`);
}
process.exit(0);
