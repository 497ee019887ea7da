/**
 * Struct readers and builders. Generated classes extend these; every field accessor is a call
 * to one of the `_get*`/`_set*` methods with the field's offset and default. Names start with
 * an underscore because Cap'n Proto identifiers cannot, so they never collide with fields.
 *
 * A struct view is a fixed-shape object (arena, segment, data offset and size in bytes,
 * pointer offset and count); reading a primitive allocates nothing.
 */

import { AnyPointerBuilder, AnyPointerReader } from "./any-pointer.js";
import type { Arena, BuilderArena } from "./arena.js";
import { UNLIMITED_NESTING } from "./arena.js";
import { getWritableList, initListOfKind, type ListBuilderKind, type ListView } from "./list.js";
import { Orphan } from "./orphan.js";
import { A, SIZE_BYTE } from "./pointer.js";
import type { ListKind, PointerDefault, PointerType, StructCtor } from "./read.js";
import {
  EMPTY_SEGMENT,
  locateStruct,
  pointerType,
  readCapability,
  readCapIndex,
  readData,
  readList,
  readStruct,
  readText,
  S,
} from "./read.js";
import type { Segment } from "./segment.js";
import {
  clearPointer,
  copyListInto,
  copyStructInto,
  getWritableStruct,
  initList,
  initStruct,
  setCapability,
  setData,
  setText,
  W,
} from "./write.js";

const f32 = new DataView(new ArrayBuffer(8));

/**
 * Readable view over a struct's sections; shared by readers and builders.
 *
 * The fields are `declare`d (no class-field initialiser runs per construction) and the
 * constructor assigns them only when given arguments: generated classes have constructors of
 * their own that call `super()` and assign the seven fields themselves, so that each class's
 * stores stay monomorphic instead of every generated class sharing this constructor's.
 */
export abstract class StructView {
  declare _arena: Arena;
  declare _seg: Segment;
  /** Byte offset of the data section in the segment. */
  declare _dataOff: number;
  /** Size of the data section in bytes (fields beyond it read as their defaults). */
  declare _dataSize: number;
  /** Byte offset of the pointer section. */
  declare _ptrOff: number;
  declare _ptrCount: number;
  /** Nesting levels left below this struct. */
  declare _nesting: number;

  constructor(
    arena?: Arena,
    seg?: Segment,
    dataOff?: number,
    dataSize?: number,
    ptrOff?: number,
    ptrCount?: number,
    nesting?: number,
  ) {
    if (arena !== undefined) {
      this._arena = arena;
      this._seg = seg!;
      this._dataOff = dataOff!;
      this._dataSize = dataSize!;
      this._ptrOff = ptrOff!;
      this._ptrCount = ptrCount!;
      this._nesting = nesting!;
    }
  }

  _getBool(bit: number, def = false): boolean {
    const byte = bit >>> 3;
    if (byte >= this._dataSize) return def;
    const v = (this._seg.bytes[this._dataOff + byte]! >>> (bit & 7)) & 1;
    return (v === 1) !== def;
  }
  _getInt8(off: number, def = 0): number {
    return off < this._dataSize ? this._seg.view.getInt8(this._dataOff + off) ^ def : def;
  }
  _getUint8(off: number, def = 0): number {
    return off < this._dataSize ? (this._seg.bytes[this._dataOff + off]! ^ def) & 0xff : def;
  }
  _getInt16(off: number, def = 0): number {
    return off + 2 <= this._dataSize
      ? ((this._seg.view.getInt16(this._dataOff + off, true) ^ def) << 16) >> 16
      : def;
  }
  _getUint16(off: number, def = 0): number {
    return off + 2 <= this._dataSize
      ? (this._seg.view.getUint16(this._dataOff + off, true) ^ def) & 0xffff
      : def;
  }
  _getInt32(off: number, def = 0): number {
    return off + 4 <= this._dataSize ? this._seg.view.getInt32(this._dataOff + off, true) ^ def : def;
  }
  _getUint32(off: number, def = 0): number {
    return off + 4 <= this._dataSize
      ? (this._seg.view.getUint32(this._dataOff + off, true) ^ def) >>> 0
      : def;
  }
  _getInt64(off: number, def = 0n): bigint {
    if (off + 8 > this._dataSize) return def;
    const v = this._seg.view.getBigInt64(this._dataOff + off, true);
    return def === 0n ? v : v ^ def;
  }
  _getUint64(off: number, def = 0n): bigint {
    if (off + 8 > this._dataSize) return def;
    const v = this._seg.view.getBigUint64(this._dataOff + off, true);
    return def === 0n ? v : v ^ def;
  }
  /** `defBits`: the default's IEEE bit pattern (defaults of floats are XORed by bits). */
  _getFloat32(off: number, defBits = 0): number {
    if (off + 4 > this._dataSize) {
      f32.setUint32(0, defBits, true);
      return f32.getFloat32(0, true);
    }
    if (defBits === 0) return this._seg.view.getFloat32(this._dataOff + off, true);
    f32.setUint32(0, this._seg.view.getUint32(this._dataOff + off, true) ^ defBits, true);
    return f32.getFloat32(0, true);
  }
  /** `defBits`: the default's IEEE bit pattern as a bigint (0n for a zero default). */
  _getFloat64(off: number, defBits = 0n): number {
    if (off + 8 > this._dataSize) {
      f32.setBigUint64(0, defBits, true);
      return f32.getFloat64(0, true);
    }
    if (defBits === 0n) return this._seg.view.getFloat64(this._dataOff + off, true);
    f32.setBigUint64(0, this._seg.view.getBigUint64(this._dataOff + off, true) ^ defBits, true);
    return f32.getFloat64(0, true);
  }

