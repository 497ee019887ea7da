/**
 * List readers and builders, one class per element type so every `get(i)` is monomorphic.
 * A list view is (arena, segment, offset of element 0, length, step in bytes, per-element data
 * size and pointer count, nesting left, and the element size actually encoded). The last four
 * let a list written with a different (compatible) element size be read: e.g. a struct list
 * read as a list of its first field, or a primitive list read as a list of structs.
 *
 * Kinds (`ListKind` / `ListBuilderKind`) say how to make a list object; generated code passes
 * them to `_getList` / `_initList`.
 */

import type { Arena, BuilderArena } from "./arena.js";
import { UNLIMITED_NESTING } from "./arena.js";
import { decodeError } from "./errors.js";
import {
  A,
  allocatePointee,
  DATA_BITS,
  type ElementSize,
  KIND_LIST,
  KIND_STRUCT,
  POINTERS,
  R,
  resolve,
  SIZE_BIT,
  SIZE_BYTE,
  SIZE_INLINE_COMPOSITE,
  SIZE_POINTER,
  SIZE_VOID,
  tagElementCount,
} from "./pointer.js";
import type { ListKind, PointerDefault, StructCtor } from "./read.js";
import { EMPTY_SEGMENT, readCapability, readData, readList, readText } from "./read.js";
import type { Segment } from "./segment.js";
import type { StructBuilderCtor } from "./struct.js";
import {
  copyPointer,
  initList,
  initStructList,
  setCapability,
  setData,
  setText,
  transferPointer,
} from "./write.js";

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

type ListCtor<L, AR> = new (
  arena: AR,
  seg: Segment,
  off: number,
  length: number,
  step: number,
  dataSize: number,
  ptrCount: number,
  nesting: number,
  actual: ElementSize,
) => L;

/**
 * A list class's kind. Each class's `kind` is a static getter over a module constant made by a
 * pure-marked call with the ElementSize written as a number, so that a bundle keeps only the list
 * classes it uses: a static field compiles to a `static {}` block under this repository's
 * `useDefineForClassFields: false`, and bundlers keep both those and a call whose arguments read a
 * property (of the compiled enum object).
 */
/** @internal */
export function kindOf<L, AR>(size: ElementSize, ctor: ListCtor<L, AR>, dataWords = 0, ptrCount = 0) {
  return {
    size,
    dataWords,
    ptrCount,
    make: (
      arena: AR,
      seg: Segment,
      off: number,
      length: number,
      step: number,
      dataSize: number,
      ptrs: number,
      nesting: number,
      actual: ElementSize,
    ): L => new ctor(arena, seg, off, length, step, dataSize, ptrs, nesting, actual),
  };
}

/** Fields shared by every list view (C++ `ListReader`). Untyped it is AnyList. */
export class ListView<A extends Arena = Arena> {
  declare readonly _arena: A;
  declare readonly _seg: Segment;
  declare readonly _off: number;
  declare readonly length: number;
  declare readonly _step: number;
  declare readonly _dataSize: number;
  declare readonly _ptrCount: number;
  declare readonly _nesting: number;
  /** The element size encoded in the message. */
  declare readonly _actual: ElementSize;

  constructor(
    arena: A,
    seg: Segment,
    off: number,
    length: number,
    step: number,
    dataSize: number,
    ptrCount: number,
    nesting: number,
    actual: ElementSize,
  ) {
    this._arena = arena;
    this._seg = seg;
    this._off = off;
    this.length = length;
    this._step = step;
    this._dataSize = dataSize;
    this._ptrCount = ptrCount;
    this._nesting = nesting;
    this._actual = actual;
  }

  /** Byte offset of element i's data (bounds-checked). */
  protected _at(i: number): number {
    if (!(i >= 0 && i < this.length))
      throw new RangeError(`List index ${i} out of range (length ${this.length}).`);
    return this._off + i * this._step;
  }
  /** Byte offset of element i's first pointer (checked: the element has one). */
  protected _ptr(i: number): number {
    const o = this._at(i);
    if (this._ptrCount === 0) throw decodeError("schema-mismatch", "List element has no pointer section.");
    return o + this._dataSize;
  }
}

/** Iteration and array conversion for any list with `get(i)`. */
/**
 * The base of list readers (exported for the AnyPointer lists, any-pointer.ts; not part of the
 * API). Kept in the declarations: the public list classes extend it.
 */
