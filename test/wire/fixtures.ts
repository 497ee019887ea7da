// Hand-written typed accessors over the low-level API for test/schemas/wire-test.capnp (offsets
// from `capnp compile -ocapnp`). The wire tests use them so that they do not depend on the code
// generator.

import { PointerDefault } from "capnts/codegenv1";
import {
  BoolList,
  BoolListBuilder,
  DataList,
  DataListBuilder,
  EnumList,
  Float64List,
  Float64ListBuilder,
  Int8List,
  Int8ListBuilder,
  Int16List,
  Int32List,
  Int32ListBuilder,
  ListList,
  ListListBuilder,
  MessageBuilder,
  StructBuilder,
  StructList,
  StructListBuilder,
  StructReader,
  TextList,
  TextListBuilder,
  Uint16List,
  Uint16ListBuilder,
  Uint64List,
  Uint64ListBuilder,
  VoidList,
  VoidListBuilder,
} from "capnts/wire";

export class PrimsR extends StructReader {
  get b() {
    return this._getBool(0);
  }
  get i8() {
    return this._getInt8(1);
  }
  get i16() {
    return this._getInt16(2);
  }
  get i32() {
    return this._getInt32(4);
  }
  get i64() {
    return this._getInt64(8);
  }
  get u8() {
    return this._getUint8(16);
  }
  get u16() {
    return this._getUint16(18);
  }
  get u32() {
    return this._getUint32(20);
  }
  get u64() {
    return this._getUint64(24);
  }
  get f32() {
    return this._getFloat32(32);
  }
  get f64() {
    return this._getFloat64(40);
  }
  get text() {
    return this._getText(0);
  }
  get data() {
    return this._getData(1);
  }
  get inner(): PrimsR {
    return this._getStruct(2, PrimsR);
  }
  get hasInner() {
    return this._hasPointer(2);
  }
  get color() {
    return this._getUint16(36);
  }
  get boolList() {
    return this._getList(3, BoolList.kind);
  }
  get i8List() {
    return this._getList(4, Int8List.kind);
  }
  get u16List() {
    return this._getList(5, Uint16List.kind);
  }
  get i32List() {
    return this._getList(6, Int32List.kind);
  }
  get u64List() {
    return this._getList(7, Uint64List.kind);
  }
  get f64List() {
    return this._getList(8, Float64List.kind);
  }
  get textList() {
    return this._getList(9, TextList.kind);
  }
  get structList(): StructList<PrimsR> {
    return this._getList(10, StructList.of(PrimsR));
  }
  get listList() {
    return this._getList(11, ListList.of(Int32List.kind));
  }
  get voidList() {
    return this._getList(12, VoidList.kind);
  }
  get dataList() {
    return this._getList(13, DataList.kind);
  }
  get colorList() {
    return this._getList(14, EnumList.kind);
  }
  get which() {
    return this._getUint16(38);
  }
  get num() {
    return this._getInt32(48);
  }
  get str() {
    return this._getText(15);
  }
  get grpX() {
    return this._getUint32(52);
  }
  get grpY() {
    return this._getText(16);
  }
}

export class PrimsB extends StructBuilder {
  static readonly _dataWords = 7;
  static readonly _ptrCount = 17;
  set b(v: boolean) {
    this._setBool(0, v);
  }
  set i8(v: number) {
    this._setInt8(1, v);
  }
  set i16(v: number) {
    this._setInt16(2, v);
  }
  set i32(v: number) {
    this._setInt32(4, v);
  }
  set i64(v: bigint) {
    this._setInt64(8, v);
  }
  set u8(v: number) {
    this._setUint8(16, v);
  }
  set u16(v: number) {
    this._setUint16(18, v);
  }
  set u32(v: number) {
    this._setUint32(20, v);
  }
  set u64(v: bigint) {
    this._setUint64(24, v);
  }
  set f32(v: number) {
    this._setFloat32(32, v);
  }
  set f64(v: number) {
    this._setFloat64(40, v);
  }
  set text(v: string) {
    this._setText(0, v);
  }
  set data(v: Uint8Array) {
    this._setData(1, v);
  }
  initInner(): PrimsB {
    return this._initStruct(2, PrimsB);
  }
  getInner(): PrimsB {
    return this._getStruct(2, PrimsB);
  }
  set color(v: number) {
    this._setUint16(36, v);
  }
  initBoolList(n: number) {
    return this._initList(3, BoolListBuilder.kind, n);
  }
  initI8List(n: number) {
    return this._initList(4, Int8ListBuilder.kind, n);
  }
  initU16List(n: number) {
    return this._initList(5, Uint16ListBuilder.kind, n);
  }
  initI32List(n: number) {
    return this._initList(6, Int32ListBuilder.kind, n);
  }
  initU64List(n: number) {
    return this._initList(7, Uint64ListBuilder.kind, n);
  }
  initF64List(n: number) {
    return this._initList(8, Float64ListBuilder.kind, n);
  }
  initTextList(n: number) {
    return this._initList(9, TextListBuilder.kind, n);
  }
  initStructList(n: number): StructListBuilder<PrimsB> {
    return this._initList(10, StructListBuilder.of(PrimsB), n);
  }
  getStructList(): StructListBuilder<PrimsB> {
    return this._getList(10, StructListBuilder.of(PrimsB));
  }
  initListList(n: number) {
    return this._initList(11, ListListBuilder.of(Int32ListBuilder.kind), n);
  }
  initVoidList(n: number) {
    return this._initList(12, VoidListBuilder.kind, n);
  }
  initDataList(n: number) {
    return this._initList(13, DataListBuilder.kind, n);
  }
  initColorList(n: number) {
    return this._initList(14, Uint16ListBuilder.kind, n);
  }
  setNone() {
    this._setUint16(38, 0);
  }
  set num(v: number) {
    this._setUint16(38, 1);
    this._setInt32(48, v);
  }
  set str(v: string) {
    this._setUint16(38, 2);
    this._setText(15, v);
  }
  set grpX(v: number) {
    this._setUint32(52, v);
  }
  set grpY(v: string) {
    this._setText(16, v);
  }
  asReader(): PrimsR {
    return this._asReader(PrimsR);
  }
}

