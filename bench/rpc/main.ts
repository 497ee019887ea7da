/**
 * RPC benchmarks (issue 7): client and server in separate processes, over loopback TCP and a Unix
 * socket, for capnts and the C++ implementation (libcapnp 0.9.2; bench/cpp) in all four pairings,
 * plus @grpc/grpc-js and capnweb as what a TS user would pick instead, and "Node raw" (no RPC:
 * length-framed echo over node:net, raw.ts; the echo benchmarks only) for the bound Node itself
 * sets; then memory per idle connection and a server holding 10,000 idle connections. Prints
 * markdown tables (method and latest results: BENCHMARKS.md).
 *
 *   npm run bench -- --group=rpc [--quick]
 *   node --import tsx bench/rpc/main.ts [--quick] [--rounds=N] [--duration-ms=N] [--warmup-ms=N]
 *        [--transport=tcp,unix]
 *        [--pair=TS↔TS,C++↔C++,…|ts-ts,cpp-cpp,ts-cpp,cpp-ts,grpc,capnweb,raw]
 *        [--bench=echo-sequential,…] [--no-memory] [--memory-only] [--idle=N] [--hold=N]
 *        [--warm-round-ms=N] [--hold-cpp] [--json=FILE] [--smoke] [--from-source]
 *
 * Defaults: 5 rounds of 1000 ms per benchmark (warm-up 200 ms), an unrecorded warm-up round of
 * 1000 ms per benchmark first, 1000 idle connections, 10,000 held (capnts and C++ servers).
 * --quick: 3 rounds of 60 ms (warm-up 15 ms), warm-up round 250 ms, 300 idle, 10,000 held by the
 * capnts server only (--hold-cpp adds the C++ one). --smoke: 1 round of 30 ms, tiny counts.
 *
 * This driver only starts processes and collects their JSON lines, so it may run through tsx; the
 * programs it times are compiled with tsc first (bench/rpc/build.mjs) and run as plain JavaScript:
 * through tsx, esbuild's keepNames makes V8 11 bail out of optimizing class constructors
 * (BENCHMARKS.md, finding 4). --from-source runs them through tsx instead (the smoke test).
 *
 * Method: every server runs for the whole run (one process per implementation; the C++ one per
 * transport). Each round runs every (pair, transport) case once, in an order rotated every round,
 * so a slow spell of the machine hits all pairs alike; a case runs all its benchmarks, each a
 * warm-up then --duration-ms of counting (bench-echo-client's method, which the TS client copies).
 * The C++ client is a new process each round; the TS clients are one process per kind (capnts,
 * grpc-js, capnweb, raw-echo) for the whole run, connected to every server they measure and told over stdin
 * what to run, so their JIT stays warm; an unrecorded warm-up round first warms them and the TS
 * server. Tables show medians over the rounds; ratios are of medians.
 *
 * Arguments it does not know (bench/run.mjs passes every argument to every group) are ignored.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildBench, toolchainProblem } from "../../test/interop/build.mjs";
import { BENCHES, type BenchLine, type BenchName } from "./common.js";
import { Proc } from "./procs.js";
import {
  fmtBytes,
  fmtNum,
  PAIRS,
  type PairName,
  pipeliningTable,
  REF,
  type Results,
  type Stat,
  stat,
  TRANSPORT_LABEL,
  type Transport,
  targetsTable,
  throughputTable,
} from "./report.js";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");

// ---------------------------------------------------------------------------------------------
// Options

interface Options {
  quick: boolean;
  smoke: boolean;
  rounds: number;
  durationMs: number;
  warmupMs: number;
  transports: Transport[];
  pairs: PairName[];
  benches: BenchName[];
  throughput: boolean;
  memory: boolean;
  idle: number;
  hold: number;
  /** Unrecorded warm-up round first, ms per benchmark (JIT of the TS clients and server). */
  warmRoundMs: number;
  /** Also hold the connections with the C++ server (full runs). */
  holdCpp: boolean;
  json: string | undefined;
  fromSource: boolean;
}

const PAIR_ALIASES: Record<string, PairName> = {
  "ts-ts": "TS↔TS",
  "cpp-cpp": "C++↔C++",
  "ts-cpp": "TS→C++",
  "cpp-ts": "C++→TS",
  grpc: "grpc-js",
  "grpc-js": "grpc-js",
  capnweb: "capnweb",
  raw: "Node raw",
  "node-raw": "Node raw",
};

