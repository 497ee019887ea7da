// Length-framed messages over node:net with no RPC at all, for the "Node raw" baseline pair of
// the RPC benchmarks: the bound Node itself sets on a ping-pong (socket writes, 'data' events,
// the event loop), which capnts cannot go below on sequential echo. (At 64 outstanding capnts
// can beat it: it gathers a turn's messages into one write, this makes one write per message.)
// Written the plain way a Node user would, on purpose: `socket.write(frame)` per message, a
// 'data' handler with a small reassembly buffer for frames split across reads, setNoDelay(true)
// (capnts sets it too). The server (serve.ts, kind "raw-echo") and the client (client.ts,
// --kind raw-echo) share these helpers, so both sides frame alike.
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

/**
 * A 'data' handler that calls `onFrame` with each whole frame (length prefix included), in
 * order. Bytes of a frame split across reads wait in `pending` until the rest arrives; frames
 * are views of the chunks Node delivered (Node never reuses a chunk), so nothing is copied unless
 * a frame spans reads.
 */
export function frameReader(onFrame: (frame: Buffer) => void): (chunk: Buffer) => void {
  let pending: Buffer | null = null;
  return (chunk) => {
    let buf = pending === null ? chunk : Buffer.concat([pending, chunk]);
    pending = null;
    while (buf.length >= FRAME_HEADER) {
      const end = FRAME_HEADER + buf.readUInt32LE(0);
      if (buf.length < end) break;
      onFrame(buf.subarray(0, end));
      buf = buf.subarray(end);
    }
    if (buf.length > 0) pending = buf;
  };
}

/** The server side of one connection: each whole frame is written straight back. */
export function echoFrames(socket: net.Socket): void {
  // A no-op on Unix sockets (no Nagle there).
  socket.setNoDelay(true);
  socket.on(
    "data",
    frameReader((frame) => socket.write(frame)),
  );
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
