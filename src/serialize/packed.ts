/**
 * Cap'n Proto packed encoding (https://capnproto.org/encoding.html#packing), byte for byte like
 * C++ `PackedOutputStream` / `PackedInputStream` (c++/src/capnp/serialize-packed.c++).
 *
 * Each 8-byte word becomes a tag byte (bit i set = byte i is nonzero) followed by its nonzero
 * bytes. Two tags are special:
 *   0x00: followed by a count (0..255) of further all-zero words.
 *   0xff: the 8 bytes, then a count (0..255) of words copied raw right after it. The writer
 *         extends the raw run while the next word has at most one zero byte (C++: "We look for at
 *         least two zeros because that's the point where our compression scheme becomes a net
 *         win.").
 *
 * Unit = tag, its literal bytes and (for 0x00 / 0xff) the count byte: at most 10 bytes.
 */

import { DEFAULT_TRAVERSAL_LIMIT_IN_WORDS } from "../wire/arena.js";
import { DecodeError, EncodeError } from "../wire/errors.js";
import { type Frame, type FrameOptions, frameSize, headerSize, scanHeader, writeHeader } from "./framing.js";

/** Number of set bits of each byte value: the literal byte count that follows a tag. */
const POPCOUNT = /* @__PURE__ */ (() => {
  const t = new Uint8Array(256);
  for (let i = 1; i < 256; i++) t[i] = (i & 1) + t[i >>> 1]!;
  return t;
})();

/** Bytes of each tag's unit: tag + literal bytes + count byte for 0x00 and 0xff. */
const UNIT_LENGTH = /* @__PURE__ */ (() => {
  const t = new Uint8Array(256);
  for (let i = 0; i < 256; i++) t[i] = 1 + POPCOUNT[i]! + (i === 0 || i === 0xff ? 1 : 0);
  return t;
})();

const EMPTY = new Uint8Array(0);

function truncated(): DecodeError {
  return new DecodeError("truncated", "Premature end of packed input.");
}

function overrun(): DecodeError {
  // serialize-packed.c++ PackedInputStream::tryRead wording.
  return new DecodeError("bad-packed", "Packed input did not end cleanly on a segment boundary.");
}

// ---------------------------------------------------------------------------------------------
// Packing

/**
 * Upper bound of the packed size of `byteLength` unpacked bytes. Per 16 input bytes the worst is a
 * lone 0xff word (10 bytes: its raw run cannot continue, so the next word has two zeros) followed
 * by a word with exactly two zeros (7 bytes) = 17; a final 0xff word costs 10 for 8.
 */
export function maxPackedSize(byteLength: number): number {
  return byteLength + (byteLength >>> 3) + 2;
}

/**
 * 0x80 in each byte of `x` that is zero, exactly (no false positives from borrows: the low seven
 * bits are added without carrying into the next byte). A 32-bit int, possibly negative.
 */
function zeroByteMask(x: number): number {
  return ~(((x & 0x7f7f7f7f) + 0x7f7f7f7f) | x | 0x7f7f7f7f);
}

/**
 * Packs `words` (a whole number of 8-byte words) into `out` at `offset`; returns the end offset.
 * `out` needs `maxPackedSize(words.length)` bytes free at `offset`. Runs never extend past the end
 * of `words`: C++ packs each `write()` separately, so callers reproduce C++ output by packing the
 * same pieces (see `packedFrame`).
 */
