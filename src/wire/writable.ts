/**
 * Reaching and filling a writable list or struct behind a pointer (C++ layout.c++
 * `getWritableListPointer`, `initListPointer`, `setStructPointer`, `setListPointer`): the builder
 * operations that struct, list and AnyPointer builders all use. They live below those classes,
 * which build through a `ListBuilderKind` (the list class's factory) rather than naming the
 * classes, so the builders' modules do not import each other (test/package/import-cycles.test.ts).
 */
import type { BuilderArena } from "./arena.js";
import { UNLIMITED_NESTING } from "./arena.js";
import { decodeError } from "./errors.js";
import type { ListView } from "./list.js";
import {
  A,
  allocatePointee,
  DATA_BITS,
  ElementSize,
  KIND_LIST,
  KIND_STRUCT,
  POINTERS,
  R,
  resolve,
  tagElementCount,
} from "./pointer.js";
import type { PointerDefault } from "./read.js";
import { EMPTY_SEGMENT } from "./read.js";
import type { Segment } from "./segment.js";
import type { StructView } from "./struct.js";
import { clearPointer, copyPointer, initList, initStructList, transferPointer } from "./write.js";

export interface ListBuilderKind<L> {
  readonly size: ElementSize;
  readonly dataWords: number;
  readonly ptrCount: number;
  make(
    arena: BuilderArena,
    seg: Segment,
    off: number,
    length: number,
    step: number,
    dataSize: number,
    ptrCount: number,
    nesting: number,
    actual: ElementSize,
  ): L;
}

/** Allocate a new list of `kind` with `length` elements behind `p`. */
export function initListOfKind<L>(
  arena: BuilderArena,
  seg: Segment,
  p: number,
  kind: ListBuilderKind<L>,
  length: number,
): L {
  const es = kind.size;
  if (es === ElementSize.INLINE_COMPOSITE) {
    const dw = kind.dataWords;
    const pc = kind.ptrCount;
    initStructList(arena, seg, p, length, dw, pc);
    return kind.make(arena, A.seg, A.off, length, (dw + pc) * 8, dw * 8, pc, UNLIMITED_NESTING, es);
  }
  initList(arena, seg, p, es, length);
  const bits = DATA_BITS[es]!;
  const ptrs = POINTERS[es]!;
  return kind.make(
    arena,
    A.seg,
    A.off,
    length,
    (bits + ptrs * 64) >>> 3,
    bits >>> 3,
    ptrs,
    UNLIMITED_NESTING,
    es,
  );
}

/**
 * The list behind `p`, ready for writing (C++ `getWritableListPointer`): a null pointer gives
 * the default (copied in) or an empty list; a struct list whose elements are smaller than the
 * schema's, or a primitive list where a struct list is expected, is upgraded in place.
 */