  _hasPointer(i: number): boolean {
    if (i >= this._ptrCount) return false;
    const v = this._seg.view;
    const p = this._ptrOff + i * 8;
    return v.getUint32(p, true) !== 0 || v.getUint32(p + 4, true) !== 0;
  }
  _pointerType(i: number): PointerType {
    if (i >= this._ptrCount) return "null";
    return pointerType(this._arena, this._seg, this._ptrOff + i * 8);
  }
  _getText(i: number, def?: string): string {
    if (i >= this._ptrCount) return def ?? "";
    return readText(this._arena, this._seg, this._ptrOff + i * 8, def);
  }
  _getData(i: number, def?: Uint8Array): Uint8Array {
    if (i >= this._ptrCount) return def ?? new Uint8Array(0);
    return readData(this._arena, this._seg, this._ptrOff + i * 8, def);
  }
  /** The cap table entry of a capability field, or null. */
  _getCapability(i: number): unknown {
    if (i >= this._ptrCount) return null;
    return readCapability(this._arena, this._seg, this._ptrOff + i * 8);
  }

  /** The cap table index of a capability field, or -1 for a null pointer. */
  _getCapabilityIndex(i: number): number {
    if (i >= this._ptrCount) return -1;
    return readCapIndex(this._arena, this._seg, this._ptrOff + i * 8);
  }

  /** Size of the struct in words (data + pointers), as the message holds it. */
  get _totalWords(): number {
    return (this._dataSize >>> 3) + this._ptrCount;
  }

  /**
   * Node's `util.inspect` (and so `console.log`) shows `toString()`: generated classes print the
   * text format there (see stringify.ts). Here, not in each generated class, so that a class
   * has no computed member and a bundler can drop it when unused.
   */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }
}

/** Base of generated struct readers (C++ `StructReader`); untyped it is AnyStruct.Reader. */
export class StructReader extends StructView {
  /** Locates pointer i's struct into S (generated getters then construct their class). */
  _locStruct(i: number, def?: PointerDefault): void {
    if (i >= this._ptrCount) locateStruct(this._arena, EMPTY_SEGMENT, 0, this._nesting, def);
    else locateStruct(this._arena, this._seg, this._ptrOff + i * 8, this._nesting, def);
  }
  _getStruct<T>(i: number, ctor: StructCtor<T>, def?: PointerDefault): T {
    if (i >= this._ptrCount) return readStruct(this._arena, EMPTY_SEGMENT, 0, this._nesting, ctor, def);
    return readStruct(this._arena, this._seg, this._ptrOff + i * 8, this._nesting, ctor, def);
  }
  _getList<L>(i: number, kind: ListKind<L>, def?: PointerDefault): L {
    if (i >= this._ptrCount) return readList(this._arena, EMPTY_SEGMENT, 0, this._nesting, kind, def);
    return readList(this._arena, this._seg, this._ptrOff + i * 8, this._nesting, kind, def);
  }
  _getPointer(i: number): AnyPointerReader {
    if (i >= this._ptrCount) return new AnyPointerReader(this._arena, EMPTY_SEGMENT, 0, this._nesting);
    return new AnyPointerReader(this._arena, this._seg, this._ptrOff + i * 8, this._nesting);
  }
  /** View this struct as another struct type (groups, AnyStruct casts). */
  _as<T>(ctor: StructCtor<T>): T {
    return new ctor(
      this._arena,
      this._seg,
      this._dataOff,
      this._dataSize,
      this._ptrOff,
      this._ptrCount,
      this._nesting,
    );
  }
}