function parseOptions(argv: readonly string[]): Options {
  const o: Options = {
    quick: false,
    smoke: false,
    rounds: 5,
    durationMs: 1000,
    warmupMs: 200,
    transports: ["tcp", "unix"],
    pairs: [...PAIRS],
    benches: [...BENCHES],
    throughput: true,
    memory: true,
    idle: 1000,
    hold: 10000,
    warmRoundMs: 1000,
    holdCpp: true,
    json: undefined,
    fromSource: false,
  };
  const explicit = new Map<string, string>();
  for (const arg of argv) {
    const eq = arg.indexOf("=");
    const k = eq < 0 ? arg : arg.slice(0, eq);
    const v = eq < 0 ? "" : arg.slice(eq + 1);
    explicit.set(k, v);
  }
  if (explicit.has("--quick")) {
    o.quick = true;
    o.rounds = 3;
    o.durationMs = 60;
    o.warmupMs = 15;
    o.idle = 300;
    o.warmRoundMs = 250;
    o.holdCpp = false;
  }
  if (explicit.has("--smoke")) {
    o.smoke = true;
    o.rounds = 1;
    o.durationMs = 30;
    o.warmupMs = 10;
    o.idle = 20;
    o.hold = 50;
    o.warmRoundMs = 0;
  }
  const list = (k: string): string[] | undefined => {
    const v = explicit.get(k);
    return v === undefined ? undefined : v.split(",").filter((s) => s !== "");
  };
  const num = (k: string, d: number): number => {
    const v = explicit.get(k);
    if (v === undefined) return d;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new Error(`${k} wants a number`);
    return n;
  };
  o.rounds = Math.max(1, num("--rounds", o.rounds));
  o.durationMs = num("--duration-ms", o.durationMs);
  o.warmupMs = num("--warmup-ms", o.warmupMs);
  o.idle = num("--idle", o.idle);
  o.hold = num("--hold", o.hold);
  o.warmRoundMs = num("--warm-round-ms", o.warmRoundMs);
  if (explicit.has("--hold-cpp")) o.holdCpp = true;
  const ts = list("--transport");
  if (ts !== undefined) {
    for (const t of ts) if (t !== "tcp" && t !== "unix") throw new Error(`unknown transport ${t}`);
    o.transports = ts as Transport[];
  }
  const ps = list("--pair");
  if (ps !== undefined) {
    o.pairs = ps.map((p) => {
      const n = PAIR_ALIASES[p] ?? (PAIRS as readonly string[]).find((x) => x === p);
      if (n === undefined) throw new Error(`unknown pair ${p} (${Object.keys(PAIR_ALIASES).join(", ")})`);
      return n as PairName;
    });
    o.pairs = PAIRS.filter((p) => o.pairs.includes(p));
  }
  const bs = list("--bench");
  if (bs !== undefined) {
    for (const b of bs)
      if (!(BENCHES as readonly string[]).includes(b)) throw new Error(`unknown benchmark ${b}`);
    o.benches = BENCHES.filter((b) => bs.includes(b));
  }
  if (explicit.has("--no-memory")) o.memory = false;
  if (explicit.has("--memory-only")) o.throughput = false;
  o.json = explicit.get("--json");
  o.fromSource = explicit.has("--from-source");
  return o;
}

const log = (s: string): void => void process.stderr.write(`[rpc] ${s}\n`);

// ---------------------------------------------------------------------------------------------
// Programs

interface Programs {
  /** [file, args...] to run a TS program ("server" or "client") with extra node flags. */
  ts(name: "server" | "client", nodeFlags?: string[]): [string, string[]];
  cppServer: string | null;
  cppClient: string | null;
  cppProblem: string | null;
}

async function programs(o: Options): Promise<Programs> {
  let dir = here;
  let ext = ".ts";
  let loader: string[] = ["--import", "tsx"];
  if (!o.fromSource) {
    log("compiling bench/rpc with tsc (bench/rpc/build.mjs)");
    const r = spawnSync(process.execPath, [join(here, "build.mjs")], {
      cwd: root,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
    });
    if (r.status !== 0) throw new Error(`bench/rpc/build.mjs failed (${r.status ?? r.signal})`);
    dir = r.stdout.trim().split("\n").pop()!;
    ext = ".js";
    loader = [];
  }
  let cppServer: string | null = null;
  let cppClient: string | null = null;
  let cppProblem = await toolchainProblem();
  if (cppProblem === null) {
    try {
      log("building the C++ programs (test/interop/build.mjs --bench)");
      const { binDir } = await buildBench();
      cppServer = join(binDir, "bench-echo-server");
      cppClient = join(binDir, "bench-echo-client");
    } catch (e) {
      cppProblem = e instanceof Error ? e.message : String(e);
    }
  }
  return {
    ts: (name, nodeFlags = []) => [process.execPath, [...nodeFlags, ...loader, join(dir, `${name}${ext}`)]],
    cppServer,
    cppClient,
    cppProblem,
  };
}