export abstract class Iterable_<T, A extends Arena = Arena> extends ListView<A> {
  abstract get(i: number): T;
  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = 0; i < this.length; i++) yield this.get(i);
  }
  toArray(): T[] {
    const out = new Array<T>(this.length);
    for (let i = 0; i < this.length; i++) out[i] = this.get(i);
    return out;
  }
}

// ---- readers ---------------------------------------------------------------------------------

export class VoidList extends Iterable_<undefined> {
  static get kind(): ListKind<VoidList> {
    return VoidList_KIND;
  }
  get(i: number): undefined {
    this._at(i);
    return undefined;
  }
}
const VoidList_KIND: ListKind<VoidList> = /*#__PURE__*/ kindOf(0 /* VOID */, VoidList);
export class BoolList extends Iterable_<boolean> {
  static get kind(): ListKind<BoolList> {
    return BoolList_KIND;
  }
  get(i: number): boolean {
    if (!(i >= 0 && i < this.length))
      throw new RangeError(`List index ${i} out of range (length ${this.length}).`);
    return ((this._seg.bytes[this._off + (i >>> 3)]! >>> (i & 7)) & 1) === 1;
  }
}
const BoolList_KIND: ListKind<BoolList> = /*#__PURE__*/ kindOf(1 /* BIT */, BoolList);
export class Int8List extends Iterable_<number> {
  static get kind(): ListKind<Int8List> {
    return Int8List_KIND;
  }
  get(i: number): number {
    return this._seg.view.getInt8(this._at(i));
  }
}
const Int8List_KIND: ListKind<Int8List> = /*#__PURE__*/ kindOf(2 /* BYTE */, Int8List);
export class Uint8List extends Iterable_<number> {
  static get kind(): ListKind<Uint8List> {
    return Uint8List_KIND;
  }
  get(i: number): number {
    return this._seg.bytes[this._at(i)]!;
  }
}
const Uint8List_KIND: ListKind<Uint8List> = /*#__PURE__*/ kindOf(2 /* BYTE */, Uint8List);
export class Int16List extends Iterable_<number> {
  static get kind(): ListKind<Int16List> {
    return Int16List_KIND;
  }
  get(i: number): number {
    return this._seg.view.getInt16(this._at(i), true);
  }
}
const Int16List_KIND: ListKind<Int16List> = /*#__PURE__*/ kindOf(3 /* TWO_BYTES */, Int16List);
export class Uint16List extends Iterable_<number> {
  static get kind(): ListKind<Uint16List> {
    return Uint16List_KIND;
  }
  get(i: number): number {
    return this._seg.view.getUint16(this._at(i), true);
  }
}
const Uint16List_KIND: ListKind<Uint16List> = /*#__PURE__*/ kindOf(3 /* TWO_BYTES */, Uint16List);
/** Enum lists are UInt16 lists typed by the enum. */
export class EnumList<E extends number> extends Iterable_<E> {
  static get kind(): ListKind<EnumList<number>> {
    return EnumList_KIND;
  }
  get(i: number): E {
    return this._seg.view.getUint16(this._at(i), true) as E;
  }
}
const EnumList_KIND: ListKind<EnumList<number>> = /*#__PURE__*/ kindOf(3 /* TWO_BYTES */, EnumList<number>);
export class Int32List extends Iterable_<number> {
  static get kind(): ListKind<Int32List> {
    return Int32List_KIND;
  }
  get(i: number): number {
    return this._seg.view.getInt32(this._at(i), true);
  }
}
const Int32List_KIND: ListKind<Int32List> = /*#__PURE__*/ kindOf(4 /* FOUR_BYTES */, Int32List);
export class Uint32List extends Iterable_<number> {
  static get kind(): ListKind<Uint32List> {
    return Uint32List_KIND;
  }
  get(i: number): number {
    return this._seg.view.getUint32(this._at(i), true);
  }
}
const Uint32List_KIND: ListKind<Uint32List> = /*#__PURE__*/ kindOf(4 /* FOUR_BYTES */, Uint32List);
export class Float32List extends Iterable_<number> {
  static get kind(): ListKind<Float32List> {
    return Float32List_KIND;
  }
  get(i: number): number {
    return this._seg.view.getFloat32(this._at(i), true);
  }
}
const Float32List_KIND: ListKind<Float32List> = /*#__PURE__*/ kindOf(4 /* FOUR_BYTES */, Float32List);
export class Int64List extends Iterable_<bigint> {
  static get kind(): ListKind<Int64List> {
    return Int64List_KIND;
  }
  get(i: number): bigint {
    return this._seg.view.getBigInt64(this._at(i), true);
  }
}
const Int64List_KIND: ListKind<Int64List> = /*#__PURE__*/ kindOf(5 /* EIGHT_BYTES */, Int64List);
export class Uint64List extends Iterable_<bigint> {
  static get kind(): ListKind<Uint64List> {
    return Uint64List_KIND;
  }
  get(i: number): bigint {
    return this._seg.view.getBigUint64(this._at(i), true);
  }
}
const Uint64List_KIND: ListKind<Uint64List> = /*#__PURE__*/ kindOf(5 /* EIGHT_BYTES */, Uint64List);
export class Float64List extends Iterable_<number> {
  static get kind(): ListKind<Float64List> {
    return Float64List_KIND;
  }
  get(i: number): number {
    return this._seg.view.getFloat64(this._at(i), true);
  }
}
const Float64List_KIND: ListKind<Float64List> = /*#__PURE__*/ kindOf(5 /* EIGHT_BYTES */, Float64List);
export class TextList extends Iterable_<string> {
  static get kind(): ListKind<TextList> {
    return TextList_KIND;
  }
  get(i: number): string {
    return readText(this._arena, this._seg, this._ptr(i), undefined);
  }
}
const TextList_KIND: ListKind<TextList> = /*#__PURE__*/ kindOf(6 /* POINTER */, TextList);
export class DataList extends Iterable_<Uint8Array> {
  static get kind(): ListKind<DataList> {
    return DataList_KIND;
  }
  get(i: number): Uint8Array {
    return readData(this._arena, this._seg, this._ptr(i), undefined);
  }
}
const DataList_KIND: ListKind<DataList> = /*#__PURE__*/ kindOf(6 /* POINTER */, DataList);
/** Lists of interfaces: elements are cap table entries (or null). */
export class CapabilityList<T = unknown> extends Iterable_<T | null> {
  static get kind(): ListKind<CapabilityList> {
    return CapabilityList_KIND;
  }
  get(i: number): T | null {
    return readCapability(this._arena, this._seg, this._ptr(i)) as T | null;
  }
}
const CapabilityList_KIND: ListKind<CapabilityList> = /*#__PURE__*/ kindOf(6 /* POINTER */, CapabilityList);