/**
 * Base of generated group readers. A group is another view of its struct's sections, so a group
 * reader keeps the struct's reader (`_p`) instead of copying its seven location fields, and the
 * generated accessors read through `this._p`: `e.left.which()` then costs one store to construct
 * instead of seven (BENCHMARKS.md, profile finding 10: eval read-only +30%). The location
 * fields are still readable (prototype getters reading `_p`'s), so a group reader remains a
 * working StructReader for reflection, `toString` and untyped use, only slower there.
 */
export class GroupReader extends StructReader {
  /**
   * The struct's reader. Generated group readers' constructors set it: to the reader their
   * struct's getter passes, or, given the seven location arguments instead (`StructCtor`, as a
   * group builder's `asReader()` constructs), to a plain StructReader of those sections.
   */
  declare _p: StructReader;
}
for (const k of ["_arena", "_seg", "_dataOff", "_dataSize", "_ptrOff", "_ptrCount", "_nesting"] as const) {
  Object.defineProperty(GroupReader.prototype, k, {
    get(this: GroupReader) {
      return this._p[k];
    },
    configurable: true,
  });
}

/**
 * A generated group reader class (which does not `extends`: see GroupReader) made a GroupReader:
 * links its prototype and returns it. Generated code calls it where it defines `X_Reader`, marked
 * pure, so that bundlers drop unused group readers.
 */
export function groupReader<C extends abstract new (...args: never[]) => unknown>(cls: C): C {
  Object.setPrototypeOf(cls.prototype, GroupReader.prototype);
  return cls;
}

/** Generated builders' constructors carry the struct's size. */
export interface StructBuilderCtor<T> {
  new (
    arena: BuilderArena,
    seg: Segment,
    dataOff: number,
    dataSize: number,
    ptrOff: number,
    ptrCount: number,
    nesting: number,
  ): T;
  readonly _dataWords: number;
  readonly _ptrCount: number;
}

/** Base of generated struct builders (C++ `StructBuilder`). */
export class StructBuilder extends StructView {
  declare _arena: BuilderArena;

  _setBool(bit: number, value: boolean, def = false): void {
    const byte = bit >>> 3;
    if (byte >= this._dataSize) return;
    const i = this._dataOff + byte;
    const b = this._seg.bytes;
    const m = 1 << (bit & 7);
    if (value !== def) b[i]! |= m;
    else b[i]! &= ~m;
  }
  _setInt8(off: number, value: number, def = 0): void {
    if (off < this._dataSize) this._seg.view.setInt8(this._dataOff + off, value ^ def);
  }
  _setUint8(off: number, value: number, def = 0): void {
    if (off < this._dataSize) this._seg.bytes[this._dataOff + off] = value ^ def;
  }
  _setInt16(off: number, value: number, def = 0): void {
    if (off + 2 <= this._dataSize) this._seg.view.setInt16(this._dataOff + off, value ^ def, true);
  }
  _setUint16(off: number, value: number, def = 0): void {
    if (off + 2 <= this._dataSize) this._seg.view.setUint16(this._dataOff + off, value ^ def, true);
  }
  _setInt32(off: number, value: number, def = 0): void {
    if (off + 4 <= this._dataSize) this._seg.view.setInt32(this._dataOff + off, value ^ def, true);
  }
  _setUint32(off: number, value: number, def = 0): void {
    if (off + 4 <= this._dataSize) this._seg.view.setUint32(this._dataOff + off, (value ^ def) >>> 0, true);
  }
  _setInt64(off: number, value: bigint, def = 0n): void {
    if (off + 8 <= this._dataSize)
      this._seg.view.setBigInt64(this._dataOff + off, BigInt.asIntN(64, value ^ def), true);
  }
  _setUint64(off: number, value: bigint, def = 0n): void {
    if (off + 8 <= this._dataSize) {
      this._seg.view.setBigUint64(this._dataOff + off, BigInt.asUintN(64, value ^ def), true);
    }
  }
  _setFloat32(off: number, value: number, defBits = 0): void {
    if (off + 4 > this._dataSize) return;
    if (defBits === 0) {
      this._seg.view.setFloat32(this._dataOff + off, value, true);
      return;
    }
    f32.setFloat32(0, value, true);
    this._seg.view.setUint32(this._dataOff + off, (f32.getUint32(0, true) ^ defBits) >>> 0, true);
  }
  _setFloat64(off: number, value: number, defBits = 0n): void {
    if (off + 8 > this._dataSize) return;
    if (defBits === 0n) {
      this._seg.view.setFloat64(this._dataOff + off, value, true);
      return;
    }
    f32.setFloat64(0, value, true);
    this._seg.view.setBigUint64(this._dataOff + off, f32.getBigUint64(0, true) ^ defBits, true);
  }

  private _p(i: number): number {
    if (i >= this._ptrCount)
      throw new RangeError(`Pointer ${i} is outside this struct (${this._ptrCount} pointers).`);
    return this._ptrOff + i * 8;
  }

