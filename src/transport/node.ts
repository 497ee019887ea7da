/**
 * Node byte streams and sockets for the RPC runtime: TCP and Unix domain sockets, addressed as KJ
 * writes them ("127.0.0.1:4000", "[::1]:4000", "localhost:4000", "unix:/path/to.sock").
 */
import { existsSync, readFileSync, unlinkSync } from "node:fs";
import * as net from "node:net";
import type { NetListener, NetProvider } from "../rpc/runtime.js";
import type { ByteStream } from "../rpc/two-party.js";

export type ParsedAddress = { kind: "unix"; path: string } | { kind: "tcp"; host: string; port: number };

/** Parse "host:port", "[v6]:port" or "unix:path". */
export function parseAddress(address: string): ParsedAddress {
  if (address.startsWith("unix:")) return { kind: "unix", path: address.slice(5) };
  let host: string;
  let portText: string;
  if (address.startsWith("[")) {
    const end = address.indexOf("]");
    if (end < 0 || address[end + 1] !== ":") throw new Error(`Bad address: ${address}`);
    host = address.slice(1, end);
    portText = address.slice(end + 2);
  } else {
    const i = address.lastIndexOf(":");
    if (i < 0) throw new Error(`Address needs a port: ${address}`);
    host = address.slice(0, i);
    portText = address.slice(i + 1);
  }
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`Bad port in address: ${address}`);
  return { kind: "tcp", host, port };
}

/**
 * What Linux's getsockopt(SO_SNDBUF) reports for a socket of this kind: C++ TwoPartyVatNetwork
 * uses it as the flow-control window of streaming calls, and Node offers no getsockopt. TCP: the
 * send-buffer autotuning maximum (tcp_wmem's third field, 4 MiB by default; on loopback the
 * kernel grants it at once); Unix sockets: wmem_default (208 KiB by default). Read once from /proc;
 * undefined elsewhere (the RPC layer then uses C++'s DEFAULT_WINDOW_SIZE, 64 KiB).
 */
function kernelSendBuffer(kind: "tcp" | "unix"): number | undefined {
  let v = sendBufferCache[kind];
  if (v === null) {
    v = undefined;
    try {
      const text =
        kind === "tcp"
          ? readFileSync("/proc/sys/net/ipv4/tcp_wmem", "utf8").trim().split(/\s+/)[2]
          : readFileSync("/proc/sys/net/core/wmem_default", "utf8").trim();
      const n = Number(text);
      if (Number.isSafeInteger(n) && n > 0) v = n;
    } catch {
      // Not Linux, or /proc is not mounted.
    }
    sendBufferCache[kind] = v;
  }
  return v;
}
const sendBufferCache: Record<"tcp" | "unix", number | undefined | null> = { tcp: null, unix: null };

/**
 * Reads straight into shared memory (the `onread` option of net.connect), bypassing the Readable
 * stream: no Buffer allocated and no 'data' event emitted per read. Each read gets the unused
 * tail of a slab that only moves forward, so the bytes of a read are never overwritten and the
 * frame reader can keep views into them (zero copy), as it does with the chunks of 'data'.
 */
const READ_SLAB_BYTES = 256 * 1024;
/** A read is offered at least this much room (else a new slab): fewer, larger reads. */
const READ_MIN_BYTES = 16 * 1024;
let readSlab: Uint8Array | null = null;
let readPos = 0;
function readBuffer(): Uint8Array {
  if (readSlab === null || READ_SLAB_BYTES - readPos < READ_MIN_BYTES) {
    readSlab = new Uint8Array(READ_SLAB_BYTES);
    readPos = 0;
  }
  return readSlab.subarray(readPos);
}

/** Where `onread` reads go: the stream's receiver once started, a backlog before. */
interface DirectReads {
  deliver: ((chunk: Uint8Array) => void) | null;
  backlog: Uint8Array[];
}

function directReads(): { reads: DirectReads; onread: net.OnReadOpts } {
  const reads: DirectReads = { deliver: null, backlog: [] };
  const onread: net.OnReadOpts = {
    buffer: readBuffer,
    callback(n, buf) {
      // libuv fills the buffer readBuffer() just returned, then calls us: claim what it used.
      if (buf.buffer === readSlab?.buffer) readPos += (n + 7) & ~7;
      const chunk = buf.subarray(0, n);
      if (reads.deliver !== null) reads.deliver(chunk);
      else reads.backlog.push(chunk);
      return true;
    },
  };
  return { reads, onread };
}

