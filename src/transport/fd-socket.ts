/**
 * Unix-socket byte streams that carry file descriptors with messages (SCM_RIGHTS), for RPC FD
 * passing (C++ `kj::AsyncCapabilityStream`, `TwoPartyVatNetwork(capStream, maxFdsPerMessage)`).
 *
 * Node cannot send or receive SCM_RIGHTS, so this uses the optional npm package `usocket` (a
 * small native addon), imported only when one of these functions is called. Where it is missing,
 * failed to build, or the platform cannot pass FDs, they throw `FdPassingUnavailableError`.
 *
 * Use with the two-party classes and `maxFdsPerMessage`:
 *
 *   const stream = await connectFdSocket("/run/app.sock");
 *   const client = new TwoPartyClient(stream, undefined, "client", { maxFdsPerMessage: 2 });
 *
 * Known limits of usocket 1.1.0 (not worked around here):
 * - received FDs are not close-on-exec (recvmsg without MSG_CMSG_CLOEXEC).
 * - at most 64 FDs are received per read; the kernel closes any beyond that.
 *
 * Two usocket 1.1.0 bugs are worked around:
 * - its native wrappers free their libuv handle memory when garbage-collected, even while the
 *   handle is open or still closing (see `track`);
 * - when the kernel refuses the first `sendmsg` of a write that carries FDs (EAGAIN: the send
 *   buffer is full), it retries the bytes without the FDs, so they would be lost silently (see
 *   `writeKeepingFds`).
 */

import { closeSync } from "node:fs";
import { setFdCloser } from "../rpc/fd.js";
import type { ByteStream } from "../rpc/two-party.js";
import { connectError } from "./node.js";

/** FD passing cannot be used here (no usocket, or not Linux/Unix). `reason` says why. */
export class FdPassingUnavailableError extends Error {
  readonly reason: string;
  constructor(reason: string, options?: { cause?: unknown }) {
    super(`File descriptor passing is unavailable: ${reason}`, options);
    this.name = "FdPassingUnavailableError";
    this.reason = reason;
  }
}

/** The parts of usocket we use (it ships no types). */
interface USocketLike {
  /** usocket's native wrapper; created by connect() (or the constructor with `fd`), nulled on close. */
  _wrap?: NativeWrap | null;
  on(event: "data", f: (chunk: Buffer) => void): unknown;
  on(event: "fds", f: (fds: number[]) => void): unknown;
  on(event: "end" | "close" | "drain", f: () => void): unknown;
  on(event: "error", f: (e: Error) => void): unknown;
  once(event: "connected", f: () => void): unknown;
  once(event: "error", f: (e: Error) => void): unknown;
  removeListener(event: string, f: (...a: never[]) => void): unknown;
  push(chunk: Buffer | null): boolean;
  read(size: number, fdSize: number | null): unknown;
  write(chunk: { data?: Buffer; fds?: number[] }, cb?: (err?: Error | null) => void): boolean;
  end(): void;
  destroy(): void;
  /** Bytes written that usocket has not passed to the kernel yet (stream.Writable). */
  readonly writableLength: number;
  pause(): unknown;
  resume(): unknown;
}
interface UServerLike {
  _wrap?: NativeWrap | null;
  on(event: "connection", f: (s: USocketLike) => void): unknown;
  on(event: "error", f: (e: Error) => void): unknown;
  once(event: "listening", f: () => void): unknown;
  once(event: "error", f: (e: Error) => void): unknown;
  listen(path: string, cb?: () => void): void;
  close(): void;
}
interface USocketModule {
  USocket: new (opts?: { path?: string; fd?: number }) => USocketLike;
  UServer: new () => UServerLike;
}

/** The parts of a usocket native wrapper (`USocketWrap` / `UServerWrap`) used here. */
interface NativeWrap {
  close(): void;
  /** USocketWrap: one `sendmsg` loop; bytes written (0 if the kernel refused at once), or an Error. */
  write?(data: Uint8Array, fds: number[] | undefined): number | Error;
  /** USocketWrap: called once the socket is writable again after a short write. */
  drain?: (() => void) | null;
}

/** What fdSocketStream writes: bytes, and FDs to attach to the first of them. */
interface FdChunk {
  data: Uint8Array;
  fds?: number[];
}

/**
 * The `_write` of our usocket streams (usocket's own, except for what happens after a short
 * write). usocket retries the unwritten rest without `fds`, which is right once some bytes went
 * out (the FDs went with them) but loses them when nothing did: `sendmsg` failing with EAGAIN
 * before the first byte sends no FDs either. Then the retry here carries the FDs again.
 * @internal exported for tests
 */
