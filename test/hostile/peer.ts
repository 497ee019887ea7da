/**
 * What the hostile-peer suite (and bench/hostile) needs to play a peer by hand over a raw socket:
 * the server process (ours, or the C++ calculator-server), rpc.capnp messages built as bytes, and
 * a reader of the frames the server sends back.
 */
import { type ChildProcess, spawn } from "node:child_process";
import * as net from "node:net";
import { createInterface } from "node:readline";
import { Message_Builder, Message_Reader } from "capnts/gen/rpc.capnp.js";
import { encodeFrame, FrameReader } from "capnts/serialize";
import { MessageBuilder, MessageReader } from "capnts/wire";
import {
  Calculator_Client,
  Calculator_evaluate_Params_Builder,
  Calculator_Value_Client,
  Calculator_Value_read_Results_Reader,
} from "../../examples/calculator/calculator.capnp.js";

export interface ServerStats {
  /** Resident set size, bytes. */
  rss: number;
  /** V8 heap used + external + ArrayBuffers, bytes (ours only; 0 for C++). */
  heap: number;
  /** Open file descriptors. */
  fds: number;
  /** Live connections (ours only; -1 for C++). */
  connections: number;
  /** Answers in the live connections' tables (ours only). */
  answers?: number;
  /** Messages handled on the live connections (ours only). */
  handled?: number;
}

/** A server process on loopback TCP. */
export interface ServerProcess {
  readonly port: number;
  readonly pid: number;
  readonly child: ChildProcess;
  /** Its memory and FDs, measured by (ours) or from /proc of (C++) the server process. */
  stats(): Promise<ServerStats>;
  readonly kind: "ts" | "cpp";
  /** Whether it is still running. */
  alive(): boolean;
  stop(): Promise<void>;
}

const root = new URL("../../", import.meta.url).pathname;

/**
 * Start test/hostile/server.ts (capnts) with connection `options`, from source through tsx, or
 * `compiled`: that program compiled to JavaScript (bench/hostile/build.mjs, for the bench);
 * `flags` go to the program (`--ws`: WebSocket instead of TCP).
 */
/**
 * The V8 flags docs/rpc.md recommends for a server facing untrusted peers: semi-spaces of 2 MiB
 * (Node 24 grows the young generation to 128 MiB under load and keeps it), and an old generation
 * that grows to 1.5x what survives a full collection (V8 picks up to 4x when collections are
 * cheap, as they are for answers that live a fraction of a second). BENCHMARKS.md, "Hostile peers".
 */
export const SERVER_V8_FLAGS = ["--max-semi-space-size=2", "--heap-growing-percent=50"];

export function startTsServer(
  options: Record<string, number> = {},
  compiled?: string,
  flags: string[] = [],
  nodeFlags: string[] = [],
): Promise<ServerProcess> {
  const args =
    compiled === undefined
      ? [
          "--expose-gc",
          ...nodeFlags,
          "--conditions=capnts-source",
          "--import",
          "tsx",
          `${root}test/hostile/server.ts`,
        ]
      : ["--expose-gc", ...nodeFlags, compiled];
  for (const [k, v] of Object.entries(options)) args.push("--option", `${k}=${v}`);
  args.push(...flags);
  return startServer(process.execPath, args, "ts");
}

/** Start the C++ calculator-server of test/interop (built by test/interop/build.mjs). */
export function startCppServer(binary: string): Promise<ServerProcess> {
  return startServer(binary, ["--listen", "tcp:127.0.0.1:0", "--timeout-ms", "0"], "cpp");
}