const STRUCT_LIST_KIND = Symbol("structListKind");
const LIST_LIST_KIND = Symbol("listListKind");
type KindCache = { [STRUCT_LIST_KIND]?: unknown; [LIST_LIST_KIND]?: unknown };

export class StructList<T> extends Iterable_<T> {
  declare readonly _ctor: StructCtor<T>;
  constructor(
    arena: Arena,
    seg: Segment,
    off: number,
    length: number,
    step: number,
    dataSize: number,
    ptrCount: number,
    nesting: number,
    actual: ElementSize,
    ctor: StructCtor<T>,
  ) {
    super(arena, seg, off, length, step, dataSize, ptrCount, nesting, actual);
    this._ctor = ctor;
  }
  get(i: number): T {
    const o = this._at(i);
    return new this._ctor(
      this._arena,
      this._seg,
      o,
      this._dataSize,
      o + this._dataSize,
      this._ptrCount,
      this._nesting,
    );
  }
  /** The kind for lists of `ctor` structs (made once per struct type). */
  static of<T>(ctor: StructCtor<T>): ListKind<StructList<T>> {
    const c = ctor as unknown as KindCache;
    // Own property only: a subclass must not pick up the kind cached on its base class.
    let k = (Object.hasOwn(c, STRUCT_LIST_KIND) ? c[STRUCT_LIST_KIND] : undefined) as
      | ListKind<StructList<T>>
      | undefined;
    if (k === undefined) {
      k = {
        size: SIZE_INLINE_COMPOSITE,
        dataWords: 0,
        ptrCount: 0,
        make: (arena, seg, off, length, step, dataSize, ptrCount, nesting, actual) =>
          new StructList(arena, seg, off, length, step, dataSize, ptrCount, nesting, actual, ctor),
      };
      c[STRUCT_LIST_KIND] = k;
    }
    return k;
  }
}

