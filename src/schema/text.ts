/**
 * Cap'n Proto text format, exactly as C++ prints it (`kj::str(reader)` and `capnp decode`, which
 * uses `prettyPrint`): capnp/stringify.c++ and kj's number formatting and C escaping.
 *
 * The C++ printer works on bytes: Text is printed as its raw UTF-8, Data with octal escapes. We
 * build a "byte string" (one char per byte, 0-255) so the output can be written byte for byte
 * (`capnts decode`), and decode it as UTF-8 for `toString()`.
 *
 * Rules (0.9.2, `has()` in NON_NULL mode): every non-pointer field is printed, pointer fields
 * only when non-null, groups always, the active union member in field order (a union member
 * with discriminant 0 that is a null pointer is omitted). Pretty printing puts items on their
 * own lines unless all fit inline (each at most 24 bytes and, for structs, 64 in total).
 */
import {
  AnyPointerList,
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
  Uint8List,
  Uint16List,
  Uint32List,
  Uint64List,
  VoidList,
} from "../wire/index.js";
import { registeredSchemas } from "../wire/stringify.js";
import { type Bindings, bindingsOf, NO_BINDINGS, resolveType } from "./brand.js";
import { type SchemaLoader, schemas } from "./loader.js";
import {
  dataBits,
  type Field,
  NO_DISCRIMINANT,
  type SlotField,
  type StructNode,
  type Type,
  type Value,
} from "./model.js";

export type { SchemaFile } from "./loader.js";

const BARE = 0;
const PREFIXED = 1;
type Mode = 0 | 1;

// ---- numbers ----------------------------------------------------------------------------------

const f64 = new DataView(new ArrayBuffer(8));

/**
 * C `%.<p>g` (glibc: exact decimal expansion, round half to even). `toExponential`/`toFixed`
 * round exact ties up, which differs for values like 1346709.25 at 8 digits, so the digits are
 * computed exactly with BigInt. `v` is finite.
 */
function formatG(v: number, p: number): string {
  if (v === 0) return Object.is(v, -0) ? "-0" : "0";
  const neg = v < 0;
  f64.setFloat64(0, Math.abs(v), true);
  const raw = f64.getBigUint64(0, true);
  const expField = Number(raw >> 52n);
  const frac = raw & ((1n << 52n) - 1n);
  const m = expField === 0 ? frac : frac | (1n << 52n);
  const e = expField === 0 ? -1074 : expField - 1075;
  // Exact decimal digits D and exponent X with |v| = D[0].D[1...] * 10^X.
  let digits: string;
  let x: number;
  if (e >= 0) {
    digits = (m << BigInt(e)).toString();
    x = digits.length - 1;
  } else {
    digits = (m * 5n ** BigInt(-e)).toString();
    x = digits.length - 1 + e;
  }
  if (digits.length > p) {
    let keep = digits.slice(0, p);
    const first = digits.charCodeAt(p) - 48;
    const tail = digits.slice(p + 1);
    const up = first > 5 || (first === 5 && (/[1-9]/.test(tail) || (keep.charCodeAt(p - 1) - 48) % 2 === 1));
    if (up) {
      const inc = (BigInt(keep) + 1n).toString();
      if (inc.length > p) {
        x++;
        keep = inc.slice(0, p);
      } else keep = inc;
    }
    digits = keep;
  }
  digits = digits.replace(/0+$/, "") || "0";
  let out: string;
  if (x < -4 || x >= p) {
    const mant = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const ax = Math.abs(x);
    out = `${mant}e${x < 0 ? "-" : "+"}${ax < 10 ? "0" : ""}${ax}`;
  } else if (x >= 0) {
    const int = digits.slice(0, x + 1).padEnd(x + 1, "0");
    const rest = digits.slice(x + 1);
    out = rest === "" ? int : `${int}.${rest}`;
  } else {
    out = `0.${"0".repeat(-x - 1)}${digits}`;
  }
  return neg ? `-${out}` : out;
}

/** kj's exponent style: "1e+20" → "1e20" (the sign of a positive exponent is dropped). */
function kjExponent(s: string): string {
  return s.replace("e+", "e");
}

/** kj::str(double): 15 significant digits, 17 when 15 do not round-trip. */
export function formatFloat64(v: number): string {
  if (v === Number.POSITIVE_INFINITY) return "inf";
  if (v === Number.NEGATIVE_INFINITY) return "-inf";
  if (Number.isNaN(v)) return "nan";
  let s = formatG(v, 15);
  if (Number(s) !== v) s = formatG(v, 17);
  return kjExponent(s);
}

