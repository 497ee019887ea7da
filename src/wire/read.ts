/**
 * Following pointers on read, with every check C++ `WireHelpers::read*Pointer` makes: bounds,
 * traversal limit (zero-sized list elements counted, so amplification stops), nesting limit,
 * and element-size compatibility (including the struct-list upgrade rules).
 */

import type { Arena } from "./arena.js";
import { UNLIMITED_NESTING } from "./arena.js";
import { decodeError } from "./errors.js";
import {
  checkBounds,
  DATA_BITS,
  type ElementSize,
  KIND_LIST,
  KIND_OTHER,
  KIND_STRUCT,
  POINTERS,
  R,
  resolve,
  SIZE_BIT,
  SIZE_BYTE,
  SIZE_EIGHT_BYTES,
  SIZE_FOUR_BYTES,
  SIZE_INLINE_COMPOSITE,
  SIZE_POINTER,
  SIZE_TWO_BYTES,
  SIZE_VOID,
  tagElementCount,
} from "./pointer.js";
import { Segment } from "./segment.js";
import { decodeUtf8 } from "./text.js";

/** A zero-length segment for null/empty objects (reads of it return defaults). */
export const EMPTY_SEGMENT = new Segment(-1, new Uint8Array(8), 0);

export type StructCtor<T> = new (
  arena: Arena,
  seg: Segment,
  dataOff: number,
  dataSize: number,
  ptrOff: number,
  ptrCount: number,
  nesting: number,
) => T;

