// Shared plumbing of the RPC benchmark programs (bench/rpc): command lines in the style of the
// C++ programs (bench/cpp: "--name value", "--name=value"), addresses ("tcp:HOST:PORT",
// "HOST:PORT", "unix:PATH"), the benchmark names and the JSON line every client prints.

/** The benchmarks, in the order bench-echo-client runs them. */
export const BENCHES = [
  "echo-sequential",
  "chain-pipelined",
  "chain-awaited",
  "echo-outstanding",
  "stream-1k",
  "stream-64k",
] as const;
export type BenchName = (typeof BENCHES)[number];

/** What a client prints per benchmark (bench-echo-client's keys). */
export interface BenchLine {
  bench: string;
  client: string;
  transport?: string;
  ops?: number;
  seconds?: number;
  opsPerSec?: number;
  usPerOp?: number;
  /** TS clients: this client's CPU time (user + system) per op over the timed interval. */
  cpuUsPerOp?: number;
  payloadBytes?: number;
  outstanding?: number;
  chainLength?: number;
  writeBytes?: number;
  mbPerSec?: number;
  error?: string;
}

export interface Args {
  values: Map<string, string>;
  flags: Set<string>;
  get(name: string, fallback?: string): string | undefined;
  int(name: string, fallback: number): number;
  all(name: string): string[];
  has(name: string): boolean;
}

/** Parses `--name value`, `--name=value` and bare flags (names in `flags`). Repeated options accumulate. */
export function parseArgs(argv: readonly string[], flags: readonly string[]): Args {
  const values = new Map<string, string>();
  const multi = new Map<string, string[]>();
  const set = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith("--")) throw new Error(`unexpected argument ${a}`);
    const eq = a.indexOf("=");
    const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
    let value: string;
    if (eq >= 0) value = a.slice(eq + 1);
    else if (flags.includes(name)) {
      set.add(name);
      continue;
    } else {
      const next = argv[i + 1];
      if (next === undefined) throw new Error(`--${name} needs a value`);
      value = next;
      i++;
    }
    values.set(name, value);
    const m = multi.get(name) ?? [];
    m.push(value);
    multi.set(name, m);
  }
  return {
    values,
    flags: set,
    get: (name, fallback) => values.get(name) ?? fallback,
    int(name, fallback) {
      const v = values.get(name);
      if (v === undefined) return fallback;
      const n = Number(v);
      if (!Number.isFinite(n)) throw new Error(`--${name} wants a number, not ${v}`);
      return n;
    },
    all: (name) => multi.get(name) ?? [],
    has: (name) => set.has(name) || values.has(name),
  };
}

export interface Address {
  transport: "tcp" | "unix";
  host: string;
  port: number;
  path: string;
}

/** "tcp:HOST:PORT", "HOST:PORT" or "unix:PATH". */
export function parseAddress(text: string): Address {
  if (text.startsWith("unix:")) return { transport: "unix", host: "", port: 0, path: text.slice(5) };
  const t = text.startsWith("tcp:") ? text.slice(4) : text;
  const i = t.lastIndexOf(":");
  if (i < 0) throw new Error(`address needs a port: ${text}`);
  let host = t.slice(0, i);
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  const port = Number(t.slice(i + 1));
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`bad port in ${text}`);
  return { transport: "tcp", host, port, path: "" };
}

/** The address as capnts's Runtime takes it ("127.0.0.1:4000", "unix:/path"). */
export function capntsAddress(a: Address): string {
  return a.transport === "unix"
    ? `unix:${a.path}`
    : `${a.host.includes(":") ? `[${a.host}]` : a.host}:${a.port}`;
}

/** The address as the C++ programs print and take it. */
export function displayAddress(a: Address): string {
  return a.transport === "unix"
    ? `unix:${a.path}`
    : `tcp:${a.host.includes(":") ? `[${a.host}]` : a.host}:${a.port}`;
}

/** The payload bench-echo-client sends: byte i is i * 7 + 1. */
export function payload(n: number): Uint8Array {
  const a = new Uint8Array(n);
  for (let i = 0; i < n; i++) a[i] = (i * 7 + 1) & 0xff;
  return a;
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** One result line as bench-echo-client prints it. */
export function resultLine(
  bench: string,
  client: string,
  transport: string,
  ops: number,
  seconds: number,
  extra: Partial<BenchLine> = {},
): BenchLine {
  return {
    bench,
    client,
    transport,
    ...extra,
    ops,
    seconds: Number(seconds.toFixed(4)),
    opsPerSec: Number((seconds > 0 ? ops / seconds : 0).toFixed(1)),
    usPerOp: Number((ops > 0 ? (seconds * 1e6) / ops : 0).toFixed(2)),
  };
}

/** Calls `f` for each stdin line, one at a time; resolves when stdin closes. */
export function lines(f: (line: string) => Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    let pending = "";
    let chain = Promise.resolve();
    process.stdin.setEncoding("utf8");
    process.stdin.on("data", (d: string) => {
      pending += d;
      for (let i = pending.indexOf("\n"); i >= 0; i = pending.indexOf("\n")) {
        const line = pending.slice(0, i).trim();
        pending = pending.slice(i + 1);
        if (line !== "") chain = chain.then(() => f(line));
      }
    });
    const end = (): void => void chain.then(() => resolve());
    process.stdin.on("end", end);
    process.stdin.on("error", end);
  });
}