export class ListList<L> extends Iterable_<L> {
  declare readonly _inner: ListKind<L>;
  constructor(
    arena: Arena,
    seg: Segment,
    off: number,
    length: number,
    step: number,
    dataSize: number,
    ptrCount: number,
    nesting: number,
    actual: ElementSize,
    inner: ListKind<L>,
  ) {
    super(arena, seg, off, length, step, dataSize, ptrCount, nesting, actual);
    this._inner = inner;
  }
  get(i: number): L {
    return readList(this._arena, this._seg, this._ptr(i), this._nesting, this._inner, undefined);
  }
  static of<L>(inner: ListKind<L>): ListKind<ListList<L>> {
    const c = inner as unknown as KindCache;
    let k = c[LIST_LIST_KIND] as ListKind<ListList<L>> | undefined;
    if (k === undefined) {
      k = {
        size: SIZE_POINTER,
        dataWords: 0,
        ptrCount: 0,
        make: (arena, seg, off, length, step, dataSize, ptrCount, nesting, actual) =>
          new ListList(arena, seg, off, length, step, dataSize, ptrCount, nesting, actual, inner),
      };
      c[LIST_LIST_KIND] = k;
    }
    return k;
  }
}

/** Untyped list (AnyList): element size as encoded, no element access. */
export class AnyList extends ListView {
  static get kind(): ListKind<AnyList> {
    return AnyList_KIND;
  }
}
const AnyList_KIND: ListKind<AnyList> = /*#__PURE__*/ kindOf(0 /* VOID */, AnyList);

// ---- builders --------------------------------------------------------------------------------

export class ListBuilderView extends ListView<BuilderArena> {}

/** The base of list builders (see Iterable_). */
export abstract class BIterable<T> extends Iterable_<T, BuilderArena> {}

