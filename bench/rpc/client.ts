// bench/rpc/client.ts: the TypeScript clients of the RPC benchmarks, mirroring
// bench/cpp/bench-echo-client.c++ (same benchmarks, options and JSON lines):
//
//   node client.js --kind capnts|grpc|capnweb|raw-echo --connect ADDRESS [--only NAME[,NAME...]]
//                  [--quick] [--duration-ms 2000] [--warmup-ms 200] [--outstanding 64]
//                  [--payload 16] [--verify] [--commands] [--stream-window BYTES]
//
//   echo-sequential   one echo(data) at a time (latency)
//   echo-outstanding  --outstanding echo calls kept in flight (throughput)
//   chain-pipelined   e.next().echo.next().echo.next(): 3 calls sent pipelined, one wait
//   chain-awaited     the same 3 calls, each awaited before the next
//   stream-1k         write(1 KiB) streaming calls (each awaited: flow control), then finish()
//   stream-64k        write(64 KiB) likewise
//
// grpc-js runs only the echo benchmarks; capnweb the echo and chain ones (its streams are
// WHATWG streams, not calls). raw-echo is no RPC at all: length-framed messages over node:net to
// serve.ts's "raw-echo" server (raw.ts), the echo benchmarks only, the bound Node itself sets.
// Each benchmark prints one JSON line like bench-echo-client's, with "client" set to "ts",
// "grpc-js", "capnweb" or "node-raw". Every echoed payload's size is checked, and with --verify
// its bytes; every stream ends with finish(), whose totals must match what was sent.
//
// --stream-window sets capnts's streaming flow-control window (TwoPartyOptions.streamWindow;
// default: the runtime's, 64 KiB). For experiments: the tables use the default.
//
// --commands connects to every --connect ADDRESS (it may be repeated), keeps the connections and
// reads lines from stdin instead of running once:
//   RUN {"target":I,"only":[…],"durationMs":N,"warmupMs":N}   runs those benchmarks on connection
//                                                              I (default 0), prints their lines,
//                                                              then DONE
// (bench/rpc/main.ts keeps one TS client process per kind, its JIT warm, for the whole run).
//
// Holding idle connections (the memory benchmarks):
//   node client.js --kind capnts|raw --connect ADDRESS --hold [--batch 200]
// reads stdin lines:
//   OPEN <n>    opens n more connections, `batch` at a time (capnts: bootstrap plus one echo call
//               each, then idle; raw: a bare socket that never sends);
//               prints HELD {"connections":<held>,"seconds":…}
//   ECHO <ms>   echo-sequential for <ms> on one more (capnts) connection; prints its JSON line
//   CLOSE       closes every held connection; prints CLOSED {"seconds":…}
// (a failure prints ERROR "<message>") and exits when stdin closes. (`--kind raw` here is not
// `--kind raw-echo`: it only holds sockets, the memory baseline.)
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import { newWebSocketRpcSession } from "capnweb";
import { WebSocket } from "ws";
import type { ByteStream, TwoPartyClient } from "../../src/rpc/index.js";
import { Runtime } from "../../src/transport/index.js";
import {
  type Address,
  BENCHES,
  type BenchLine,
  type BenchName,
  capntsAddress,
  lines,
  parseAddress,
  parseArgs,
  payload,
  resultLine,
  sameBytes,
} from "./common.js";
import { Echo_Client } from "./gen/bench.capnp.js";
import { type CapnwebEchoApi, GrpcEchoClient, grpcEcho } from "./impls.js";
import { connectNet, encodeFrame, FRAME_HEADER, frameReader, gatheredWriter } from "./raw.js";

(globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;

const now = (): number => performance.now();

export interface RunOptions {
  durationMs: number;
  warmupMs: number;
  outstanding: number;
  payloadBytes: number;
  verify: boolean;
}

/** One client connection of one kind: which benchmarks it has and how to run them. */
export interface BenchClient {
  readonly name: string;
  readonly transport: string;
  readonly supports: readonly BenchName[];
  run(bench: BenchName, o: RunOptions): Promise<BenchLine>;
  close(): Promise<void>;
}

/** Client CPU microseconds per op over the timed interval. */
function cpuPerOp(t: Timed): number {
  return t.ops > 0 ? Number(((t.cpu * 1e6) / t.ops).toFixed(2)) : 0;
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(what);
}

interface Timed {
  ops: number;
  seconds: number;
  /** CPU seconds this process used meanwhile. */
  cpu: number;
}

/** Warm up for o.warmupMs, then count steps for o.durationMs (bench-echo-client's `run`). */
async function timedSteps(o: RunOptions, step: () => Promise<number>): Promise<Timed> {
  const w = now() + o.warmupMs;
  while (now() < w) await step();
  const start = now();
  const cpu0 = process.cpuUsage();
  const deadline = start + o.durationMs;
  let ops = 0;
  // At least one step, so that a run on a stalled machine still measures something.
  do ops += await step();
  while (now() < deadline);
  return { ops, seconds: (now() - start) / 1000, cpu: cpuSince(cpu0) };
}

/** This process's CPU time (user + system) since `c0`, in seconds. */
function cpuSince(c0: NodeJS.CpuUsage): number {
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1e6;
}

/** `o.outstanding` loops of `one()` until a deadline; warm-up burst, then the timed one. */
async function outstanding(o: RunOptions, one: () => Promise<void>): Promise<Timed> {
  const burst = async (ms: number): Promise<Timed> => {
    let count = 0;
    const start = now();
    const cpu0 = process.cpuUsage();
    const deadline = start + ms;
    const loop = async (): Promise<void> => {
      do {
        await one();
        count++;
      } while (now() < deadline);
    };
    const loops: Promise<void>[] = [];
    for (let i = 0; i < o.outstanding; i++) loops.push(loop());
    await Promise.all(loops);
    return { ops: count, seconds: (now() - start) / 1000, cpu: cpuSince(cpu0) };
  };
  await burst(o.warmupMs);
  return burst(o.durationMs);
}

type EchoBench = "echo-sequential" | "echo-outstanding";

/**
 * The two echo benchmarks, alike for every kind: `echoOnce(verify)` makes one echo and checks
 * its answer (its size; its bytes when `verify`). The first call, outside timing, always checks
 * the bytes.
 */
async function echoBench(
  bench: EchoBench,
  name: string,
  transport: string,
  o: RunOptions,
  echoOnce: (verify: boolean) => Promise<void>,
): Promise<BenchLine> {
  if (bench === "echo-sequential") {
    await echoOnce(true);
    const r = await timedSteps(o, async () => {
      await echoOnce(o.verify);
      return 1;
    });
    return resultLine(bench, name, transport, r.ops, r.seconds, {
      cpuUsPerOp: cpuPerOp(r),
      payloadBytes: o.payloadBytes,
    });
  }
  const r = await outstanding(o, () => echoOnce(o.verify));
  return resultLine(bench, name, transport, r.ops, r.seconds, {
    cpuUsPerOp: cpuPerOp(r),
    payloadBytes: o.payloadBytes,
    outstanding: o.outstanding,
  });
}

// ---------------------------------------------------------------------------------------------
// capnts

export async function capntsClient(
  address: Address,
  rt: Runtime = Runtime.init(),
  options: { streamWindow?: number } = {},
  byteStream?: ByteStream,
): Promise<BenchClient & { conn: TwoPartyClient }> {
  const conn =
    byteStream === undefined
      ? await rt.connect(capntsAddress(address), options)
      : rt.connectStream(byteStream, options);
  const echo = conn.bootstrap(Echo_Client);
  const transport = address.transport;
  const name = "ts";

  const echoOnce = async (data: Uint8Array, verify: boolean): Promise<void> => {
    using p = echo.echo((b) => {
      b.data = data;
    });
    const r = await p;
    const got = r.data;
    check(verify ? sameBytes(got, data) : got.length === data.length, "echo returned the wrong data");
  };

  const chainPipelined = async (): Promise<number> => {
    using p1 = echo.next((b) => {
      b.n = 0;
    });
    using e1 = p1.pipeline.echo;
    using p2 = e1.next((b) => {
      b.n = 1;
    });
    using e2 = p2.pipeline.echo;
    using p3 = e2.next((b) => {
      b.n = 2;
    });
    const r = await p3;
    check(r.n === 3, "chain returned the wrong n");
    return 1;
  };

  const chainAwaited = async (): Promise<number> => {
    using p1 = echo.next((b) => {
      b.n = 0;
    });
    const a = await p1;
    using c1 = a.echo;
    using p2 = c1.next((b) => {
      b.n = a.n;
    });
    const b2 = await p2;
    using c2 = b2.echo;
    using p3 = c2.next((b) => {
      b.n = b2.n;
    });
    const c = await p3;
    check(c.n === 3, "chain returned the wrong n");
    return 1;
  };

  const stream = async (o: RunOptions, size: number, name: string): Promise<BenchLine> => {
    const data = payload(size);
    const burst = async (ms: number): Promise<Timed> => {
      const start = now();
      const cpu0 = process.cpuUsage();
      const deadline = start + ms;
      let writes = 0;
      do {
        await echo.write((b) => {
          b.data = data;
        });
        writes++;
      } while (now() < deadline);
      using f = echo.finish();
      const t = await f; // after every write() completed
      check(
        t.writes === BigInt(writes) && t.bytes === BigInt(writes * size),
        `server counted ${t.writes} writes, ${t.bytes} bytes; sent ${writes}`,
      );
      return { ops: writes, seconds: (now() - start) / 1000, cpu: cpuSince(cpu0) };
    };
    await burst(o.warmupMs);
    const r = await burst(o.durationMs);
    const mb = (r.ops * size) / (1024 * 1024);
    return resultLine(name, "ts", transport, r.ops, r.seconds, {
      cpuUsPerOp: cpuPerOp(r),
      writeBytes: size,
      mbPerSec: Number((r.seconds > 0 ? mb / r.seconds : 0).toFixed(1)),
    });
  };

  return {
    name,
    transport,
    conn,
    supports: BENCHES,
    async run(bench, o) {
      const data = payload(o.payloadBytes);
      switch (bench) {
        case "echo-sequential":
        case "echo-outstanding":
          return echoBench(bench, name, transport, o, (verify) => echoOnce(data, verify));
        case "chain-pipelined": {
          const r = await timedSteps(o, chainPipelined);
          return resultLine(bench, name, transport, r.ops, r.seconds, {
            cpuUsPerOp: cpuPerOp(r),
            chainLength: 3,
          });
        }
        case "chain-awaited": {
          const r = await timedSteps(o, chainAwaited);
          return resultLine(bench, name, transport, r.ops, r.seconds, {
            cpuUsPerOp: cpuPerOp(r),
            chainLength: 3,
          });
        }
        case "stream-1k":
          return stream(o, 1024, bench);
        case "stream-64k":
          return stream(o, 65536, bench);
      }
    },
    async close() {
      echo.close();
      await conn.close();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// grpc-js

export async function grpcClient(address: Address): Promise<BenchClient> {
  const target = address.transport === "unix" ? `unix:${address.path}` : `${address.host}:${address.port}`;
  const c = new GrpcEchoClient(target, grpc.credentials.createInsecure());
  await new Promise<void>((resolve, reject) =>
    c.waitForReady(Date.now() + 30000, (e) => (e ? reject(e) : resolve())),
  );
  const name = "grpc-js";
  const transport = address.transport;
  const echoOnce = async (data: Buffer, verify: boolean): Promise<void> => {
    const got = await grpcEcho(c, data);
    check(verify ? sameBytes(got, data) : got.length === data.length, "echo returned the wrong data");
  };
  return {
    name,
    transport,
    supports: ["echo-sequential", "echo-outstanding"],
    async run(bench, o) {
      const data = Buffer.from(payload(o.payloadBytes));
      if (bench === "echo-sequential" || bench === "echo-outstanding")
        return echoBench(bench, name, transport, o, (verify) => echoOnce(data, verify));
      throw new Error(`grpc-js has no ${bench}`);
    },
    async close() {
      c.close();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// capnweb

type Disp = { [Symbol.dispose]?: () => void };
const dispose = (x: unknown): void => {
  if (x !== null && (typeof x === "object" || typeof x === "function")) (x as Disp)[Symbol.dispose]?.();
};

export async function capnwebClient(address: Address): Promise<BenchClient> {
  const url =
    address.transport === "unix" ? `ws+unix:${address.path}:/` : `ws://${address.host}:${address.port}/`;
  const ws = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  const api = newWebSocketRpcSession(ws as never) as unknown as CapnwebEchoApi & Disp;
  const name = "capnweb";
  const transport = address.transport;
  const echoOnce = async (data: Uint8Array, verify: boolean): Promise<void> => {
    const got = await api.echo(data);
    check(verify ? sameBytes(got, data) : got.length === data.length, "echo returned the wrong data");
    dispose(got);
  };
  const chainPipelined = async (): Promise<number> => {
    const p1 = api.next(0);
    const p2 = p1.echo.next(1);
    const p3 = p2.echo.next(2);
    const r = await p3;
    check(r.n === 3, "chain returned the wrong n");
    dispose(r);
    dispose(p2);
    dispose(p1);
    return 1;
  };
  const chainAwaited = async (): Promise<number> => {
    const a = await api.next(0);
    const b = await a.echo.next(a.n);
    const c = await b.echo.next(b.n);
    check(c.n === 3, "chain returned the wrong n");
    dispose(c);
    dispose(b);
    dispose(a);
    return 1;
  };
  return {
    name,
    transport,
    supports: ["echo-sequential", "chain-pipelined", "chain-awaited", "echo-outstanding"],
    async run(bench, o) {
      const data = payload(o.payloadBytes);
      switch (bench) {
        case "echo-sequential":
        case "echo-outstanding":
          return echoBench(bench, name, transport, o, (verify) => echoOnce(data, verify));
        case "chain-pipelined": {
          const r = await timedSteps(o, chainPipelined);
          return resultLine(bench, name, transport, r.ops, r.seconds, {
            cpuUsPerOp: cpuPerOp(r),
            chainLength: 3,
          });
        }
        case "chain-awaited": {
          const r = await timedSteps(o, chainAwaited);
          return resultLine(bench, name, transport, r.ops, r.seconds, {
            cpuUsPerOp: cpuPerOp(r),
            chainLength: 3,
          });
        }
        default:
          throw new Error(`capnweb has no ${bench}`);
      }
    },
    async close() {
      dispose(api);
      ws.close();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// node:net raw (no RPC: raw.ts)

export async function rawEchoClient(address: Address): Promise<BenchClient> {
  const socket = await connectNet(address);
  socket.setNoDelay(true);
  const name = "node-raw";
  const transport = address.transport;
  // The server answers in order, so replies go to the waiters first come, first served.
  const waiting: ((frame: Buffer | Error) => void)[] = [];
  socket.on(
    "data",
    frameReader((frame) => waiting.shift()?.(frame)),
  );
  const fail = (e: Error): void => {
    for (const w of waiting.splice(0)) w(e);
  };
  socket.on("error", fail);
  const write = gatheredWriter(socket);
  socket.on("close", () => fail(new Error("connection closed")));
  const echoOnce = (data: Uint8Array, verify: boolean): Promise<void> =>
    new Promise((resolve, reject) => {
      waiting.push((frame) => {
        if (frame instanceof Error) return reject(frame);
        const got = frame.subarray(FRAME_HEADER);
        if (verify ? sameBytes(got, data) : got.length === data.length) resolve();
        else reject(new Error("echo returned the wrong data"));
      });
      write(encodeFrame(data));
    });
  return {
    name,
    transport,
    supports: ["echo-sequential", "echo-outstanding"],
    async run(bench, o) {
      const data = payload(o.payloadBytes);
      if (bench === "echo-sequential" || bench === "echo-outstanding")
        return echoBench(bench, name, transport, o, (verify) => echoOnce(data, verify));
      throw new Error(`node-raw has no ${bench}`);
    },
    async close() {
      socket.destroy();
    },
  };
}

export function connectClient(kind: string, address: Address, streamWindow?: number): Promise<BenchClient> {
  switch (kind) {
    case "capnts":
      return capntsClient(address, Runtime.init(), streamWindow === undefined ? {} : { streamWindow });
    case "grpc":
      return grpcClient(address);
    case "capnweb":
      return capnwebClient(address);
    case "raw-echo":
      return rawEchoClient(address);
    default:
      throw new Error(`unknown --kind ${kind} (capnts, grpc, capnweb, raw-echo)`);
  }
}

/** Runs `names` on `client`, one JSON line each; an error becomes an error line. */
export async function runBenches(
  client: BenchClient,
  names: readonly BenchName[],
  o: RunOptions,
  emit: (line: BenchLine) => void,
): Promise<boolean> {
  let ok = true;
  for (const n of names) {
    if (!client.supports.includes(n)) continue;
    try {
      emit(await client.run(n, o));
    } catch (e) {
      ok = false;
      emit({
        bench: n,
        client: client.name,
        transport: client.transport,
        error: e instanceof Error ? e.message : String(e),
      });
    }
  }
  return ok;
}

// ---------------------------------------------------------------------------------------------
// Holding idle connections

async function hold(kind: string, address: Address, batch: number): Promise<void> {
  const rt = Runtime.init();
  const held: { close(): Promise<void> | void }[] = [];
  const data = payload(16);
  const openOne = async (): Promise<void> => {
    if (kind === "raw") {
      const s = await connectNet(address);
      s.on("error", () => {});
      held.push({ close: () => void s.destroy() });
      return;
    }
    const conn = await rt.connect(capntsAddress(address));
    const echo = conn.bootstrap(Echo_Client);
    {
      using p = echo.echo((b) => {
        b.data = data;
      });
      const r = await p;
      check(sameBytes(r.data, data), "echo returned the wrong data");
    }
    held.push({
      close: () => {
        echo.close();
        return conn.close();
      },
    });
  };
  const open = async (count: number): Promise<void> => {
    const t0 = now();
    let left = count;
    const worker = async (): Promise<void> => {
      while (left > 0) {
        left--;
        await openOne();
      }
    };
    await Promise.all(Array.from({ length: Math.min(batch, count) }, worker));
    process.stdout.write(
      `HELD ${JSON.stringify({ connections: held.length, seconds: (now() - t0) / 1000 })}\n`,
    );
  };
  const closeAll = async (): Promise<void> => {
    const t = now();
    await Promise.all(held.splice(0).map((h) => h.close()));
    process.stdout.write(`CLOSED ${JSON.stringify({ seconds: (now() - t) / 1000 })}\n`);
  };
  await lines(async (line) => {
    try {
      if (line.startsWith("OPEN ")) await open(Number(line.slice(5)));
      else if (line.startsWith("ECHO ")) {
        const ms = Number(line.slice(5));
        const c = await capntsClient(address, rt);
        const o = {
          durationMs: ms,
          warmupMs: Math.min(200, ms / 4),
          outstanding: 64,
          payloadBytes: 16,
          verify: false,
        };
        await runBenches(c, ["echo-sequential"], o, emit);
        await c.close();
      } else if (line === "CLOSE") await closeAll();
      else process.stderr.write(`client: unknown command ${line}\n`);
    } catch (e) {
      process.stdout.write(`ERROR ${JSON.stringify(e instanceof Error ? e.message : String(e))}\n`);
    }
  });
  await Promise.all(held.splice(0).map((h) => h.close()));
  await rt.shutdown();
}

// ---------------------------------------------------------------------------------------------

function emit(line: BenchLine): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

function parseOnly(only: string | undefined): BenchName[] {
  if (only === undefined || only === "") return [...BENCHES];
  const names = only.split(",").filter((s) => s !== "");
  for (const n of names)
    if (!(BENCHES as readonly string[]).includes(n)) throw new Error(`unknown benchmark '${n}'`);
  return names as BenchName[];
}

async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ["quick", "verify", "commands", "hold", "help"]);
  if (args.has("help")) {
    process.stdout.write("usage: see the comment at the top of bench/rpc/client.ts\n");
    return 0;
  }
  const connect = args.get("connect");
  if (connect === undefined) throw new Error("--connect is required");
  const address = parseAddress(connect);
  const kind = args.get("kind", "capnts")!;
  if (args.has("hold")) {
    await hold(kind, address, args.int("batch", 200));
    return 0;
  }
  const quick = args.has("quick");
  const o: RunOptions = {
    durationMs: args.int("duration-ms", quick ? 200 : 2000),
    warmupMs: args.int("warmup-ms", quick ? 50 : 200),
    outstanding: args.int("outstanding", 64),
    payloadBytes: args.int("payload", 16),
    verify: args.has("verify"),
  };
  const w = args.get("stream-window");
  const connectOne = async (a: Address): Promise<BenchClient | null> => {
    try {
      return await connectClient(kind, a, w === undefined ? undefined : Number(w));
    } catch (e) {
      emit({
        bench: "connect",
        client: kind,
        transport: a.transport,
        error: e instanceof Error ? e.message : String(e),
      });
      return null;
    }
  };
  let ok = true;
  if (args.has("commands")) {
    // One connection per --connect, all from this process (so they share one warm JIT).
    const clients = await Promise.all(args.all("connect").map((c) => connectOne(parseAddress(c))));
    await lines(async (line) => {
      if (!line.startsWith("RUN ")) {
        process.stderr.write(`client: unknown command ${line}\n`);
        return;
      }
      const req = JSON.parse(line.slice(4)) as {
        target?: number;
        only?: string[];
        durationMs?: number;
        warmupMs?: number;
      };
      const client = clients[req.target ?? 0];
      if (client === undefined || client === null) {
        emit({ bench: "connect", client: kind, error: `no connection ${req.target ?? 0}` });
        ok = false;
      } else {
        const names = parseOnly(req.only?.join(","));
        const ro = { ...o, durationMs: req.durationMs ?? o.durationMs, warmupMs: req.warmupMs ?? o.warmupMs };
        ok = (await runBenches(client, names, ro, emit)) && ok;
      }
      process.stdout.write("DONE\n");
    });
    for (const c of clients) await c?.close();
    return ok && clients.every((c) => c !== null) ? 0 : 1;
  }
  const client = await connectOne(address);
  if (client === null) return 1;
  ok = await runBenches(client, parseOnly(args.get("only")), o, emit);
  await client.close();
  return ok ? 0 : 1;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
      // grpc-js and ws may keep handles open for a moment: do not wait for them.
      setTimeout(() => process.exit(code), 50).unref();
    },
    (e: unknown) => {
      process.stderr.write(`client: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(2);
    },
  );
}