/** How to make a list object of one type over a validated list (see list.ts). */
export interface ListKind<L> {
  /** The element size the schema expects. */
  readonly size: ElementSize;
  /** For struct lists: the struct's size, used when building. */
  readonly dataWords: number;
  readonly ptrCount: number;
  make(
    arena: Arena,
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

/**
 * A schema default for a pointer field: a message whose root pointer is the value. Generated
 * code creates one per field default and reads through it when the field is null.
 */
export class PointerDefault {
  readonly arena: Arena;
  readonly seg: Segment;
  constructor(words: Uint8Array) {
    const seg = new Segment(0, words, words.byteLength & ~7);
    this.seg = seg;
    this.arena = {
      segment(id: number): Segment {
        if (id !== 0) throw decodeError("out-of-bounds", "Default value refers to another segment.");
        return seg;
      },
      readLimit(): void {},
      capTable: [],
      nestingLimit: UNLIMITED_NESTING,
    };
  }
}

function nestingError(): never {
  throw decodeError(
    "nesting-limit",
    "Message is too deeply-nested or contains cycles. See capnp::ReaderOptions.",
  );
}

export function readStruct<T>(
  arena: Arena,
  seg: Segment,
  p: number,
  nesting: number,
  ctor: StructCtor<T>,
  def: PointerDefault | undefined,
): T {
  if (!resolve(arena, seg, p)) {
    if (def !== undefined) return readStruct(def.arena, def.seg, 0, nesting, ctor, undefined);
    return new ctor(arena, EMPTY_SEGMENT, 0, 0, 0, 0, nesting);
  }
  if (nesting <= 0) nestingError();
  if ((R.lo & 3) !== KIND_STRUCT) {
    throw decodeError(
      "schema-mismatch",
      "Message contains non-struct pointer where struct pointer was expected.",
    );
  }
  const s = R.seg;
  const off = R.off;
  const dataWords = R.hi & 0xffff;
  const ptrs = R.hi >>> 16;
  checkBounds(s, off, (dataWords + ptrs) * 8, "struct");
  arena.readLimit(dataWords + ptrs);
  return new ctor(arena, s, off, dataWords * 8, off + dataWords * 8, ptrs, nesting - 1);
}

export function readList<L>(
  arena: Arena,
  seg: Segment,
  p: number,
  nesting: number,
  kind: ListKind<L>,
  def: PointerDefault | undefined,
): L {
  if (!resolve(arena, seg, p)) {
    if (def !== undefined) return readList(def.arena, def.seg, 0, nesting, kind, undefined);
    return kind.make(arena, EMPTY_SEGMENT, 0, 0, 0, 0, 0, nesting, kind.size);
  }
  if (nesting <= 0) nestingError();
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
  if (es === SIZE_INLINE_COMPOSITE) {
    const wordCount = count;
    checkBounds(s, off, 8 + wordCount * 8, "list");
    arena.readLimit(wordCount + 1);
    const v = s.view;
    const tlo = v.getUint32(off, true);
    const thi = v.getUint32(off + 4, true);
    if ((tlo & 3) !== KIND_STRUCT) {
      throw decodeError("bad-pointer", "INLINE_COMPOSITE lists of non-STRUCT type are not supported.");
    }
    const n = tagElementCount(tlo);
    const dataWords = thi & 0xffff;
    const ptrs = thi >>> 16;
    const wpe = dataWords + ptrs;
    if (n * wpe > wordCount) {
      throw decodeError("bad-pointer", "INLINE_COMPOSITE list's elements overrun its word count.");
    }
    if (wpe === 0) arena.readLimit(n); // zero-sized structs: charge one word each (amplification)
    switch (expected) {
      case SIZE_BIT:
        throw decodeError("schema-mismatch", "Found struct list where bit list was expected.");
      case SIZE_BYTE:
      case SIZE_TWO_BYTES:
      case SIZE_FOUR_BYTES:
      case SIZE_EIGHT_BYTES:
        if (dataWords === 0) {
          throw decodeError(
            "schema-mismatch",
            "Expected a primitive list, but got a list of pointer-only structs.",
          );
        }
        break;
      case SIZE_POINTER:
        if (ptrs === 0) {
          throw decodeError(
            "schema-mismatch",
            "Expected a pointer list, but got a list of data-only structs.",
          );
        }
        break;
      default:
        break;
    }
    return kind.make(arena, s, off + 8, n, wpe * 8, dataWords * 8, ptrs, nesting - 1, es);
  }
  const dataBits = DATA_BITS[es]!;
  const ptrs = POINTERS[es]!;
  const stepBits = dataBits + ptrs * 64;
  const words = Math.ceil((count * stepBits) / 64);
  checkBounds(s, off, words * 8, "list");
  if (es === SIZE_VOID) arena.readLimit(count);
  else arena.readLimit(words);
  if (es === SIZE_BIT && expected !== SIZE_BIT && expected !== SIZE_VOID) {
    throw decodeError(
      "schema-mismatch",
      expected === SIZE_INLINE_COMPOSITE
        ? "Found bit list where struct list was expected; upgrading boolean lists to structs is no longer supported."
        : "Found bit list where data list was expected.",
    );
  }
  if (expected === SIZE_BIT && es !== SIZE_BIT) {
    throw decodeError("schema-mismatch", "Found data or pointer list where bit list was expected.");
  }
  if (expected !== SIZE_INLINE_COMPOSITE && (DATA_BITS[expected]! > dataBits || POINTERS[expected]! > ptrs)) {
    throw decodeError("schema-mismatch", "Message contains list with incompatible element type.");
  }
  return kind.make(arena, s, off, count, stepBits >>> 3, dataBits >>> 3, ptrs, nesting - 1, es);
}

/** Locate a byte list (Text or Data): sets R.seg/R.off and returns its length, or -1 if null. */
function readBytes(arena: Arena, seg: Segment, p: number, what: string): number {
  if (!resolve(arena, seg, p)) return -1;
  if ((R.lo & 3) !== KIND_LIST || (R.hi & 7) !== SIZE_BYTE) {
    throw decodeError("schema-mismatch", `Message contains non-${what} pointer where ${what} was expected.`);
  }
  const count = R.hi >>> 3;
  checkBounds(R.seg, R.off, count, "list");
  arena.readLimit(Math.ceil(count / 8));
  return count;
}

export function readText(arena: Arena, seg: Segment, p: number, def: string | undefined): string {
  const n = readBytes(arena, seg, p, "text");
  if (n < 0) return def ?? "";
  const bytes = R.seg.bytes;
  if (n === 0 || bytes[R.off + n - 1] !== 0) {
    throw decodeError("bad-text", "Message contains text that is not NUL-terminated.");
  }
  return decodeUtf8(bytes, R.off, R.off + n - 1);
}

const EMPTY_BYTES = new Uint8Array(0);

/** Data is returned as a view of the message bytes (no copy). */
export function readData(arena: Arena, seg: Segment, p: number, def: Uint8Array | undefined): Uint8Array {
  const n = readBytes(arena, seg, p, "data");
  if (n < 0) return def ?? EMPTY_BYTES;
  return R.seg.bytes.subarray(R.off, R.off + n);
}

/** Index into the cap table, or -1 for a null pointer. */
export function readCapIndex(arena: Arena, seg: Segment, p: number): number {
  if (!resolve(arena, seg, p)) return -1;
  if ((R.lo & 3) !== KIND_OTHER || R.lo !== KIND_OTHER) {
    throw decodeError(
      "schema-mismatch",
      "Message contains non-capability pointer where capability pointer was expected.",
    );
  }
  return R.hi;
}

/** The cap table entry a capability pointer refers to, or null. */
export function readCapability(arena: Arena, seg: Segment, p: number): unknown {
  const i = readCapIndex(arena, seg, p);
  if (i < 0) return null;
  const cap = arena.capTable[i];
  if (cap === undefined) {
    throw decodeError("bad-capability", `Message contains invalid capability pointer (index ${i}).`);
  }
  return cap;
}

export type PointerType = "null" | "struct" | "list" | "capability";

export function pointerType(arena: Arena, seg: Segment, p: number): PointerType {
  if (!resolve(arena, seg, p)) return "null";
  switch (R.lo & 3) {
    case KIND_STRUCT:
      return "struct";
    case KIND_LIST:
      return "list";
    default:
      if (R.lo !== KIND_OTHER) throw decodeError("bad-pointer", "Unknown pointer type.");
      return "capability";
  }
}

/**
 * Where `locateStruct` found a struct (a scratch record like R): generated getters read it and
 * construct their reader class themselves, so that every `new` site is monomorphic.
 */
export const S = {
  arena: undefined as unknown as Arena,
  seg: EMPTY_SEGMENT,
  dataOff: 0,
  dataSize: 0,
  ptrOff: 0,
  ptrCount: 0,
  nesting: 0,
};

/** readStruct without the construction: the struct's location goes to S. */
export function locateStruct(
  arena: Arena,
  seg: Segment,
  p: number,
  nesting: number,
  def: PointerDefault | undefined,
): void {
  // The common case inline: a non-null near struct pointer (no R record, no far-pointer checks).
  const v = seg.view;
  const lo = v.getUint32(p, true);
  const hi = v.getUint32(p + 4, true);
  if ((lo & 3) === KIND_STRUCT && (lo !== 0 || hi !== 0) && nesting > 0) {
    foundStruct(arena, seg, p + 8 + (lo >> 2) * 8, hi, nesting);
    return;
  }
  if (!resolve(arena, seg, p)) {
    if (def !== undefined) {
      locateStruct(def.arena, def.seg, 0, nesting, undefined);
      return;
    }
    S.arena = arena;
    S.seg = EMPTY_SEGMENT;
    S.dataOff = 0;
    S.dataSize = 0;
    S.ptrOff = 0;
    S.ptrCount = 0;
    S.nesting = nesting;
    return;
  }
  if (nesting <= 0) nestingError();
  if ((R.lo & 3) !== KIND_STRUCT) {
    throw decodeError(
      "schema-mismatch",
      "Message contains non-struct pointer where struct pointer was expected.",
    );
  }
  foundStruct(arena, R.seg, R.off, R.hi, nesting);
}

/** locateStruct's end: check the struct at `off` (sizes in `hi`), charge it, record it in S. */
function foundStruct(arena: Arena, s: Segment, off: number, hi: number, nesting: number): void {
  const dataWords = hi & 0xffff;
  const ptrs = hi >>> 16;
  checkBounds(s, off, (dataWords + ptrs) * 8, "struct");
  arena.readLimit(dataWords + ptrs);
  S.arena = arena;
  S.seg = s;
  S.dataOff = off;
  S.dataSize = dataWords * 8;
  S.ptrOff = off + dataWords * 8;
  S.ptrCount = ptrs;
  S.nesting = nesting - 1;
}
