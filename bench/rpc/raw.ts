// Length-framed messages over node:net with no RPC at all, for the "Node raw" baseline pair of
// the RPC benchmarks: the bound Node itself sets (socket writes, 'data' events, the event loop),
// which capnts cannot go below. Written the way a Node user batching writes would: the client
// corks its socket at the first write of a turn and uncorks it on the next tick (every message of
// a turn in one write), the server echoes all whole frames of a read with one write, a small
// reassembly buffer for frames split across reads, setNoDelay(true) (capnts sets it too). That is
// the floor issue 17 measures capnts against at 64 outstanding (capnts gathers a turn's messages
// too); on sequential echo there is one message per turn either way. The server (serve.ts, kind
// "raw-echo") and the client (client.ts, --kind raw-echo) share these helpers, so both sides
// frame alike.
//
// A frame: the payload's length as a 32-bit little-endian integer, then the payload.
import * as net from "node:net";
import type { Address } from "./common.js";

/** Bytes of a frame's length prefix. */
export const FRAME_HEADER = 4;

/** One frame holding `payload` (a new buffer, as a user framing each message would make). */
export function encodeFrame(payload: Uint8Array): Buffer {
  const f = Buffer.allocUnsafe(FRAME_HEADER + payload.length);
  f.writeUInt32LE(payload.length, 0);
  f.set(payload, FRAME_HEADER);
  return f;
}

/** The end of the whole frames at the start of `buf` (0: not even one). */
function wholeFramesEnd(buf: Buffer): number {
  let end = 0;
  while (buf.length - end >= FRAME_HEADER) {
    const next = end + FRAME_HEADER + buf.readUInt32LE(end);
    if (next > buf.length) break;
    end = next;
  }
  return end;
}

/**
 * A 'data' handler that calls `onRead` with the whole frames of each read (length prefixes
 * included, back to back), in order. Bytes of a frame split across reads wait in `pending` until
 * the rest arrives; frames are views of the chunks Node delivered (Node never reuses a chunk), so
 * nothing is copied unless a frame spans reads.
 */
function framesOfReads(onRead: (frames: Buffer) => void): (chunk: Buffer) => void {
  let pending: Buffer | null = null;
  return (chunk) => {
    const buf = pending === null ? chunk : Buffer.concat([pending, chunk]);
    pending = null;
    const end = wholeFramesEnd(buf);
    if (end > 0) onRead(buf.subarray(0, end));
    if (end < buf.length) pending = buf.subarray(end);
  };
}

/** A 'data' handler that calls `onFrame` with each whole frame (length prefix included), in order. */
export function frameReader(onFrame: (frame: Buffer) => void): (chunk: Buffer) => void {
  return framesOfReads((frames) => {
    for (let at = 0; at < frames.length; ) {
      const end = at + FRAME_HEADER + frames.readUInt32LE(at);
      onFrame(frames.subarray(at, end));
      at = end;
    }
  });
}

/** The server side of one connection: the whole frames of each read are written straight back, in one write. */
export function echoFrames(socket: net.Socket): void {
  // A no-op on Unix sockets (no Nagle there).
  socket.setNoDelay(true);
  socket.on(
    "data",
    framesOfReads((frames) => socket.write(frames)),
  );
}

/**
 * Writes to `socket` gathered per turn, as Node's documentation suggests for batching: the first
 * write of a turn corks the socket, the next tick uncorks it, so the turn's writes leave in one.
 */
export function gatheredWriter(socket: net.Socket): (data: Uint8Array) => void {
  let corked = false;
  const uncork = (): void => {
    corked = false;
    socket.uncork();
  };
  return (data) => {
    if (!corked) {
      corked = true;
      socket.cork();
      process.nextTick(uncork);
    }
    socket.write(data);
  };
}

/**
 * A connected node:net socket (TCP or Unix), errors after connecting left to the caller.
 * `writableHighWaterMark`: Node's default (16 KiB) unless given.
 */
export function connectNet(address: Address, writableHighWaterMark?: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const hwm = writableHighWaterMark === undefined ? {} : { writableHighWaterMark };
    const s =
      address.transport === "unix"
        ? net.connect({ path: address.path, ...hwm })
        : net.connect({ port: address.port, host: address.host, ...hwm });
    s.once("connect", () => {
      s.off("error", reject);
      resolve(s);
    });
    s.once("error", reject);
  });
}

/**
 * The receiving side of the bulk-transfer floor (bench/rpc/bulk.ts): parses frames as capnts's
 * FrameReader does (a frame within one read is a view; one spanning reads is copied once, into a
 * buffer of its size, when its last byte arrives), counts their payload bytes, and on an empty
 * frame (the sender's "finish") answers with the byte count so far as a u64 and resets it.
 */
export function sinkFrames(socket: net.Socket): void {
  socket.setNoDelay(true);
  let total = 0;
  /** The frame being assembled across reads, and how much of it is in. */
  let partial: Buffer | null = null;
  let filled = 0;
  /** A length prefix split across reads. */
  let head: Buffer | null = null;
  const frame = (payloadBytes: number): void => {
    if (payloadBytes > 0) {
      total += payloadBytes;
      return;
    }
    const reply = Buffer.allocUnsafe(8);
    reply.writeBigUInt64LE(BigInt(total));
    total = 0;
    socket.write(reply);
  };
  socket.on("data", (chunk: Buffer) => {
    let at = 0;
    if (head !== null) {
      chunk = Buffer.concat([head, chunk]);
      head = null;
    }
    while (at < chunk.length) {
      if (partial !== null) {
        const n = Math.min(partial.length - filled, chunk.length - at);
        partial.set(chunk.subarray(at, at + n), filled);
        filled += n;
        at += n;
        if (filled < partial.length) return;
        frame(partial.length - FRAME_HEADER);
        partial = null;
        continue;
      }
      if (chunk.length - at < FRAME_HEADER) {
        head = chunk.subarray(at);
        return;
      }
      const size = FRAME_HEADER + chunk.readUInt32LE(at);
      if (chunk.length - at >= size) {
        // Whole frame in this read: a view (chunk.subarray) would be handed on; no copy.
        frame(size - FRAME_HEADER);
        at += size;
      } else {
        partial = Buffer.allocUnsafe(size);
        filled = 0;
      }
    }
  });
}
