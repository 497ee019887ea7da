/**
 * Standard stream framing (the "segment table"), as written by C++ `capnp::writeMessage` and read
 * by `capnp::InputStreamMessageReader` / `FlatArrayMessageReader` (c++/src/capnp/serialize.c++):
 *
 *   u32 segmentCount - 1 | u32 size of each segment, in words | u32 zero padding if the count is
 *   even (so the table is a whole number of words) | the segments, back to back.
 *
 * All integers are little-endian. Readers here never build a Uint32Array over the input: the input
 * may sit at any byte offset (a socket chunk, a slice of a file), so u32s are assembled from bytes.
 */

import { DEFAULT_TRAVERSAL_LIMIT_IN_WORDS } from "../wire/arena.js";
import { DecodeError, EncodeError } from "../wire/errors.js";

/** Limits applied while reading a frame (a subset of C++ `ReaderOptions`). */
export interface FrameOptions {
  /**
   * Largest message, in words, that the reader accepts (C++ `traversalLimitInWords`, default
   * 8 Mi words = 64 MiB). C++ refuses a message whose segments add up to more than this before it
   * allocates anything, since such a message could not be traversed anyway.
   */
  traversalLimitInWords?: number;
}

/** A frame read from a buffer: the segments (views into the buffer) and where the frame ended. */
export interface Frame {
  segments: Uint8Array[];
  /** Offset in the input just past this frame (where the next frame, if any, starts). */
  end: number;
}

/**
 * Segment counts at or above this are refused (serialize.c++: "Reject messages with too many
 * segments for security reasons."). This also bounds the segment table to 257 words.
 */
export const MAX_SEGMENTS = 512;

/** Largest possible segment table, in bytes: (511 / 2 + 1) words. */
export const MAX_HEADER_BYTES = ((MAX_SEGMENTS - 1) >>> 1) * 8 + 8;

const EMPTY_OPTIONS: FrameOptions = {};

/** Little-endian u32 at any byte offset; the caller has checked bounds. */
function readU32(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
}

function writeU32(b: Uint8Array, o: number, v: number): void {
  b[o] = v;
  b[o + 1] = v >>> 8;
  b[o + 2] = v >>> 16;
  b[o + 3] = v >>> 24;
}

/** Bytes taken by the segment table of a message with `count` segments. */
export function headerSize(count: number): number {
  return ((count >>> 1) + 1) * 8;
}

function checkSegments(segments: readonly Uint8Array[]): void {
  // serialize.c++ computeSerializedSizeInWords: "Tried to serialize uninitialized message."
  if (segments.length === 0) throw new EncodeError("Tried to serialize uninitialized message.");
  for (let i = 0; i < segments.length; i++) {
    const n = segments[i]!.length;
    if ((n & 7) !== 0) throw new EncodeError(`Segment ${i} is not a whole number of words (${n} bytes).`);
    if (n / 8 > 0xffffffff) throw new EncodeError(`Segment ${i} is too large for the segment table.`);
  }
}

/** Bytes needed to frame `segments` (table + segments). */
export function frameSize(segments: readonly Uint8Array[]): number {
  checkSegments(segments);
  let total = headerSize(segments.length);
  for (let i = 0; i < segments.length; i++) total += segments[i]!.length;
  return total;
}

/**
 * Writes the segment table of `segments` at `offset`; returns the offset just past it. Used by
 * the packed writer, which packs the table and each segment separately like C++ does.
 */
export function writeHeader(segments: readonly Uint8Array[], out: Uint8Array, offset: number): number {
  const count = segments.length;
  // C++ writes count - 1 "because this makes the first word zero for single-segment messages,
  // improving compression" (serialize.c++ writeMessage).
  writeU32(out, offset, count - 1);
  let o = offset + 4;
  for (let i = 0; i < count; i++, o += 4) writeU32(out, o, segments[i]!.length / 8);
  // Padding to a whole word when the count is even; `out` may be a reused buffer, so zero it.
  if ((count & 1) === 0) {
    writeU32(out, o, 0);
    o += 4;
  }
  return o;
}

/**
 * Writes the framed message into `out` at `offset`; returns the end offset. `out` must have
 * `frameSize(segments)` bytes free at `offset` (throws RangeError otherwise, before writing).
 */
export function writeFrame(segments: readonly Uint8Array[], out: Uint8Array, offset: number): number {
  const size = frameSize(segments);
  if (offset < 0 || offset + size > out.length) {
    throw new RangeError(`writeFrame needs ${size} bytes at offset ${offset}; the buffer has ${out.length}`);
  }
  let o = writeHeader(segments, out, offset);
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i]!;
    out.set(s, o);
    o += s.length;
  }
  return o;
}

