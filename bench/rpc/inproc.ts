// bench/rpc/inproc.ts: the CPU cost of capnts's RPC stack alone, both sides in one process over an
// in-memory byte stream (real framing; each write is delivered to the peer from a setImmediate,
// like a socket read), so no syscalls, no wake-ups and no second process: what is left is the
// JavaScript work per call, which is what changes to src/rpc and src/wire move. Much less
// sensitive to a busy machine than the socket benchmarks (one thread, CPU time per call).
//
//   node bench/rpc/build.mjs
//   node node_modules/.cache/capnts-bench-rpc/bench/rpc/inproc.js [BENCH[,BENCH...]] [--ms N] [--rounds N]
//
// BENCH: echo-sequential, echo-outstanding, chain-pipelined, chain-awaited, stream-1k, stream-64k
// (default: all). Each is warmed up for --ms (default 1500), then timed --rounds times (default 5)
// for --ms each; prints one line per benchmark: ops/s and CPU µs per op (median, min, max), and the
// socket writes per op. Run it under `node --cpu-prof` to profile both sides at once.
// stream-64k: run it with MALLOC_TRIM_THRESHOLD_=1073741824 in the environment, or its µs per op
// depend on whether glibc happens to give freed 64 KiB buffers back to the kernel in this process
// (2-3x apart from one process to the next: BENCHMARKS.md, issue 17).
// Heap bytes allocated per op (both sides, what the garbage collector will have to clear): the
// growth of V8's used heap over a round in which no collection ran, so start node with a young
// generation large enough to hold a round: `node --max-semi-space-size=1024
// --min-semi-space-size=1024 inproc.js ... --ms 100`. Unlike CPU time it does not move with the
// machine's load; a round with a collection in it prints "gc" instead.
// --alloc-sites=N: after the rounds, one more round under V8's sampling heap profiler (collected
// objects included) and the N functions that allocated most, in bytes per op (an object is
// charged to the function that allocated it, after inlining: an inlined callee's objects go to
// its caller). Where to look when the heap per op moves.
import { Session } from "node:inspector/promises";
import { PerformanceObserver } from "node:perf_hooks";
import { getHeapStatistics } from "node:v8";
import { type ByteStream, Runtime } from "../../src/rpc/index.js";
import { type BenchClient, capntsClient, runBenches } from "./client.js";
import { BENCHES, type BenchLine, type BenchName, parseArgs } from "./common.js";
import { capntsEcho } from "./impls.js";

class MemStream implements ByteStream {
  peer!: MemStream;
  writes = 0;
  private onData: ((c: Uint8Array) => void) | null = null;
  private onEnd: ((e: Error | null) => void) | null = null;
  private closed = false;
  start(onData: (c: Uint8Array) => void, onEnd: (e: Error | null) => void): void {
    this.onData = onData;
    this.onEnd = onEnd;
  }
  write(data: Uint8Array): void {
    if (this.closed) throw new Error("closed");
    this.writes++;
    const copy = data.slice();
    const p = this.peer;
    setImmediate(() => p.onData?.(copy));
  }
  async end(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const p = this.peer;
    setImmediate(() => {
      p.onEnd?.(null);
      this.onEnd?.(null);
    });
  }
}

function pair(): [MemStream, MemStream] {
  const a = new MemStream();
  const b = new MemStream();
  a.peer = b;
  b.peer = a;
  return [a, b];
}

interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: ProfileNode[];
}

