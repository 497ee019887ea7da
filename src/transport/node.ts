/**
 * Node byte streams and sockets for the RPC runtime: TCP and Unix domain sockets, addressed as KJ
 * writes them ("127.0.0.1:4000", "[::1]:4000", "localhost:4000", "unix:/path/to.sock"; "*:4000"
 * listens on every interface). A bad address is an AddressError before any name lookup; a failed
 * connect is an RpcError of type "disconnected" naming the address, with Node's error as `cause`.
 */
import { existsSync, readFileSync, unlinkSync } from "node:fs";
import * as net from "node:net";
import { AddressError, RpcError } from "../rpc/errors.js";
import type { NetListener, NetProvider } from "../rpc/runtime.js";
import type { ByteStream } from "../rpc/two-party.js";

export type ParsedAddress = { kind: "unix"; path: string } | { kind: "tcp"; host: string; port: number };

/** A host name ("localhost", "db-1.example.org") or an IPv4 address; "*" means every interface. */
const HOST_NAME = /^(?:\*|[\p{L}\p{N}_-]+(?:\.[\p{L}\p{N}_-]+)*\.?)$/u;
/** The inside of "[…]": an IPv6 address, optionally with a zone ("fe80::1%eth0"). */
const IPV6 = /^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*(?:%[\w.-]+)?$/;

/**
 * Parse "host:port", "[v6]:port" or "unix:path". Anything else throws an AddressError (from
 * capnts/rpc) that says what is wrong and which forms are accepted, before any name lookup.
 */
export function parseAddress(address: string): ParsedAddress {
  if (typeof address !== "string") throw new AddressError(String(address), "an address is a string");
  if (address.startsWith("unix:")) {
    const path = address.slice(5);
    if (path === "") throw new AddressError(address, "the socket path is empty");
    return { kind: "unix", path };
  }
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(address);
  if (scheme !== null) {
    throw new AddressError(address, `this is a URL; "${scheme[1]}://" has no place in an address`);
  }
  let host: string;
  let portText: string;
  if (address.startsWith("[")) {
    const end = address.indexOf("]");
    if (end < 0) throw new AddressError(address, 'the IPv6 address has no closing "]"');
    host = address.slice(1, end);
    if (!IPV6.test(host)) throw new AddressError(address, `"${host}" is not an IPv6 address`);
    if (end + 1 === address.length) throw new AddressError(address, "it needs a port");
    if (address[end + 1] !== ":") throw new AddressError(address, 'a ":" and the port must follow "]"');
    portText = address.slice(end + 2);
  } else {
    const i = address.lastIndexOf(":");
    if (i < 0) throw new AddressError(address, "it needs a port");
    host = address.slice(0, i);
    portText = address.slice(i + 1);
    if (host === "") throw new AddressError(address, "the host is missing");
    if (host.includes(":")) {
      throw new AddressError(address, "an IPv6 address must be written in brackets, as in [::1]:4000");
    }
    if (!HOST_NAME.test(host))
      throw new AddressError(address, `"${host}" is not a host name or IPv4 address`);
  }
  if (!/^[0-9]{1,5}$/.test(portText) || Number(portText) > 65535) {
    throw new AddressError(
      address,
      portText === "" ? "the port is missing" : `the port "${portText}" is not a number from 0 to 65535`,
    );
  }
  return { kind: "tcp", host, port: Number(portText) };
}

/** What a connect failure means, by Node's error code. */
const CONNECT_FAILURES: Readonly<Record<string, string>> = {
  ECONNREFUSED: "connection refused (nothing is listening there)",
  ENOENT: "no such socket file",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "the host name could not be looked up (temporary failure)",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  ETIMEDOUT: "timed out",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ECONNRESET: "connection reset by the peer",
  ENOTSOCK: "not a socket",
  EADDRNOTAVAIL: "address not available",
};

/**
 * A failed connect as C++ reports a lost connection (DISCONNECTED), naming the address as the
 * user gave it and why; Node's error is the `cause`.
 */
export function connectError(address: string, e: unknown): RpcError {
  if (e instanceof RpcError) return e;
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  const text = e instanceof Error ? e.message : String(e);
  const known = code !== undefined ? CONNECT_FAILURES[code] : undefined;
  // Node's own text names the code ("connect EPIPE /path"); ours name it after the phrase.
  const why = known !== undefined ? `${known} (${code})` : text;
  return new RpcError("disconnected", `Cannot connect to ${JSON.stringify(address)}: ${why}`, { cause: e });
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
  return new SocketStream(socket, reads);
}