// ---------------------------------------------------------------------------------------------
// Servers

interface Server {
  proc: Proc;
  /** Address per transport, as the programs print it ("tcp:127.0.0.1:PORT", "unix:PATH"). */
  addr: Partial<Record<Transport, string>>;
}

async function startServer(name: string, file: string, args: string[], listens: string[]): Promise<Server> {
  const proc = new Proc(name, file, [...args, ...listens.flatMap((l) => ["--listen", l])]);
  const addr: Partial<Record<Transport, string>> = {};
  for (let i = 0; i < listens.length; i++) {
    const line = await proc.waitLine((l) => l.startsWith("LISTENING "), 30000);
    const a = line.slice("LISTENING ".length).trim();
    addr[a.startsWith("unix:") ? "unix" : "tcp"] = a;
  }
  return { proc, addr };
}

function listenAddress(t: Transport, dir: string, name: string): string {
  return t === "tcp" ? "tcp:127.0.0.1:0" : `unix:${join(dir, `${name}.sock`)}`;
}

// ---------------------------------------------------------------------------------------------
// Throughput and latency

interface Case {
  pair: PairName;
  transport: Transport;
  run(o: Options): Promise<BenchLine[]>;
  stop(): Promise<void>;
}

function parseLines(lines: readonly string[]): BenchLine[] {
  const out: BenchLine[] = [];
  for (const l of lines) {
    const t = l.trim();
    if (!t.startsWith("{")) continue;
    out.push(JSON.parse(t) as BenchLine);
  }
  return out;
}

/**
 * A TS client process (one per kind) kept running for the whole run (--commands), with one
 * connection per address; its cases run on it one at a time, so they share its warm JIT.
 */
class TsClients {
  private readonly proc: Proc;
  private readonly addrs: string[];

  constructor(p: Programs, kind: string, addrs: string[], o: Options) {
    const [file, pre] = p.ts("client");
    const args = [...pre, "--kind", kind, ...addrs.flatMap((a) => ["--connect", a]), "--commands"];
    if (o.smoke) args.push("--verify");
    this.proc = new Proc(`${kind} client`, file, args);
    this.addrs = addrs;
  }

  async run(target: string, opts: Options): Promise<BenchLine[]> {
    const i = this.addrs.indexOf(target);
    const req = { target: i, only: opts.benches, durationMs: opts.durationMs, warmupMs: opts.warmupMs };
    this.proc.send(`RUN ${JSON.stringify(req)}`);
    await this.proc.waitLine(
      (l) => l === "DONE",
      120000 + opts.benches.length * (opts.durationMs + opts.warmupMs) * 4,
    );
    return parseLines(this.proc.takeLines());
  }

  case(pair: PairName, transport: Transport, target: string): Case {
    return { pair, transport, run: (opts) => this.run(target, opts), stop: async () => {} };
  }

  async stop(): Promise<void> {
    await this.proc.stop();
  }
}

/** The C++ client: a new process per round. */
function cppCase(p: Programs, pair: PairName, transport: Transport, address: string): Case {
  return {
    pair,
    transport,
    async run(opts) {
      const only = opts.benches.join(",");
      const proc = new Proc(`${pair} client (${transport})`, p.cppClient!, [
        "--connect",
        address,
        "--only",
        only,
        "--duration-ms",
        String(opts.durationMs),
        "--warmup-ms",
        String(opts.warmupMs),
        "--timeout-ms",
        String(120000 + opts.benches.length * (opts.durationMs + opts.warmupMs) * 4),
      ]);
      await proc.wait();
      const lines = parseLines(proc.takeLines());
      if (lines.length === 0)
        throw new Error(
          `${pair} (${transport}): the C++ client printed nothing; stderr:\n${proc.stderr.slice(-2000)}`,
        );
      return lines;
    },
    async stop() {},
  };
}

interface Sample {
  pair: PairName;
  transport: Transport;
  bench: BenchName;
  round: number;
  opsPerSec: number;
  mbPerSec?: number;
}

