/**
 * Bulk-transfer benchmark (issue 17): MB/s of streaming calls (`Echo.write(data) -> stream`) of
 * 64 KiB and 1 KiB writes, client and server in separate processes over loopback TCP and a Unix
 * socket, next to the floor Node itself sets: node:net sending the same bytes in the same write
 * sizes, each with a length prefix, and a receiver parsing the frames (raw.ts sinkFrames).
 *
 *   npm run bench -- --group=bulk [--quick]
 *   node --import tsx bench/rpc/bulk-main.ts [--quick] [--rounds=7] [--mib=64] [--mib-1k=8]
 *        [--writes=65536,1024] [--transport=tcp,unix] [--pair=ts-ts,raw,cpp-cpp,ts-cpp,cpp-ts]
 *        [--builds=DIR,DIR] [--json=FILE] [--malloc-default] [--from-source] [--window=BYTES]
 *
 * --quick: 3 rounds of 16 MiB (2 MiB for 1 KiB writes). Arguments it does not know are ignored
 * (bench/run.mjs passes every argument to every group).
 *
 * Pairs: TS→TS (capnts client and server), Node raw (the floor), and with the C++ programs of
 * bench/cpp: C++→C++, TS→C++, C++→TS. A TS client sends --mib MiB (--mib-1k for 1 KiB writes)
 * per transfer, timed from its first write to the answer of the finish() call behind the last
 * one; the C++ client (bench-echo-client --only stream-64k|stream-1k) streams for as long as the
 * TS client took in the warm-up round, so both move about as much. Each round runs every case
 * once, in an order rotated every round (the machine is shared: a slow spell hits every case
 * alike); an unrecorded warm-up round comes first. The table shows the median MB/s over the
 * rounds with its spread (median absolute deviation), the ratio to Node raw in the same write size
 * and transport, and the server's CPU per MiB received (from /proc, every server alike).
 *
 * Steadiness: every process runs with glibc's heap trimming off (MALLOC_TRIM_THRESHOLD_, the
 * same for the C++, Node raw and capnts processes; --malloc-default leaves glibc as it is). A 64 KiB
 * stream allocates a fresh 64 KiB buffer per message on each side (Node's read buffers too), and
 * when free() gives the top of the heap back to the kernel, the next allocation page-faults 16
 * fresh pages: whether that happens depends on what else lies at the top of the heap, so one
 * process ran at 4-10 µs per 64 KiB frame and the next at 60-140 µs (BENCHMARKS.md, issue 17).
 *
 * --builds=DIR,DIR (each a directory `node bench/rpc/build.mjs --out=DIR` printed the parent of):
 * the TS pairs run once per build, alternated within every round: an A/B comparison of two
 * versions of src/ in one run.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { buildBench, toolchainProblem } from "../../test/interop/build.mjs";
import { Proc } from "./procs.js";
import { median, stat } from "./report.js";

const here = dirname(fileURLToPath(import.meta.url));
const log = (s: string): void => void process.stderr.write(`[bulk] ${s}\n`);

const argv = process.argv.slice(2);
const opt = (name: string, fallback: string): string => {
  const a = argv.find((x) => x.startsWith(`--${name}=`));
  return a === undefined ? fallback : a.slice(name.length + 3);
};
const quick = argv.includes("--quick");
const fromSource = argv.includes("--from-source");
const rounds = Number(opt("rounds", quick ? "3" : "7"));
const mib64 = Number(opt("mib", quick ? "16" : "64"));
const mib1 = Number(opt("mib-1k", quick ? "2" : "8"));
const writes = opt("writes", "65536,1024").split(",").map(Number);
const transports = opt("transport", "tcp,unix").split(",") as ("tcp" | "unix")[];
const pairs = opt("pair", "ts-ts,raw,cpp-cpp,ts-cpp,cpp-ts").split(",");
/** capnts clients' streaming window in bytes (--window=BYTES); default the kernel's send buffer. */
const WINDOW = opt("window", "") === "" ? undefined : Number(opt("window", ""));
const jsonOut = opt("json", "");
/** glibc's M_TRIM_THRESHOLD for every process (see the header); 1 GiB: never trim. */
const env: NodeJS.ProcessEnv = argv.includes("--malloc-default")
  ? process.env
  : { ...process.env, MALLOC_TRIM_THRESHOLD_: String(1 << 30) };
