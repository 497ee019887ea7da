/**
 * Text format to binary (`capnts encode`, C++ `TextCodec::decode`): writes parsed struct literals
 * into messages following the schema. Fields are written in schema order, each object allocated
 * when reached (pre-order), as C++ does, so output matches `capnp encode` byte for byte.
 */
import {
  BoolListBuilder,
  DataListBuilder,
  EnumListBuilder,
  Float32ListBuilder,
  Float64ListBuilder,
  Int8ListBuilder,
  Int16ListBuilder,
  Int32ListBuilder,
  Int64ListBuilder,
  type ListBuilderKind,
  ListListBuilder,
  MessageBuilder,
  StructBuilder,
  type StructBuilderCtor,
  StructListBuilder,
  Uint8ListBuilder,
  Uint16ListBuilder,
  Uint32ListBuilder,
  Uint64ListBuilder,
  VoidListBuilder,
} from "../wire/index.js";
import { type Bindings, bindingsOf, NO_BINDINGS, resolveType } from "./brand.js";
import type { SchemaLoader } from "./loader.js";
import { dataBits, NO_DISCRIMINANT, type SlotField, type StructNode, type Type } from "./model.js";
import { TextParseError, TextParser, type TextValue } from "./text-parse.js";

const ctors = new WeakMap<StructNode, StructBuilderCtor<StructBuilder>>();

/** A builder class of the struct's size (what `initStruct` and struct lists need). */
export function ctorFor(node: StructNode): StructBuilderCtor<StructBuilder> {
  let c = ctors.get(node);
  if (c === undefined) {
    c = class extends StructBuilder {
      static readonly _dataWords = node.dataWordCount;
      static readonly _ptrCount = node.pointerCount;
    };
    ctors.set(node, c);
  }
  return c;
}

const KINDS: Record<string, ListBuilderKind<unknown>> = {
  void: VoidListBuilder.kind,
  bool: BoolListBuilder.kind,
  int8: Int8ListBuilder.kind,
  int16: Int16ListBuilder.kind,
  int32: Int32ListBuilder.kind,
  int64: Int64ListBuilder.kind,
  uint8: Uint8ListBuilder.kind,
  uint16: Uint16ListBuilder.kind,
  uint32: Uint32ListBuilder.kind,
  uint64: Uint64ListBuilder.kind,
  float32: Float32ListBuilder.kind,
  float64: Float64ListBuilder.kind,
  enum: EnumListBuilder.kind,
  text: DataListBuilder.kind, // written as bytes, see list()
  data: DataListBuilder.kind,
};