export function writeKeepingFds(
  this: { _wrap?: NativeWrap | null },
  chunk: FdChunk,
  encoding: unknown,
  callback: (e?: Error | null) => void,
): void {
  const wrap = this._wrap;
  if (wrap == null || wrap.write === undefined) {
    callback(new Error("USocket not connected"));
    return;
  }
  const r = wrap.write(chunk.data, chunk.fds);
  if (typeof r !== "number") {
    callback(r);
    return;
  }
  if (r >= chunk.data.length) {
    callback();
    return;
  }
  const rest: FdChunk = r === 0 ? chunk : { data: chunk.data.subarray(r) };
  wrap.drain = () => writeKeepingFds.call(this, rest, encoding, callback);
}

/**
 * usocket's native wrappers embed their `uv_poll_t` and free it when V8 collects them. libuv needs
 * a handle's memory until the loop's closing phase has run for it, so a wrapper collected while
 * open (its destructor closes and frees at once) or between `close()` and that phase makes libuv
 * read freed memory, and abort the process (`uv__finish_close: Assertion '0' failed`). A
 * wrapper also owns an in-flight connect, whose completion uses it. So every wrapper is held
 * here from creation until two event-loop turns after its close: the first immediate runs in the
 * check phase that may precede the closing phase of the turn close() ran in; the second runs
 * after it (a handle closed during the closing phase itself finishes in the next turn's).
 */
const liveWraps = new Set<NativeWrap>();

function track(wrap: NativeWrap | null | undefined): void {
  if (wrap == null || liveWraps.has(wrap)) return;
  liveWraps.add(wrap);
  const close = wrap.close;
  // An own property shadows the native method; usocket calls `this._wrap.close()` on every close
  // path (destroy, error, end of both directions, server close).
  wrap.close = function (this: NativeWrap): void {
    try {
      close.call(wrap);
    } finally {
      setImmediate(() => setImmediate(() => liveWraps.delete(wrap)));
    }
  };
}

/** How many usocket native wrappers are open or still closing (tests check nothing leaks). */
export function liveFdSocketHandlesForTesting(): number {
  return liveWraps.size;
}

let loaded: Promise<USocketModule> | null = null;

/**
 * Load usocket (once). Rejects with FdPassingUnavailableError where FD passing cannot work:
 * a platform other than Linux, or usocket not installed / not built.
 */
export function loadFdPassing(): Promise<USocketModule> {
  loaded ??= (async () => {
    if (process.platform !== "linux") {
      throw new FdPassingUnavailableError(
        `SCM_RIGHTS FD passing is supported on Linux only (this is ${process.platform}).`,
      );
    }
    let mod: unknown;
    try {
      const name = "usocket"; // not a literal: keep bundlers and tsc from resolving it
      mod = await import(name);
    } catch (e) {
      throw new FdPassingUnavailableError(
        `the optional dependency "usocket" could not be loaded (${e instanceof Error ? e.message : String(e)}). Install it (npm install usocket; it builds a native addon with node-gyp).`,
        { cause: e },
      );
    }
    const m = ((mod as { default?: unknown }).default ?? mod) as USocketModule;
    if (typeof m.USocket !== "function" || typeof m.UServer !== "function") {
      throw new FdPassingUnavailableError('the "usocket" module does not export USocket/UServer.');
    }
    setFdCloser(closeSync);
    return m;
  })();
  // A failure is not cached for ever: a later call may retry (e.g. after an install).
  loaded.catch(() => {
    loaded = null;
  });
  return loaded;
}

/** Whether FD passing works here; resolves with null, or with the reason it does not. */
export async function fdPassingUnavailableReason(): Promise<string | null> {
  try {
    await loadFdPassing();
    return null;
  } catch (e) {
    return e instanceof FdPassingUnavailableError ? e.reason : String(e);
  }
}

/**
 * A ByteStream over a connected usocket: chunks arrive with the FDs received with them, and
 * `writeWithFds` sends a buffer with FDs attached to its first byte.
 */