const builds = opt("builds", "")
  .split(",")
  .filter((b) => b !== "")
  .map((b) => resolve(b));

/** CPU time (ms) a process has used, from /proc (works for the C++ server as for ours). */
function procCpuMs(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const f = readFileSync(`/proc/${pid}/stat`, "utf8");
    const rest = f.slice(f.lastIndexOf(")") + 2).split(" ");
    // Fields 14 and 15 (utime, stime), in clock ticks (100 per second on Linux).
    return ((Number(rest[11]) + Number(rest[12])) * 1000) / 100;
  } catch {
    return Number.NaN;
  }
}

interface Case {
  label: string;
  transport: "tcp" | "unix";
  writeBytes: number;
  /** Runs one transfer; returns MB/s and the server CPU ms per MiB. */
  run(warm: boolean): Promise<{ mbPerSec: number; serverCpuPerMib: number; clientCpuPerMib: number }>;
}

/** Compiles the programs (build.mjs) into the shared cache; returns their directory. */
function build(): string {
  log("compiling bench/rpc with tsc (bench/rpc/build.mjs)");
  const r = spawnSync(process.execPath, [join(here, "build.mjs")], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  if (r.status !== 0) throw new Error("bench/rpc/build.mjs failed");
  return r.stdout.trim();
}

async function main(): Promise<void> {
  // --from-source (the smoke test): the programs run through tsx, nothing is compiled.
  const dirs = builds.length > 0 ? builds : [fromSource ? here : build()];
  const program = (dir: string, name: string): string[] =>
    fromSource ? ["--import", "tsx", join(dir, `${name}.ts`)] : [join(dir, `${name}.js`)];
  const names = builds.length > 0 ? builds.map((b) => basename(dirname(dirname(b)))) : [""];
  let cppServerBin: string | null = null;
  let cppClientBin: string | null = null;
  if (pairs.some((p) => p.includes("cpp"))) {
    const problem = await toolchainProblem();
    if (problem === null) {
      try {
        const { binDir } = await buildBench();
        cppServerBin = join(binDir, "bench-echo-server");
        cppClientBin = join(binDir, "bench-echo-client");
      } catch (e) {
        log(`no C++ pairs: ${e instanceof Error ? e.message : String(e)}`);
      }
    } else log(`no C++ pairs: ${problem}`);
  }
  const sockDir = tmpdir();
  const procs: Proc[] = [];
  const listen = async (p: Proc): Promise<Record<"tcp" | "unix", string>> => {
    const out: Record<string, string> = {};
    for (const t of transports) {
      const l = await p.waitLine(
        (x) => x.startsWith("LISTENING ") && x.includes(t === "unix" ? "unix:" : "tcp:"),
      );
      out[t] = l.slice("LISTENING ".length);
    }
    return out as Record<"tcp" | "unix", string>;
  };
  const listenArgs = (name: string): string[] =>
    transports.flatMap((t) => [
      "--listen",
      t === "unix" ? `unix:${join(sockDir, `capnts-bulk-${process.pid}-${name}.sock`)}` : "tcp:127.0.0.1:0",
    ]);
  const cases: Case[] = [];
  /** Seconds the TS client's warm-up transfer took, per (transport, write size): the C++ client's duration. */
  const tsSeconds = new Map<string, number>();
  const mibFor = (w: number): number => (w >= 16 * 1024 ? mib64 : mib1);

  const tsClientCase = (
    client: Proc,
    server: Proc,
    kind: "capnts" | "raw",
    label: string,
    addr: string,
    transport: "tcp" | "unix",
    writeBytes: number,
  ): Case => ({
    label,
    transport,
    writeBytes,
    async run() {
      const s0 = procCpuMs(server.pid);
      client.send(
        `RUN ${JSON.stringify({ kind, connect: addr, writeBytes, mib: mibFor(writeBytes), ...(kind === "capnts" && WINDOW !== undefined ? { window: WINDOW } : {}) })}`,
      );
      const line = await client.waitLine((l) => l.startsWith("{"), 120000);
      const r = JSON.parse(line) as {
        error?: string;
        mbPerSec: number;
        seconds: number;
        cpuMs: number;
        bytes: number;
      };
      if (r.error !== undefined) throw new Error(`${label}: ${r.error}`);
      const mib = r.bytes / (1024 * 1024);
      if (kind === "capnts") tsSeconds.set(`${transport} ${writeBytes}`, r.seconds);
      return {
        mbPerSec: r.mbPerSec,
        serverCpuPerMib: (procCpuMs(server.pid) - s0) / mib,
        clientCpuPerMib: r.cpuMs / mib,
      };
    },
  });
  const cppClientCase = (
    server: Proc,
    label: string,
    addr: string,
    transport: "tcp" | "unix",
    writeBytes: number,
  ): Case => ({
    label,
    transport,
    writeBytes,
    async run() {
      const ms = Math.max(100, Math.round((tsSeconds.get(`${transport} ${writeBytes}`) ?? 0.3) * 1000));
      const s0 = procCpuMs(server.pid);
      const bench = writeBytes === 65536 ? "stream-64k" : writeBytes === 1024 ? "stream-1k" : null;
      if (bench === null) throw new Error("the C++ client streams 64 KiB or 1 KiB writes only");
      const c = new Proc(
        "bench-echo-client",
        cppClientBin!,
        ["--connect", addr, "--only", bench, "--duration-ms", String(ms), "--warmup-ms", "50"],
        env,
      );
      const line = await c.waitLine((l) => l.startsWith("{"), 120000);
      await c.stop();
      const r = JSON.parse(line) as { error?: string; mbPerSec: number; seconds: number };
      if (r.error !== undefined) throw new Error(`${label}: ${r.error}`);
      // The server's CPU covers the warm-up too: per MiB of the whole exchange.
      const mib = r.mbPerSec * (r.seconds + 0.05);
      return {
        mbPerSec: r.mbPerSec,
        serverCpuPerMib: (procCpuMs(server.pid) - s0) / mib,
        clientCpuPerMib: Number.NaN,
      };
    },
  });

  const cppServers: Partial<Record<"tcp" | "unix", { proc: Proc; addr: string }>> = {};
  if (cppServerBin !== null) {
    for (const t of transports) {
      const p = new Proc(
        `bench-echo-server ${t}`,
        cppServerBin,
        [
          "--listen",
          t === "unix" ? `unix:${join(sockDir, `capnts-bulk-${process.pid}-cpp.sock`)}` : "tcp:127.0.0.1:0",
        ],
        env,
      );
      procs.push(p);
      const l = await p.waitLine((x) => x.startsWith("LISTENING "));
      cppServers[t] = { proc: p, addr: l.slice("LISTENING ".length) };
    }
  }

  for (let b = 0; b < dirs.length; b++) {
    const dir = dirs[b]!;
    const tag = names[b] === "" ? "" : ` [${names[b]}]`;
    const server = new Proc(
      `capnts server${tag}`,
      process.execPath,
      [...program(dir, "server"), "--kind", "capnts", ...listenArgs(`ts${b}`)],
      env,
    );
    const client = new Proc(`bulk client${tag}`, process.execPath, program(dir, "bulk"), env);
    procs.push(server, client);
    const addr = await listen(server);
    for (const t of transports) {
      for (const w of writes) {
        if (pairs.includes("ts-ts"))
          cases.push(tsClientCase(client, server, "capnts", `TS→TS${tag}`, addr[t], t, w));
        const cpp = cppServers[t];
        if (pairs.includes("ts-cpp") && cpp !== undefined)
          cases.push(tsClientCase(client, cpp.proc, "capnts", `TS→C++${tag}`, cpp.addr, t, w));
        if (pairs.includes("cpp-ts") && cppClientBin !== null)
          cases.push(cppClientCase(server, `C++→TS${tag}`, addr[t], t, w));
      }
    }
    if (b === 0 && pairs.includes("raw")) {
      const rawServer = new Proc(
        "raw-sink server",
        process.execPath,
        [...program(dir, "server"), "--kind", "raw-sink", ...listenArgs("raw")],
        env,
      );
      procs.push(rawServer);
      const rawAddr = await listen(rawServer);
      for (const t of transports)
        for (const w of writes)
          cases.push(tsClientCase(client, rawServer, "raw", "Node raw", rawAddr[t], t, w));
    }
  }
  for (const t of transports) {
    const cpp = cppServers[t];
    if (cpp === undefined || cppClientBin === null || !pairs.includes("cpp-cpp")) continue;
    for (const w of writes) cases.push(cppClientCase(cpp.proc, "C++→C++", cpp.addr, t, w));
  }
  // TS cases first in the warm-up round: they set the C++ client's durations.
  cases.sort((a, b) => Number(a.label.startsWith("C++→")) - Number(b.label.startsWith("C++→")));

  const results = new Map<Case, { mb: number[]; scpu: number[]; ccpu: number[] }>();
  for (const c of cases) results.set(c, { mb: [], scpu: [], ccpu: [] });
  log(`${cases.length} cases, ${rounds} rounds (+1 warm-up); load average ${loadavg()[0]!.toFixed(1)}`);
  try {
    for (let r = -1; r < rounds; r++) {
      const order = r < 0 ? cases : cases.map((_, i) => cases[(i + r * 3) % cases.length]!);
      for (const c of order) {
        const x = await c.run(r < 0);
        if (r < 0) continue;
        const e = results.get(c)!;
        e.mb.push(x.mbPerSec);
        e.scpu.push(x.serverCpuPerMib);
        e.ccpu.push(x.clientCpuPerMib);
      }
      if (r >= 0) log(`round ${r + 1}/${rounds} done (load ${loadavg()[0]!.toFixed(1)})`);
    }
  } finally {
    for (const p of procs) await p.stop();
  }

  const lines: string[] = [];
  const fmt = (x: number): string =>
    Number.isFinite(x) ? (x >= 100 ? Math.round(x).toLocaleString("en-US") : x.toFixed(1)) : "—";
  lines.push(
    `| transport | write | pair | MB/s (median ± spread) | × Node raw | server CPU ms/MiB | client CPU ms/MiB |`,
  );
  lines.push(`|---|---:|---|---:|---:|---:|---:|`);
  const json: Record<string, unknown>[] = [];
  for (const t of transports) {
    for (const w of writes) {
      const raw = cases.find((c) => c.label === "Node raw" && c.transport === t && c.writeBytes === w);
      const rawMb = raw === undefined ? Number.NaN : median(results.get(raw)!.mb);
      for (const c of cases) {
        if (c.transport !== t || c.writeBytes !== w) continue;
        const e = results.get(c)!;
        const s = stat(e.mb)!;
        lines.push(
          `| ${t === "tcp" ? "loopback TCP" : "Unix socket"} | ${w >= 1024 ? `${w / 1024} KiB` : `${w} B`} | ${c.label} | ${fmt(s.median)} (±${Math.round(s.spread * 100)}%) | ${(s.median / rawMb).toFixed(2)}x | ${median(e.scpu).toFixed(2)} | ${Number.isFinite(median(e.ccpu)) ? median(e.ccpu).toFixed(2) : "—"} |`,
        );
        json.push({
          transport: t,
          writeBytes: w,
          pair: c.label,
          mbPerSec: e.mb,
          serverCpuMsPerMib: e.scpu,
          clientCpuMsPerMib: e.ccpu,
        });
      }
    }
  }
  process.stdout.write(`${lines.join("\n")}\n`);
  if (jsonOut !== "") writeFileSync(jsonOut, JSON.stringify(json, null, 1));
}

await main();
