/**
 * Builder-side pointer operations: allocation of structs and lists, getting a writable object
 * behind an existing pointer (upgrading smaller structs like C++ does), zeroing objects that are
 * overwritten, moving pointers, and deep copies between messages (optionally canonical).
 * C++ counterpart: the builder half of `WireHelpers` in `capnp/layout.c++`.
 */

import type { Arena, BuilderArena } from "./arena.js";
import { UNLIMITED_NESTING } from "./arena.js";
import { decodeError, EncodeError } from "./errors.js";
import type { ListView } from "./list.js";
import {
  A,
  allocatePointee,
  checkBounds,
  DATA_BITS,
  type ElementSize,
  KIND_FAR,
  KIND_LIST,
  KIND_OTHER,
  KIND_STRUCT,
  POINTERS,
  R,
  resolve,
  SIZE_BYTE,
  SIZE_INLINE_COMPOSITE,
  SIZE_POINTER,
  SIZE_VOID,
  tagElementCount,
  writePointer,
} from "./pointer.js";
import type { PointerDefault } from "./read.js";
import type { Segment } from "./segment.js";
import type { StructView } from "./struct.js";
import { encodeUtf8Bounded, encodeUtf8Into, utf8Length } from "./text.js";

export const MAX_LIST_ELEMENTS = (1 << 29) - 1;

function zeroBytes(seg: Segment, off: number, len: number): void {
  seg.bytes.fill(0, off, off + len);
}

/**
 * Zero the object `p` points to, recursively, and its far-pointer landing pads (C++
 * `zeroObject`): overwritten data must not linger in the message. The pointer itself is left.
 */
export function zeroObject(arena: BuilderArena, seg: Segment, p: number): void {
  const v = seg.view;
  const lo = v.getUint32(p, true);
  if ((lo & 3) === KIND_FAR) {
    const hi = v.getUint32(p + 4, true);
    const padSeg = arena.segment(hi);
    const padOff = (lo >>> 3) * 8;
    if (!resolve(arena, seg, p)) return;
    zeroTarget(arena, R.seg, R.off, R.lo, R.hi);
    zeroBytes(padSeg, padOff, (lo & 4) === 0 ? 8 : 16);
    return;
  }
  if (!resolve(arena, seg, p)) return;
  zeroTarget(arena, R.seg, R.off, R.lo, R.hi);
}

function zeroTarget(arena: BuilderArena, s: Segment, off: number, lo: number, hi: number): void {
  switch (lo & 3) {
    case KIND_STRUCT: {
      const dw = hi & 0xffff;
      const pc = hi >>> 16;
      for (let i = 0; i < pc; i++) zeroObject(arena, s, off + dw * 8 + i * 8);
      zeroBytes(s, off, (dw + pc) * 8);
      return;
    }
    case KIND_LIST: {
      const es = hi & 7;
      const n = hi >>> 3;
      if (es === SIZE_POINTER) {
        for (let i = 0; i < n; i++) zeroObject(arena, s, off + i * 8);
        zeroBytes(s, off, n * 8);
      } else if (es === SIZE_INLINE_COMPOSITE) {
        const v = s.view;
        const count = tagElementCount(v.getUint32(off, true));
        const thi = v.getUint32(off + 4, true);
        const dw = thi & 0xffff;
        const pc = thi >>> 16;
        const step = (dw + pc) * 8;
        for (let e = 0; e < count; e++) {
          for (let i = 0; i < pc; i++) zeroObject(arena, s, off + 8 + e * step + dw * 8 + i * 8);
        }
        zeroBytes(s, off, 8 + n * 8);
      } else {
        zeroBytes(s, off, Math.ceil((n * DATA_BITS[es]!) / 64) * 8);
      }
      return;
    }
    default:
      return; // capabilities own no words
  }
}

/** Zero the object behind `p` and the pointer itself. */
export function clearPointer(arena: BuilderArena, seg: Segment, p: number): void {
  zeroObject(arena, seg, p);
  zeroBytes(seg, p, 8);
}

// ---- structs ---------------------------------------------------------------------------------

/** Allocate a zeroed struct behind `p` (zeroing whatever was there). Location in A. */
export function initStruct(
  arena: BuilderArena,
  seg: Segment,
  p: number,
  dataWords: number,
  ptrCount: number,
): void {
  zeroObject(arena, seg, p);
  allocatePointee(arena, seg, p, dataWords + ptrCount, KIND_STRUCT, (dataWords | (ptrCount << 16)) >>> 0);
}