function startServer(cmd: string, args: string[], kind: "ts" | "cpp"): Promise<ServerProcess> {
  const child = spawn(cmd, args, { cwd: root, stdio: ["pipe", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout! });
  const waiting: ((line: string) => void)[] = [];
  let exited = false;
  child.on("exit", () => {
    exited = true;
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${cmd}: no LISTENING line in 60 s`)), 60_000);
    child.once("exit", (code) => reject(new Error(`${cmd} exited (${code}) before listening`)));
    lines.on("line", (line) => {
      const m = /^LISTENING (?:.*:)?(\d+)$/.exec(line.trim());
      if (m !== null) {
        clearTimeout(timer);
        const port = Number(m[1]);
        resolve({
          port,
          kind,
          pid: child.pid!,
          child,
          alive: () => !exited,
          stats:
            kind === "ts"
              ? () =>
                  new Promise<ServerStats>((res, rej) => {
                    if (exited) {
                      rej(new Error("the server has exited"));
                      return;
                    }
                    waiting.push((l) => res(JSON.parse(l) as ServerStats));
                    child.stdin!.write("stats\n");
                  })
              : () => procStats(child.pid!),
          stop: async () => {
            if (exited) return;
            const gone = new Promise<void>((r) => child.once("exit", () => r()));
            child.stdin!.end();
            const t = setTimeout(() => child.kill("SIGKILL"), 5000);
            await gone;
            clearTimeout(t);
          },
        });
        return;
      }
      if (line.startsWith("STATS ")) waiting.shift()?.(line.slice(6));
    });
  });
}

/** RSS and FDs of another process, from /proc (Linux). */
export async function procStats(pid: number): Promise<ServerStats> {
  const { readFileSync, readdirSync } = await import("node:fs");
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? "0");
  return { rss: kb * 1024, heap: 0, fds: readdirSync(`/proc/${pid}/fd`).length, connections: -1 };
}

// ---- messages ----------------------------------------------------------------------------------

/** One framed rpc.capnp message built by `build`. */
export function frame(build: (m: Message_Builder) => void): Uint8Array {
  const mb = new MessageBuilder();
  build(mb.initRoot(Message_Builder));
  return encodeFrame(mb.getSegmentsForOutput());
}

export function bootstrapFrame(questionId: number): Uint8Array {
  return frame((m) => {
    m.initBootstrap().questionId = questionId;
  });
}

/** Calculator.evaluate({literal}) on the bootstrap capability (pipelined on `bootstrapQuestion`). */
export function evaluateFrame(questionId: number, bootstrapQuestion: number, literal: number): Uint8Array {
  return frame((m) => {
    const c = m.initCall();
    c.questionId = questionId;
    c.initTarget().initPromisedAnswer().questionId = bootstrapQuestion;
    c.interfaceId = Calculator_Client._interface!.typeId;
    c.methodId = 0;
    c.initParams().content.initAs(Calculator_evaluate_Params_Builder).initExpression().literal = literal;
  });
}

/** Value.read() on the value question `valueQuestion` returned (pipelined). */
export function readFrame(questionId: number, valueQuestion: number): Uint8Array {
  return frame((m) => {
    const c = m.initCall();
    c.questionId = questionId;
    const pa = c.initTarget().initPromisedAnswer();
    pa.questionId = valueQuestion;
    pa.initTransform(1).get(0).getPointerField = 0;
    c.interfaceId = Calculator_Value_Client._interface!.typeId;
    c.methodId = 0;
    c.initParams();
  });
}

/** Finish; `releaseResultCaps`: we import none of the result's capabilities. */
export function finishFrame(questionId: number, releaseResultCaps = true): Uint8Array {
  return frame((m) => {
    const f = m.initFinish();
    f.questionId = questionId;
    f.releaseResultCaps = releaseResultCaps;
    f.requireEarlyCancellationWorkaround = false;
  });
}

/**
 * A Call frame whose question ID can be patched in place: `at` is the byte offset of the ID
 * (found by building the frame with a marker ID), so a flood need not build a message per call.
 */
export function patchableEvaluate(bootstrapQuestion: number): { bytes: Uint8Array; at: number } {
  const MARK = 0x5a17c3e9;
  const bytes = evaluateFrame(MARK, bootstrapQuestion, 2);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i + 4 <= bytes.length; i += 4) if (v.getUint32(i, true) === MARK) return { bytes, at: i };
  throw new Error("marker not found");
}

export function patchableFinish(): { bytes: Uint8Array; at: number } {
  const MARK = 0x5a17c3e9;
  const bytes = finishFrame(MARK);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i + 4 <= bytes.length; i += 4) if (v.getUint32(i, true) === MARK) return { bytes, at: i };
  throw new Error("marker not found");
}

// ---- a raw connection ----------------------------------------------------------------------------

/** A TCP connection whose incoming frames are collected as rpc.capnp Message readers. */
export class RawConn {
  readonly socket: net.Socket;
  readonly inbox: Message_Reader[] = [];
  ended = false;
  /** Why the stream ended ("end", or the socket error's code). */
  endReason = "";
  private readonly frames = new FrameReader();
  private waiters: (() => void)[] = [];
  /** When set, each incoming message goes here instead of the inbox. */
  onMessage: ((m: Message_Reader) => void) | null = null;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on("data", (chunk: Buffer) => {
      try {
        this.frames.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        for (const segs of this.frames) {
          const m = new MessageReader(segs).getRoot(Message_Reader);
          if (this.onMessage !== null) this.onMessage(m);
          else this.inbox.push(m);
        }
      } catch (e) {
        this.endReason = `bad frame from the server: ${String(e)}`;
        socket.destroy();
      }
      this.wake();
    });
    const end = (why: string) => {
      if (this.ended) return;
      this.ended = true;
      this.endReason = why;
      this.wake();
    };
    socket.on("end", () => end("end"));
    socket.on("error", (e: NodeJS.ErrnoException) => end(e.code ?? e.message));
    socket.on("close", () => end("close"));
  }

  static open(port: number): Promise<RawConn> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ port, host: "127.0.0.1" });
      s.once("error", reject);
      s.once("connect", () => {
        s.off("error", reject);
        s.setNoDelay(true);
        resolve(new RawConn(s));
      });
    });
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  write(bytes: Uint8Array): boolean {
    return this.socket.write(bytes);
  }

  /** Waits until `done()` holds or the stream ends; fails after `ms`. */
  async until(done: () => boolean, ms = 5000, what = "a reply"): Promise<void> {
    const deadline = Date.now() + ms;
    while (!done()) {
      if (this.ended) throw new Error(`connection ended (${this.endReason}) while waiting for ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  /** The next message; fails after `ms`. */
  async next(ms = 5000): Promise<Message_Reader> {
    await this.until(() => this.inbox.length > 0, ms);
    return this.inbox.shift()!;
  }

  /** Waits for the end of the stream (fails after `ms`); returns the messages received. */
  async closedByServer(ms = 5000): Promise<Message_Reader[]> {
    const deadline = Date.now() + ms;
    while (!this.ended) {
      if (Date.now() > deadline) throw new Error(`the server did not close the connection in ${ms} ms`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 20);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
    return this.inbox.splice(0);
  }

  close(): void {
    this.socket.destroy();
  }
}

/**
 * A fresh, well-behaved client gets right answers: Bootstrap, evaluate(literal 7) and read() on
 * the value, pipelined; the three Returns must come with results and read() must give 7.
 */
export async function freshClientWorks(port: number, ms = 5000): Promise<void> {
  const c = await RawConn.open(port);
  try {
    c.write(bootstrapFrame(0));
    c.write(evaluateFrame(1, 0, 7));
    c.write(readFrame(2, 1));
    const seen = new Set<number>();
    while (seen.size < 3) {
      const m = await c.next(ms);
      if (m.which !== "return") throw new Error(`expected a Return, got ${m.which}`);
      const r = m.return;
      if (r.which !== "results") {
        throw new Error(`question ${r.answerId}: ${r.which === "exception" ? r.exception.reason : r.which}`);
      }
      if (r.answerId === 2) {
        const v = r.results.content.getAs(Calculator_Value_read_Results_Reader).value;
        if (v !== 7) throw new Error(`read() gave ${v}, not 7`);
      } else if (r.results.capTable.length !== 1) {
        throw new Error(`question ${r.answerId}: a Return without its capability`);
      }
      seen.add(r.answerId);
    }
    for (let q = 0; q < 3; q++) c.write(finishFrame(q));
  } finally {
    c.close();
  }
}

/**
 * Sends evaluate() calls as fast as the socket takes them for `ms`, never more than `window`
 * unanswered, reads every Return and answers it with a Finish. Returns the calls sent and the
 * replies read.
 *
 * The window keeps the answers the server must hold bounded: a Finish travels behind every call
 * sent before it, and each answer waits for its Finish (the benchmark floods without a window).
 */
export async function flood(
  c: RawConn,
  ms: number,
  window: number,
): Promise<{ sent: number; replies: number }> {
  const call = patchableEvaluate(0);
  const fin = patchableFinish();
  const BATCH = 256;
  const buf = new Uint8Array(call.bytes.length * BATCH);
  const bv = new DataView(buf.buffer);
  let qid = 1;
  let replies = 0;
  c.onMessage = (m) => {
    if (m.which !== "return") return;
    replies++;
    // Not the Bootstrap's question: every call is pipelined on it, and a call on a finished
    // question fails.
    if (m.return.answerId === 0) return;
    const f = fin.bytes.slice();
    new DataView(f.buffer).setUint32(fin.at, m.return.answerId, true);
    c.write(f);
  };
  c.write(bootstrapFrame(0));
  const deadline = Date.now() + ms;
  while (Date.now() < deadline && !c.ended) {
    if (qid - 1 - replies + BATCH > window || c.socket.writableLength > 256 * 1024) {
      await new Promise((r) => setTimeout(r, 1));
      continue;
    }
    for (let i = 0; i < BATCH; i++) {
      buf.set(call.bytes, i * call.bytes.length);
      bv.setUint32(i * call.bytes.length + call.at, qid++, true);
    }
    c.write(buf.slice());
    await new Promise((r) => setImmediate(r));
  }
  return { sent: qid - 1, replies };
}

/**
 * A well-behaved client: `calls` evaluate() calls, 64 at a time, each finished. A server in
 * service has compiled its code and served normal traffic before a flood comes; a cold one
 * spends tens of MiB on that in the flood's first second (Node 24: the JIT's compilation zones,
 * malloc arenas of its threads), which is not what the flood costs.
 */
export const WARM_CALLS = 20_000;
export async function warmUp(port: number, calls = WARM_CALLS): Promise<void> {
  const c = await RawConn.open(port);
  const call = patchableEvaluate(0);
  const fin = patchableFinish();
  let returns = 0;
  c.onMessage = (m) => {
    if (m.which !== "return") return;
    returns++;
    const id = m.return.answerId;
    if (id === 0) return; // the Bootstrap: every call is pipelined on it
    const f = fin.bytes.slice();
    new DataView(f.buffer).setUint32(fin.at, id, true);
    c.write(f);
  };
  try {
    c.write(bootstrapFrame(0));
    for (let q = 1; q <= calls; q++) {
      const b = call.bytes.slice();
      new DataView(b.buffer).setUint32(call.at, q, true);
      c.write(b);
      if (q - returns > 64) await c.until(() => q - returns <= 32, 30_000, "the warm-up's Returns");
    }
    await c.until(() => returns >= calls + 1, 30_000, "the warm-up's Returns");
  } finally {
    c.close();
  }
}

/** The server's stats once every connection has closed (waits up to 5 s for them to go). */
export async function whenSettled(server: ServerProcess): Promise<ServerStats> {
  let s = await server.stats();
  for (let i = 0; i < 100 && s.connections > 0; i++) {
    await new Promise((r) => setTimeout(r, 50));
    s = await server.stats();
  }
  return s;
}
