// bench/rpc/bulk.ts: the sending side of the bulk-transfer benchmark (issue 17; the driver is
// bulk-main.ts). Reads commands on stdin, one per line, and answers each with one JSON line:
//
//   RUN {"kind":"capnts"|"raw","connect":"tcp:HOST:PORT"|"unix:PATH","writeBytes":65536,"mib":64,
//        "window":BYTES}   (window: capnts's streaming window; default the kernel's send buffer)
//
// capnts: Echo.write(data) streaming calls (`-> stream`, flow-controlled by the connection's
//   window) until `mib` MiB have gone, then finish(), whose totals must match: the transfer is
//   timed from the first write to finish()'s answer, so every byte has reached the server's
//   write() method.
// raw: the floor, no RPC: the same bytes in the same write sizes over node:net, each write a
//   4-byte length prefix and the payload (corked: one writev, no copy), waiting for 'drain' when
//   write() says the socket's buffer is full, then an empty frame; the server (serve.ts kind
//   "raw-sink") parses the frames and answers the empty one with the bytes it counted.
//
// One connection per (kind, address) for the whole run, so the JIT stays warm. Prints
// {"kind","transport","writeBytes","bytes","seconds","mbPerSec","cpuMs"} (cpuMs: this process).
import { readFileSync } from "node:fs";
import type * as net from "node:net";
import { Runtime } from "../../src/transport/index.js";
import { type Address, capntsAddress, lines, parseAddress, payload } from "./common.js";
import { Echo_Client } from "./gen/bench.capnp.js";
import { connectNet, FRAME_HEADER } from "./raw.js";

interface Sender {
  /** Sends `count` writes of `data`; resolves when the server has counted them all. */
  send(data: Uint8Array, count: number): Promise<void>;
}

const rt = Runtime.init();

async function capntsSender(a: Address, streamWindow?: number): Promise<Sender> {
  const conn = await rt.connect(capntsAddress(a), streamWindow === undefined ? {} : { streamWindow });
  const echo = conn.bootstrap(Echo_Client);
  return {
    async send(data, count) {
      for (let i = 0; i < count; i++) {
        await echo.write((b) => {
          b.data = data;
        });
      }
      using f = echo.finish();
      const t = await f;
      if (t.writes !== BigInt(count) || t.bytes !== BigInt(count * data.length)) {
        throw new Error(`server counted ${t.writes} writes, ${t.bytes} bytes; sent ${count}`);
      }
    },
  };
}

/**
 * The raw sender's window: what capnts uses for the streaming window on the same transport (the
 * kernel's send buffer, src/transport/node.ts), as Node's writableHighWaterMark, so that both
 * keep as many bytes queued before waiting. (With Node's default 16 KiB, a 64 KiB write always
 * waits for 'drain', and the floor fell below capnts.)
 */
function rawWindow(a: Address): number {
  try {
    const text =
      a.transport === "tcp"
        ? readFileSync("/proc/sys/net/ipv4/tcp_wmem", "utf8").trim().split(/\s+/)[2]!
        : readFileSync("/proc/sys/net/core/wmem_default", "utf8").trim();
    const n = Number(text);
    if (Number.isSafeInteger(n) && n > 0) return n;
  } catch {
    // Not Linux.
  }
  return 64 * 1024;
}

async function rawSender(a: Address): Promise<Sender> {
  const s: net.Socket = await connectNet(a, rawWindow(a));
  s.setNoDelay(true);
  let answer: ((total: bigint) => void) | null = null;
  let got: Buffer = Buffer.alloc(0);
  s.on("data", (c: Buffer) => {
    got = got.length === 0 ? c : Buffer.concat([got, c]);
    if (got.length >= 8 && answer !== null) {
      const total = got.readBigUInt64LE(0);
      got = got.subarray(8);
      const r = answer;
      answer = null;
      r(total);
    }
  });
  const drained = (): Promise<void> => new Promise((r) => s.once("drain", r));
  return {
    async send(data, count) {
      const head = Buffer.allocUnsafe(FRAME_HEADER);
      head.writeUInt32LE(data.length, 0);
      for (let i = 0; i < count; i++) {
        s.cork();
        s.write(head);
        const room = s.write(data);
        s.uncork();
        if (!room) await drained();
      }
      const total = new Promise<bigint>((r) => {
        answer = r;
      });
      s.write(Buffer.alloc(FRAME_HEADER));
      const t = await total;
      if (t !== BigInt(count * data.length)) throw new Error(`server counted ${t} bytes`);
    },
  };
}

const senders = new Map<string, Promise<Sender>>();
const datas = new Map<number, Uint8Array>();

interface Run {
  kind: "capnts" | "raw";
  connect: string;
  writeBytes: number;
  mib: number;
  /** capnts: the streaming window (TwoPartyOptions.streamWindow); default the kernel's send buffer. */
  window?: number;
}

async function run(req: Run): Promise<Record<string, unknown>> {
  const key = `${req.kind} ${req.connect} ${req.window}`;
  let p = senders.get(key);
  if (p === undefined) {
    const a = parseAddress(req.connect);
    p = req.kind === "capnts" ? capntsSender(a, req.window) : rawSender(a);
    senders.set(key, p);
  }
  const sender = await p;
  let data = datas.get(req.writeBytes);
  if (data === undefined) {
    data = payload(req.writeBytes);
    datas.set(req.writeBytes, data);
  }
  const count = Math.max(1, Math.round((req.mib * 1024 * 1024) / req.writeBytes));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await sender.send(data, count);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const bytes = count * req.writeBytes;
  return {
    kind: req.kind,
    transport: req.connect.startsWith("unix:") ? "unix" : "tcp",
    writeBytes: req.writeBytes,
    bytes,
    seconds: Number(seconds.toFixed(4)),
    mbPerSec: Number((bytes / (1024 * 1024) / seconds).toFixed(1)),
    cpuMs: Number(((cpu.user + cpu.system) / 1000).toFixed(1)),
  };
}

await lines(async (line) => {
  if (!line.startsWith("RUN ")) return;
  let out: Record<string, unknown>;
  try {
    out = await run(JSON.parse(line.slice(4)) as Run);
  } catch (e) {
    out = { error: e instanceof Error ? e.message : String(e) };
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
});
process.exit(0);
