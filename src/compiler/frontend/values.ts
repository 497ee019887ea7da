/**
 * Constant and default values (C++ `ValueTranslator` and `NodeTranslator::readConstant`):
 * literals checked against the type they initialize, references to constants, `embed`, and
 * struct and list literals, which are written through the text-format encoder of
 * `capnts/schema` against the structs being compiled.
 */
import { SchemaLoader } from "../../schema/loader.js";
import { primitiveTypeName, type Type } from "../../schema/model.js";
import { encodePointerValue, INTEGER_RANGES } from "../../schema/text-encode.js";
import { TextParseError, type TextValue } from "../../schema/text-parse.js";
import { copyToWords } from "../../schema/words.js";
import { MessageReader } from "../../wire/index.js";
import { type Expression, expressionString } from "./ast.js";
import type { BrandScope } from "./brand.js";
import { NO_IMPLICITS } from "./brand.js";
import { modelNode } from "./model-view.js";
import type { DeclNode } from "./modules.js";
import type { Node, Value } from "./nodes.js";

/** What values need from the compiler: compiled nodes by id. */
export interface ValueHost {
  /** The compiled node (and its groups) of `id`, compiling it if needed. */
  nodeOf(id: bigint): { node: Node; aux: Node[] } | undefined;
  /** The final value of constant `id` (running its deferred pointer value first). */
  constValue(id: bigint): { type: Type | undefined; value: Value } | undefined;
}

type Dyn =
  | { k: "void" }
  | { k: "bool"; v: boolean }
  | { k: "int"; v: bigint }
  | { k: "float"; v: number }
  | { k: "text"; v: string; bytes?: Uint8Array | undefined }
  | { k: "data"; v: Uint8Array }
  | { k: "enum"; typeId: bigint; v: number }
  | {
      k: "pointer";
      kind: "struct" | "list" | "anyPointer";
      typeId: bigint | undefined;
      words: Uint8Array | null;
    };

/** Integer literals' ranges; a float takes any integer an Int64 or UInt64 could hold (C++ `ValueTranslator`). */
const RANGES: Record<string, [bigint, bigint]> = {
  ...INTEGER_RANGES,
  float32: [-(2n ** 63n), 2n ** 64n - 1n],
  float64: [-(2n ** 63n), 2n ** 64n - 1n],
};

const utf8 = new TextEncoder();

export class ValueCompiler {
  constructor(
    readonly host: ValueHost,
    readonly from: DeclNode,
    readonly brand: BrandScope,
  ) {}

  get errors() {
    return this.from.errors;
  }

  private typeName(t: Type): string {
    switch (t.kind) {
      case "list":
        return `List(${this.typeName(t.elementType)})`;
      case "enum":
      case "struct":
      case "interface": {
        const n = this.host.nodeOf(t.typeId)?.node;
        return n === undefined ? "?" : n.displayName.slice(n.displayNamePrefixLength);
      }
      case "anyPointer":
      case "parameter":
      case "implicitMethodParameter":
        return "AnyPointer";
      default:
        return primitiveTypeName(t.kind);
    }
  }

  private mismatch(src: Expression, t: Type): undefined {
    this.errors.on(src, `Type mismatch; expected ${this.typeName(t)}.`);
    return undefined;
  }

