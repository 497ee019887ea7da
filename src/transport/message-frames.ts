/**
 * What the message-level transports (capnts/websocket, capnts/messageport) put in a binary
 * message: Cap'n Proto's standard framing (segment table, then the segments), as C++
 * `WebSocketMessageStream` writes with `capnp::writeMessage` and reads with
 * `FlatArrayMessageReader`. No `node:` imports: this runs in browsers and Workers.
 */
import { RpcError } from "../rpc/errors.js";
import { messageTooLarge } from "../rpc/transport.js";
import { decodeFrame, frameSize, writeFrame } from "../serialize/index.js";
import {
  DEFAULT_NESTING_LIMIT,
  DEFAULT_TRAVERSAL_LIMIT_IN_WORDS,
  DecodeError,
  type MessageBuilder,
  MessageReader,
} from "../wire/index.js";

/** Reader limits of a message transport (a subset of C++ `ReaderOptions`). */
export interface MessageLimits {
  /**
   * Largest message accepted, in words (C++ `traversalLimitInWords`, default 8 Mi words); an
   * outgoing message at or over it is refused, as the peer would refuse it.
   */
  traversalLimitInWords?: number;
  nestingLimit?: number;
}

export interface ResolvedLimits {
  readonly traversalLimitInWords: number;
  readonly nestingLimit: number;
}

export function resolveLimits(o: MessageLimits): ResolvedLimits {
  return {
    traversalLimitInWords: o.traversalLimitInWords ?? DEFAULT_TRAVERSAL_LIMIT_IN_WORDS,
    nestingLimit: o.nestingLimit ?? DEFAULT_NESTING_LIMIT,
  };
}

/**
 * The segments of `message`, checked against the peer's limit (C++ refuses to send a message the
 * other side would reject for its traversal limit).
 */
export function outgoingSegments(message: MessageBuilder, limitWords: number): Uint8Array[] {
  const segs = message.getSegmentsForOutput();
  let words = 0;
  for (const s of segs) words += s.byteLength >>> 3;
  if (words >= limitWords) throw RpcError.failed(messageTooLarge(words, limitWords).message);
  return segs;
}

/** Frames `messages` one after the other into one fresh buffer (its own ArrayBuffer). */
export function encodeFrames(messages: readonly Uint8Array[][]): Uint8Array {
  let size = 0;
  for (const segs of messages) size += frameSize(segs);
  const out = new Uint8Array(size);
  let o = 0;
  for (const segs of messages) o = writeFrame(segs, out, o);
  return out;
}

/**
 * The largest binary message, in bytes, that can hold one message within `limitWords`: the
 * segments plus the largest segment table (512 segments).
 */
export function maxFrameBytes(limitWords: number): number {
  return limitWords * 8 + 2056;
}

/**
 * Reads the framed messages filling `bytes` in place (segments are views of it). A table that
 * does not match the bytes, or a message over the limit, throws a DecodeError.
 */
export function decodeMessages(
  bytes: Uint8Array,
  limits: ResolvedLimits,
  each: (m: MessageReader) => void,
): void {
  let offset = 0;
  do {
    const f = decodeFrame(bytes, offset, limits);
    offset = f.end;
    each(new MessageReader(f.segments, limits));
  } while (offset < bytes.length);
}

/** Reads the one framed message that fills `bytes` (C++ `FlatArrayMessageReader`), in place. */
export function decodeMessage(bytes: Uint8Array, limits: ResolvedLimits): MessageReader {
  const f = decodeFrame(bytes, 0, limits);
  if (f.end !== bytes.length) {
    throw new DecodeError(
      "bad-framing",
      `A binary message holds one Cap'n Proto message: ${bytes.length - f.end} bytes follow it.`,
    );
  }
  return new MessageReader(f.segments, limits);
}

/** The bytes of a binary payload as the platforms hand it over (ArrayBuffer or a view). */
export function binaryBytes(data: unknown): Uint8Array | null {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  // Another realm's ArrayBuffer (a worker's, a vm context's) fails instanceof.
  if (Object.prototype.toString.call(data) === "[object ArrayBuffer]") {
    return new Uint8Array(data as ArrayBuffer);
  }
  return null;
}