/** Result of getWritableStruct: actual sizes (may exceed the requested ones). */
export const W = { seg: undefined as unknown as Segment, off: 0, dataWords: 0, ptrCount: 0 };

/**
 * The struct behind `p`, ready for writing, at least `dataWords`/`ptrCount` large: a null
 * pointer is initialised from `def` (or as an empty struct); a smaller struct written by an
 * older schema is moved to a larger allocation (C++ `getWritableStructPointer`).
 */
export function getWritableStruct(
  arena: BuilderArena,
  seg: Segment,
  p: number,
  dataWords: number,
  ptrCount: number,
  def: PointerDefault | undefined,
): void {
  if (!resolve(arena, seg, p)) {
    if (def !== undefined && resolve(def.arena, def.seg, 0)) {
      copyPointer(arena, seg, p, def.arena, def.seg, 0, UNLIMITED_NESTING, false);
      getWritableStruct(arena, seg, p, dataWords, ptrCount, undefined);
      return;
    }
    initStruct(arena, seg, p, dataWords, ptrCount);
    W.seg = A.seg;
    W.off = A.off;
    W.dataWords = dataWords;
    W.ptrCount = ptrCount;
    return;
  }
  if ((R.lo & 3) !== KIND_STRUCT) {
    throw decodeError(
      "schema-mismatch",
      "Message contains non-struct pointer where struct pointer was expected.",
    );
  }
  const s = R.seg;
  const off = R.off;
  const dw = R.hi & 0xffff;
  const pc = R.hi >>> 16;
  if (dw >= dataWords && pc >= ptrCount) {
    W.seg = s;
    W.off = off;
    W.dataWords = dw;
    W.ptrCount = pc;
    return;
  }
  // Upgrade: allocate the larger struct, move data and pointers, zero the old words.
  const ndw = Math.max(dw, dataWords);
  const npc = Math.max(pc, ptrCount);
  allocatePointee(arena, seg, p, ndw + npc, KIND_STRUCT, (ndw | (npc << 16)) >>> 0);
  const ns = A.seg;
  const noff = A.off;
  if (ns === s) ns.bytes.copyWithin(noff, off, off + dw * 8);
  else ns.bytes.set(s.bytes.subarray(off, off + dw * 8), noff);
  for (let i = 0; i < pc; i++) transferPointer(arena, ns, noff + ndw * 8 + i * 8, s, off + dw * 8 + i * 8);
  zeroBytes(s, off, (dw + pc) * 8);
  W.seg = ns;
  W.off = noff;
  W.dataWords = ndw;
  W.ptrCount = npc;
}

/**
 * Move the pointer at `src` to `dst` (both in this message) without copying its object.
 * Far and capability pointers are position-independent and copied as they are.
 */
export function transferPointer(
  arena: BuilderArena,
  dstSeg: Segment,
  dst: number,
  srcSeg: Segment,
  src: number,
): void {
  const v = srcSeg.view;
  const lo = v.getUint32(src, true);
  const hi = v.getUint32(src + 4, true);
  const kind = lo & 3;
  if ((lo === 0 && hi === 0) || kind === KIND_FAR || kind === KIND_OTHER) {
    dstSeg.view.setUint32(dst, lo, true);
    dstSeg.view.setUint32(dst + 4, hi, true);
    return;
  }
  const target = src + 8 + (lo >> 2) * 8;
  writePointer(arena, dstSeg, dst, srcSeg, target, kind, hi);
}

// ---- lists -----------------------------------------------------------------------------------

function checkCount(n: number): void {
  if (!(n >= 0 && n <= MAX_LIST_ELEMENTS && Number.isInteger(n))) {
    throw new EncodeError(`List of ${n} elements cannot be encoded (at most 2^29-1).`);
  }
}

/** Allocate a list of non-struct elements behind `p`. Location in A. */
export function initList(arena: BuilderArena, seg: Segment, p: number, es: ElementSize, n: number): void {
  checkCount(n);
  zeroObject(arena, seg, p);
  const bits = DATA_BITS[es]! + POINTERS[es]! * 64;
  const words = Math.ceil((n * bits) / 64);
  allocatePointee(arena, seg, p, words, KIND_LIST, ((n << 3) | es) >>> 0);
}