export function getWritableList<L>(
  arena: BuilderArena,
  seg: Segment,
  p: number,
  kind: ListBuilderKind<L>,
  def: PointerDefault | undefined,
): L {
  if (!resolve(arena, seg, p)) {
    if (def !== undefined && resolve(def.arena, def.seg, 0)) {
      copyPointer(arena, seg, p, def.arena, def.seg, 0, UNLIMITED_NESTING, false);
      return getWritableList(arena, seg, p, kind, undefined);
    }
    return kind.make(arena, EMPTY_SEGMENT, 0, 0, 0, 0, 0, UNLIMITED_NESTING, kind.size);
  }
  if ((R.lo & 3) !== KIND_LIST) {
    throw decodeError(
      "schema-mismatch",
      "Message contains non-list pointer where list pointer was expected.",
    );
  }
  const s = R.seg;
  const off = R.off;
  const es = (R.hi & 7) as ElementSize;
  const count = R.hi >>> 3;
  const expected = kind.size;
  if (es === ElementSize.INLINE_COMPOSITE) {
    const v = s.view;
    const n = tagElementCount(v.getUint32(off, true));
    const thi = v.getUint32(off + 4, true);
    const dw = thi & 0xffff;
    const pc = thi >>> 16;
    if (expected === ElementSize.INLINE_COMPOSITE) {
      if (dw >= kind.dataWords && pc >= kind.ptrCount) {
        return kind.make(arena, s, off + 8, n, (dw + pc) * 8, dw * 8, pc, UNLIMITED_NESTING, es);
      }
      return upgradeToStructList(arena, seg, p, kind, s, off + 8, n, (dw + pc) * 8, dw * 8, pc, off);
    }
    if (expected === ElementSize.BIT)
      throw decodeError("schema-mismatch", "Found struct list where bit list was expected.");
    if (expected === ElementSize.POINTER ? pc === 0 : expected !== ElementSize.VOID && dw === 0) {
      throw decodeError("schema-mismatch", "Existing list value is incompatible with expected type.");
    }
    return kind.make(arena, s, off + 8, n, (dw + pc) * 8, dw * 8, pc, UNLIMITED_NESTING, es);
  }
  const bits = DATA_BITS[es]!;
  const ptrs = POINTERS[es]!;
  if (expected === ElementSize.INLINE_COMPOSITE) {
    if (es === ElementSize.BIT) {
      throw decodeError(
        "schema-mismatch",
        "Found bit list where struct list was expected; upgrading boolean lists to structs is no longer supported.",
      );
    }
    // C++ always upgrades here, so that every element can be written as a full struct.
    return upgradeToStructList(
      arena,
      seg,
      p,
      kind,
      s,
      off,
      count,
      (bits + ptrs * 64) >>> 3,
      bits >>> 3,
      ptrs,
      off,
    );
  }
  if (es !== expected && expected !== ElementSize.VOID) {
    throw decodeError("schema-mismatch", "Existing list value is incompatible with expected type.");
  }
  return kind.make(arena, s, off, count, (bits + ptrs * 64) >>> 3, bits >>> 3, ptrs, UNLIMITED_NESTING, es);
}

function upgradeToStructList<L>(
  arena: BuilderArena,
  seg: Segment,
  p: number,
  kind: ListBuilderKind<L>,
  s: Segment,
  first: number,
  n: number,
  step: number,
  dataSize: number,
  ptrs: number,
  oldStart: number,
): L {
  const ndw = Math.max(kind.dataWords, Math.ceil(dataSize / 8));
  const npc = Math.max(kind.ptrCount, ptrs);
  const nstep = (ndw + npc) * 8;
  const words = n * (ndw + npc);
  // Allocate without zeroing the old list first: its contents are moved below.
  allocatePointee(arena, seg, p, words + 1, KIND_LIST, ((words << 3) | ElementSize.INLINE_COMPOSITE) >>> 0);
  const ns = A.seg;
  const tag = A.off;
  ns.view.setUint32(tag, (n << 2) | KIND_STRUCT, true);
  ns.view.setUint32(tag + 4, (ndw | (npc << 16)) >>> 0, true);
  const nfirst = tag + 8;
  for (let e = 0; e < n; e++) {
    const so = first + e * step;
    const doff = nfirst + e * nstep;
    ns.bytes.set(s.bytes.subarray(so, so + dataSize), doff);
    for (let k = 0; k < ptrs; k++)
      transferPointer(arena, ns, doff + ndw * 8 + k * 8, s, so + dataSize + k * 8);
  }
  // Zero the old words (pointers were moved, so only raw bytes remain; a tag word too).
  s.bytes.fill(0, oldStart, first + n * step);
  return kind.make(
    arena,
    ns,
    nfirst,
    n,
    nstep,
    ndw * 8,
    npc,
    UNLIMITED_NESTING,
    ElementSize.INLINE_COMPOSITE,
  );
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
  if (es === ElementSize.INLINE_COMPOSITE) {
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
  if (es === ElementSize.POINTER) {
    for (let i = 0; i < n; i++) {
      copyPointer(arena, ds, doff + i * 8, src, s, value._off + i * value._step, value._nesting, false);
    }
    return;
  }
  const nbytes = Math.ceil((n * DATA_BITS[es]!) / 8);
  ds.bytes.set(s.bytes.subarray(value._off, value._off + nbytes), doff);
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