/**
 * A ByteStream over a connected Node socket. `reads`: the socket was made with the `onread`
 * option of directReads(), whose reads arrive there instead of as 'data' events.
 */
export function socketStream(socket: net.Socket, reads?: DirectReads): ByteStream {
  let ended = false;
  let onEndCb: ((e: Error | null) => void) | null = null;
  const finish = (e: Error | null): void => {
    if (ended) return;
    ended = true;
    const cb = onEndCb;
    onEndCb = null;
    cb?.(e);
  };
  let pendingError: Error | null = null;
  socket.on("error", (e) => {
    pendingError = e;
    finish(e);
  });
  socket.on("close", () => finish(pendingError));
  socket.on("end", () => finish(null));
  if (typeof socket.setNoDelay === "function") socket.setNoDelay(true);
  return {
    start(onData, onEnd) {
      onEndCb = onEnd;
      if (reads !== undefined) {
        const backlog = reads.backlog;
        reads.backlog = [];
        reads.deliver = onData;
        for (const c of backlog) onData(c);
      } else {
        socket.on("data", (chunk: Buffer) =>
          onData(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)),
        );
      }
      if (ended) onEnd(pendingError);
    },
    write(data) {
      if (socket.destroyed || !socket.writable) throw new Error("Socket is not writable.");
      socket.write(data);
    },
    writev(chunks) {
      if (socket.destroyed || !socket.writable) throw new Error("Socket is not writable.");
      // Corked writes leave in one writev(2).
      socket.cork();
      for (const c of chunks) socket.write(c);
      socket.uncork();
    },
    end() {
      return new Promise<void>((resolve) => {
        if (socket.destroyed) {
          resolve();
          return;
        }
        socket.once("close", () => resolve());
        socket.end(() => {
          // Our side is flushed and ended; do not wait for the peer to close theirs.
          socket.destroy();
        });
      });
    },
    writableBytes() {
      return socket.writableLength;
    },
    sendBufferSize() {
      // remoteFamily is set for TCP sockets only.
      return kernelSendBuffer(socket.remoteFamily === undefined ? "unix" : "tcp");
    },
    pause() {
      socket.pause();
    },
    resume() {
      socket.resume();
    },
  };
}

/** TCP and Unix sockets (the runtime's NetProvider in Node). */
export const nodeNet: NetProvider = {
  listen(address, onStream) {
    const a = parseAddress(address);
    return new Promise<NetListener>((resolve, reject) => {
      const server = net.createServer((s) => onStream(socketStream(s)));
      server.once("error", reject);
      const done = (): void => {
        server.off("error", reject);
        const sockets = new Set<net.Socket>();
        server.on("connection", (s) => {
          sockets.add(s);
          s.on("close", () => sockets.delete(s));
        });
        const close = (): Promise<void> =>
          new Promise((res) => {
            server.close(() => res());
            if (a.kind === "unix") {
              try {
                if (existsSync(a.path)) unlinkSync(a.path);
              } catch {
                // ignore
              }
            }
          });
        if (a.kind === "unix") {
          resolve({ address: `unix:${a.path}`, path: a.path, close });
        } else {
          const info = server.address() as net.AddressInfo;
          const host = info.family === "IPv6" ? `[${info.address}]` : info.address;
          resolve({ address: `${host}:${info.port}`, port: info.port, close });
        }
      };
      if (a.kind === "unix") server.listen(a.path, done);
      else server.listen(a.port, a.host, done);
    });
  },
  connect(address) {
    const a = parseAddress(address);
    return new Promise<ByteStream>((resolve, reject) => {
      const { reads, onread } = directReads();
      const s =
        a.kind === "unix"
          ? net.connect({ path: a.path, onread })
          : net.connect({ port: a.port, host: a.host, onread });
      const onError = (e: Error): void => reject(e);
      s.once("error", onError);
      s.once("connect", () => {
        s.off("error", onError);
        resolve(socketStream(s, reads));
      });
    });
  },
};
