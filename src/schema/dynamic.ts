/**
 * Dynamic (reflective) reading of any struct given its schema node (C++ `DynamicStruct::Reader`,
 * `DynamicList::Reader`, `DynamicEnum`): fields by name, the active union member, lists, enums by
 * name, generic parameters resolved through brands.
 *
 *   const loader = new SchemaLoader().addFile(myFile.$schema);
 *   const d = DynamicStruct.of(reader, loader.getStruct(MyStruct.typeId), loader);
 *   d.get("name"); d.which()?.name; (d.get("items") as DynamicList).toArray();
 */
import {
  AnyPointerList,
  type AnyPointerReader,
  BoolList,
  DataList,
  EnumList,
  Float32List,
  Float64List,
  Int8List,
  Int16List,
  Int32List,
  Int64List,
  type ListKind,
  ListList,
  StructList,
  StructReader,
  type StructView,
  TextList,
  Uint8List,
  Uint16List,
  Uint32List,
  Uint64List,
  VoidList,
} from "../wire/index.js";
import { type Bindings, bindingsOf, NO_BINDINGS, resolveType } from "./brand.js";
import { SchemaError } from "./load.js";
import { type SchemaLoader, schemas } from "./loader.js";
import { dataBits, type Field, NO_DISCRIMINANT, type StructNode, type Type, type Value } from "./model.js";
import { formatStruct } from "./text.js";

/** An enum value with its enumerant's name (undefined for a value the schema does not know). */
export interface DynamicEnum {
  readonly value: number;
  readonly name: string | undefined;
}

/** A capability pointer's cap table entry (null when the pointer is null). */
export interface DynamicCapability {
  readonly capability: unknown;
}

export type DynamicValue =
  | undefined
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | DynamicEnum
  | DynamicStruct
  | DynamicList
  | DynamicCapability
  | AnyPointerReader;

const bits = new DataView(new ArrayBuffer(8));

function xorDefault(v: Value): number | bigint | boolean {
  switch (v.kind) {
    case "bool":
      return v.value;
    case "int64":
    case "uint64":
      return v.value;
    case "float32":
      bits.setFloat32(0, v.value, true);
      return bits.getUint32(0, true);
    case "float64":
      bits.setFloat64(0, v.value, true);
      return bits.getBigUint64(0, true);
    case "int8":
    case "int16":
    case "int32":
    case "uint8":
    case "uint16":
    case "uint32":
    case "enum":
      return v.value;
    default:
      return 0;
  }
}

function asReader(v: StructView): StructReader {
  return v instanceof StructReader
    ? v
    : new StructReader(v._arena, v._seg, v._dataOff, v._dataSize, v._ptrOff, v._ptrCount, v._nesting);
}

const LIST_KINDS: Record<string, ListKind<unknown>> = {
  void: VoidList.kind,
  bool: BoolList.kind,
  int8: Int8List.kind,
  int16: Int16List.kind,
  int32: Int32List.kind,
  int64: Int64List.kind,
  uint8: Uint8List.kind,
  uint16: Uint16List.kind,
  uint32: Uint32List.kind,
  uint64: Uint64List.kind,
  float32: Float32List.kind,
  float64: Float64List.kind,
  enum: EnumList.kind,
  text: TextList.kind,
  data: DataList.kind,
};

function listKindOf(e: Type): ListKind<unknown> {
  const k = LIST_KINDS[e.kind];
  if (k !== undefined) return k;
  if (e.kind === "struct") return StructList.of(StructReader);
  if (e.kind === "list") return ListList.of(listKindOf(e.elementType));
  return AnyPointerList.kind;
}

export class DynamicStruct {
  private constructor(
    readonly schema: StructNode,
    readonly reader: StructReader,
    readonly loader: SchemaLoader,
    readonly bindings: Bindings,
  ) {}

  /** A dynamic view of `view` (a generated reader/builder or a plain StructReader). */
  static of(
    view: StructView,
    schema: StructNode,
    loader: SchemaLoader = schemas,
    bindings: Bindings = NO_BINDINGS,
  ): DynamicStruct {
    return new DynamicStruct(schema, asReader(view), loader, bindings);
  }

  get fields(): readonly Field[] {
    return this.schema.fields;
  }

  field(name: string): Field {
    const f = this.schema.fields.find((x) => x.name === name);
    if (f === undefined) throw new SchemaError(`${this.schema.displayName} has no field "${name}".`);
    return f;
  }

  /** The active union member, or null (no union, or a discriminant the schema does not know). */
  which(): Field | null {
    if (this.schema.discriminantCount === 0) return null;
    const d = this.reader._getUint16(this.schema.discriminantOffset * 2);
    return this.schema.fields.find((f) => f.discriminantValue === d) ?? null;
  }

