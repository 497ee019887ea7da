/**
 * AnyPointer: a pointer location whose type the schema leaves open (C++ `AnyPointer::Reader` /
 * `AnyPointer::Builder`). RPC params, results and cap-table-bearing payloads are AnyPointers.
 */

import type { Arena, BuilderArena } from "./arena.js";
import { UNLIMITED_NESTING } from "./arena.js";
import {
  BIterable,
  getWritableList,
  Iterable_,
  initListOfKind,
  kindOf,
  type ListBuilderKind,
  type ListView,
} from "./list.js";
import { Orphan } from "./orphan.js";
import { A, isNullPointer } from "./pointer.js";
import type { ListKind, PointerType, StructCtor } from "./read.js";
import {
  pointerType,
  readCapability,
  readCapIndex,
  readData,
  readList,
  readStruct,
  readText,
} from "./read.js";
import type { Segment } from "./segment.js";
import type { StructBuilderCtor, StructView } from "./struct.js";
import {
  clearPointer,
  copyListInto,
  copyPointer,
  copyStructInto,
  getWritableStruct,
  initStruct,
  setCapability,
  setData,
  setText,
  W,
} from "./write.js";

export class AnyPointerReader {
  declare readonly _arena: Arena;
  declare readonly _seg: Segment;
  /** Byte offset of the pointer word. */
  declare readonly _p: number;
  declare readonly _nesting: number;

  constructor(arena: Arena, seg: Segment, p: number, nesting: number) {
    this._arena = arena;
    this._seg = seg;
    this._p = p;
    this._nesting = nesting;
  }

  isNull(): boolean {
    return isNullPointer(this._seg, this._p);
  }
  pointerType(): PointerType {
    return pointerType(this._arena, this._seg, this._p);
  }
  getAs<T>(ctor: StructCtor<T>): T {
    return readStruct(this._arena, this._seg, this._p, this._nesting, ctor, undefined);
  }
  getList<L>(kind: ListKind<L>): L {
    return readList(this._arena, this._seg, this._p, this._nesting, kind, undefined);
  }
  getText(): string {
    return readText(this._arena, this._seg, this._p, undefined);
  }
  getData(): Uint8Array {
    return readData(this._arena, this._seg, this._p, undefined);
  }
  /** The cap table entry this pointer refers to, or null. */
  getCapability(): unknown {
    return readCapability(this._arena, this._seg, this._p);
  }
  /** The cap table index of this capability pointer, or -1 for a null pointer. */
  _getCapabilityIndex(): number {
    return readCapIndex(this._arena, this._seg, this._p);
  }
}

export class AnyPointerBuilder {
  declare readonly _arena: BuilderArena;
  declare readonly _seg: Segment;
  declare readonly _p: number;

  constructor(arena: BuilderArena, seg: Segment, p: number) {
    this._arena = arena;
    this._seg = seg;
    this._p = p;
  }

  isNull(): boolean {
    return isNullPointer(this._seg, this._p);
  }
  pointerType(): PointerType {
    return pointerType(this._arena, this._seg, this._p);
  }
  clear(): void {
    clearPointer(this._arena, this._seg, this._p);
  }
  initAs<T>(ctor: StructBuilderCtor<T>): T {
    const dw = ctor._dataWords;
    const pc = ctor._ptrCount;
    initStruct(this._arena, this._seg, this._p, dw, pc);
    return new ctor(this._arena, A.seg, A.off, dw * 8, A.off + dw * 8, pc, UNLIMITED_NESTING);
  }
  getAs<T>(ctor: StructBuilderCtor<T>): T {
    getWritableStruct(this._arena, this._seg, this._p, ctor._dataWords, ctor._ptrCount, undefined);
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
  initList<L>(kind: ListBuilderKind<L>, length: number): L {
    return initListOfKind(this._arena, this._seg, this._p, kind, length);
  }
  getList<L>(kind: ListBuilderKind<L>): L {
    return getWritableList(this._arena, this._seg, this._p, kind, undefined);
  }
  setText(value: string): void {
    setText(this._arena, this._seg, this._p, value);
  }
  getText(): string {
    return readText(this._arena, this._seg, this._p, undefined);
  }
  setData(value: Uint8Array): void {
    setData(this._arena, this._seg, this._p, value);
  }
  setCapability(cap: unknown): void {
    setCapability(this._arena, this._seg, this._p, cap);
  }
  getCapability(): unknown {
    return readCapability(this._arena, this._seg, this._p);
  }
  /** Deep-copy a struct (reader or builder, any message) here. */
  setStruct(value: StructView): void {
    copyStructInto(this._arena, this._seg, this._p, value);
  }
  /** Deep-copy a list (reader or builder, any message) here. */
  setList(value: ListView): void {
    copyListInto(this._arena, this._seg, this._p, value);
  }
  /** Deep-copy whatever another AnyPointer holds here (C++ `AnyPointer::Builder::set`). */
  set(value: AnyPointerReader | AnyPointerBuilder): void {
    const nesting = value instanceof AnyPointerReader ? value._nesting : UNLIMITED_NESTING;
    copyPointer(this._arena, this._seg, this._p, value._arena, value._seg, value._p, nesting, false);
  }
  disown(): Orphan {
    return Orphan.disown(this._arena, this._seg, this._p);
  }
  adopt(orphan: Orphan): void {
    orphan.adoptInto(this._arena, this._seg, this._p);
  }
  asReader(): AnyPointerReader {
    return new AnyPointerReader(this._arena, this._seg, this._p, UNLIMITED_NESTING);
  }
}

// Lists of AnyPointer live here, not in list.ts, so that list.ts need not import this module
// (which builds lists through list.ts): the module graph stays acyclic.
export class AnyPointerList extends Iterable_<AnyPointerReader> {
  static get kind(): ListKind<AnyPointerList> {
    return AnyPointerList_KIND;
  }
  get(i: number): AnyPointerReader {
    return new AnyPointerReader(this._arena, this._seg, this._ptr(i), this._nesting);
  }
}
const AnyPointerList_KIND: ListKind<AnyPointerList> = /*#__PURE__*/ kindOf(6 /* POINTER */, AnyPointerList);
export class AnyPointerListBuilder extends BIterable<AnyPointerBuilder> {
  static get kind(): ListBuilderKind<AnyPointerListBuilder> {
    return AnyPointerListBuilder_KIND;
  }
  get(i: number): AnyPointerBuilder {
    return new AnyPointerBuilder(this._arena, this._seg, this._ptr(i));
  }
}
const AnyPointerListBuilder_KIND: ListBuilderKind<AnyPointerListBuilder> = /*#__PURE__*/ kindOf(
  6 /* POINTER */,
  AnyPointerListBuilder,
);