  /** C++ `ValueTranslator::compileValue`: the value, or undefined after reporting an error. */
  compile(src: Expression, t: Type): Value | undefined {
    if (t.kind === "parameter" || t.kind === "implicitMethodParameter") {
      this.errors.on(
        src,
        "Cannot interpret value because the type is a generic type parameter which is not yet bound. We don't know what type to expect here.",
      );
      return undefined;
    }
    const d = this.inner(src, t);
    if (d === undefined) return undefined;
    switch (d.k) {
      case "void":
        if (t.kind === "void") return { kind: "void" };
        break;
      case "bool":
        if (t.kind === "bool") return { kind: "bool", value: d.v };
        break;
      case "int": {
        const r = RANGES[t.kind];
        if (r === undefined) break;
        let v = d.v;
        if (v < r[0] || v > r[1]) {
          this.errors.on(src, "Integer value out of range.");
          v = v < r[0] ? r[0] : r[1];
        }
        if (t.kind === "float32") return { kind: "float32", value: Math.fround(Number(v)) };
        if (t.kind === "float64") return { kind: "float64", value: Number(v) };
        if (t.kind === "int64" || t.kind === "uint64") return { kind: t.kind, value: v };
        return { kind: t.kind as "int8", value: Number(v) };
      }
      case "float":
        if (t.kind === "float32") return { kind: "float32", value: Math.fround(d.v) };
        if (t.kind === "float64") return { kind: "float64", value: d.v };
        break;
      case "text":
        if (t.kind === "text")
          return d.bytes === undefined
            ? { kind: "text", value: d.v }
            : { kind: "text", value: d.v, bytes: d.bytes };
        break;
      case "data":
        if (t.kind === "data") return { kind: "data", value: d.v };
        break;
      case "enum":
        if (t.kind === "enum" && t.typeId === d.typeId) return { kind: "enum", value: d.v };
        break;
      case "pointer":
        if (d.kind === "struct") {
          if (t.kind === "struct" && t.typeId === d.typeId) return { kind: "struct", words: d.words };
          if (t.kind === "anyPointer" && (t.constraint === "anyKind" || t.constraint === "struct"))
            return { kind: "anyPointer", words: d.words };
        } else if (d.kind === "list") {
          if (t.kind === "list") return { kind: "list", words: d.words };
          if (t.kind === "anyPointer" && (t.constraint === "anyKind" || t.constraint === "list"))
            return { kind: "anyPointer", words: d.words };
        } else if (t.kind === "anyPointer") return { kind: "anyPointer", words: d.words };
        break;
    }
    return this.mismatch(src, t);
  }

  private inner(src: Expression, t: Type): Dyn | undefined {
    switch (src.kind) {
      case "relativeName": {
        const id = src.name.value;
        if (t.kind === "enum") {
          const n = this.host.nodeOf(t.typeId)?.node;
          if (n?.body.kind === "enum") {
            const i = n.body.enumerants.findIndex((e) => e.name === id);
            if (i >= 0) return { k: "enum", typeId: t.typeId, v: i };
          }
        } else {
          if (id === "void") return { k: "void" };
          if (id === "true") return { k: "bool", v: true };
          if (id === "false") return { k: "bool", v: false };
          if (id === "nan") return { k: "float", v: Number.NaN };
          if (id === "inf") return { k: "float", v: Number.POSITIVE_INFINITY };
        }
        return this.constant(src);
      }
      case "absoluteName":
      case "import":
      case "application":
      case "member":
        return this.constant(src);
      case "embed": {
        const data = this.from.module.readEmbed(src.name.value);
        if (data === undefined) {
          this.errors.on(src.name, `Couldn't read file for embed: ${src.name.value}`);
          return undefined;
        }
        if (t.kind === "text") return { k: "text", v: new TextDecoder().decode(data), bytes: data };
        if (t.kind === "data") return { k: "data", v: data };
        if (t.kind === "struct") {
          if (data.length % 8 !== 0) {
            this.errors.on(src, "Embedded file is not a valid Cap'n Proto message.");
            return undefined;
          }
          const words = copyToWords(new MessageReader([data]).getRootAnyPointer());
          return { k: "pointer", kind: "struct", typeId: t.typeId, words };
        }
        this.errors.on(src, "Embeds can only be used when Text, Data, or a struct is expected.");
        return undefined;
      }
      case "positiveInt":
        return { k: "int", v: src.value };
      case "negativeInt":
        if (src.value > 1n << 63n) {
          this.errors.on(src, "Integer is too big to be negative.");
          return undefined;
        }
        return { k: "int", v: -src.value };
      case "float":
        return { k: "float", v: src.value };
      case "string":
        if (t.kind === "data") return { k: "data", v: src.bytes };
        return { k: "text", v: src.value, bytes: src.bytes };
      case "binary":
        if (t.kind !== "data") return this.mismatch(src, t);
        return { k: "data", v: src.value };
      case "list":
        if (t.kind !== "list") return this.mismatch(src, t);
        return this.encode(src, t, "list");
      case "tuple":
        if (t.kind !== "struct") return this.mismatch(src, t);
        return this.encode(src, t, "struct");
      case "unknown":
        return undefined;
    }
  }

