/**
 * Default values and constants as TypeScript literals. Primitive defaults become the extra
 * argument of `_get*`/`_set*` (the runtime XORs with it; floats by their bit pattern). Pointer
 * defaults become module-level `PointerDefault`s over the value's words: the plugin copied each
 * value into a fresh single segment when it loaded the request (see schema/words.ts), and the
 * generated file embeds those bytes as a Uint8Array literal.
 */
import type { Value } from "../schema/model.js";
import type { FileContext } from "./context.js";
import { str } from "./names.js";

const bits = new DataView(new ArrayBuffer(8));

export function float32Bits(v: number): number {
  bits.setFloat32(0, v, true);
  return bits.getUint32(0, true);
}

export function float64Bits(v: number): bigint {
  bits.setFloat64(0, v, true);
  return bits.getBigUint64(0, true);
}

export function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

/** A JS number literal that round-trips (NaN/Infinity spelled out). */
export function numberLiteral(v: number): string {
  if (Number.isNaN(v)) return "Number.NaN";
  if (v === Number.POSITIVE_INFINITY) return "Number.POSITIVE_INFINITY";
  if (v === Number.NEGATIVE_INFINITY) return "Number.NEGATIVE_INFINITY";
  if (Object.is(v, -0)) return "-0";
  return String(v);
}

/** `new Uint8Array([...])` with 16 bytes a line. */
export function bytesLiteral(b: Uint8Array, indent = "  "): string {
  if (b.length === 0) return "new Uint8Array(0)";
  const lines: string[] = [];
  for (let i = 0; i < b.length; i += 16) {
    lines.push(Array.from(b.subarray(i, i + 16), (x) => `0x${x.toString(16).padStart(2, "0")}`).join(", "));
  }
  if (lines.length === 1) return `new Uint8Array([${lines[0]}])`;
  return `new Uint8Array([\n${lines.map((l) => `${indent}${l},`).join("\n")}\n])`;
}

/**
 * The default argument for a primitive field's accessor, or "" when the default is zero (the
 * accessors' own default). Bool/int literals; int64 as bigint; floats as their bit pattern.
 */
export function primitiveDefaultArg(v: Value): string {
  switch (v.kind) {
    case "bool":
      return v.value ? "true" : "";
    case "int8":
    case "int16":
    case "int32":
    case "uint8":
    case "uint16":
    case "uint32":
    case "enum":
      return v.value === 0 ? "" : String(v.value);
    case "int64":
    case "uint64":
      return v.value === 0n ? "" : `${v.value}n`;
    case "float32": {
      const b = float32Bits(v.value);
      return b === 0 ? "" : hex(b);
    }
    case "float64": {
      const b = float64Bits(v.value);
      return b === 0n ? "" : `0x${b.toString(16)}n`;
    }
    default:
      return "";
  }
}

/** The default argument of a Text/Data/struct/list field ("" for none). */
export function pointerDefaultArg(ctx: FileContext, v: Value): string {
  switch (v.kind) {
    case "text":
      return v.value === "" ? "" : str(v.value);
    case "data":
      return v.value.length === 0 ? "" : ctx.helper(bytesLiteral(v.value));
    case "struct":
    case "list":
    case "anyPointer":
      return v.words === null ? "" : ctx.helper(`new $.PointerDefault(${bytesLiteral(v.words)})`);
    default:
      return "";
  }
}

/** A JS literal of a primitive value (constants). */
export function primitiveLiteral(v: Value): string {
  switch (v.kind) {
    case "void":
    case "interface":
      return "undefined";
    case "bool":
      return v.value ? "true" : "false";
    case "int64":
    case "uint64":
      return `${v.value}n`;
    case "text":
      return str(v.value);
    case "data":
      return bytesLiteral(v.value);
    case "list":
    case "struct":
    case "anyPointer":
      throw new Error("pointer value");
    default:
      return numberLiteral(v.value);
  }
}