async function runThroughput(o: Options, p: Programs, dir: string, errors: string[]): Promise<Sample[]> {
  const cppOk = p.cppServer !== null && p.cppClient !== null;
  const pairs = o.pairs.filter((x) => cppOk || !x.includes("C++"));
  const needTs = pairs.some((x) => x === "TS↔TS" || x === "C++→TS");
  const needCpp = pairs.some((x) => x === "C++↔C++" || x === "TS→C++");
  const servers: Server[] = [];
  const cases: Case[] = [];
  const clientProcs: TsClients[] = [];
  const samples: Sample[] = [];
  try {
    let ts: Server | undefined;
    const cpp: Partial<Record<Transport, Server>> = {};
    let grpcS: Server | undefined;
    let capnwebS: Server | undefined;
    let rawS: Server | undefined;
    // Start the servers at once (each prints its LISTENING lines when ready).
    const starting: Promise<void>[] = [];
    const track = (pr: Promise<Server>, set: (s: Server) => void): void => {
      starting.push(
        pr.then((s) => {
          servers.push(s);
          set(s);
        }),
      );
    };
    const [sf, sa] = p.ts("server");
    const tsListen = (name: string) => o.transports.map((t) => listenAddress(t, dir, name));
    if (needTs)
      track(startServer("TS server", sf, [...sa, "--kind", "capnts"], tsListen("capnts")), (s) => (ts = s));
    if (needCpp) {
      for (const t of o.transports) {
        track(
          startServer(`C++ server (${t})`, p.cppServer!, [], [listenAddress(t, dir, "cpp")]),
          (s) => (cpp[t] = s),
        );
      }
    }
    if (pairs.includes("grpc-js"))
      track(
        startServer("grpc-js server", sf, [...sa, "--kind", "grpc"], tsListen("grpc")),
        (s) => (grpcS = s),
      );
    if (pairs.includes("capnweb"))
      track(
        startServer("capnweb server", sf, [...sa, "--kind", "capnweb"], tsListen("capnweb")),
        (s) => (capnwebS = s),
      );
    if (pairs.includes("Node raw"))
      track(
        startServer("raw-echo server", sf, [...sa, "--kind", "raw-echo"], tsListen("raw")),
        (s) => (rawS = s),
      );
    const started = await Promise.allSettled(starting);
    for (const r of started) if (r.status === "rejected") throw r.reason;
    // One TS client process per kind, connected to every server it measures.
    const addrsFor = (list: [PairName, Server | undefined][]): string[] =>
      list.flatMap(([pair, srv]) =>
        pairs.includes(pair) && srv !== undefined ? o.transports.map((t) => srv.addr[t]!) : [],
      );
    const capntsTargets = [
      ...addrsFor([["TS↔TS", ts]]),
      ...(pairs.includes("TS→C++") ? o.transports.map((t) => cpp[t]!.addr[t]!) : []),
    ];
    const capntsClients = capntsTargets.length > 0 ? new TsClients(p, "capnts", capntsTargets, o) : undefined;
    const grpcClients =
      grpcS !== undefined ? new TsClients(p, "grpc", addrsFor([["grpc-js", grpcS]]), o) : undefined;
    const capnwebClients =
      capnwebS !== undefined ? new TsClients(p, "capnweb", addrsFor([["capnweb", capnwebS]]), o) : undefined;
    const rawClients =
      rawS !== undefined ? new TsClients(p, "raw-echo", addrsFor([["Node raw", rawS]]), o) : undefined;
    for (const c of [capntsClients, grpcClients, capnwebClients, rawClients])
      if (c !== undefined) clientProcs.push(c);
    for (const t of o.transports) {
      for (const pair of pairs) {
        switch (pair) {
          case "C++↔C++":
            cases.push(cppCase(p, pair, t, cpp[t]!.addr[t]!));
            break;
          case "C++→TS":
            cases.push(cppCase(p, pair, t, ts!.addr[t]!));
            break;
          case "TS↔TS":
            cases.push(capntsClients!.case(pair, t, ts!.addr[t]!));
            break;
          case "TS→C++":
            cases.push(capntsClients!.case(pair, t, cpp[t]!.addr[t]!));
            break;
          case "grpc-js":
            cases.push(grpcClients!.case(pair, t, grpcS!.addr[t]!));
            break;
          case "capnweb":
            cases.push(capnwebClients!.case(pair, t, capnwebS!.addr[t]!));
            break;
          case "Node raw":
            cases.push(rawClients!.case(pair, t, rawS!.addr[t]!));
            break;
        }
      }
    }
    if (o.warmRoundMs > 0) {
      // JIT warm-up of the TS processes: one unrecorded pass of every benchmark of the first case
      // of each TS client process (TS↔TS also warms the TS server), and of C++→TS when TS↔TS is
      // not measured.
      const t0 = performance.now();
      const warm = { ...o, durationMs: o.warmRoundMs, warmupMs: 0 };
      const firsts = new Map<string, Case>();
      for (const c of cases) {
        const kind =
          c.pair === "TS↔TS" || c.pair === "TS→C++" ? "capnts" : c.pair === "C++→TS" ? "server" : c.pair;
        if (kind !== "C++↔C++" && !firsts.has(kind)) firsts.set(kind, c);
      }
      if (firsts.has("capnts") && firsts.get("capnts")!.pair === "TS↔TS") firsts.delete("server");
      for (const c of firsts.values()) {
        try {
          for (const l of await c.run(warm)) {
            if (l.error !== undefined)
              errors.push(`${c.pair} (${c.transport}) ${l.bench}, warm-up: ${l.error}`);
          }
        } catch (e) {
          errors.push(`${c.pair} (${c.transport}), warm-up: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
      log(`warm-up round done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }
    for (let r = 0; r < o.rounds; r++) {
      const k = cases.length === 0 ? 0 : r % cases.length;
      const order = [...cases.slice(k), ...cases.slice(0, k)];
      const t0 = performance.now();
      for (const c of order) {
        let lines: BenchLine[];
        try {
          lines = await c.run(o);
        } catch (e) {
          errors.push(
            `${c.pair} (${c.transport}), round ${r + 1}: ${e instanceof Error ? e.message : String(e)}`,
          );
          continue;
        }
        for (const l of lines) {
          if (l.error !== undefined) {
            errors.push(`${c.pair} (${c.transport}) ${l.bench}, round ${r + 1}: ${l.error}`);
            continue;
          }
          if (!(BENCHES as readonly string[]).includes(l.bench) || l.opsPerSec === undefined) continue;
          const s: Sample = {
            pair: c.pair,
            transport: c.transport,
            bench: l.bench as BenchName,
            round: r,
            opsPerSec: l.opsPerSec,
          };
          if (l.mbPerSec !== undefined) s.mbPerSec = l.mbPerSec;
          if (l.ops === 0)
            errors.push(`${c.pair} (${c.transport}) ${l.bench}, round ${r + 1}: no calls completed`);
          samples.push(s);
        }
      }
      log(
        `round ${r + 1}/${o.rounds} done in ${((performance.now() - t0) / 1000).toFixed(1)} s (load average ${loadavg()[0]!.toFixed(1)})`,
      );
    }
  } finally {
    await Promise.all(cases.map((c) => c.stop().catch(() => {})));
    await Promise.all(clientProcs.map((c) => c.stop().catch(() => {})));
    await Promise.all(servers.map((s) => s.proc.stop().catch(() => null)));
  }
  return samples;
}

// ---------------------------------------------------------------------------------------------
// Memory

interface Heap {
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  rss: number;
  connections: number;
}

async function heapOf(s: Server): Promise<Heap> {
  s.proc.send("HEAP");
  const l = await s.proc.waitLine((x) => x.startsWith("HEAP "), 60000);
  return JSON.parse(l.slice(5)) as Heap;
}

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m === null ? Number.NaN : Number(m[1]) * 1024;
}

async function waitConnections(s: Server, n: number, timeoutMs: number): Promise<Heap> {
  const end = performance.now() + timeoutMs;
  for (;;) {
    const h = await heapOf(s);
    if (h.connections === n || performance.now() > end) return h;
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface HoldClient {
  proc: Proc;
  open(n: number): Promise<{ connections: number; seconds: number }>;
  echo(ms: number): Promise<number>;
  close(): Promise<number>;
}

function holdClient(p: Programs, kind: "capnts" | "raw", address: string): HoldClient {
  const [file, pre] = p.ts("client");
  const proc = new Proc(`hold client (${kind})`, file, [
    ...pre,
    "--kind",
    kind,
    "--connect",
    address,
    "--hold",
    "--batch",
    "100",
  ]);
  const answer = async (prefix: string, timeoutMs: number): Promise<string> => {
    const l = await proc.waitLine((x) => x.startsWith(prefix) || x.startsWith("ERROR "), timeoutMs);
    if (l.startsWith("ERROR ")) throw new Error(`hold client: ${JSON.parse(l.slice(6)) as string}`);
    return l.slice(prefix.length);
  };
  return {
    proc,
    async open(n) {
      proc.send(`OPEN ${n}`);
      return JSON.parse(await answer("HELD ", 60000 + n * 20)) as { connections: number; seconds: number };
    },
    async echo(ms) {
      proc.send(`ECHO ${ms}`);
      const l = JSON.parse(await answer("{", 60000 + ms * 2).then((x) => `{${x}`)) as BenchLine;
      if (l.error !== undefined) throw new Error(`echo while holding: ${l.error}`);
      return l.opsPerSec ?? Number.NaN;
    },
    async close() {
      proc.send("CLOSE");
      return (JSON.parse(await answer("CLOSED ", 120000)) as { seconds: number }).seconds;
    },
  };
}

interface IdleRow {
  server: string;
  clients: string;
  n: number;
  heap?: number;
  external?: number;
  rss: number;
  left?: number;
}

interface HoldRow {
  server: string;
  n: number;
  held: number;
  openSeconds: number;
  heap?: number;
  rss: number;
  rssTotal: number;
  echoBefore: number;
  echoDuring: number;
  closeSeconds: number;
  left?: number;
}

async function runMemory(
  o: Options,
  p: Programs,
  errors: string[],
): Promise<{ idle: IdleRow[]; hold: HoldRow[] }> {
  const idle: IdleRow[] = [];
  const hold: HoldRow[] = [];
  const tsServer = (kind: string): Promise<Server> => {
    const [f, a] = p.ts("server", ["--expose-gc"]);
    return startServer(`${kind} server (memory)`, f, [...a, "--kind", kind], ["tcp:127.0.0.1:0"]);
  };
  const cppServer = (): Promise<Server> =>
    startServer("C++ server (memory)", p.cppServer!, [], ["tcp:127.0.0.1:0"]);

  // Heap per idle connection: a fresh server, N connections, heap after GC before and after.
  const idleCases: [string, string, () => Promise<Server>, "capnts" | "raw", boolean][] = [
    [
      "capnts",
      "capnts clients (bootstrap + 1 echo each, then idle)",
      () => tsServer("capnts"),
      "capnts",
      true,
    ],
    ["capnts", "raw sockets (connected, never sent a byte)", () => tsServer("capnts"), "raw", true],
    ["node:net (no RPC, baseline)", "raw sockets", () => tsServer("net"), "raw", true],
  ];
  if (p.cppServer !== null)
    idleCases.push([
      "C++ 0.9.2",
      "capnts clients (bootstrap + 1 echo each, then idle)",
      cppServer,
      "capnts",
      false,
    ]);
  for (const [server, clients, start, kind, isTs] of idleCases) {
    let s: Server | undefined;
    let c: HoldClient | undefined;
    try {
      s = await start();
      const addr = s.addr.tcp!;
      c = holdClient(p, kind, addr);
      // One connection first, so that one-time costs (code, first-use caches) are not counted.
      await c.open(1);
      const h0 = isTs ? await waitConnections(s, 1, 10000) : undefined;
      const r0 = rssOf(s.proc.pid!);
      const held = await c.open(o.idle);
      const h1 = isTs ? await waitConnections(s, o.idle + 1, 30000) : undefined;
      const r1 = rssOf(s.proc.pid!);
      if (h1 !== undefined && h1.connections !== o.idle + 1)
        errors.push(
          `memory (${server}, ${kind}): server saw ${h1.connections} connections, expected ${o.idle + 1}`,
        );
      await c.close();
      const h2 = isTs ? await waitConnections(s, 0, 30000) : undefined;
      if (h2 !== undefined && h2.connections !== 0)
        errors.push(`memory (${server}, ${kind}): ${h2.connections} connections left after closing`);
      const row: IdleRow = { server, clients, n: held.connections - 1, rss: (r1 - r0) / o.idle };
      if (h0 !== undefined && h1 !== undefined) {
        row.heap = (h1.heapUsed - h0.heapUsed) / o.idle;
        row.external = (h1.external - h0.external) / o.idle;
      }
      if (h2 !== undefined) row.left = h2.connections;
      idle.push(row);
      log(
        `memory: ${server} with ${o.idle} ${kind} connections: ${row.heap === undefined ? "" : `heap ${fmtBytes(row.heap)}/conn, `}RSS ${fmtBytes(row.rss)}/conn`,
      );
    } catch (e) {
      errors.push(`memory (${server}, ${kind}): ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      await c?.proc.stop();
      await s?.proc.stop();
    }
  }

  // A server holding `hold` idle connections, echo latency on one more connection before/while.
  const holdCases: [string, () => Promise<Server>, boolean][] = [["capnts", () => tsServer("capnts"), true]];
  if (p.cppServer !== null && o.holdCpp) holdCases.push(["C++ 0.9.2", cppServer, false]);
  const echoMs = o.smoke ? 50 : o.quick ? 300 : 1000;
  for (const [server, start, isTs] of holdCases) {
    let s: Server | undefined;
    let c: HoldClient | undefined;
    try {
      s = await start();
      c = holdClient(p, "capnts", s.addr.tcp!);
      await c.echo(echoMs); // JIT warm-up of the client process
      const echoBefore = await c.echo(echoMs);
      const h0 = isTs ? await waitConnections(s, 0, 10000) : undefined;
      const r0 = rssOf(s.proc.pid!);
      const held = await c.open(o.hold);
      const h1 = isTs ? await waitConnections(s, o.hold, 60000) : undefined;
      const r1 = rssOf(s.proc.pid!);
      const echoDuring = await c.echo(echoMs);
      const closeSeconds = await c.close();
      const h2 = isTs ? await waitConnections(s, 0, 60000) : undefined;
      const row: HoldRow = {
        server,
        n: o.hold,
        held: held.connections,
        openSeconds: held.seconds,
        rss: (r1 - r0) / o.hold,
        rssTotal: r1,
        echoBefore,
        echoDuring,
        closeSeconds,
      };
      if (h0 !== undefined && h1 !== undefined) row.heap = (h1.heapUsed - h0.heapUsed) / o.hold;
      if (h2 !== undefined) row.left = h2.connections;
      if (held.connections !== o.hold) errors.push(`hold (${server}): held ${held.connections} of ${o.hold}`);
      if (h1 !== undefined && h1.connections !== o.hold)
        errors.push(`hold (${server}): server saw ${h1.connections} of ${o.hold}`);
      if (h2 !== undefined && h2.connections !== 0)
        errors.push(`hold (${server}): ${h2.connections} connections left after closing`);
      hold.push(row);
      log(`hold: ${server} held ${held.connections} connections (opened in ${held.seconds.toFixed(1)} s)`);
    } catch (e) {
      errors.push(`hold (${server}): ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      await c?.proc.stop(30000);
      await s?.proc.stop(30000);
    }
  }
  return { idle, hold };
}

// ---------------------------------------------------------------------------------------------
// Report

function memoryTables(idle: IdleRow[], hold: HoldRow[], o: Options): string {
  const out: string[] = [];
  if (idle.length > 0) {
    out.push(`### Memory per idle connection (server side, ${o.idle} connections over loopback TCP)`, "");
    out.push("| server | clients | heapUsed / conn | external / conn | RSS / conn |");
    out.push("|---|---|---:|---:|---:|");
    for (const r of idle) {
      out.push(
        `| ${r.server} | ${r.clients} | ${r.heap === undefined ? "n/a" : fmtBytes(r.heap)} | ${r.external === undefined ? "n/a" : fmtBytes(r.external)} | ${fmtBytes(r.rss)} |`,
      );
    }
    out.push(
      "",
      "heapUsed and external: the server's `process.memoryUsage()` after two forced GCs (`--expose-gc`), before and after opening the connections, over their number; RSS from `/proc/PID/status`. One connection is opened first so that one-time costs are not counted.",
      "",
    );
  }
  if (hold.length > 0) {
    out.push(
      `### A server holding ${hold[0]!.n.toLocaleString("en-US")} idle connections (loopback TCP, capnts clients in one process)`,
      "",
    );
    out.push(
      "| server | opened in | heapUsed / conn | RSS / conn | server RSS | echo/s before | echo/s while holding | closed in | left open |",
    );
    out.push("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (const r of hold) {
      out.push(
        `| ${r.server} | ${r.openSeconds.toFixed(1)} s | ${r.heap === undefined ? "n/a" : fmtBytes(r.heap)} | ${fmtBytes(r.rss)} | ${fmtBytes(r.rssTotal)} | ${fmtNum(r.echoBefore)} | ${fmtNum(r.echoDuring)} | ${r.closeSeconds.toFixed(1)} s | ${r.left ?? "n/a"} |`,
      );
    }
    out.push(
      "",
      "Each connection: connect, bootstrap, one echo call, then idle. Echo/s: sequential echo (capnts client) on one more connection before opening them and while they are held. Left open: the server's count after the client closed them all.",
      "",
    );
  }
  return out.join("\n");
}

function summarize(samples: readonly Sample[]): Results {
  const map = new Map<string, Stat | undefined>();
  return (pair, transport, bench) => {
    const k = `${pair}|${transport}|${bench}`;
    if (!map.has(k)) {
      map.set(
        k,
        stat(
          samples
            .filter((s) => s.pair === pair && s.transport === transport && s.bench === bench)
            .map((s) => s.opsPerSec),
        ),
      );
    }
    return map.get(k);
  };
}

function machine(): string {
  const c = cpus();
  return `${c.length} cores, ${c[0]?.model ?? "unknown CPU"}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`;
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const o = parseOptions(process.argv.slice(2));
  const t0 = performance.now();
  const errors: string[] = [];
  const p = await programs(o);
  const dir = mkdtempSync(join(tmpdir(), "capnts-rpc-bench-"));
  let samples: Sample[] = [];
  let mem: { idle: IdleRow[]; hold: HoldRow[] } = { idle: [], hold: [] };
  try {
    if (o.throughput) samples = await runThroughput(o, p, dir, errors);
    if (o.memory) mem = await runMemory(o, p, errors);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const get = summarize(samples);
  const pairs = o.pairs.filter((x) => (p.cppClient !== null && p.cppServer !== null) || !x.includes("C++"));
  const out: string[] = [];
  out.push("## rpc", "");
  out.push(
    `${machine()}, load average ${loadavg()
      .map((x) => x.toFixed(1))
      .join(
        " ",
      )}; ${o.quick ? "quick, " : ""}${o.rounds} round${o.rounds === 1 ? "" : "s"} of ${o.durationMs} ms per benchmark (warm-up ${o.warmupMs} ms) after an unrecorded round of ${o.warmRoundMs} ms per benchmark; medians, ± median absolute deviation when above 5%.`,
    "",
  );
  if (p.cppProblem !== null) out.push(`C++ pairs skipped: ${p.cppProblem}`, "");
  if (o.throughput) {
    for (const t of o.transports) {
      out.push(`### RPC over ${TRANSPORT_LABEL[t]}`, "");
      out.push(throughputTable(get, t, o.benches, pairs), "");
    }
    out.push(
      `Pairs are client↔server (TS→C++: capnts client, C++ server). Reference: ${REF}, libcapnp 0.9.2 (bench/cpp). grpc-js: unary echo of the raw bytes (no protobuf); capnweb 0.12 over a WebSocket (ws 8); neither has the streaming benchmarks. Node raw: no RPC, a 4-byte length and the payload over node:net, writes gathered per turn as a Node user batching writes would (the client corks its socket until the next tick, the server echoes each read's frames in one write; the echo benchmarks only): the floor Node itself sets, issue 17's at 64 outstanding. Payload ${16} bytes; streams end with finish(), inside the timed interval.`,
      "",
    );
    if (o.benches.includes("chain-pipelined") && o.benches.includes("chain-awaited")) {
      out.push("### Pipelining: a chain of 3 calls, pipelined vs awaited (chains/s)", "");
      out.push(pipeliningTable(get, o.transports, pairs), "");
    }
  }
  if (o.memory) out.push(memoryTables(mem.idle, mem.hold, o));
  if (o.throughput || mem.idle.length > 0) {
    const heap = mem.idle.find((r) => r.server === "capnts" && r.clients.startsWith("capnts"))?.heap;
    out.push("### Targets (issues 7 and 17)", "");
    out.push(
      targetsTable(get, o.throughput ? o.transports : [], heap),
      "",
      "✓ met, ✗ missed (ratios of medians measured in this run).",
      "",
    );
  }
  if (errors.length > 0) {
    out.push("### Failures", "");
    for (const e of errors) out.push(`- ${e.split("\n")[0]}`);
    out.push("");
    for (const e of errors) log(`FAILED: ${e}`);
  }
  process.stdout.write(`${out.join("\n")}\n`);
  if (o.json !== undefined)
    writeFileSync(o.json, `${JSON.stringify({ options: o, samples, memory: mem, errors }, null, 2)}\n`);
  log(`done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return errors.length === 0 ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`bench rpc: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 2;
  },
);