export function packInto(words: Uint8Array, out: Uint8Array, offset: number): number {
  const len = words.length;
  if ((len & 7) !== 0) {
    throw new EncodeError(`pack() needs a whole number of 8-byte words; got ${len} bytes.`);
  }
  if (offset < 0 || out.length - offset < maxPackedSize(len)) {
    throw new RangeError(`packInto needs ${maxPackedSize(len)} bytes at offset ${offset}; has ${out.length}`);
  }
  const src = words;
  let i = 0;
  let o = offset;
  let dv: DataView | undefined;
  while (i < len) {
    const tagPos = o++;
    let tag = 0;
    let b: number;
    // Unrolled: write every byte, advance only past nonzero ones (as the C++ HANDLE_BYTE does).
    // `out` has room for the full 8 bytes past o by the bound above.
    b = src[i]!;
    out[o] = b;
    if (b !== 0) {
      o++;
      tag = 1;
    }
    b = src[i + 1]!;
    out[o] = b;
    if (b !== 0) {
      o++;
      tag |= 2;
    }
    b = src[i + 2]!;
    out[o] = b;
    if (b !== 0) {
      o++;
      tag |= 4;
    }
    b = src[i + 3]!;
    out[o] = b;
    if (b !== 0) {
      o++;
      tag |= 8;
    }
    b = src[i + 4]!;
    out[o] = b;
    if (b !== 0) {
      o++;
      tag |= 16;
    }
    b = src[i + 5]!;
    out[o] = b;
    if (b !== 0) {
      o++;
      tag |= 32;
    }
    b = src[i + 6]!;
    out[o] = b;
    if (b !== 0) {
      o++;
      tag |= 64;
    }
    b = src[i + 7]!;
    out[o] = b;
    if (b !== 0) {
      o++;
      tag |= 128;
    }
    out[tagPos] = tag;
    i += 8;

    if (tag === 0) {
      // A zero word is followed by the count of further zero words, at most 255.
      const limit = Math.min(len, i + 255 * 8);
      const start = i;
      while (
        i < limit &&
        (src[i]! |
          src[i + 1]! |
          src[i + 2]! |
          src[i + 3]! |
          src[i + 4]! |
          src[i + 5]! |
          src[i + 6]! |
          src[i + 7]!) ===
          0
      ) {
        i += 8;
      }
      out[o++] = (i - start) >>> 3;
    } else if (tag === 0xff) {
      // An all-nonzero word is followed by the count of raw words, then those words: the run
      // takes every following word with fewer than two zero bytes, at most 255 words.
      const limit = Math.min(len, i + 255 * 8);
      const start = i;
      // Two 32-bit loads per word instead of eight byte compares (text is mostly raw runs).
      if (dv === undefined) dv = new DataView(src.buffer, src.byteOffset, src.byteLength);
      while (i < limit) {
        const zl = zeroByteMask(dv.getUint32(i, true));
        const zh = zeroByteMask(dv.getUint32(i + 4, true));
        // Two or more zero bytes: one in each half, or two in one half.
        if ((zl !== 0 && zh !== 0) || ((zl | zh) & ((zl | zh) - 1)) !== 0) break;
        i += 8;
      }
      const n = i - start;
      out[o++] = n >>> 3;
      if (n <= 64) {
        for (let k = start; k < i; k++) out[o++] = src[k]!;
      } else {
        out.set(src.subarray(start, i), o);
        o += n;
      }
    }
  }
  return o;
}

/** Packs `words` (a whole number of 8-byte words) as one piece. */
export function pack(words: Uint8Array): Uint8Array {
  const out = new Uint8Array(maxPackedSize(words.length));
  return out.subarray(0, packInto(words, out, 0));
}

/**
 * Frames and packs a message, byte for byte like C++ `writePackedMessage`: C++ hands the segment
 * table and each segment to `PackedOutputStream::write` as separate pieces, and runs of zero or raw
 * words never cross a piece. (So this can differ from `pack(encodeFrame(segments))` when a segment
 * ends and the next begins with zero words.)
 */
export function packedFrame(segments: readonly Uint8Array[]): Uint8Array {
  const unpacked = frameSize(segments);
  const count = segments.length;
  const header = new Uint8Array(headerSize(count));
  writeHeader(segments, header, 0);
  // Each piece's bound has +2; sum them all.
  const out = new Uint8Array(maxPackedSize(unpacked) + 2 * count);
  let o = packInto(header, out, 0);
  for (let i = 0; i < count; i++) o = packInto(segments[i]!, out, o);
  return out.subarray(0, o);
}

// ---------------------------------------------------------------------------------------------
// Unpacking a whole buffer

