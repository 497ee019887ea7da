/**
 * Pointer encoding (https://capnproto.org/encoding.html): resolution of far pointers on read and
 * placement of pointers (direct, single-far, double-far) on write. The C++ counterpart is the
 * WireHelpers part of `capnp/layout.c++`.
 *
 * Hot paths return their results through the module-level `R` record instead of allocating an
 * object per pointer: JS is single-threaded and no resolution is re-entered between the write
 * and the read of `R`.
 */
import type { Arena, BuilderArena } from "./arena.js";
import { KIND_FAR } from "./codes.js";
import { decodeError } from "./errors.js";
import type { Segment } from "./segment.js";

export {
  ElementSize,
  KIND_FAR,
  KIND_LIST,
  KIND_OTHER,
  KIND_STRUCT,
  SIZE_BIT,
  SIZE_BYTE,
  SIZE_EIGHT_BYTES,
  SIZE_FOUR_BYTES,
  SIZE_INLINE_COMPOSITE,
  SIZE_POINTER,
  SIZE_TWO_BYTES,
  SIZE_VOID,
} from "./codes.js";

/** Data bits per element, by ElementSize. */
export const DATA_BITS: readonly number[] = [0, 1, 8, 16, 32, 64, 0, 0];
/** Pointers per element, by ElementSize. */
export const POINTERS: readonly number[] = [0, 0, 0, 0, 0, 0, 1, 0];

/**
 * Element count of an INLINE_COMPOSITE list's tag word (its offset field, bits 2-31). Like C++
 * `inlineCompositeListElementCount()` (layout.c++) only 29 bits are kept: a list holds at most
 * 2^29 - 1 elements, so a tag claiming more cannot make a reader see a larger list than C++ does.
 */
export function tagElementCount(lo: number): number {
  return (lo >>> 2) & 0x1fffffff;
}

/** Result record of `resolve`: where the object is, and its tag (the pointer's two halves). */
export const R = {
  seg: undefined as unknown as Segment,
  /** Byte offset of the object's content in `seg` (for inline-composite lists: of the tag word). */
  off: 0,
  lo: 0,
  hi: 0,
};

/**
 * Resolve the pointer at byte offset `p` of `seg`, following far pointers. Returns false for a
 * null pointer. Does not bounds-check the target object (the caller knows its size).
 */
export function resolve(arena: Arena, seg: Segment, p: number): boolean {
  const v = seg.view;
  const lo = v.getUint32(p, true);
  const hi = v.getUint32(p + 4, true);
  const kind = lo & 3;
  if (kind !== KIND_FAR) {
    if (lo === 0 && hi === 0) return false;
    R.seg = seg;
    R.off = p + 8 + (lo >> 2) * 8;
    R.lo = lo;
    R.hi = hi;
    return true;
  }
  const padSeg = arena.segment(hi);
  const padOff = (lo >>> 3) * 8;
  const pv = padSeg.view;
  if ((lo & 4) === 0) {
    // Single far: the landing pad is an ordinary pointer in the target segment.
    if (padOff + 8 > padSeg.end) {
      throw decodeError("out-of-bounds", "Message contains out-of-bounds far pointer.");
    }
    const plo = pv.getUint32(padOff, true);
    const phi = pv.getUint32(padOff + 4, true);
    if ((plo & 3) === KIND_FAR) {
      throw decodeError("bad-pointer", "Far pointer's landing pad is another far pointer.");
    }
    R.seg = padSeg;
    R.off = padOff + 8 + (plo >> 2) * 8;
    R.lo = plo;
    R.hi = phi;
    return true;
  }
  // Double far: a far pointer to the content plus a tag describing it.
  if (padOff + 16 > padSeg.end) {
    throw decodeError("out-of-bounds", "Message contains out-of-bounds far pointer.");
  }
  const flo = pv.getUint32(padOff, true);
  const fhi = pv.getUint32(padOff + 4, true);
  if ((flo & 7) !== KIND_FAR) {
    throw decodeError("bad-pointer", "Second word of double-far pad must be far pointer.");
  }
  R.seg = arena.segment(fhi);
  R.off = (flo >>> 3) * 8;
  R.lo = pv.getUint32(padOff + 8, true);
  R.hi = pv.getUint32(padOff + 12, true);
  if ((R.lo & 3) === KIND_FAR) {
    throw decodeError("bad-pointer", "Double-far landing pad tag is a far pointer.");
  }
  return true;
}

