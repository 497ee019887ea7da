/**
 * Addresses and sockets for the interop programs and tests.
 *
 * Fixture addresses are `tcp:HOST:PORT`, `HOST:PORT` or `unix:PATH` (test/interop/README.md); the
 * runtime takes KJ's spelling, `HOST:PORT` or `unix:PATH`. `toRuntimeAddress` converts.
 *
 * `countingNet` is the runtime's Node provider (capnts/node) with the client side instrumented:
 * each connected stream is handed to the test with a count of write() calls (the two-party
 * network writes once per turn that has something to send), so a test can check that a call sent
 * no message, or end only its write side (C++ `shutdownWrite()`).
 *
 * `fdNet` is a provider over Unix sockets that pass FDs (SCM_RIGHTS, through the optional
 * `usocket` package: src/transport/fd-socket.ts), for the FD passing scenarios.
 */
import { existsSync, lstatSync, readdirSync, unlinkSync } from "node:fs";
import net from "node:net";
import { connectFdSocket, listenFdSocket, nodeNet, parseAddress, socketStream } from "capnts/node";
import type { ByteStream, NetProvider } from "capnts/rpc";

/** `tcp:HOST:PORT` / `HOST:PORT` / `unix:PATH` → what Runtime.listen/connect take. */
export function toRuntimeAddress(address: string): string {
  return address.startsWith("tcp:") ? address.slice(4) : address;
}

/** Runtime address → the fixtures' display form (`tcp:HOST:PORT` or `unix:PATH`). */
export function toDisplayAddress(address: string): string {
  return address.startsWith("unix:") || address.startsWith("tcp:") ? address : `tcp:${address}`;
}

export { parseAddress };

/** Removes `path` if it is a (stale) socket file. */
export function removeStaleSocket(path: string): void {
  try {
    if (existsSync(path) && lstatSync(path).isSocket()) unlinkSync(path);
  } catch {
    // not ours to remove
  }
}

/** A client-side stream's count of writes. */
export interface CountedStream {
  readonly writes: number;
  /**
   * End our write side only; reading goes on (C++ `shutdownWrite()`). On an FD-passing socket
   * (usocket has no half-close) this ends the whole stream.
   */
  shutdownWrite(): void;
}

/** A connected socket (raw messages). */
export function connectSocket(address: string): Promise<net.Socket> {
  const a = parseAddress(toRuntimeAddress(address));
  return new Promise<net.Socket>((resolve, reject) => {
    const s = a.kind === "unix" ? net.connect(a.path) : net.connect(a.port, a.host);
    s.once("error", reject);
    s.once("connect", () => {
      s.off("error", reject);
      resolve(s);
    });
  });
}

/** The path of a `unix:PATH` address; FDs pass over Unix sockets only. */
function unixPath(address: string): string {
  const a = parseAddress(toRuntimeAddress(address));
  if (a.kind !== "unix") throw new TypeError(`FD passing needs a unix: address, not ${address}`);
  return a.path;
}

/** Unix sockets that pass FDs with the bytes (usocket); throws for a TCP address. */
export const fdNet: NetProvider = {
  async listen(address, onStream) {
    const l = await listenFdSocket(unixPath(address), onStream);
    return { address: `unix:${l.path}`, path: l.path, close: () => l.close() };
  },
  connect: (address) => connectFdSocket(unixPath(address)),
};

/** `inner` with its writes counted (FD writes too: they carry a message each). */
function countWrites(inner: ByteStream, counted: { writes: number }): ByteStream {
  const stream: ByteStream = {
    start: (onData, onEnd) => inner.start(onData, onEnd),
    write: (data) => {
      counted.writes++;
      inner.write(data);
    },
    end: () => inner.end(),
    pause: () => inner.pause?.(),
    resume: () => inner.resume?.(),
  };
  const withFds = inner.writeWithFds?.bind(inner);
  if (withFds !== undefined) {
    // The two-party network passes FDs only on a stream that has writeWithFds.
    stream.writeWithFds = (data, fds) => {
      counted.writes++;
      withFds(data, fds);
    };
  }
  return stream;
}

/**
 * capnts/node's provider (or, with `fds`, `fdNet`); `onConnect` sees every stream it connects.
 */
export function countingNet(onConnect: (s: CountedStream) => void, fds = false): NetProvider {
  const base = fds ? fdNet : nodeNet;
  return {
    listen: (address, onStream) => base.listen(address, onStream),
    async connect(address) {
      let inner: ByteStream;
      let shutdownWrite: () => void;
      if (fds) {
        inner = await fdNet.connect(address);
        shutdownWrite = () => void inner.end();
      } else {
        const socket = await connectSocket(address);
        inner = socketStream(socket);
        shutdownWrite = () => socket.end();
      }
      const counted = { writes: 0, shutdownWrite };
      onConnect(counted);
      return countWrites(inner, counted);
    },
  };
}

/** How many FDs process `pid` has open (Linux /proc), or null where that cannot be read. */
export function openFdCount(pid: number | "self" = "self"): number | null {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return null;
  }
}