/**
 * Unpacked size in bytes of `packed[start, end)` (C++ `computeUnpackedSizeInWords`, times 8).
 * Throws DecodeError "truncated" if the input stops inside a unit or a raw run.
 */
export function unpackedSize(packed: Uint8Array, start = 0, end = packed.length): number {
  let p = start;
  let size = 0;
  while (p < end) {
    const tag = packed[p]!;
    const next = p + UNIT_LENGTH[tag]!;
    if (next > end) throw truncated();
    size += 8;
    if (tag === 0) {
      size += packed[next - 1]! * 8;
    } else if (tag === 0xff) {
      const raw = packed[next - 1]! * 8;
      if (next + raw > end) throw truncated();
      size += raw;
      p = next + raw;
      continue;
    }
    p = next;
  }
  return size;
}

/**
 * Decodes units from `src` at `p` into `dst[d, dEnd)` until that range is full; returns the input
 * position after the last unit. `dst[d, dEnd)` must be zero-filled (fresh) and a whole number of
 * words. Like C++, a run that would go past `dEnd` is an error: each read must end on the
 * boundary the writer packed at.
 */
function unpackRange(
  src: Uint8Array,
  p: number,
  end: number,
  dst: Uint8Array,
  d: number,
  dEnd: number,
): number {
  while (d < dEnd) {
    if (p >= end) throw truncated();
    const tag = src[p]!;
    const next = p + UNIT_LENGTH[tag]!;
    if (next > end) throw truncated();
    p++;
    if (tag === 0) {
      const run = src[p]! * 8;
      if (run > dEnd - d - 8) throw overrun();
      // dst is zero already.
      d += 8 + run;
      p = next;
    } else if (tag === 0xff) {
      const run = src[p + 8]! * 8;
      if (run > dEnd - d - 8) throw overrun();
      if (next + run > end) throw truncated();
      dst[d] = src[p]!;
      dst[d + 1] = src[p + 1]!;
      dst[d + 2] = src[p + 2]!;
      dst[d + 3] = src[p + 3]!;
      dst[d + 4] = src[p + 4]!;
      dst[d + 5] = src[p + 5]!;
      dst[d + 6] = src[p + 6]!;
      dst[d + 7] = src[p + 7]!;
      if (run !== 0) dst.set(src.subarray(next, next + run), d + 8);
      d += 8 + run;
      p = next + run;
    } else {
      // Zero bytes are already zero; write only the literal ones.
      if (tag & 1) dst[d] = src[p++]!;
      if (tag & 2) dst[d + 1] = src[p++]!;
      if (tag & 4) dst[d + 2] = src[p++]!;
      if (tag & 8) dst[d + 3] = src[p++]!;
      if (tag & 16) dst[d + 4] = src[p++]!;
      if (tag & 32) dst[d + 5] = src[p++]!;
      if (tag & 64) dst[d + 6] = src[p++]!;
      if (tag & 128) dst[d + 7] = src[p++]!;
      d += 8;
    }
  }
  return p;
}

/**
 * Unpacks a whole packed buffer. The size is computed in a first pass, so the output is allocated
 * once at its exact size; `maxBytes` refuses (DecodeError "too-large") before allocating when
 * hostile input would expand beyond it (two packed bytes can stand for 2 KiB).
 */
export function unpack(packed: Uint8Array, maxBytes = Number.POSITIVE_INFINITY): Uint8Array {
  const size = unpackedSize(packed);
  if (size > maxBytes) {
    throw new DecodeError("too-large", `Packed input unpacks to ${size} bytes; the limit is ${maxBytes}.`);
  }
  if (size === 0) return EMPTY.slice();
  const out = new Uint8Array(size);
  unpackRange(packed, 0, packed.length, out, 0, size);
  return out;
}

/**
 * Reads one packed, framed message at `offset` (C++ `PackedMessageReader`). The segment table is
 * unpacked first and checked against the limits before the body is allocated, so a hostile size
 * claim costs nothing. The segments are views of one fresh buffer. Like C++, the first word, the
 * rest of the table and the segments are read as separate pieces, and a zero or raw run crossing
 * into the next piece is DecodeError "bad-packed"; `end` is the packed offset after the message.
 *
 * The second argument may be the options (offset 0) or the offset.
 */