export class VoidListBuilder extends BIterable<undefined> {
  static get kind(): ListBuilderKind<VoidListBuilder> {
    return VoidListBuilder_KIND;
  }
  get(i: number): undefined {
    this._at(i);
    return undefined;
  }
}
const VoidListBuilder_KIND: ListBuilderKind<VoidListBuilder> = /*#__PURE__*/ kindOf(
  0 /* VOID */,
  VoidListBuilder,
);
export class BoolListBuilder extends BIterable<boolean> {
  static get kind(): ListBuilderKind<BoolListBuilder> {
    return BoolListBuilder_KIND;
  }
  get(i: number): boolean {
    if (!(i >= 0 && i < this.length))
      throw new RangeError(`List index ${i} out of range (length ${this.length}).`);
    return ((this._seg.bytes[this._off + (i >>> 3)]! >>> (i & 7)) & 1) === 1;
  }
  set(i: number, v: boolean): void {
    if (!(i >= 0 && i < this.length))
      throw new RangeError(`List index ${i} out of range (length ${this.length}).`);
    const b = this._seg.bytes;
    const k = this._off + (i >>> 3);
    if (v) b[k]! |= 1 << (i & 7);
    else b[k]! &= ~(1 << (i & 7));
  }
}
const BoolListBuilder_KIND: ListBuilderKind<BoolListBuilder> = /*#__PURE__*/ kindOf(
  1 /* BIT */,
  BoolListBuilder,
);
export class Int8ListBuilder extends BIterable<number> {
  static get kind(): ListBuilderKind<Int8ListBuilder> {
    return Int8ListBuilder_KIND;
  }
  get(i: number): number {
    return this._seg.view.getInt8(this._at(i));
  }
  set(i: number, v: number): void {
    this._seg.view.setInt8(this._at(i), v);
  }
}
const Int8ListBuilder_KIND: ListBuilderKind<Int8ListBuilder> = /*#__PURE__*/ kindOf(
  2 /* BYTE */,
  Int8ListBuilder,
);
export class Uint8ListBuilder extends BIterable<number> {
  static get kind(): ListBuilderKind<Uint8ListBuilder> {
    return Uint8ListBuilder_KIND;
  }
  get(i: number): number {
    return this._seg.bytes[this._at(i)]!;
  }
  set(i: number, v: number): void {
    this._seg.bytes[this._at(i)] = v;
  }
}
const Uint8ListBuilder_KIND: ListBuilderKind<Uint8ListBuilder> = /*#__PURE__*/ kindOf(
  2 /* BYTE */,
  Uint8ListBuilder,
);
export class Int16ListBuilder extends BIterable<number> {
  static get kind(): ListBuilderKind<Int16ListBuilder> {
    return Int16ListBuilder_KIND;
  }
  get(i: number): number {
    return this._seg.view.getInt16(this._at(i), true);
  }
  set(i: number, v: number): void {
    this._seg.view.setInt16(this._at(i), v, true);
  }
}
const Int16ListBuilder_KIND: ListBuilderKind<Int16ListBuilder> = /*#__PURE__*/ kindOf(
  3 /* TWO_BYTES */,
  Int16ListBuilder,
);
export class Uint16ListBuilder extends BIterable<number> {
  static get kind(): ListBuilderKind<Uint16ListBuilder> {
    return Uint16ListBuilder_KIND;
  }
  get(i: number): number {
    return this._seg.view.getUint16(this._at(i), true);
  }
  set(i: number, v: number): void {
    this._seg.view.setUint16(this._at(i), v, true);
  }
}
const Uint16ListBuilder_KIND: ListBuilderKind<Uint16ListBuilder> = /*#__PURE__*/ kindOf(
  3 /* TWO_BYTES */,
  Uint16ListBuilder,
);
export class EnumListBuilder<E extends number> extends BIterable<E> {
  static get kind(): ListBuilderKind<EnumListBuilder<number>> {
    return EnumListBuilder_KIND;
  }
  get(i: number): E {
    return this._seg.view.getUint16(this._at(i), true) as E;
  }
  set(i: number, v: E): void {
    this._seg.view.setUint16(this._at(i), v, true);
  }
}
const EnumListBuilder_KIND: ListBuilderKind<EnumListBuilder<number>> = /*#__PURE__*/ kindOf(
  3 /* TWO_BYTES */,
  EnumListBuilder<number>,
);
export class Int32ListBuilder extends BIterable<number> {
  static get kind(): ListBuilderKind<Int32ListBuilder> {
    return Int32ListBuilder_KIND;
  }
  get(i: number): number {
    return this._seg.view.getInt32(this._at(i), true);
  }
  set(i: number, v: number): void {
    this._seg.view.setInt32(this._at(i), v, true);
  }
}
const Int32ListBuilder_KIND: ListBuilderKind<Int32ListBuilder> = /*#__PURE__*/ kindOf(
  4 /* FOUR_BYTES */,
  Int32ListBuilder,
);
export class Uint32ListBuilder extends BIterable<number> {
  static get kind(): ListBuilderKind<Uint32ListBuilder> {
    return Uint32ListBuilder_KIND;
  }
  get(i: number): number {
    return this._seg.view.getUint32(this._at(i), true);
  }
  set(i: number, v: number): void {
    this._seg.view.setUint32(this._at(i), v, true);
  }
}
const Uint32ListBuilder_KIND: ListBuilderKind<Uint32ListBuilder> = /*#__PURE__*/ kindOf(
  4 /* FOUR_BYTES */,
  Uint32ListBuilder,
);
export class Float32ListBuilder extends BIterable<number> {
  static get kind(): ListBuilderKind<Float32ListBuilder> {
    return Float32ListBuilder_KIND;
  }
  get(i: number): number {
    return this._seg.view.getFloat32(this._at(i), true);
  }
  set(i: number, v: number): void {
    this._seg.view.setFloat32(this._at(i), v, true);
  }
}
const Float32ListBuilder_KIND: ListBuilderKind<Float32ListBuilder> = /*#__PURE__*/ kindOf(
  4 /* FOUR_BYTES */,
  Float32ListBuilder,
);
export class Int64ListBuilder extends BIterable<bigint> {
  static get kind(): ListBuilderKind<Int64ListBuilder> {
    return Int64ListBuilder_KIND;
  }
  get(i: number): bigint {
    return this._seg.view.getBigInt64(this._at(i), true);
  }
  set(i: number, v: bigint): void {
    this._seg.view.setBigInt64(this._at(i), BigInt.asIntN(64, v), true);
  }
}
const Int64ListBuilder_KIND: ListBuilderKind<Int64ListBuilder> = /*#__PURE__*/ kindOf(
  5 /* EIGHT_BYTES */,
  Int64ListBuilder,
);
export class Uint64ListBuilder extends BIterable<bigint> {
  static get kind(): ListBuilderKind<Uint64ListBuilder> {
    return Uint64ListBuilder_KIND;
  }
  get(i: number): bigint {
    return this._seg.view.getBigUint64(this._at(i), true);
  }
  set(i: number, v: bigint): void {
    this._seg.view.setBigUint64(this._at(i), BigInt.asUintN(64, v), true);
  }
}
const Uint64ListBuilder_KIND: ListBuilderKind<Uint64ListBuilder> = /*#__PURE__*/ kindOf(
  5 /* EIGHT_BYTES */,
  Uint64ListBuilder,
);
export class Float64ListBuilder extends BIterable<number> {
  static get kind(): ListBuilderKind<Float64ListBuilder> {
    return Float64ListBuilder_KIND;
  }
  get(i: number): number {
    return this._seg.view.getFloat64(this._at(i), true);
  }
  set(i: number, v: number): void {
    this._seg.view.setFloat64(this._at(i), v, true);
  }
}
const Float64ListBuilder_KIND: ListBuilderKind<Float64ListBuilder> = /*#__PURE__*/ kindOf(
  5 /* EIGHT_BYTES */,
  Float64ListBuilder,
);
export class TextListBuilder extends BIterable<string> {
  static get kind(): ListBuilderKind<TextListBuilder> {
    return TextListBuilder_KIND;
  }
  get(i: number): string {
    return readText(this._arena, this._seg, this._ptr(i), undefined);
  }
  set(i: number, v: string): void {
    setText(this._arena, this._seg, this._ptr(i), v);
  }
}
const TextListBuilder_KIND: ListBuilderKind<TextListBuilder> = /*#__PURE__*/ kindOf(
  6 /* POINTER */,
  TextListBuilder,
);
export class DataListBuilder extends BIterable<Uint8Array> {
  static get kind(): ListBuilderKind<DataListBuilder> {
    return DataListBuilder_KIND;
  }
  get(i: number): Uint8Array {
    return readData(this._arena, this._seg, this._ptr(i), undefined);
  }
  set(i: number, v: Uint8Array): void {
    setData(this._arena, this._seg, this._ptr(i), v);
  }
  init(i: number, length: number): Uint8Array {
    initList(this._arena, this._seg, this._ptr(i), SIZE_BYTE, length);
    return A.seg.bytes.subarray(A.off, A.off + length);
  }
}
const DataListBuilder_KIND: ListBuilderKind<DataListBuilder> = /*#__PURE__*/ kindOf(
  6 /* POINTER */,
  DataListBuilder,
);
export class CapabilityListBuilder<T = unknown> extends BIterable<T | null> {
  static get kind(): ListBuilderKind<CapabilityListBuilder> {
    return CapabilityListBuilder_KIND;
  }
  get(i: number): T | null {
    return readCapability(this._arena, this._seg, this._ptr(i)) as T | null;
  }
  set(i: number, cap: T | null): void {
    setCapability(this._arena, this._seg, this._ptr(i), cap);
  }
}
const CapabilityListBuilder_KIND: ListBuilderKind<CapabilityListBuilder> = /*#__PURE__*/ kindOf(
  6 /* POINTER */,
  CapabilityListBuilder,
);

