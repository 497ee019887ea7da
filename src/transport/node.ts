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

/** A ByteStream over a connected Node socket. */
export function socketStream(socket: net.Socket): ByteStream {
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
      socket.on("data", (chunk: Buffer) =>
        onData(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)),
      );
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
      const s = a.kind === "unix" ? net.connect(a.path) : net.connect(a.port, a.host);
      const onError = (e: Error): void => reject(e);
      s.once("error", onError);
      s.once("connect", () => {
        s.off("error", onError);
        resolve(socketStream(s));
      });
    });
  },
};