  /** The field's type with generic parameters resolved (groups: null). */
  typeOf(field: Field | string): Type | null {
    const f = typeof field === "string" ? this.field(field) : field;
    return f.kind === "group" ? null : resolveType(f.type, this.bindings);
  }

  /** False for an inactive union member or a null pointer (C++ `has()`, NON_NULL mode). */
  has(field: Field | string): boolean {
    const f = typeof field === "string" ? this.field(field) : field;
    if (f.discriminantValue !== NO_DISCRIMINANT && this.which() !== f) return false;
    if (f.kind === "group") return true;
    const t = resolveType(f.type, this.bindings);
    return dataBits(t) >= 0 || this.reader._hasPointer(f.offset);
  }

  get(field: Field | string): DynamicValue {
    const f = typeof field === "string" ? this.field(field) : field;
    const r = this.reader;
    if (f.kind === "group")
      return new DynamicStruct(this.loader.getStruct(f.typeId), r, this.loader, this.bindings);
    const t = resolveType(f.type, this.bindings);
    const b = dataBits(t);
    if (b >= 0) {
      const off = b === 1 ? f.offset : (f.offset * b) / 8;
      const d = xorDefault(f.defaultValue);
      switch (t.kind) {
        case "void":
          return undefined;
        case "bool":
          return r._getBool(off, d as boolean);
        case "int8":
          return r._getInt8(off, d as number);
        case "int16":
          return r._getInt16(off, d as number);
        case "int32":
          return r._getInt32(off, d as number);
        case "int64":
          return r._getInt64(off, BigInt(d));
        case "uint8":
          return r._getUint8(off, d as number);
        case "uint16":
          return r._getUint16(off, d as number);
        case "uint32":
          return r._getUint32(off, d as number);
        case "uint64":
          return r._getUint64(off, BigInt(d));
        case "float32":
          return r._getFloat32(off, d as number);
        case "float64":
          return r._getFloat64(off, BigInt(d));
        case "enum":
          return this.enumValue(t.typeId, r._getUint16(off, d as number));
        default:
          break;
      }
    }
    const i = f.offset;
    const dv = f.defaultValue;
    switch (t.kind) {
      case "text":
        return r._getText(i, dv.kind === "text" ? dv.value : undefined);
      case "data":
        return r._getData(i, dv.kind === "data" ? dv.value : undefined);
      case "struct":
        return new DynamicStruct(
          this.loader.getStruct(t.typeId),
          r._getStruct(i, StructReader),
          this.loader,
          bindingsOf(t.brand),
        );
      case "list":
        return new DynamicList(t.elementType, r._getList(i, listKindOf(t.elementType)), this.loader);
      case "interface":
        return { capability: r._getCapability(i) };
      default:
        return r._getPointer(i);
    }
  }

  private enumValue(typeId: bigint, value: number): DynamicEnum {
    return { value, name: this.loader.getEnum(typeId).enumerants[value]?.name };
  }

  /** Text format (one line; `{ pretty: true }` as `capnp decode`). */
  toString(options?: { pretty?: boolean }): string {
    return formatStruct(this.reader, this.schema, {
      pretty: options?.pretty ?? false,
      loader: this.loader,
      bindings: this.bindings,
    });
  }
}

export class DynamicList implements Iterable<DynamicValue> {
  constructor(
    /** Element type, generic parameters resolved. */
    readonly elementType: Type,
    private readonly list: unknown,
    readonly loader: SchemaLoader,
  ) {}

  get length(): number {
    return (this.list as { length: number }).length;
  }

  get(i: number): DynamicValue {
    const e = this.elementType;
    const l = this.list as { get(i: number): unknown };
    switch (e.kind) {
      case "void":
        l.get(i);
        return undefined;
      case "enum": {
        const v = l.get(i) as number;
        return { value: v, name: this.loader.getEnum(e.typeId).enumerants[v]?.name };
      }
      case "struct":
        return DynamicStruct.of(
          l.get(i) as StructReader,
          this.loader.getStruct(e.typeId),
          this.loader,
          bindingsOf(e.brand),
        );
      case "list":
        return new DynamicList(e.elementType, l.get(i), this.loader);
      case "interface": {
        const p = l.get(i) as AnyPointerReader;
        return { capability: p.isNull() ? null : p.getCapability() };
      }
      default:
        return l.get(i) as DynamicValue;
    }
  }

  *[Symbol.iterator](): IterableIterator<DynamicValue> {
    for (let i = 0; i < this.length; i++) yield this.get(i);
  }

  toArray(): DynamicValue[] {
    return [...this];
  }
}
