// Tables of the RPC benchmarks (main.ts): medians over rounds, the spread (median absolute
// deviation over the median) when above 5%, ratios to C++↔C++ measured in the same run, and the
// issue 7 targets marked ✓ met / ✗ missed. "Node raw" is no RPC: length-framed ping-pong over
// node:net (raw.ts), the bound Node itself sets; TS↔TS / Node raw shows how close capnts gets.
import type { BenchName } from "./common.js";

export const PAIRS = ["C++↔C++", "TS↔TS", "TS→C++", "C++→TS", "grpc-js", "capnweb", "Node raw"] as const;
export type PairName = (typeof PAIRS)[number];
export const REF: PairName = "C++↔C++";
/** Pairs that run the echo benchmarks only (no chains, no streams). */
export const ECHO_ONLY: readonly PairName[] = ["grpc-js", "Node raw"];
export type Transport = "tcp" | "unix";

export const BENCH_LABEL: Record<BenchName, string> = {
  "echo-sequential": "echo, sequential (calls/s)",
  "echo-outstanding": "echo, 64 outstanding (calls/s)",
  "chain-pipelined": "3 calls pipelined (chains/s)",
  "chain-awaited": "3 calls awaited (chains/s)",
  "stream-1k": "stream 1 KiB writes (writes/s)",
  "stream-64k": "stream 64 KiB writes (writes/s)",
};

export const TRANSPORT_LABEL: Record<Transport, string> = { tcp: "loopback TCP", unix: "Unix socket" };

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return Number.NaN;
  return n % 2 === 1 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
}

export interface Stat {
  median: number;
  spread: number;
  n: number;
}

export function stat(xs: readonly number[]): Stat | undefined {
  if (xs.length === 0) return undefined;
  const m = median(xs);
  const mad = median(xs.map((x) => Math.abs(x - m)));
  return { median: m, spread: m > 0 ? mad / m : 0, n: xs.length };
}