/** kj::str(float): 6 significant digits, 8 (FLT_DIG + 2, as kj does) when 6 do not round-trip. */
export function formatFloat32(v: number): string {
  if (v === Number.POSITIVE_INFINITY) return "inf";
  if (v === Number.NEGATIVE_INFINITY) return "-inf";
  if (Number.isNaN(v)) return "nan";
  let s = formatG(v, 6);
  // kj parses back with strtof and treats its ERANGE (subnormal results) as a failure too.
  if (Math.fround(Number(s)) !== v || Math.abs(v) < 1.1754943508222875e-38) s = formatG(v, 8);
  return kjExponent(s);
}

// ---- strings -----------------------------------------------------------------------------------

const OCTAL = "01234567";

/** kj::encodeCEscape into a byte string; `binary` also escapes bytes >= 0x80 (Data). */
function cEscape(bytes: Uint8Array, binary: boolean): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    switch (b) {
      case 0x07:
        out += "\\a";
        break;
      case 0x08:
        out += "\\b";
        break;
      case 0x0c:
        out += "\\f";
        break;
      case 0x0a:
        out += "\\n";
        break;
      case 0x0d:
        out += "\\r";
        break;
      case 0x09:
        out += "\\t";
        break;
      case 0x0b:
        out += "\\v";
        break;
      case 0x27:
        out += "\\'";
        break;
      case 0x22:
        out += '\\"';
        break;
      case 0x5c:
        out += "\\\\";
        break;
      default:
        if (b < 0x20 || b === 0x7f || (binary && b > 0x7f)) {
          out += `\\${OCTAL[b >>> 6]}${OCTAL[(b >>> 3) & 7]}${OCTAL[b & 7]}`;
        } else out += String.fromCharCode(b);
    }
  }
  return out;
}

/** Text bytes (without the NUL terminator); throws like readText for a malformed one. */
function textBytes(withNul: Uint8Array): Uint8Array {
  if (withNul.length === 0 || withNul[withNul.length - 1] !== 0) {
    throw new Error("Message contains text that is not NUL-terminated.");
  }
  return withNul.subarray(0, withNul.length - 1);
}

const utf8 = new TextDecoder();

/** Decode a byte string as UTF-8. */
export function byteStringToString(s: string): string {
  let ascii = true;
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0x7f) {
      ascii = false;
      break;
    }
  }
  if (ascii) return s;
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
  return utf8.decode(b);
}

/** A byte string as bytes. */
export function byteStringToBytes(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
  return b;
}

// ---- layout ------------------------------------------------------------------------------------

/** stringify.c++ `Indent`: amount 0 means no pretty printing. */
function delimit(items: string[], amount: number, mode: Mode, record: boolean): string {
  if (amount === 0 || canPrintAllInline(items, record)) return items.join(", ");
  const delim = `,\n${" ".repeat(amount * 2)}`;
  return `${mode === BARE ? " " : delim.slice(1)}${items.join(delim)} `;
}

function canPrintAllInline(items: string[], record: boolean): boolean {
  let total = 0;
  for (const item of items) {
    if (item.length > 24 || item.includes("\n")) return false;
    if (record) {
      total += item.length;
      if (total > 64) return false;
    }
  }
  return true;
}

const next = (amount: number) => (amount === 0 ? 0 : amount + 1);

// ---- values ------------------------------------------------------------------------------------

const f32 = new DataView(new ArrayBuffer(8));