/** Bounds check of an object found by `resolve`. */
export function checkBounds(seg: Segment, off: number, bytes: number, what: string): void {
  if (off < 0 || off + bytes > seg.end) {
    throw decodeError("out-of-bounds", `Message contained out-of-bounds ${what} pointer.`);
  }
}

export function isNullPointer(seg: Segment, p: number): boolean {
  const v = seg.view;
  return v.getUint32(p, true) === 0 && v.getUint32(p + 4, true) === 0;
}

/**
 * Write a pointer at `p` in `seg` to an object at byte offset `off` of `target`, with tag
 * (kind and type bits in `lo`'s two low bits, `hi` as given). Uses a direct pointer when both
 * are in one segment, a single-far pointer when the target segment has room for a landing pad,
 * else a double-far pointer (C++ `WireHelpers::transferPointer`).
 */
export function writePointer(
  arena: BuilderArena,
  seg: Segment,
  p: number,
  target: Segment,
  off: number,
  kind: number,
  hi: number,
): void {
  const v = seg.view;
  if (target === seg) {
    v.setUint32(p, ((((off - p - 8) >> 3) << 2) | kind) >>> 0, true);
    v.setUint32(p + 4, hi, true);
    return;
  }
  if (target.available() >= 8) {
    const pad = target.end;
    target.end += 8;
    target.reserve(target.end);
    const tv = target.view;
    tv.setUint32(pad, ((((off - pad - 8) >> 3) << 2) | kind) >>> 0, true);
    tv.setUint32(pad + 4, hi, true);
    v.setUint32(p, ((pad >>> 3) * 8 + KIND_FAR) >>> 0, true);
    v.setUint32(p + 4, target.id, true);
    return;
  }
  arena.allocate(2);
  const padSeg = arena.allocSeg;
  const pad = arena.allocOff;
  const pv = padSeg.view;
  pv.setUint32(pad, ((off >>> 3) * 8 + KIND_FAR) >>> 0, true);
  pv.setUint32(pad + 4, target.id, true);
  pv.setUint32(pad + 8, kind, true); // offset 0 in the tag
  pv.setUint32(pad + 12, hi, true);
  v.setUint32(p, ((pad >>> 3) * 8 + KIND_FAR + 4) >>> 0, true);
  v.setUint32(p + 4, padSeg.id, true);
}

/** Where the last `allocatePointee` put the object. */
export const A = { seg: undefined as unknown as Segment, off: 0 };

/**
 * Allocate `words` for a new object pointed to from `p` in `seg` and write the pointer: in the
 * same segment when it has room, else in another segment behind a landing pad (single far),
 * like C++ `WireHelpers::allocate`.
 */
export function allocatePointee(
  arena: BuilderArena,
  seg: Segment,
  p: number,
  words: number,
  kind: number,
  hi: number,
): void {
  const bytes = words * 8;
  if (seg.available() >= bytes) {
    const off = seg.end;
    seg.end += bytes;
    seg.reserve(seg.end);
    const v = seg.view;
    v.setUint32(p, ((((off - p - 8) >> 3) << 2) | kind) >>> 0, true);
    v.setUint32(p + 4, hi, true);
    A.seg = seg;
    A.off = off;
    return;
  }
  arena.allocate(words + 1);
  const t = arena.allocSeg;
  const pad = arena.allocOff;
  const tv = t.view;
  tv.setUint32(pad, kind, true);
  tv.setUint32(pad + 4, hi, true);
  const v = seg.view;
  v.setUint32(p, ((pad >>> 3) * 8 + KIND_FAR) >>> 0, true);
  v.setUint32(p + 4, t.id, true);
  A.seg = t;
  A.off = pad + 8;
}