export function fmtNum(x: number): string {
  if (!Number.isFinite(x)) return "—";
  if (x >= 100) return Math.round(x).toLocaleString("en-US");
  if (x >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

export function fmtRatio(x: number): string {
  if (!Number.isFinite(x)) return "—";
  return x >= 10 ? `${x.toFixed(0)}x` : `${x.toFixed(2)}x`;
}

export function fmtBytes(x: number): string {
  if (!Number.isFinite(x)) return "—";
  const a = Math.abs(x);
  if (a >= 1024 * 1024) return `${(x / (1024 * 1024)).toFixed(1)} MiB`;
  if (a >= 1024) return `${(x / 1024).toFixed(1)} KiB`;
  return `${Math.round(x)} B`;
}

function cell(s: Stat | undefined): string {
  if (s === undefined) return "—";
  return `${fmtNum(s.median)}${s.spread > 0.05 ? ` (±${Math.round(s.spread * 100)}%)` : ""}`;
}

function mark(ratio: number, target: number): string {
  return `${fmtRatio(ratio)} ${ratio >= target ? "✓" : "✗"}`;
}

/** Medians per (pair, transport, bench). */
export type Results = (pair: PairName, transport: Transport, bench: BenchName) => Stat | undefined;

/** One table per transport: a row per benchmark, a column per pair, then ratios. */
export function throughputTable(
  get: Results,
  transport: Transport,
  benches: readonly BenchName[],
  pairs: readonly PairName[],
): string {
  const out: string[] = [];
  const ratioCols: [string, PairName, PairName][] = [
    ["TS↔TS / C++↔C++", "TS↔TS", "C++↔C++"],
    ["TS→C++ / C++↔C++", "TS→C++", "C++↔C++"],
    ["C++→TS / C++↔C++", "C++→TS", "C++↔C++"],
    ["TS↔TS / grpc-js", "TS↔TS", "grpc-js"],
    ["TS↔TS / capnweb", "TS↔TS", "capnweb"],
    ["TS↔TS / Node raw", "TS↔TS", "Node raw"],
  ];
  const cols = ratioCols.filter(([, a, b]) => pairs.includes(a) && pairs.includes(b));
  const head = ["benchmark", ...pairs, ...cols.map((c) => c[0])];
  out.push(`| ${head.join(" | ")} |`);
  out.push(`|${head.map((_, i) => (i === 0 ? "---" : "---:")).join("|")}|`);
  for (const b of benches) {
    const cells = [BENCH_LABEL[b]];
    for (const p of pairs) cells.push(cell(get(p, transport, b)));
    for (const [, a, ref] of cols) {
      const x = get(a, transport, b);
      const y = get(ref, transport, b);
      if (x === undefined || y === undefined) {
        cells.push("—");
        continue;
      }
      const r = x.median / y.median;
      const t = targetFor(b, a, ref);
      cells.push(t === undefined ? fmtRatio(r) : mark(r, t));
    }
    out.push(`| ${cells.join(" | ")} |`);
  }
  return out.join("\n");
}

/** Issue 7 targets for TS↔TS against a reference (undefined: none). */
export function targetFor(bench: BenchName, pair: PairName, ref: PairName): number | undefined {
  if (pair !== "TS↔TS") return undefined;
  if (ref === "C++↔C++") {
    if (bench === "echo-outstanding") return 2;
    if (bench === "echo-sequential") return 1;
    if (bench === "stream-1k") return 1;
    return undefined;
  }
  if (bench !== "echo-sequential" && bench !== "echo-outstanding") return undefined;
  if (ref === "capnweb") return 2;
  if (ref === "grpc-js") return 8;
  return undefined;
}

/** Pipelined / awaited chains per pair. */
export function pipeliningTable(
  get: Results,
  transports: readonly Transport[],
  pairs: readonly PairName[],
): string {
  const ps = pairs.filter((p) => !ECHO_ONLY.includes(p));
  const head = [
    "pair",
    ...transports.flatMap((t) => [`${TRANSPORT_LABEL[t]}: pipelined`, "awaited", "pipelined / awaited"]),
  ];
  const out = [`| ${head.join(" | ")} |`, `|${head.map((_, i) => (i === 0 ? "---" : "---:")).join("|")}|`];
  for (const p of ps) {
    const cells: string[] = [p];
    for (const t of transports) {
      const a = get(p, t, "chain-pipelined");
      const b = get(p, t, "chain-awaited");
      cells.push(cell(a), cell(b), a && b ? fmtRatio(a.median / b.median) : "—");
    }
    out.push(`| ${cells.join(" | ")} |`);
  }
  return out.join("\n");
}

export interface TargetRow {
  what: string;
  values: string[];
}

export function targetsTable(
  get: Results,
  transports: readonly Transport[],
  heapPerConn: number | undefined,
): string {
  // [target, benchmark, pair measured, pair compared with, ratio wanted]
  const rows: [string, BenchName, PairName, PairName, number][] = [
    ["64 outstanding, TS↔TS ≥ 2x C++↔C++ (issues 7, 17)", "echo-outstanding", "TS↔TS", "C++↔C++", 2],
    ["64 outstanding, TS↔TS ≥ 0.5x Node raw (issue 17)", "echo-outstanding", "TS↔TS", "Node raw", 0.5],
    ["sequential echo, TS↔TS ≥ 1.0x C++↔C++ (issue 7)", "echo-sequential", "TS↔TS", "C++↔C++", 1],
    ["streaming 1 KiB writes, TS↔TS ≥ 1.5x C++↔C++ (issue 17)", "stream-1k", "TS↔TS", "C++↔C++", 1.5],
    ["streaming 1 KiB writes, C++→TS ≥ 1.0x C++↔C++ (issue 17)", "stream-1k", "C++→TS", "C++↔C++", 1],
    ["streaming 64 KiB writes, TS↔TS ≥ 1.0x C++↔C++ (issue 17)", "stream-64k", "TS↔TS", "C++↔C++", 1],
    ["sequential echo, TS↔TS ≥ 2x capnweb (issue 7)", "echo-sequential", "TS↔TS", "capnweb", 2],
    ["64 outstanding, TS↔TS ≥ 2x capnweb (issue 7)", "echo-outstanding", "TS↔TS", "capnweb", 2],
    ["sequential echo, TS↔TS ≥ 8x grpc-js (issue 7)", "echo-sequential", "TS↔TS", "grpc-js", 8],
    ["64 outstanding, TS↔TS ≥ 8x grpc-js (issue 7)", "echo-outstanding", "TS↔TS", "grpc-js", 8],
  ];
  const head = ["target", ...transports.map((t) => TRANSPORT_LABEL[t])];
  const out = [`| ${head.join(" | ")} |`, `|${head.map((_, i) => (i === 0 ? "---" : ":---:")).join("|")}|`];
  for (const [what, b, pair, ref, t] of rows) {
    const cells = [what];
    for (const tr of transports) {
      const x = get(pair, tr, b);
      const y = get(ref, tr, b);
      cells.push(x && y ? mark(x.median / y.median, t) : "—");
    }
    out.push(`| ${cells.join(" | ")} |`);
  }
  if (heapPerConn !== undefined) {
    const ok = heapPerConn <= 64 * 1024;
    out.push(
      `| heap per idle connection ≤ 64 KiB (issue 7) | ${fmtBytes(heapPerConn)} ${ok ? "✓" : "✗"} (see memory) |${transports.length > 1 ? " |".repeat(transports.length - 1) : ""}`,
    );
  }
  return out.join("\n");
}
