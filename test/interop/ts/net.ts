/**
 * Addresses and sockets for the interop programs and tests.
 *
 * Fixture addresses are `tcp:HOST:PORT`, `HOST:PORT` or `unix:PATH` (test/interop/README.md); the
 * runtime takes KJ's spelling, `HOST:PORT` or `unix:PATH`. `toRuntimeAddress` converts.
 *
 * `countingNet` is the runtime's Node provider (capnts/node) with the client side instrumented:
 * each connected stream is handed to the test with its socket and a count of write() calls (the
 * two-party network writes once per turn that has something to send), so a test can check that a
 * call sent no message, or end only its write side (C++ `shutdownWrite()`).
 */
import { existsSync, lstatSync, unlinkSync } from "node:fs";
import net from "node:net";
import type { ByteStream, NetProvider } from "../../../src/rpc/index.js";
import { nodeNet, parseAddress, socketStream } from "../../../src/transport/index.js";

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

/** A client-side stream with its socket and a count of writes. */
export interface CountedStream {
  readonly socket: net.Socket;
  readonly writes: number;
  /** End our write side only; reading goes on (C++ `shutdownWrite()`). */
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

/** capnts/node's provider; `onConnect` sees every stream it connects. */
export function countingNet(onConnect: (s: CountedStream) => void): NetProvider {
  return {
    listen: (address, onStream) => nodeNet.listen(address, onStream),
    async connect(address) {
      const socket = await connectSocket(address);
      const inner = socketStream(socket);
      const counted = {
        socket,
        writes: 0,
        shutdownWrite: () => {
          socket.end();
        },
      };
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
      onConnect(counted);
      return stream;
    },
  };
}