/** The range of each integer type (what a value written to it must be within). */
export const INTEGER_RANGES: Record<string, [bigint, bigint]> = {
  int8: [-128n, 127n],
  int16: [-32768n, 32767n],
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint8: [0n, 255n],
  uint16: [0n, 65535n],
  uint32: [0n, 2n ** 32n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
};

const f32 = new DataView(new ArrayBuffer(8));

class Encoder {
  constructor(readonly loader: SchemaLoader) {}

  fail(v: TextValue, message: string): never {
    throw new TextParseError(`${message} (at offset ${v.at})`);
  }

  integer(v: TextValue, t: Type): bigint {
    if (v.kind !== "number") this.fail(v, `expected ${t.kind}`);
    const text = v.text;
    const neg = text.startsWith("-");
    const body = neg ? text.slice(1) : text;
    let n: bigint;
    if (/^0[xX]/.test(body)) n = BigInt(body);
    else if (/^0[0-7]+$/.test(body)) n = BigInt(`0o${body.slice(1)}`);
    else if (/^[0-9]+$/.test(body)) n = BigInt(body);
    else this.fail(v, `expected an integer for ${t.kind}`);
    if (neg) n = -n;
    const [lo, hi] = INTEGER_RANGES[t.kind]!;
    if (n < lo || n > hi) this.fail(v, `integer is out of range for ${t.kind}`);
    return n;
  }

  float(v: TextValue): number {
    if (v.kind === "ident" && (v.name === "inf" || v.name === "nan"))
      return v.name === "inf" ? Number.POSITIVE_INFINITY : Number.NaN;
    if (v.kind !== "number") this.fail(v, "expected a number");
    const t = v.text;
    if (t === "inf" || t === "-inf") return t === "inf" ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
    if (t === "nan" || t === "-nan") return Number.NaN;
    // An integer literal is an integer (C++: "-0" is integer zero negated, so +0.0).
    if (/^-?(0[xX][0-9a-fA-F]+|[0-9]+)$/.test(t)) {
      const neg = t.startsWith("-");
      const n = Number(BigInt(neg ? t.slice(1) : t));
      return neg && n !== 0 ? -n : n;
    }
    return Number(t);
  }

  bool(v: TextValue): boolean {
    if (v.kind === "ident" && (v.name === "true" || v.name === "false")) return v.name === "true";
    return this.fail(v, "expected true or false");
  }

  enumValue(v: TextValue, typeId: bigint): number {
    const e = this.loader.getEnum(typeId);
    if (v.kind === "ident") {
      const i = e.enumerants.findIndex((x) => x.name === v.name);
      if (i < 0) this.fail(v, `"${v.name}" is not an enumerant of ${e.displayName}`);
      return i;
    }
    return this.fail(v, `expected an enumerant of ${e.displayName}`);
  }

  bytes(v: TextValue, what: "text" | "data"): Uint8Array {
    if (v.kind === "string" || (what === "data" && v.kind === "data")) return v.bytes;
    return this.fail(v, `expected ${what === "text" ? "a string" : "Data"}`);
  }

  struct(b: StructBuilder, node: StructNode, v: TextValue, bindings: Bindings): void {
    if (v.kind !== "struct") this.fail(v, `expected a struct (${node.displayName})`);
    // C++ assigns the fields in schema order, whatever order the text gives them in; objects
    // are allocated in that order, so we do the same to produce the same bytes.
    const assigned = v.fields.map(({ name, value }) => {
      const index = node.fields.findIndex((x) => x.name === name);
      if (index < 0) this.fail(value, `${node.displayName} has no field "${name}"`);
      return { f: node.fields[index]!, index, value };
    });
    assigned.sort((a, b) => a.index - b.index);
    for (const { f, value } of assigned) {
      if (f.discriminantValue !== NO_DISCRIMINANT)
        b._setUint16(node.discriminantOffset * 2, f.discriminantValue);
      if (f.kind === "group") {
        this.struct(b, this.loader.getStruct(f.typeId), value, bindings);
        continue;
      }
      this.field(b, f, resolveType(f.type, bindings), value);
    }
  }

  field(b: StructBuilder, f: SlotField, t: Type, v: TextValue): void {
    const bits = dataBits(t);
    const off = bits === 1 ? f.offset : (f.offset * bits) / 8;
    const d = f.defaultValue;
    switch (t.kind) {
      case "void":
        if (!(v.kind === "ident" && v.name === "void")) this.fail(v, "expected void");
        return;
      case "bool":
        b._setBool(off, this.bool(v), d.kind === "bool" && d.value);
        return;
      case "int8":
      case "int16":
      case "int32":
      case "uint8":
      case "uint16":
      case "uint32": {
        const n = Number(this.integer(v, t));
        const def = d.kind === t.kind ? d.value : 0;
        const set = {
          int8: b._setInt8,
          int16: b._setInt16,
          int32: b._setInt32,
          uint8: b._setUint8,
          uint16: b._setUint16,
          uint32: b._setUint32,
        }[t.kind];
        set.call(b, off, n, def);
        return;
      }
      case "int64":
        b._setInt64(off, this.integer(v, t), d.kind === "int64" ? d.value : 0n);
        return;
      case "uint64":
        b._setUint64(off, this.integer(v, t), d.kind === "uint64" ? d.value : 0n);
        return;
      case "float32": {
        let def = 0;
        if (d.kind === "float32") {
          f32.setFloat32(0, d.value, true);
          def = f32.getUint32(0, true);
        }
        b._setFloat32(off, this.float(v), def);
        return;
      }
      case "float64": {
        let def = 0n;
        if (d.kind === "float64") {
          f32.setFloat64(0, d.value, true);
          def = f32.getBigUint64(0, true);
        }
        b._setFloat64(off, this.float(v), def);
        return;
      }
      case "enum":
        b._setUint16(off, this.enumValue(v, t.typeId), d.kind === "enum" ? d.value : 0);
        return;
      case "text": {
        // Through the bytes (escapes may write any byte): a byte list with the NUL terminator.
        const bytes = this.bytes(v, "text");
        b._initData(f.offset, bytes.length + 1).set(bytes);
        return;
      }
      case "data":
        b._setData(f.offset, this.bytes(v, "data"));
        return;
      case "struct": {
        const node = this.loader.getStruct(t.typeId);
        this.struct(b._initStruct(f.offset, ctorFor(node)), node, v, bindingsOf(t.brand));
        return;
      }
      case "list":
        if (v.kind !== "list") this.fail(v, "expected a list");
        this.list(b._initList(f.offset, this.kind(t.elementType), v.items.length), t.elementType, v.items);
        return;
      default:
        this.fail(v, `cannot write a ${t.kind} from text`);
    }
  }

  kind(e: Type): ListBuilderKind<unknown> {
    const k = KINDS[e.kind];
    if (k !== undefined) return k;
    if (e.kind === "struct") return StructListBuilder.of(ctorFor(this.loader.getStruct(e.typeId)));
    if (e.kind === "list") return ListListBuilder.of(this.kind(e.elementType));
    throw new TextParseError(`cannot write a List(${e.kind}) from text`);
  }

  list(l: unknown, e: Type, items: readonly TextValue[]): void {
    const set = (l as { set?: (i: number, v: unknown) => void }).set;
    items.forEach((v, i) => {
      switch (e.kind) {
        case "void":
          if (!(v.kind === "ident" && v.name === "void")) this.fail(v, "expected void");
          return;
        case "bool":
          set!.call(l, i, this.bool(v));
          return;
        case "int64":
        case "uint64":
          set!.call(l, i, this.integer(v, e));
          return;
        case "int8":
        case "int16":
        case "int32":
        case "uint8":
        case "uint16":
        case "uint32":
          set!.call(l, i, Number(this.integer(v, e)));
          return;
        case "float32":
        case "float64":
          set!.call(l, i, this.float(v));
          return;
        case "enum":
          set!.call(l, i, this.enumValue(v, e.typeId));
          return;
        case "text": {
          const bytes = this.bytes(v, "text");
          (l as DataListBuilder).init(i, bytes.length + 1).set(bytes);
          return;
        }
        case "data":
          (l as DataListBuilder).set(i, this.bytes(v, "data"));
          return;
        case "struct":
          this.struct(
            (l as StructListBuilder<StructBuilder>).get(i),
            this.loader.getStruct(e.typeId),
            v,
            bindingsOf(e.brand),
          );
          return;
        case "list":
          if (v.kind !== "list") this.fail(v, "expected a list");
          this.list((l as ListListBuilder<unknown>).init(i, v.items.length), e.elementType, v.items);
          return;
        default:
          this.fail(v, `cannot write a ${e.kind} from text`);
      }
    });
  }
}

/** Every struct literal in `text` as a message of type `node`. */
export function encodeText(text: string, node: StructNode, loader: SchemaLoader): MessageBuilder[] {
  const p = new TextParser(text);
  const enc = new Encoder(loader);
  const out: MessageBuilder[] = [];
  while (!p.atEnd()) {
    const v = p.struct();
    const m = new MessageBuilder();
    enc.struct(m.initRoot(ctorFor(node)), node, v, NO_BINDINGS);
    out.push(m);
  }
  return out;
}

/**
 * Exactly one struct literal `text` written into `builder`, a struct of type `node` (already
 * allocated, e.g. a call's params): what `capnts call` sends. Throws TextParseError when the text
 * is not one struct literal or does not fit the type.
 */
export function encodeTextInto(
  text: string,
  builder: StructBuilder,
  node: StructNode,
  loader: SchemaLoader,
  bindings: Bindings = NO_BINDINGS,
): void {
  const p = new TextParser(text);
  const v = p.struct();
  if (!p.atEnd()) throw new TextParseError(`expected the end after the struct (at offset ${p.offset})`);
  new Encoder(loader).struct(builder, node, v, bindings);
}

/**
 * A struct or list value (already parsed) as a standalone single-segment message whose root is
 * the value: how the schema compiler encodes struct and list defaults and constants.
 */
export function encodePointerValue(v: TextValue, t: Type, loader: SchemaLoader): MessageBuilder {
  const enc = new Encoder(loader);
  const m = new MessageBuilder();
  if (t.kind === "struct") {
    const node = loader.getStruct(t.typeId);
    enc.struct(m.initRoot(ctorFor(node)), node, v, bindingsOf(t.brand));
  } else if (t.kind === "list") {
    if (v.kind !== "list") throw new TextParseError(`expected a list (at offset ${v.at})`);
    enc.list(m.getRootAnyPointer().initList(enc.kind(t.elementType), v.items.length), t.elementType, v.items);
  } else throw new TextParseError(`cannot write a ${t.kind} value`);
  return m;
}