  /** Struct and list literals, through the text-format encoder. */
  private encode(src: Expression, t: Type, kind: "struct" | "list"): Dyn | undefined {
    const loader = new SchemaLoader();
    const seen = new Set<bigint>();
    const load = (type: Type): void => {
      if (type.kind === "list") {
        load(type.elementType);
        return;
      }
      if (type.kind !== "struct" && type.kind !== "enum") return;
      if (seen.has(type.typeId)) return;
      seen.add(type.typeId);
      const c = this.host.nodeOf(type.typeId);
      if (c === undefined) return;
      const nodes = [c.node, ...c.aux];
      loader.addRequest({
        capnpVersion: { major: 0, minor: 0, micro: 0 },
        nodes: new Map(nodes.map((n) => [n.id, modelNode(n)])),
        requestedFiles: [],
      });
      for (const n of nodes)
        if (n.body.kind === "struct")
          for (const f of n.body.fields ?? []) if (f.body.kind === "slot" && f.body.type) load(f.body.type);
    };
    load(t);
    let text: TextValue | undefined;
    try {
      text = this.toText(src, t);
      if (text === undefined) return undefined;
      const m = encodePointerValue(text, t, loader);
      return {
        k: "pointer",
        kind,
        typeId: t.kind === "struct" ? t.typeId : undefined,
        words: copyToWords(m.getRootAnyPointer().asReader()),
      };
    } catch (e) {
      if (!(e instanceof TextParseError)) throw e;
      const at = /at offset (\d+)/.exec(e.message);
      const pos = at === null ? src.startByte : Number(at[1]);
      this.errors.add(pos, pos, e.message.replace(/ \(at offset \d+\)$/, ""));
      return undefined;
    }
  }

  /**
   * A struct or list literal as a text-format value, checked as capnp checks it (field names,
   * each leaf through `compile`, so errors read as capnp's); constants become their values.
   * Undefined after an error (or for an item that did not parse, already reported).
   */
  private toText(e: Expression, t: Type): TextValue | undefined {
    const at = e.startByte;
    if (e.kind === "unknown") return undefined;
    if (t.kind === "struct") {
      if (e.kind !== "tuple") return this.leafPointer(e, t);
      const c = this.host.nodeOf(t.typeId);
      if (c === undefined) return undefined;
      return this.structText(e, c.node, c.aux);
    }
    if (t.kind === "list") {
      if (e.kind !== "list") return this.leafPointer(e, t);
      const items: TextValue[] = [];
      let ok = true;
      for (const x of e.items) {
        const v = this.toText(x, t.elementType);
        if (v === undefined) ok = false;
        else items.push(v);
      }
      return ok ? { kind: "list", items, at } : undefined;
    }
    const v = this.compile(e, t);
    if (v === undefined) return undefined;
    switch (v.kind) {
      case "void":
      case "interface":
        return { kind: "ident", name: "void", at };
      case "bool":
        return { kind: "ident", name: String(v.value), at };
      case "float32":
      case "float64":
        return { kind: "number", text: floatText(v.value), at };
      case "int64":
      case "uint64":
        return { kind: "number", text: v.value.toString(), at };
      case "enum": {
        const n = t.kind === "enum" ? this.host.nodeOf(t.typeId)?.node : undefined;
        const name = n?.body.kind === "enum" ? n.body.enumerants[v.value]?.name : undefined;
        return { kind: "ident", name: name ?? "", at };
      }
      case "text":
        return { kind: "string", bytes: v.bytes ?? utf8.encode(v.value ?? ""), at };
      case "data":
        return { kind: "data", bytes: v.value ?? new Uint8Array(0), at };
      case "list":
      case "struct":
      case "anyPointer":
        return this.leafPointer(e, t);
      default:
        return { kind: "number", text: String(v.value), at };
    }
  }