export function decodePackedFrame(
  bytes: Uint8Array,
  offsetOrOptions: number | FrameOptions = 0,
  options?: FrameOptions,
): Frame {
  let offset = 0;
  let opts = options;
  if (typeof offsetOrOptions === "number") offset = offsetOrOptions;
  else opts = offsetOrOptions;
  if (offset < 0 || offset > bytes.length) {
    throw new RangeError(`decodePackedFrame offset ${offset} out of range`);
  }
  const limit = opts?.traversalLimitInWords ?? DEFAULT_TRAVERSAL_LIMIT_IN_WORDS;
  const end = bytes.length;

  // First word: segment count and first size.
  let table = new Uint8Array(8);
  let p = unpackRange(bytes, offset, end, table, 0, 8);
  let length = scanHeader(table, 0, limit);
  if (length < 0) {
    // More than one segment: the rest of the table is its own piece.
    const first = table;
    table = new Uint8Array(-length);
    table.set(first);
    p = unpackRange(bytes, p, end, table, 8, table.length);
    length = scanHeader(table, 0, limit);
  }
  const count = ((table[0]! | (table[1]! << 8) | (table[2]! << 16) | (table[3]! << 24)) >>> 0) + 1;
  const body = new Uint8Array(length - table.length);
  p = unpackRange(bytes, p, end, body, 0, body.length);

  const segments = new Array<Uint8Array>(count);
  if (count === 1) {
    segments[0] = body; // the whole body: no view needed
    return { segments, end: p };
  }
  let o = 0;
  for (let i = 0, t = 4; i < count; i++, t += 4) {
    const words = (table[t]! | (table[t + 1]! << 8) | (table[t + 2]! << 16) | (table[t + 3]! << 24)) >>> 0;
    segments[i] = body.subarray(o, o + words * 8);
    o += words * 8;
  }
  return { segments, end: p };
}

/**
 * Reads consecutive packed messages filling `bytes` (`capnp encode --packed` of several messages).
 */
export function* decodePackedFrames(
  bytes: Uint8Array,
  options?: FrameOptions,
): Generator<Uint8Array[], void, undefined> {
  let offset = 0;
  while (offset < bytes.length) {
    const frame = decodePackedFrame(bytes, offset, options);
    offset = frame.end;
    yield frame.segments;
  }
}

// ---------------------------------------------------------------------------------------------
// Streaming unpacking

/**
 * Incremental unpacker: push chunks of packed bytes as they arrive (split anywhere: inside a
 * unit, inside a raw run, between a tag and its count), get the unpacked bytes out. Each `push`
 * returns a fresh buffer of exactly the bytes completed by that chunk (possibly empty; raw-run
 * bytes come out as they arrive, so a chunk ending inside a raw run yields a partial word). Call `finish()` at the end of input: it throws DecodeError "truncated" if the
 * input stopped in the middle of a unit or a raw run.
 *
 * A unit split across chunks is held in a 10-byte carry buffer; raw runs and zero runs are never
 * buffered, they stream straight through.
 */
export class PackedDecoder {
  /** Carry: the start of a unit split across chunks. */
  private readonly unit = new Uint8Array(10);
  private unitLen = 0;
  /** Raw bytes of a 0xff run still to be copied from the input. */
  private raw = 0;
  private readonly maxChunkOutput: number;

  /**
   * `maxChunkOutput` bounds what one push may unpack to (DecodeError "too-large" beyond it):
   * packed input can expand 1024-fold (0x00 0xff = 256 zero words).
   */
  constructor(maxChunkOutput = Number.POSITIVE_INFINITY) {
    this.maxChunkOutput = maxChunkOutput;
  }

  /** True when the input so far ends exactly between units. */
  get idle(): boolean {
    return this.unitLen === 0 && this.raw === 0;
  }