function f32Bits(x: number): number {
  const v = new DataView(new ArrayBuffer(4));
  v.setFloat32(0, x, true);
  return v.getUint32(0, true);
}
function f64Bits(x: number): bigint {
  const v = new DataView(new ArrayBuffer(8));
  v.setFloat64(0, x, true);
  return v.getBigUint64(0, true);
}

/** Encode a default value the way the code generator will: a word array, root pointer first. */
function pointerDefault(build: (m: MessageBuilder) => void): PointerDefault {
  const m = new MessageBuilder();
  build(m);
  return new PointerDefault(m.getSegmentsForOutput()[0]!);
}

export const F32_1_5 = f32Bits(1.5);
export const F64_M2_25 = f64Bits(-2.25);

const DEF_I16LIST = pointerDefault((m) => {
  const lb = m.getRootAnyPointer().initList(Uint16ListBuilder.kind, 3);
  lb.set(0, 1);
  lb.set(1, 2);
  lb.set(2, 3);
});
const DEF_DATA = new Uint8Array([1, 2]);

export class DefaultsR extends StructReader {
  get b() {
    return this._getBool(0, true);
  }
  get i32() {
    return this._getInt32(4, -123);
  }
  get u64() {
    return this._getUint64(8, 12345678901234n);
  }
  get f32() {
    return this._getFloat32(16, F32_1_5);
  }
  get f64() {
    return this._getFloat64(24, F64_M2_25);
  }
  get text() {
    return this._getText(0, "hello");
  }
  get data() {
    return this._getData(1, DEF_DATA);
  }
  get i16List() {
    return this._getList(2, Int16List.kind, DEF_I16LIST);
  }
  get inner(): DefaultsR {
    return this._getStruct(3, DefaultsR, DEF_INNER);
  }
  get color() {
    return this._getUint16(2, 2);
  }
}
export class DefaultsB extends StructBuilder {
  static readonly _dataWords = 4;
  static readonly _ptrCount = 4;
  set b(v: boolean) {
    this._setBool(0, v, true);
  }
  set i32(v: number) {
    this._setInt32(4, v, -123);
  }
  set u64(v: bigint) {
    this._setUint64(8, v, 12345678901234n);
  }
  set f32(v: number) {
    this._setFloat32(16, v, F32_1_5);
  }
  set f64(v: number) {
    this._setFloat64(24, v, F64_M2_25);
  }
  set text(v: string) {
    this._setText(0, v);
  }
  getInner(): DefaultsB {
    return this._getStruct(3, DefaultsB, DEF_INNER);
  }
  set color(v: number) {
    this._setUint16(2, v, 2);
  }
  asReader(): DefaultsR {
    return this._asReader(DefaultsR);
  }
}
const DEF_INNER = pointerDefault((m) => {
  const d = m.initRoot(DefaultsB);
  d.i32 = 7;
  d.text = "nested";
});

export class OldR extends StructReader {
  get a() {
    return this._getInt64(0);
  }
  get s() {
    return this._getText(0);
  }
}
export class OldB extends StructBuilder {
  static readonly _dataWords = 1;
  static readonly _ptrCount = 1;
  set a(v: bigint) {
    this._setInt64(0, v);
  }
  set s(v: string) {
    this._setText(0, v);
  }
}
export class NewR extends StructReader {
  get a() {
    return this._getInt64(0);
  }
  get s() {
    return this._getText(0);
  }
  get b() {
    return this._getInt64(8, 42n);
  }
  get t() {
    return this._getText(1, "default");
  }
  get l() {
    return this._getList(2, Int32List.kind);
  }
}
export class NewB extends StructBuilder {
  static readonly _dataWords = 2;
  static readonly _ptrCount = 3;
  get a() {
    return this._getInt64(0);
  }
  get s() {
    return this._getText(0);
  }
  set b(v: bigint) {
    this._setInt64(8, v, 42n);
  }
  get b() {
    return this._getInt64(8, 42n);
  }
  set t(v: string) {
    this._setText(1, v);
  }
  initL(n: number) {
    return this._initList(2, Int32ListBuilder.kind, n);
  }
}