  /** Allocates struct i (dw data words, pc pointers); its location goes to S. */
  _initStructLoc(i: number, dw: number, pc: number): void {
    initStruct(this._arena, this._seg, this._p(i), dw, pc);
    S.arena = this._arena;
    S.seg = A.seg;
    S.dataOff = A.off;
    S.dataSize = dw * 8;
    S.ptrOff = A.off + dw * 8;
    S.ptrCount = pc;
    S.nesting = UNLIMITED_NESTING;
  }
  /** Struct i for writing (at least dw/pc large); its location goes to S. */
  _getStructLoc(i: number, dw: number, pc: number, def?: PointerDefault): void {
    getWritableStruct(this._arena, this._seg, this._p(i), dw, pc, def);
    S.arena = this._arena;
    S.seg = W.seg;
    S.dataOff = W.off;
    S.dataSize = W.dataWords * 8;
    S.ptrOff = W.off + W.dataWords * 8;
    S.ptrCount = W.ptrCount;
    S.nesting = UNLIMITED_NESTING;
  }
  _initStruct<T>(i: number, ctor: StructBuilderCtor<T>): T {
    const dw = ctor._dataWords;
    const pc = ctor._ptrCount;
    initStruct(this._arena, this._seg, this._p(i), dw, pc);
    return new ctor(this._arena, A.seg, A.off, dw * 8, A.off + dw * 8, pc, UNLIMITED_NESTING);
  }
  _getStruct<T>(i: number, ctor: StructBuilderCtor<T>, def?: PointerDefault): T {
    getWritableStruct(this._arena, this._seg, this._p(i), ctor._dataWords, ctor._ptrCount, def);
    return new ctor(
      this._arena,
      W.seg,
      W.off,
      W.dataWords * 8,
      W.off + W.dataWords * 8,
      W.ptrCount,
      UNLIMITED_NESTING,
    );
  }
  /** Deep-copy `value` (a reader or builder of any message) into pointer `i`. */
  _setStruct(i: number, value: StructView): void {
    this._setPointerFrom(i, value);
  }
  _initList<L>(i: number, kind: ListBuilderKind<L>, length: number): L {
    return initListOfKind(this._arena, this._seg, this._p(i), kind, length);
  }
  _getList<L>(i: number, kind: ListBuilderKind<L>, def?: PointerDefault): L {
    return getWritableList(this._arena, this._seg, this._p(i), kind, def);
  }
  /** Deep-copy a list (reader or builder, any message) into pointer `i`. */
  _setList(i: number, value: ListView): void {
    copyListInto(this._arena, this._seg, this._p(i), value);
  }
  _setText(i: number, value: string): void {
    setText(this._arena, this._seg, this._p(i), value);
  }
  _setData(i: number, value: Uint8Array): void {
    setData(this._arena, this._seg, this._p(i), value);
  }
  _initData(i: number, length: number): Uint8Array {
    initList(this._arena, this._seg, this._p(i), SIZE_BYTE, length);
    return A.seg.bytes.subarray(A.off, A.off + length);
  }
  _setCapability(i: number, cap: unknown): void {
    setCapability(this._arena, this._seg, this._p(i), cap);
  }
  _clearPointer(i: number): void {
    clearPointer(this._arena, this._seg, this._p(i));
  }
  _getPointer(i: number): AnyPointerBuilder {
    return new AnyPointerBuilder(this._arena, this._seg, this._p(i));
  }
  /** Detach pointer `i`'s object as an orphan (the field becomes null, nothing is copied). */
  _disown(i: number): Orphan {
    return Orphan.disown(this._arena, this._seg, this._p(i));
  }
  /** Attach an orphan of this message at pointer `i` (no copy). */
  _adopt(i: number, orphan: Orphan): void {
    orphan.adoptInto(this._arena, this._seg, this._p(i));
  }
  /** Deep copy of any readable pointer target into pointer `i`. */
  _setPointerFrom(i: number, value: StructView): void {
    // Copy through a temporary one-word root describing `value` as a struct pointer.
    copyStructInto(this._arena, this._seg, this._p(i), value);
  }
  /** A reader over this builder's struct (C++ `asReader()`). */
  _asReader<T>(ctor: StructCtor<T>): T {
    return new ctor(
      this._arena,
      this._seg,
      this._dataOff,
      this._dataSize,
      this._ptrOff,
      this._ptrCount,
      UNLIMITED_NESTING,
    );
  }
  _as<T>(ctor: StructBuilderCtor<T>): T {
    return new ctor(
      this._arena,
      this._seg,
      this._dataOff,
      this._dataSize,
      this._ptrOff,
      this._ptrCount,
      this._nesting,
    );
  }
}