  push(chunk: Uint8Array): Uint8Array {
    const n = chunk.length;
    let q = 0;
    let size = 0;
    let raw = this.raw;
    // Output of the carried unit once complete: 8 literal bytes (+ zero run), and raw bytes.
    let unitDone = false;

    // Pass 1: the exact output size of this chunk, and where the units end.
    if (this.unitLen > 0) {
      const carried = this.unit[0]!;
      const need = UNIT_LENGTH[carried]! - this.unitLen;
      if (n < need) {
        this.unit.set(chunk, this.unitLen);
        this.unitLen += n;
        return EMPTY;
      }
      this.unit.set(chunk.subarray(0, need), this.unitLen);
      q = need;
      unitDone = true;
      const tag = this.unit[0]!;
      const count = this.unit[need + this.unitLen - 1]!;
      size = 8;
      if (tag === 0) size += count * 8;
      else if (tag === 0xff) raw = count * 8;
    }
    for (;;) {
      if (raw > 0) {
        const take = Math.min(raw, n - q);
        size += take;
        q += take;
        raw -= take;
        if (raw > 0) break;
      }
      if (q >= n) break;
      const tag = chunk[q]!;
      const next = q + UNIT_LENGTH[tag]!;
      if (next > n) break;
      size += 8;
      if (tag === 0) size += chunk[next - 1]! * 8;
      else if (tag === 0xff) raw = chunk[next - 1]! * 8;
      q = next;
    }
    const unitsEnd = q;
    if (size > this.maxChunkOutput) {
      throw new DecodeError(
        "too-large",
        `Packed chunk unpacks to ${size} bytes; the limit is ${this.maxChunkOutput}.`,
      );
    }

    // Pass 2: decode into a zero-filled buffer of that size.
    const out = size === 0 ? EMPTY : new Uint8Array(size);
    let d = 0;
    let p = 0;
    raw = this.raw;
    if (unitDone) {
      d = decodeUnit(this.unit, 0, out, 0);
      const tag = this.unit[0]!;
      if (tag === 0xff) raw = this.unit[9]! * 8;
      p = UNIT_LENGTH[tag]! - this.unitLen;
      this.unitLen = 0;
    }
    for (;;) {
      if (raw > 0) {
        const take = Math.min(raw, n - p);
        out.set(chunk.subarray(p, p + take), d);
        d += take;
        p += take;
        raw -= take;
        if (raw > 0) break;
      }
      if (p >= unitsEnd) break;
      const tag = chunk[p]!;
      d = decodeUnit(chunk, p, out, d);
      p += UNIT_LENGTH[tag]!;
      if (tag === 0xff) raw = chunk[p - 1]! * 8;
    }
    this.raw = raw;
    // Carry the start of a split unit.
    if (raw === 0 && p < n) {
      this.unit.set(chunk.subarray(p), 0);
      this.unitLen = n - p;
    }
    return out;
  }

  /** Throws DecodeError "truncated" if the input ended inside a unit or a raw run. */
  finish(): void {
    if (!this.idle) {
      this.unitLen = 0;
      this.raw = 0;
      throw truncated();
    }
  }
}

/**
 * Decodes the complete unit at `src[p]` into zero-filled `dst` at `d`: its word, plus the zero run
 * for tag 0 (not the raw run of tag 0xff, which the caller copies). Returns the new `d`.
 */
function decodeUnit(src: Uint8Array, p: number, dst: Uint8Array, d: number): number {
  const tag = src[p++]!;
  if (tag === 0) return d + 8 + src[p]! * 8;
  if (tag & 1) dst[d] = src[p++]!;
  if (tag & 2) dst[d + 1] = src[p++]!;
  if (tag & 4) dst[d + 2] = src[p++]!;
  if (tag & 8) dst[d + 3] = src[p++]!;
  if (tag & 16) dst[d + 4] = src[p++]!;
  if (tag & 32) dst[d + 5] = src[p++]!;
  if (tag & 64) dst[d + 6] = src[p++]!;
  if (tag & 128) dst[d + 7] = src[p++]!;
  return d + 8;
}
