/**
 * Interfaces and methods written back in schema language, for `capnts call --list`: one line per
 * method, `name @n (a :T, b :U = 1) -> (c :V)`, as the method was declared (an inline parameter
 * list for the structs capnp generated from one, the struct's name otherwise, `-> stream`).
 */
import type { SchemaLoader } from "../schema/loader.js";
import {
  type Brand,
  type InterfaceNode,
  type Method,
  type Node,
  primitiveTypeName,
  type SlotField,
  type StructNode,
  type Type,
  type Value,
} from "../schema/model.js";
import { formatFloat32, formatFloat64 } from "../schema/text.js";

/** stream.capnp `StreamResult`: the results of every `-> stream` method. */
export const STREAM_RESULT_ID = 0x995f9a3377c0b16en;

export class SignaturePrinter {
  /** `fileName`: the display name of the schema file whose names are printed without it. */
  constructor(
    private readonly loader: SchemaLoader,
    private readonly fileName: string,
  ) {}

  /** A node's name as written in its file (`Calculator.Value`), qualified by the file if it is another. */
  nodeName(n: Node): string {
    const prefix = `${this.fileName}:`;
    return n.displayName.startsWith(prefix) ? n.displayName.slice(prefix.length) : n.displayName;
  }

  private branded(id: bigint, brand: Brand, method: Method | undefined): string {
    const name = this.loader.has(id) ? this.nodeName(this.loader.get(id)) : `@0x${id.toString(16)}`;
    const scope = brand.scopes.find((s) => s.scopeId === id);
    if (scope?.bind == null) return name;
    return `${name}(${scope.bind.map((b) => (b === null ? "AnyPointer" : this.type(b, method))).join(", ")})`;
  }

  type(t: Type, method?: Method): string {
    switch (t.kind) {
      case "list":
        return `List(${this.type(t.elementType, method)})`;
      case "enum":
      case "struct":
      case "interface":
        return this.branded(t.typeId, t.brand, method);
      case "anyPointer":
        return { anyKind: "AnyPointer", struct: "AnyStruct", list: "AnyList", capability: "Capability" }[
          t.constraint
        ];
      case "parameter":
        return this.loader.has(t.scopeId)
          ? (this.loader.get(t.scopeId).parameters[t.parameterIndex] ?? "AnyPointer")
          : "AnyPointer";
      case "implicitMethodParameter":
        return method?.implicitParameters[t.parameterIndex] ?? "AnyPointer";
      default:
        return primitiveTypeName(t.kind);
    }
  }

  /** ` = value` for a field declared with a default the text format can show simply, else "". */
  private defaultOf(f: SlotField): string {
    if (!f.hadExplicitDefault) return "";
    const v: Value = f.defaultValue;
    switch (v.kind) {
      case "bool":
      case "int8":
      case "int16":
      case "int32":
      case "uint8":
      case "uint16":
      case "uint32":
      case "int64":
      case "uint64":
        return ` = ${String(v.value)}`;
      case "float32":
        return ` = ${formatFloat32(v.value)}`;
      case "float64":
        return ` = ${formatFloat64(v.value)}`;
      case "enum": {
        const e =
          f.type.kind === "enum" && this.loader.has(f.type.typeId)
            ? this.loader.getEnum(f.type.typeId)
            : null;
        return ` = ${e?.enumerants[v.value]?.name ?? v.value}`;
      }
      case "text":
        return ` = ${JSON.stringify(v.value)}`;
      case "interface":
      case "anyPointer":
      case "list":
      case "struct":
        return "words" in v && v.words === null ? " = null" : "";
      default:
        return "";
    }
  }

  /** A param or result struct: `(a :T, ...)` when capnp made it from an inline list, else its name. */
  private struct(id: bigint, brand: Brand, method: Method): string {
    if (!this.loader.has(id)) return `@0x${id.toString(16)}`;
    const node = this.loader.getStruct(id);
    // capnp gives the structs it generates from `(a :T)` lists no scope (schema.capnp: scopeId 0).
    if (node.scopeId !== 0n) return this.branded(id, brand, method);
    return `(${this.fields(node, method).join(", ")})`;
  }

  private fields(node: StructNode, method: Method): string[] {
    return [...node.fields]
      .sort((a, b) => a.codeOrder - b.codeOrder)
      .map((f) =>
        f.kind === "group"
          ? `${f.name} :group`
          : `${f.name} :${this.type(f.type, method)}${this.defaultOf(f)}`,
      );
  }

  /** `name @n (params) -> (results)`. */
  method(m: Method, ordinal: number): string {
    const implicit = m.implicitParameters.length > 0 ? ` [${m.implicitParameters.join(", ")}]` : "";
    const results =
      m.resultStructType === STREAM_RESULT_ID ? "stream" : this.struct(m.resultStructType, m.resultBrand, m);
    return `${m.name} @${ordinal}${implicit} ${this.struct(m.paramStructType, m.paramBrand, m)} -> ${results}`;
  }

  /**
   * The interface as a schema-like block: its own methods, then each superclass's (the whole
   * hierarchy, each interface once), under a comment naming where they come from.
   */
  interface(iface: InterfaceNode): string {
    const extendsText =
      iface.superclasses.length === 0
        ? ""
        : ` extends(${iface.superclasses.map((s) => this.branded(s.id, s.brand, undefined)).join(", ")})`;
    const lines = [`interface ${this.nodeName(iface)} @0x${iface.id.toString(16)}${extendsText} {`];
    for (const [n, owner] of hierarchy(this.loader, iface).entries()) {
      if (n > 0) lines.push(`  # from ${this.nodeName(owner)} (@0x${owner.id.toString(16)})`);
      owner.methods.forEach((m, i) => {
        lines.push(`  ${this.method(m, i)};`);
      });
    }
    lines.push("}");
    return `${lines.join("\n")}\n`;
  }
}

/** `iface` and every interface it extends, directly or not, each once, nearest first. */
export function hierarchy(loader: SchemaLoader, iface: InterfaceNode): InterfaceNode[] {
  const out: InterfaceNode[] = [];
  const seen = new Set<bigint>();
  const queue = [iface];
  while (queue.length > 0) {
    const i = queue.shift()!;
    if (seen.has(i.id)) continue;
    seen.add(i.id);
    out.push(i);
    for (const s of i.superclasses) if (loader.has(s.id)) queue.push(loader.getInterface(s.id));
  }
  return out;
}
