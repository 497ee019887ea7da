/**
 * The server the hostile-peer suite attacks, in its own process so that the memory and file
 * descriptors measured are its own: the interop calculator (test/interop/ts/calculator.ts, the
 * behaviour of calculator-server.c++) behind a capnts TwoPartyServer on loopback TCP.
 *
 *   node --import tsx test/hostile/server.ts [--expose-gc first] [--option NAME=VALUE ...]
 *
 * `--option` sets a connection option (maxBacklogMessages, maxBacklogBytes, maxUnsentBytes,
 * flowLimit) to a number; `--ws` serves WebSocket (capnts/ws, one message per binary frame)
 * instead of TCP. Prints `LISTENING <port>` when ready. Commands, one per line on stdin:
 *
 *   stats   prints `STATS {"rss":…,"heap":…,"fds":…,"connections":…,"answers":…,"handled":…}`
 *           after a full GC (RSS and heap in bytes, fds = entries of /proc/self/fd, answers in
 *           the connections' tables, messages handled on live connections)
 *   quit    exits 0 (so does the end of stdin)
 */
import { readdirSync } from "node:fs";
import { createInterface } from "node:readline";
import { Runtime } from "capnts/node";
import { Calculator } from "../../examples/calculator/calculator.capnp.js";
import type { RpcConnection } from "../../src/rpc/connection.js";
import { CalculatorImpl } from "../interop/ts/calculator.js";

const options: Record<string, number> = {};
for (let i = 2; i < process.argv.length; i++) {
  if (process.argv[i] === "--option") {
    const [k, v] = (process.argv[++i] ?? "").split("=");
    if (k === undefined || v === undefined || !Number.isFinite(Number(v))) {
      console.error(`hostile-server: bad --option ${process.argv[i]}`);
      process.exit(2);
    }
    options[k] = Number(v);
  }
}

const rt = Runtime.init();
const server = rt.newServer(Calculator.server(new CalculatorImpl()), options);
const { port } = process.argv.includes("--ws")
  ? await (await import("capnts/ws")).listenWebSocket(server)
  : await server.listen("127.0.0.1:0");
console.log(`LISTENING ${port}`);

const gc = (globalThis as { gc?: () => void }).gc;

async function stats(): Promise<string> {
  // Two collections a turn apart: the first lets finalizers and weak callbacks run.
  gc?.();
  await new Promise((r) => setImmediate(r));
  gc?.();
  const m = process.memoryUsage();
  let answers = 0;
  let handled = 0;
  for (const c of server.connections) {
    // The connections' tables are internal; a test program may look.
    const conns = (c.rpcSystem as unknown as { connections: Map<unknown, RpcConnection> }).connections;
    for (const conn of conns.values()) {
      answers += conn.tableSizes().answers;
      handled += conn.stats.received;
    }
  }
  return JSON.stringify({
    rss: m.rss,
    heap: m.heapUsed + m.external + m.arrayBuffers,
    fds: readdirSync("/proc/self/fd").length,
    connections: server.connections.length,
    answers,
    handled,
  });
}

const lines = createInterface({ input: process.stdin });
lines.on("line", (line) => {
  const cmd = line.trim();
  if (cmd === "stats") void stats().then((s) => console.log(`STATS ${s}`));
  else if (cmd === "quit") process.exit(0);
});
lines.on("close", () => process.exit(0));