/** Allocate an inline-composite list of `n` structs behind `p`. A points at the first element. */
export function initStructList(
  arena: BuilderArena,
  seg: Segment,
  p: number,
  n: number,
  dataWords: number,
  ptrCount: number,
): void {
  checkCount(n);
  const words = n * (dataWords + ptrCount);
  if (words > MAX_LIST_ELEMENTS) throw new EncodeError("Struct list is too large to encode.");
  zeroObject(arena, seg, p);
  allocatePointee(arena, seg, p, words + 1, KIND_LIST, ((words << 3) | SIZE_INLINE_COMPOSITE) >>> 0);
  const v = A.seg.view;
  v.setUint32(A.off, (n << 2) >>> 0, true);
  v.setUint32(A.off + 4, (dataWords | (ptrCount << 16)) >>> 0, true);
  A.off += 8;
}

/**
 * After a one-pass text encode reached past the zeroed watermark: bytes from the text's end to
 * the segment's new `end` (NUL and padding) are zeroed. Those between the old watermark and the
 * text's end were written; those below the watermark are zero already.
 */
function zeroTextTail(seg: Segment, textEnd: number, end: number): void {
  seg.bytes.fill(0, Math.max(seg.zeroed, textEnd), end);
  seg.zeroed = end;
}

/** Write `s` as Text behind `p`. */
export function setText(arena: BuilderArena, seg: Segment, p: number, s: string): void {
  zeroObject(arena, seg, p);
  // One pass: when the segment the text will go to has room for the worst case (3 bytes per
  // UTF-16 unit, plus the NUL), encode straight into the space at its end and keep only what was
  // written. That is where initList would put the exact-size list too, so the message is the
  // same bytes. Space past a segment's end is always zero, so the NUL terminator and the padding
  // are already there. (Capacities are whole words, so `available() > max` leaves room for the
  // rounded-up size.)
  const max = s.length * 3;
  if (max < MAX_LIST_ELEMENTS) {
    const avail = seg.available();
    if (avail > max) {
      const off = seg.end;
      const written = encodeUtf8Bounded(s, seg.bytes, off);
      const end = off + ((written + 8) & ~7);
      seg.end = end;
      // The NUL and the padding must be zero (the bytes before were written).
      if (end > seg.zeroed) zeroTextTail(seg, off + written, end);
      const v = seg.view;
      v.setUint32(p, ((((off - p - 8) >> 3) << 2) | KIND_LIST) >>> 0, true);
      v.setUint32(p + 4, (((written + 1) << 3) | SIZE_BYTE) >>> 0, true);
      return;
    }
    // Not even one byte per unit fits here, so allocatePointee would place the text in the last
    // segment behind a landing pad (or in a new segment). A full segment is the common case: a
    // struct list's segment is often filled by the list itself, and each element's text then
    // goes to the next segment.
    const last = arena.segments[arena.segments.length - 1]!;
    if (avail < ((s.length + 8) & ~7) && last !== seg && last.available() - 8 > max) {
      const pad = last.end;
      const written = encodeUtf8Bounded(s, last.bytes, pad + 8);
      const end = pad + 8 + ((written + 8) & ~7);
      last.end = end;
      if (end > last.zeroed) zeroTextTail(last, pad + 8 + written, end);
      const tv = last.view;
      tv.setUint32(pad, KIND_LIST, true);
      tv.setUint32(pad + 4, (((written + 1) << 3) | SIZE_BYTE) >>> 0, true);
      const v = seg.view;
      v.setUint32(p, ((pad >>> 3) * 8 + KIND_FAR) >>> 0, true);
      v.setUint32(p + 4, last.id, true);
      return;
    }
  }
  const n = utf8Length(s);
  initList(arena, seg, p, SIZE_BYTE, n + 1);
  encodeUtf8Into(s, A.seg.bytes, A.off);
}

export function setData(arena: BuilderArena, seg: Segment, p: number, data: Uint8Array): void {
  initList(arena, seg, p, SIZE_BYTE, data.byteLength);
  A.seg.bytes.set(data, A.off);
}

export function setCapability(arena: BuilderArena, seg: Segment, p: number, cap: unknown): void {
  zeroObject(arena, seg, p);
  const v = seg.view;
  if (cap === null || cap === undefined) {
    v.setUint32(p, 0, true);
    v.setUint32(p + 4, 0, true);
    return;
  }
  const index = arena.capTable.length;
  arena.capTable.push(cap);
  v.setUint32(p, KIND_OTHER, true);
  v.setUint32(p + 4, index, true);
}

// ---- deep copy -------------------------------------------------------------------------------

/**
 * Deep-copy the object behind `srcP` (in any readable arena) to a new object behind `dstP`.
 * With `canonical`, struct sections are truncated (trailing zero data words, trailing null
 * pointers; for struct lists the largest truncated size of any element) and objects are laid out
 * in pre-order, as in C++ canonicalization. Capabilities are appended to the destination's cap
 * table.
 */