/** Runs `round` under the sampling heap profiler; the `top` allocating functions, bytes per op. */
async function allocSites(round: () => Promise<number>, top: number): Promise<string[]> {
  const session = new Session();
  session.connect();
  await session.post("HeapProfiler.enable");
  await session.post("HeapProfiler.startSampling", {
    samplingInterval: 64,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  const ops = await round();
  const { profile } = (await session.post("HeapProfiler.stopSampling")) as { profile: { head: ProfileNode } };
  session.disconnect();
  const bytes = new Map<string, number>();
  const walk = (node: ProfileNode): void => {
    const f = node.callFrame;
    const where = `${f.functionName || "(anonymous)"} ${f.url.split("/").slice(-2).join("/")}:${f.lineNumber + 1}`;
    if (node.selfSize > 0) bytes.set(where, (bytes.get(where) ?? 0) + node.selfSize);
    for (const c of node.children) walk(c);
  };
  walk(profile.head);
  return [...bytes]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(
      ([where, b]) =>
        `  ${Math.round(b / ops)
          .toString()
          .padStart(6)} B/op  ${where}`,
    );
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const names = (
    argv[0] !== undefined && !argv[0].startsWith("--") ? argv.shift()!.split(",") : [...BENCHES]
  ) as BenchName[];
  const args = parseArgs(argv, []);
  const ms = args.int("ms", 1500);
  const rounds = args.int("rounds", 5);
  const sites = args.int("alloc-sites", 0);
  let gcs = 0;
  const gcWatch = new PerformanceObserver((list) => {
    gcs += list.getEntries().length;
  });
  gcWatch.observe({ entryTypes: ["gc"] });
  const rt = Runtime.init();
  const server = rt.newServer({ createFor: () => capntsEcho() });
  const [cs, ss] = pair();
  void server.accept(ss);
  // capntsClient over our stream: connectStream instead of a socket.
  const client: BenchClient = await capntsClient(
    { transport: "tcp", host: "", port: 0, path: "" },
    rt,
    {},
    cs,
  );
  for (const n of names) {
    const o = { durationMs: ms, warmupMs: 0, outstanding: 64, payloadBytes: 16, verify: false };
    const lines: BenchLine[] = [];
    await runBenches(client, [n], o, (l) => lines.push(l)); // warm-up
    const ops: number[] = [];
    const cpu: number[] = [];
    const alloc: number[] = [];
    const w0 = cs.writes;
    let total = 0;
    for (let r = 0; r < rounds; r++) {
      // PerformanceObserver reports collections from a later task: let those of the last round in.
      await new Promise((r) => setImmediate(r));
      const g0 = gcs;
      const h0 = getHeapStatistics().used_heap_size;
      const c0 = process.cpuUsage();
      const got: BenchLine[] = [];
      await runBenches(client, [n], o, (l) => got.push(l));
      const c = process.cpuUsage(c0);
      const h = getHeapStatistics().used_heap_size - h0;
      await new Promise((r) => setImmediate(r));
      const l = got[0]!;
      if (l.error !== undefined) throw new Error(`${n}: ${l.error}`);
      ops.push(l.opsPerSec!);
      // The benchmark's own warm-up is 0: CPU over the round is CPU over the timed ops.
      cpu.push((c.user + c.system) / l.ops!);
      if (gcs === g0) alloc.push(h / l.ops!);
      total += l.ops!;
    }
    const writes = (cs.writes - w0) / total;
    process.stdout.write(
      `${n.padEnd(17)} ${Math.round(median(ops)).toLocaleString("en-US").padStart(9)} ops/s   CPU ${median(cpu).toFixed(2).padStart(7)} µs/op (${Math.min(...cpu).toFixed(2)}-${Math.max(...cpu).toFixed(2)})   client writes/op ${writes.toFixed(2)}   heap ${alloc.length === 0 ? "gc" : `${Math.round(median(alloc))} B/op`}\n`,
    );
    if (sites > 0) {
      const round = async (): Promise<number> => {
        let done = 0;
        await runBenches(client, [n], o, (l) => {
          done = l.ops ?? 0;
        });
        return Math.max(1, done);
      };
      process.stdout.write(`${(await allocSites(round, sites)).join("\n")}\n`);
    }
  }
  await client.close();
  await rt.shutdown();
  gcWatch.disconnect();
}

await main();