export class StructListBuilder<T> extends BIterable<T> {
  declare readonly _ctor: StructBuilderCtor<T>;
  constructor(
    arena: BuilderArena,
    seg: Segment,
    off: number,
    length: number,
    step: number,
    dataSize: number,
    ptrCount: number,
    nesting: number,
    actual: ElementSize,
    ctor: StructBuilderCtor<T>,
  ) {
    super(arena, seg, off, length, step, dataSize, ptrCount, nesting, actual);
    this._ctor = ctor;
  }
  get(i: number): T {
    const o = this._at(i);
    return new this._ctor(
      this._arena,
      this._seg,
      o,
      this._dataSize,
      o + this._dataSize,
      this._ptrCount,
      UNLIMITED_NESTING,
    );
  }
  static of<T>(ctor: StructBuilderCtor<T>): ListBuilderKind<StructListBuilder<T>> {
    const c = ctor as unknown as KindCache;
    let k = (Object.hasOwn(c, STRUCT_LIST_KIND) ? c[STRUCT_LIST_KIND] : undefined) as
      | ListBuilderKind<StructListBuilder<T>>
      | undefined;
    if (k === undefined) {
      k = {
        size: SIZE_INLINE_COMPOSITE,
        dataWords: ctor._dataWords,
        ptrCount: ctor._ptrCount,
        make: (arena, seg, off, length, step, dataSize, ptrCount, nesting, actual) =>
          new StructListBuilder(arena, seg, off, length, step, dataSize, ptrCount, nesting, actual, ctor),
      };
      c[STRUCT_LIST_KIND] = k;
    }
    return k;
  }
}