/** The stream a socket's event handlers below report to (one shared handler per event). */
const STREAM = Symbol("capnts.socketStream");
type StreamSocket = net.Socket & { [STREAM]: SocketStream };
function onSocketError(this: StreamSocket, e: Error): void {
  const st = this[STREAM];
  st.pendingError = e;
  st.finish(e);
}
function onSocketClose(this: StreamSocket): void {
  const st = this[STREAM];
  st.finish(st.pendingError);
}
function onSocketEnd(this: StreamSocket): void {
  this[STREAM].finish(null);
}
function onSocketData(this: StreamSocket, chunk: Buffer): void {
  this[STREAM].onData?.(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
}

/**
 * A class rather than an object of closures: a server holds one per connection, and a dozen
 * closures with their contexts were ~1 KiB of each idle connection's heap.
 */
class SocketStream implements ByteStream {
  private readonly socket: net.Socket;
  private readonly reads: DirectReads | undefined;
  private ended = false;
  private onEndCb: ((e: Error | null) => boolean | undefined) | null = null;
  onData: ((chunk: Uint8Array) => void) | null = null;
  pendingError: Error | null = null;

  constructor(socket: net.Socket, reads: DirectReads | undefined) {
    this.socket = socket;
    this.reads = reads;
    (socket as StreamSocket)[STREAM] = this;
    socket.on("error", onSocketError);
    socket.on("close", onSocketClose);
    socket.on("end", onSocketEnd);
    if (typeof socket.setNoDelay === "function") socket.setNoDelay(true);
  }

  /**
   * The socket is half-open (allowHalfOpen): when the peer ends its side we end ours unless the
   * consumer said it will (its onEnd returned true: it still has something to say, an Abort).
   */
  private peerEnded(keep: boolean | undefined): void {
    const socket = this.socket;
    if (keep !== true && !socket.destroyed && socket.writable) socket.end(() => socket.destroy());
  }

  finish(e: Error | null): void {
    if (this.ended) return;
    this.ended = true;
    const cb = this.onEndCb;
    this.onEndCb = null;
    if (cb !== null) {
      const keep = cb(e);
      if (e === null) this.peerEnded(keep);
    }
  }

  start(onData: (chunk: Uint8Array) => void, onEnd: (error: Error | null) => void): void {
    const cb = (this.onEndCb = onEnd as (e: Error | null) => boolean | undefined);
    const reads = this.reads;
    if (reads !== undefined) {
      const backlog = reads.backlog;
      reads.backlog = [];
      reads.deliver = onData;
      for (const c of backlog) onData(c);
    } else {
      this.onData = onData;
      this.socket.on("data", onSocketData);
    }
    if (this.ended) {
      const keep = cb(this.pendingError);
      this.onEndCb = null;
      if (this.pendingError === null) this.peerEnded(keep);
    }
  }

  write(data: Uint8Array): void {
    const socket = this.socket;
    if (socket.destroyed || !socket.writable) throw new Error("Socket is not writable.");
    socket.write(data);
  }

  writev(chunks: readonly Uint8Array[]): void {
    const socket = this.socket;
    if (socket.destroyed || !socket.writable) throw new Error("Socket is not writable.");
    // Corked writes leave in one writev(2).
    socket.cork();
    for (const c of chunks) socket.write(c);
    socket.uncork();
  }

  end(): Promise<void> {
    const socket = this.socket;
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
  }

  writableBytes(): number {
    return this.socket.writableLength;
  }

  sendBufferSize(): number | undefined {
    // remoteFamily is set for TCP sockets only.
    return kernelSendBuffer(this.socket.remoteFamily === undefined ? "unix" : "tcp");
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  onDrain(cb: () => void): void {
    this.socket.on("drain", cb);
  }
}

/** TCP and Unix sockets (the runtime's NetProvider in Node). */
export const nodeNet: NetProvider = {
  listen(address, onStream) {
    let a: ParsedAddress;
    try {
      a = parseAddress(address);
    } catch (e) {
      return Promise.reject(e);
    }
    return new Promise<NetListener>((resolve, reject) => {
      // Half-open: when the peer ends its side we may still tell it why we end ours (an Abort such
      // as "stream disconnected prematurely", as C++ does); the connection ends our side after.
      const server = net.createServer({ allowHalfOpen: true }, (s) => onStream(socketStream(s)));
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
      else if (a.host === "*") server.listen(a.port, done);
      else server.listen(a.port, a.host, done);
    });
  },
  connect(address) {
    let a: ParsedAddress;
    try {
      a = parseAddress(address);
      if (a.kind === "tcp" && a.host === "*") {
        throw new AddressError(address, '"*" (every interface) is for listening; connect to a host');
      }
    } catch (e) {
      return Promise.reject(e);
    }
    return new Promise<ByteStream>((resolve, reject) => {
      const { reads, onread } = directReads();
      const s =
        a.kind === "unix"
          ? net.connect({ path: a.path, onread, allowHalfOpen: true })
          : net.connect({ port: a.port, host: a.host, onread, allowHalfOpen: true });
      const onError = (e: Error): void => reject(connectError(address, e));
      s.once("error", onError);
      s.once("connect", () => {
        s.off("error", onError);
        resolve(socketStream(s, reads));
      });
    });
  },
};