export function copyPointer(
  dst: BuilderArena,
  dstSeg: Segment,
  dstP: number,
  src: Arena,
  srcSeg: Segment,
  srcP: number,
  nesting: number,
  canonical: boolean,
): void {
  zeroObject(dst, dstSeg, dstP);
  const dv = dstSeg.view;
  if (!resolve(src, srcSeg, srcP)) {
    dv.setUint32(dstP, 0, true);
    dv.setUint32(dstP + 4, 0, true);
    return;
  }
  if (nesting <= 0) {
    throw decodeError(
      "nesting-limit",
      "Message is too deeply-nested or contains cycles. See capnp::ReaderOptions.",
    );
  }
  const s = R.seg;
  const off = R.off;
  const lo = R.lo;
  const hi = R.hi;
  switch (lo & 3) {
    case KIND_STRUCT: {
      const dw = hi & 0xffff;
      const pc = hi >>> 16;
      checkBounds(s, off, (dw + pc) * 8, "struct");
      src.readLimit(dw + pc);
      let ndw = dw;
      let npc = pc;
      if (canonical) {
        ndw = trimmedDataWords(s, off, dw);
        npc = trimmedPointers(s, off + dw * 8, pc);
      }
      allocatePointee(dst, dstSeg, dstP, ndw + npc, KIND_STRUCT, (ndw | (npc << 16)) >>> 0);
      copyStructBody(dst, A.seg, A.off, ndw, npc, src, s, off, dw, nesting - 1, canonical);
      return;
    }
    case KIND_LIST: {
      const es = (hi & 7) as ElementSize;
      const n = hi >>> 3;
      if (es === SIZE_INLINE_COMPOSITE) {
        checkBounds(s, off, 8 + n * 8, "list");
        src.readLimit(n + 1);
        const sv = s.view;
        const tlo = sv.getUint32(off, true);
        const thi = sv.getUint32(off + 4, true);
        if ((tlo & 3) !== KIND_STRUCT) {
          throw decodeError("bad-pointer", "INLINE_COMPOSITE lists of non-STRUCT type are not supported.");
        }
        const count = tagElementCount(tlo);
        const dw = thi & 0xffff;
        const pc = thi >>> 16;
        const step = (dw + pc) * 8;
        if (count * (dw + pc) > n) {
          throw decodeError("bad-pointer", "INLINE_COMPOSITE list's elements overrun its word count.");
        }
        if (dw + pc === 0) src.readLimit(count);
        let ndw = dw;
        let npc = pc;
        if (canonical) {
          ndw = 0;
          npc = 0;
          for (let e = 0; e < count; e++) {
            const eo = off + 8 + e * step;
            ndw = Math.max(ndw, trimmedDataWords(s, eo, dw));
            npc = Math.max(npc, trimmedPointers(s, eo + dw * 8, pc));
          }
        }
        initStructList(dst, dstSeg, dstP, count, ndw, npc);
        const ds = A.seg;
        const first = A.off;
        const nstep = (ndw + npc) * 8;
        for (let e = 0; e < count; e++) {
          copyStructBody(
            dst,
            ds,
            first + e * nstep,
            ndw,
            npc,
            src,
            s,
            off + 8 + e * step,
            dw,
            nesting - 1,
            canonical,
          );
        }
        return;
      }
      if (es === SIZE_POINTER) {
        checkBounds(s, off, n * 8, "list");
        src.readLimit(n);
        initList(dst, dstSeg, dstP, es, n);
        const ds = A.seg;
        const doff = A.off;
        for (let i = 0; i < n; i++)
          copyPointer(dst, ds, doff + i * 8, src, s, off + i * 8, nesting - 1, canonical);
        return;
      }
      const bits = n * DATA_BITS[es]!;
      const words = Math.ceil(bits / 64);
      checkBounds(s, off, words * 8, "list");
      src.readLimit(es === SIZE_VOID ? n : words);
      initList(dst, dstSeg, dstP, es, n);
      const nbytes = Math.ceil(bits / 8);
      A.seg.bytes.set(s.bytes.subarray(off, off + nbytes), A.off);
      if (bits & 7) A.seg.bytes[A.off + nbytes - 1]! &= (1 << (bits & 7)) - 1;
      return;
    }
    default: {
      if (lo !== KIND_OTHER) throw decodeError("bad-pointer", "Unknown pointer type.");
      const cap = src.capTable[hi];
      if (cap === undefined) {
        throw decodeError("bad-capability", `Message contains invalid capability pointer (index ${hi}).`);
      }
      setCapability(dst, dstSeg, dstP, retainCapability(cap));
      return;
    }
  }
}