function fdSocketStream(sock: USocketLike): ByteStream {
  track(sock._wrap);
  // An own property shadows usocket's prototype method; the Writable calls `this._write`.
  (sock as unknown as { _write: typeof writeKeepingFds })._write = writeKeepingFds;
  let ended = false;
  let onEndCb: ((e: Error | null) => void) | null = null;
  let pendingError: Error | null = null;
  const finish = (e: Error | null): void => {
    if (ended) return;
    ended = true;
    const cb = onEndCb;
    onEndCb = null;
    cb?.(e);
    // Writes are refused from here on, so close the socket now rather than leave it (and its FD)
    // open until usocket sees both directions ended; a no-op where usocket already closed it.
    sock.destroy();
  };
  // usocket emits "fds" and then pushes the bytes read by the same recvmsg: pair them up.
  let nextFds: number[] | null = null;
  const fdsOf = new WeakMap<Buffer, number[]>();
  const origPush = sock.push;
  sock.push = function (this: USocketLike, chunk: Buffer | null): boolean {
    if (chunk !== null && nextFds !== null) {
      fdsOf.set(chunk, nextFds);
      nextFds = null;
    }
    return origPush.call(this, chunk);
  };
  sock.on("fds", (fds) => {
    nextFds = nextFds === null ? [...fds] : [...nextFds, ...fds];
    sock.read(0, null); // drain usocket's own FD list (we took them)
  });
  sock.on("error", (e) => {
    pendingError = e;
    finish(e);
  });
  sock.on("end", () => finish(null));
  sock.on("close", () => finish(pendingError));
  return {
    start(onData, onEnd) {
      onEndCb = onEnd;
      sock.on("data", (chunk: Buffer) => {
        const fds = fdsOf.get(chunk);
        onData(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength), fds);
      });
      if (ended) onEnd(pendingError);
    },
    write(data) {
      if (ended) throw new Error("Socket is not writable.");
      sock.write({ data: Buffer.from(data.buffer, data.byteOffset, data.byteLength) });
    },
    writeWithFds(data, fds) {
      if (ended) throw new Error("Socket is not writable.");
      sock.write({ data: Buffer.from(data.buffer, data.byteOffset, data.byteLength), fds: [...fds] });
    },
    end() {
      return new Promise<void>((resolve) => {
        if (ended) {
          sock.destroy();
          resolve();
          return;
        }
        sock.write({ data: Buffer.alloc(0) }, () => {
          sock.destroy();
          finish(null);
          resolve();
        });
      });
    },
    writableBytes() {
      return sock.writableLength;
    },
    pause() {
      sock.pause();
    },
    resume() {
      sock.resume();
    },
    onDrain(cb) {
      sock.on("drain", cb);
    },
  };
}

/** Connect to a Unix socket at `path` with FD passing ("unix:" prefix optional). */
export async function connectFdSocket(path: string): Promise<ByteStream> {
  const m = await loadFdPassing();
  const p = path.startsWith("unix:") ? path.slice(5) : path;
  return new Promise<ByteStream>((resolve, reject) => {
    const s = new m.USocket();
    const onError = (e: Error): void => reject(connectError(path, e));
    s.once("error", onError);
    s.once("connected", () => {
      s.removeListener("error", onError);
      resolve(fdSocketStream(s));
    });
    (s as unknown as { connect(p: string): void }).connect(p);
    track(s._wrap); // the connect runs on the thread pool and completes into this wrapper
  });
}

export interface FdListener {
  readonly path: string;
  close(): Promise<void>;
}

/** Listen on a Unix socket at `path` with FD passing; `onStream` gets each connection. */
export async function listenFdSocket(path: string, onStream: (s: ByteStream) => void): Promise<FdListener> {
  const m = await loadFdPassing();
  const p = path.startsWith("unix:") ? path.slice(5) : path;
  const server = new m.UServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(p, () => resolve());
    track(server._wrap);
  });
  server.on("connection", (s) => onStream(fdSocketStream(s)));
  server.on("error", () => {});
  return {
    path: p,
    async close() {
      server.close();
      try {
        const { unlinkSync } = await import("node:fs");
        unlinkSync(p);
      } catch {
        // already gone
      }
    },
  };
}

/**
 * Two connected FD-capable streams over a Unix socket in a fresh temporary directory (what C++
 * tests get from `newCapabilityPipe()`). For tests and in-process use.
 */
export async function newFdSocketPair(): Promise<[ByteStream, ByteStream]> {
  const { mkdtempSync, rmSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const dir = mkdtempSync(join(tmpdir(), "capnts-fd-"));
  const path = join(dir, "s");
  let accepted!: (s: ByteStream) => void;
  const got = new Promise<ByteStream>((r) => (accepted = r));
  const listener = await listenFdSocket(path, (s) => accepted(s));
  try {
    const a = await connectFdSocket(path);
    const b = await got;
    return [a, b];
  } finally {
    await listener.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