function defaultArg(v: Value): number | bigint | boolean {
  switch (v.kind) {
    case "bool":
      return v.value;
    case "int64":
    case "uint64":
      return v.value;
    case "float32":
      f32.setFloat32(0, v.value, true);
      return f32.getUint32(0, true);
    case "float64":
      f32.setFloat64(0, v.value, true);
      return f32.getBigUint64(0, true);
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

class Printer {
  constructor(readonly loader: SchemaLoader) {}

  enumName(typeId: bigint, v: number): string {
    const e = this.loader.getEnum(typeId).enumerants[v];
    return e === undefined ? `(${v})` : e.name;
  }

  /** A data-section field's value as text (t is the resolved type). */
  dataField(r: StructReader, f: SlotField, t: Type): string {
    const bits = dataBits(t);
    const off = bits === 1 ? f.offset : (f.offset * bits) / 8;
    const d = defaultArg(f.defaultValue);
    switch (t.kind) {
      case "void":
        return "void";
      case "bool":
        return r._getBool(off, d as boolean) ? "true" : "false";
      case "int8":
        return String(r._getInt8(off, d as number));
      case "int16":
        return String(r._getInt16(off, d as number));
      case "int32":
        return String(r._getInt32(off, d as number));
      case "int64":
        return String(r._getInt64(off, BigInt(d)));
      case "uint8":
        return String(r._getUint8(off, d as number));
      case "uint16":
        return String(r._getUint16(off, d as number));
      case "uint32":
        return String(r._getUint32(off, d as number));
      case "uint64":
        return String(r._getUint64(off, BigInt(d)));
      case "float32":
        return formatFloat32(r._getFloat32(off, d as number));
      case "float64":
        return formatFloat64(r._getFloat64(off, BigInt(d)));
      case "enum":
        return this.enumName(t.typeId, r._getUint16(off, d as number));
      default:
        throw new Error(`not a data field: ${t.kind}`);
    }
  }

  /** A pointer field's value (non-null) as text. */
  pointerField(r: StructReader, i: number, t: Type, amount: number, mode: Mode): string {
    switch (t.kind) {
      case "text":
        // An active union member may be a null pointer: it reads as "" (C++ prints `text = ""`).
        if (!r._hasPointer(i)) return '""';
        return `"${cEscape(textBytes(r._getData(i)), false)}"`;
      case "data":
        return `"${cEscape(r._getData(i), true)}"`;
      case "struct":
        return this.struct(
          this.loader.getStruct(t.typeId),
          r._getStruct(i, StructReader),
          bindingsOf(t.brand),
          amount,
          mode,
        );
      case "list":
        return this.list(r, i, t.elementType, amount, mode);
      case "interface":
        return "<external capability>";
      default:
        return "<opaque pointer>";
    }
  }

  list(r: StructReader, i: number, e: Type, amount: number, mode: Mode): string {
    const items = this.listItems(r._getList(i, listKind(e)), e, next(amount));
    return `[${delimit(items, amount, mode, false)}]`;
  }

  listItems(list: unknown, e: Type, amount: number): string[] {
    const out: string[] = [];
    switch (e.kind) {
      case "void":
        for (let k = 0; k < (list as VoidList).length; k++) out.push("void");
        return out;
      case "bool":
        for (const v of list as BoolList) out.push(v ? "true" : "false");
        return out;
      case "float32":
        for (const v of list as Float32List) out.push(formatFloat32(v));
        return out;
      case "float64":
        for (const v of list as Float64List) out.push(formatFloat64(v));
        return out;
      case "int8":
      case "int16":
      case "int32":
      case "int64":
      case "uint8":
      case "uint16":
      case "uint32":
      case "uint64":
        for (const v of list as Iterable<number | bigint>) out.push(String(v));
        return out;
      case "enum":
        for (const v of list as EnumList<number>) out.push(this.enumName(e.typeId, v));
        return out;
      case "text":
        for (const v of list as DataList) out.push(`"${cEscape(v.length === 0 ? v : textBytes(v), false)}"`);
        return out;
      case "data":
        for (const v of list as DataList) out.push(`"${cEscape(v, true)}"`);
        return out;
      case "struct": {
        const node = this.loader.getStruct(e.typeId);
        const b = bindingsOf(e.brand);
        for (const s of list as StructList<StructReader>) out.push(this.struct(node, s, b, amount, BARE));
        return out;
      }
      case "list": {
        const inner = e.elementType;
        for (const l of list as ListList<unknown>) {
          out.push(`[${delimit(this.listItems(l, inner, next(amount)), amount, BARE, false)}]`);
        }
        return out;
      }
      case "interface":
        for (let k = 0; k < (list as AnyPointerList).length; k++) out.push("<external capability>");
        return out;
      default:
        for (let k = 0; k < (list as AnyPointerList).length; k++) out.push("<opaque pointer>");
        return out;
    }
  }

  /** Whether `f` is printed (C++ `has(field)` in NON_NULL mode, union membership aside). */
  has(r: StructReader, f: Field, t: Type | null): boolean {
    if (f.kind === "group" || t === null) return true;
    if (dataBits(t) >= 0) return true;
    return r._hasPointer(f.offset);
  }

  fieldText(r: StructReader, f: Field, b: Bindings, amount: number): string {
    if (f.kind === "group") {
      return `${f.name} = ${this.struct(this.loader.getStruct(f.typeId), r, b, next(amount), PREFIXED)}`;
    }
    const t = resolveType(f.type, b);
    const v =
      dataBits(t) >= 0 ? this.dataField(r, f, t) : this.pointerField(r, f.offset, t, next(amount), PREFIXED);
    return `${f.name} = ${v}`;
  }

  struct(node: StructNode, r: StructReader, b: Bindings, amount: number, mode: Mode): string {
    const fields = node.fields;
    let union: Field | null = null;
    let unionIndex = -1;
    if (node.discriminantCount > 0) {
      const d = r._getUint16(node.discriminantOffset * 2);
      unionIndex = fields.findIndex((f) => f.discriminantValue === d);
      if (unionIndex >= 0) {
        const f = fields[unionIndex]!;
        const t = f.kind === "slot" ? resolveType(f.type, b) : null;
        if (f.discriminantValue !== 0 || this.has(r, f, t)) union = f;
      }
    }
    const items: string[] = [];
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i]!;
      if (f.discriminantValue !== NO_DISCRIMINANT) continue;
      if (union !== null && unionIndex < i) {
        items.push(this.fieldText(r, union, b, amount));
        union = null;
      }
      const t = f.kind === "slot" ? resolveType(f.type, b) : null;
      if (this.has(r, f, t)) items.push(this.fieldText(r, f, b, amount));
    }
    if (union !== null) items.push(this.fieldText(r, union, b, amount));
    return `(${delimit(items, amount, mode, true)})`;
  }
}