  private structText(
    e: Expression & { kind: "tuple" },
    node: Node,
    aux: readonly Node[],
  ): TextValue | undefined {
    const fields: { name: string; value: TextValue }[] = [];
    let ok = true;
    const body = node.body;
    for (const p of e.params) {
      if (p.name === undefined) {
        this.errors.on(p.value, "Missing field name.");
        ok = false;
        continue;
      }
      const f = body.kind === "struct" ? body.fields?.find((x) => x.name === p.name!.value) : undefined;
      if (f === undefined) {
        this.errors.on(p.name, `Struct has no field named '${p.name.value}'.`);
        ok = false;
        continue;
      }
      let v: TextValue | undefined;
      if (f.body.kind === "group") {
        const typeId = f.body.typeId;
        const group = aux.find((n) => n.id === typeId);
        if (p.value.kind !== "tuple") this.errors.on(p.value, "Type mismatch; expected group.");
        else if (group !== undefined) v = this.structText(p.value, group, aux);
      } else if (f.body.type !== undefined) v = this.toText(p.value, f.body.type);
      if (v === undefined) ok = false;
      else fields.push({ name: p.name.value, value: v });
    }
    return ok ? { kind: "struct", fields, at: e.startByte } : undefined;
  }

  /** A struct or list in a literal that is not written out: a constant's, or a mismatch. */
  private leafPointer(e: Expression, t: Type): TextValue | undefined {
    const v = this.compile(e, t);
    if (v !== undefined)
      this.errors.on(e, "capnts cannot yet use a struct or list constant inside a struct or list literal.");
    return undefined;
  }

  /** C++ `readConstant`: the value of the constant `src` names. */
  private constant(src: Expression): Dyn | undefined {
    const decl = this.brand.compileDeclExpression(src, this.from, NO_IMPLICITS);
    if (decl === undefined) return undefined;
    if (decl.declKind !== "const") {
      this.errors.on(src, `'${expressionString(src)}' does not refer to a constant.`);
      return undefined;
    }
    const { id } = decl.idAndBrand();
    const c = this.host.constValue(id);
    if (c === undefined) return undefined;
    if (src.kind === "relativeName") {
      const owner = this.from.module.program.nodes.get(id)?.parent;
      let parent = "";
      if (owner !== undefined && owner.parent !== undefined) {
        const n = this.host.nodeOf(owner.id)?.node;
        if (n !== undefined) parent = n.displayName.slice(n.displayNamePrefixLength);
      }
      this.errors.on(
        src,
        `Constant names must be qualified to avoid confusion.  Please replace '${expressionString(src)}' with '${parent}.${src.name.value}', if that's what you intended.`,
      );
    }
    const v = c.value;
    switch (v.kind) {
      case "void":
      case "interface":
        return { k: "void" };
      case "bool":
        return { k: "bool", v: v.value };
      case "int8":
      case "int16":
      case "int32":
      case "uint8":
      case "uint16":
      case "uint32":
        return { k: "int", v: BigInt(v.value) };
      case "int64":
      case "uint64":
        return { k: "int", v: v.value };
      case "float32":
      case "float64":
        return { k: "float", v: v.value };
      case "enum":
        return { k: "enum", typeId: c.type?.kind === "enum" ? c.type.typeId : 0n, v: v.value };
      case "text":
        return { k: "text", v: v.value ?? "", bytes: v.bytes };
      case "data":
        return { k: "data", v: v.value ?? new Uint8Array(0) };
      default:
        return {
          k: "pointer",
          kind: v.kind,
          typeId: c.type?.kind === "struct" ? c.type.typeId : undefined,
          words: v.words,
        };
    }
  }
}

function floatText(v: number): string {
  if (Number.isNaN(v)) return "nan";
  if (v === Number.POSITIVE_INFINITY) return "inf";
  if (v === Number.NEGATIVE_INFINITY) return "-inf";
  const s = String(v);
  return /[.eE]/.test(s) ? s : `${s}.0`;
}