/** Frames `segments` into one fresh buffer (one allocation, one copy of each segment). */
export function encodeFrame(segments: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(frameSize(segments));
  writeFrame(segments, out, 0);
  return out;
}

/**
 * Parses the segment table at `offset`, checking limits as early as C++ does: the segment count
 * as soon as the first word is there, the total size as soon as the table is complete.
 *
 * Returns the frame's total byte length (table + segments; the body may still be missing), or,
 * when the table itself is incomplete, `-n` where n is the number of bytes the table needs
 * (8 until the first word is there). Never returns 0: a table is at least 8 bytes.
 */
export function scanHeader(bytes: Uint8Array, offset: number, limitInWords: number): number {
  const avail = bytes.length - offset;
  if (avail < 8) return -8;
  // As a JS number, 0xffffffff + 1 does not wrap to 0 (C++ 0.9's `uint` does, and then accepts a
  // zero-segment message); here it is simply too many segments.
  const count = readU32(bytes, offset) + 1;
  if (count >= MAX_SEGMENTS) {
    throw new DecodeError("too-large", `Message has too many segments. (${count} segments)`);
  }
  const header = headerSize(count);
  if (avail < header) return -header;
  let words = 0;
  for (let i = 0, o = offset + 4; i < count; i++, o += 4) words += readU32(bytes, o);
  // serialize.c++: "Without this check, a malicious client could transmit a very large segment
  // size to make the receiver allocate excessive space and possibly crash."
  if (words > limitInWords) {
    throw new DecodeError(
      "too-large",
      "Message is too large.  To increase the limit on the receiving end, see capnp::ReaderOptions." +
        ` (${words} words, limit ${limitInWords})`,
    );
  }
  return header + words * 8;
}

/**
 * How many bytes the whole message starting at `offset` takes (table and segments), or -1 when
 * `bytes` does not yet hold its complete segment table. Throws DecodeError "too-large" as soon as
 * the table shows the message breaks a limit, so a stream reader can refuse it before buffering.
 */
export function frameLength(bytes: Uint8Array, offset = 0, options: FrameOptions = EMPTY_OPTIONS): number {
  const n = scanHeader(bytes, offset, options.traversalLimitInWords ?? DEFAULT_TRAVERSAL_LIMIT_IN_WORDS);
  return n < 0 ? -1 : n;
}

/**
 * Reads one framed message at `offset`. The segments are zero-copy views (`subarray`) of `bytes`:
 * they stay valid only as long as the caller leaves that memory alone. Segments may start at any
 * byte offset of the underlying ArrayBuffer.
 */
export function decodeFrame(bytes: Uint8Array, offset = 0, options: FrameOptions = EMPTY_OPTIONS): Frame {
  if (offset < 0 || offset > bytes.length) throw new RangeError(`decodeFrame offset ${offset} out of range`);
  const limit = options.traversalLimitInWords ?? DEFAULT_TRAVERSAL_LIMIT_IN_WORDS;
  const length = scanHeader(bytes, offset, limit);
  if (length < 0) {
    throw new DecodeError(
      "truncated",
      `Message ends prematurely in segment table. (${bytes.length - offset} of ${-length} bytes)`,
    );
  }
  if (bytes.length - offset < length) {
    throw new DecodeError(
      "truncated",
      `Message ends prematurely. (${bytes.length - offset} of ${length} bytes)`,
    );
  }
  const count = readU32(bytes, offset) + 1;
  const segments = new Array<Uint8Array>(count);
  let o = offset + headerSize(count);
  for (let i = 0, t = offset + 4; i < count; i++, t += 4) {
    const end = o + readU32(bytes, t) * 8;
    segments[i] = bytes.subarray(o, end);
    o = end;
  }
  return { segments, end: o };
}

/**
 * Reads consecutive framed messages filling `bytes` (what `capnp encode` writes for several input
 * messages), yielding each message's segments as views. A partial message at the end throws
 * DecodeError "truncated" once the complete ones before it have been yielded.
 */
export function* decodeFrames(
  bytes: Uint8Array,
  options: FrameOptions = EMPTY_OPTIONS,
): Generator<Uint8Array[], void, undefined> {
  let offset = 0;
  while (offset < bytes.length) {
    const frame = decodeFrame(bytes, offset, options);
    offset = frame.end;
    yield frame.segments;
  }
}