export class ListListBuilder<L> extends BIterable<L> {
  declare readonly _inner: ListBuilderKind<L>;
  constructor(
    arena: BuilderArena,
    seg: Segment,
    off: number,
    length: number,
    step: number,
    dataSize: number,
    ptrCount: number,
    nesting: number,
    actual: ElementSize,
    inner: ListBuilderKind<L>,
  ) {
    super(arena, seg, off, length, step, dataSize, ptrCount, nesting, actual);
    this._inner = inner;
  }
  get(i: number): L {
    return getWritableList(this._arena, this._seg, this._ptr(i), this._inner, undefined);
  }
  init(i: number, length: number): L {
    return initListOfKind(this._arena, this._seg, this._ptr(i), this._inner, length);
  }
  static of<L>(inner: ListBuilderKind<L>): ListBuilderKind<ListListBuilder<L>> {
    const c = inner as unknown as KindCache;
    let k = c[LIST_LIST_KIND] as ListBuilderKind<ListListBuilder<L>> | undefined;
    if (k === undefined) {
      k = {
        size: SIZE_POINTER,
        dataWords: 0,
        ptrCount: 0,
        make: (arena, seg, off, length, step, dataSize, ptrCount, nesting, actual) =>
          new ListListBuilder(arena, seg, off, length, step, dataSize, ptrCount, nesting, actual, inner),
      };
      c[LIST_LIST_KIND] = k;
    }
    return k;
  }
}

// ---- builder operations ----------------------------------------------------------------------

/** Allocate a new list of `kind` with `length` elements behind `p`. */
export function initListOfKind<L>(
  arena: BuilderArena,
  seg: Segment,
  p: number,
  kind: ListBuilderKind<L>,
  length: number,
): L {
  const es = kind.size;
  if (es === SIZE_INLINE_COMPOSITE) {
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
  if (es === SIZE_INLINE_COMPOSITE) {
    const v = s.view;
    const n = tagElementCount(v.getUint32(off, true));
    const thi = v.getUint32(off + 4, true);
    const dw = thi & 0xffff;
    const pc = thi >>> 16;
    if (expected === SIZE_INLINE_COMPOSITE) {
      if (dw >= kind.dataWords && pc >= kind.ptrCount) {
        return kind.make(arena, s, off + 8, n, (dw + pc) * 8, dw * 8, pc, UNLIMITED_NESTING, es);
      }
      return upgradeToStructList(arena, seg, p, kind, s, off + 8, n, (dw + pc) * 8, dw * 8, pc, off);
    }
    if (expected === SIZE_BIT)
      throw decodeError("schema-mismatch", "Found struct list where bit list was expected.");
    if (expected === SIZE_POINTER ? pc === 0 : expected !== SIZE_VOID && dw === 0) {
      throw decodeError("schema-mismatch", "Existing list value is incompatible with expected type.");
    }
    return kind.make(arena, s, off + 8, n, (dw + pc) * 8, dw * 8, pc, UNLIMITED_NESTING, es);
  }
  const bits = DATA_BITS[es]!;
  const ptrs = POINTERS[es]!;
  if (expected === SIZE_INLINE_COMPOSITE) {
    if (es === SIZE_BIT) {
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
  if (es !== expected && expected !== SIZE_VOID) {
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
  allocatePointee(arena, seg, p, words + 1, KIND_LIST, ((words << 3) | SIZE_INLINE_COMPOSITE) >>> 0);
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
  return kind.make(arena, ns, nfirst, n, nstep, ndw * 8, npc, UNLIMITED_NESTING, SIZE_INLINE_COMPOSITE);
}