const KINDS: Record<string, ListKind<unknown>> = {
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
  text: DataList.kind,
  data: DataList.kind,
};

/** The list kind reading `List(e)` (Text read as bytes; capabilities and AnyPointers untouched). */
function listKind(e: Type): ListKind<unknown> {
  const k = KINDS[e.kind];
  if (k !== undefined) return k;
  if (e.kind === "struct") return StructList.of(StructReader);
  if (e.kind === "list") return ListList.of(listKind(e.elementType));
  return AnyPointerList.kind;
}

function asReader(v: StructView): StructReader {
  return v instanceof StructReader
    ? v
    : new StructReader(v._arena, v._seg, v._dataOff, v._dataSize, v._ptrOff, v._ptrCount, v._nesting);
}

export interface TextOptions {
  /** Multi-line, as `capnp decode` prints (default false: one line, as `kj::str`). */
  pretty?: boolean;
  /** Where the struct's schema is loaded (default: the process-wide loader). */
  loader?: SchemaLoader;
  /** Generic bindings of the struct's type. */
  bindings?: Bindings;
}

/** A struct in text format, as a byte string (one char per output byte). */
export function formatStructBytes(view: StructView, node: StructNode, options: TextOptions = {}): string {
  const p = new Printer(options.loader ?? schemas);
  return p.struct(node, asReader(view), options.bindings ?? NO_BINDINGS, options.pretty ? 1 : 0, BARE);
}

/** A struct in text format. */
export function formatStruct(view: StructView, node: StructNode, options: TextOptions = {}): string {
  return byteStringToString(formatStructBytes(view, node, options));
}

/** How many of the registered generated files (`registeredSchemas()`) `schemas` has loaded. */
let loadedFiles = 0;

/**
 * Generated `toString()` once capnts/schema is loaded (it installs this as the printer, see
 * src/wire/stringify.ts): struct `typeId` in text format (`bindings`: the generic bindings of a
 * specialization), its schema found in the process-wide loader `schemas`, which takes in the
 * generated files registered since the last look when the type is not there yet.
 */
export function structToString(view: StructView, typeId: bigint, bindings?: Bindings): string {
  if (!schemas.has(typeId)) {
    const files = registeredSchemas();
    while (loadedFiles < files.length) schemas.addFile(files[loadedFiles++]!);
  }
  if (!schemas.has(typeId)) {
    // A bundler dropped the generated module's `$schema`, which nothing used.
    return `<struct @0x${typeId.toString(16).padStart(16, "0")}: no schema loaded for it (schemas.addFile($schema of its generated module))>`;
  }
  return formatStruct(view, schemas.getStruct(typeId), bindings === undefined ? {} : { bindings });
}