/** Cap table entries that count references (the RPC layer's clients) implement this. */
interface Retainable {
  addRef(): unknown;
}

/**
 * A copied capability pointer is a new reference: each message's cap table owns its entries
 * (C++ copies with `extractCap` + `injectCap`, which adds a reference). Entries without
 * reference counting are shared as they are.
 */
function retainCapability(cap: unknown): unknown {
  if (cap !== null && typeof cap === "object" && typeof (cap as Retainable).addRef === "function") {
    return (cap as Retainable).addRef();
  }
  return cap;
}

/** Copy a struct's data section (truncated to `ndw` words) and its pointers, recursively. */
function copyStructBody(
  dst: BuilderArena,
  ds: Segment,
  doff: number,
  ndw: number,
  npc: number,
  src: Arena,
  s: Segment,
  off: number,
  dw: number,
  nesting: number,
  canonical: boolean,
): void {
  const copyBytes = Math.min(ndw, dw) * 8;
  ds.bytes.set(s.bytes.subarray(off, off + copyBytes), doff);
  for (let i = 0; i < npc; i++) {
    copyPointer(dst, ds, doff + ndw * 8 + i * 8, src, s, off + dw * 8 + i * 8, nesting, canonical);
  }
}

function trimmedDataWords(s: Segment, off: number, dw: number): number {
  const v = s.view;
  let n = dw;
  while (n > 0 && v.getUint32(off + n * 8 - 8, true) === 0 && v.getUint32(off + n * 8 - 4, true) === 0) n--;
  return n;
}

function trimmedPointers(s: Segment, off: number, pc: number): number {
  const v = s.view;
  let n = pc;
  while (n > 0 && v.getUint32(off + n * 8 - 8, true) === 0 && v.getUint32(off + n * 8 - 4, true) === 0) n--;
  return n;
}

/**
 * Deep-copy the struct `value` (whose sections we know, but not the pointer that led to it)
 * into a new struct behind `p`.
 */
export function copyStructInto(arena: BuilderArena, seg: Segment, p: number, value: StructView): void {
  clearPointer(arena, seg, p);
  const dw = value._dataSize >>> 3;
  const extraBytes = value._dataSize & 7; // list elements upgraded from sub-word primitives
  const ndw = dw + (extraBytes ? 1 : 0);
  const pc = value._ptrCount;
  allocatePointee(arena, seg, p, ndw + pc, KIND_STRUCT, (ndw | (pc << 16)) >>> 0);
  const ds = A.seg;
  const doff = A.off;
  ds.bytes.set(value._seg.bytes.subarray(value._dataOff, value._dataOff + value._dataSize), doff);
  for (let k = 0; k < pc; k++) {
    copyPointer(
      arena,
      ds,
      doff + ndw * 8 + k * 8,
      value._arena,
      value._seg,
      value._ptrOff + k * 8,
      value._nesting,
      false,
    );
  }
}

/**
 * Deep-copy the list `value` (reader or builder, any message) to a new list behind `p`, keeping
 * the element size it is encoded with.
 */
export function copyListInto(arena: BuilderArena, seg: Segment, p: number, value: ListView): void {
  const n = value.length;
  const es = value._actual;
  const src = value._arena;
  const s = value._seg;
  if (es === SIZE_INLINE_COMPOSITE) {
    const dw = value._dataSize >>> 3;
    const pc = value._ptrCount;
    initStructList(arena, seg, p, n, dw, pc);
    const ds = A.seg;
    const first = A.off;
    const step = (dw + pc) * 8;
    for (let e = 0; e < n; e++) {
      const so = value._off + e * value._step;
      const doff = first + e * step;
      ds.bytes.set(s.bytes.subarray(so, so + dw * 8), doff);
      for (let k = 0; k < pc; k++) {
        copyPointer(arena, ds, doff + dw * 8 + k * 8, src, s, so + dw * 8 + k * 8, value._nesting, false);
      }
    }
    return;
  }
  initList(arena, seg, p, es, n);
  const ds = A.seg;
  const doff = A.off;
  if (es === SIZE_POINTER) {
    for (let i = 0; i < n; i++) {
      copyPointer(arena, ds, doff + i * 8, src, s, value._off + i * value._step, value._nesting, false);
    }
    return;
  }
  const nbytes = Math.ceil((n * DATA_BITS[es]!) / 8);
  ds.bytes.set(s.bytes.subarray(value._off, value._off + nbytes), doff);
}
