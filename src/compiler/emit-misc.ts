/**
 * Enums, constants, and the per-type namespace objects and type namespaces that make
 * `Foo.Bar.Reader` work both as a value and as a type.
 */
import type { ConstNode, EnumNode, Node } from "../schema/model.js";
import type { FileContext } from "./context.js";
import { bytesLiteral, primitiveLiteral } from "./defaults.js";
import { hexBig, jsdoc } from "./names.js";
import { readerListKind, readerType } from "./types.js";

/** `export const Color = { red: 0, ... } as const` and its type (the union of the values). */
export function emitEnum(ctx: FileContext, node: EnumNode, ident: string): string {
  ctx.current = node.displayName;
  const title = node.displayName.slice(node.displayNamePrefixLength);
  let code = jsdoc(node.doc, "") || `/** enum ${title} */\n`;
  code += `export const ${ident} = {\n`;
  node.enumerants.forEach((e, i) => {
    code += jsdoc(e.doc, "  ");
    code += `  ${e.name}: ${i},\n`;
  });
  code += `} as const;\n`;
  code += `export type ${ident} = (typeof ${ident})[keyof typeof ${ident}];\n`;
  return code;
}

/** A constant: primitives as literals, struct/list constants read from embedded words. */
export function emitConst(ctx: FileContext, node: ConstNode, ident: string): string {
  ctx.current = node.displayName;
  const doc = jsdoc(node.doc, "");
  const t = node.type;
  const v = node.value;
  if (v.kind === "struct" || v.kind === "list" || v.kind === "anyPointer") {
    const words = v.words;
    if (words === null) {
      return `${doc}export const ${ident} = null;\n`;
    }
    // Pure (the annotation covers the call chain): bundlers drop constants nobody reads.
    const msg = `/*#__PURE__*/ new $.MessageReader([${bytesLiteral(words)}])`;
    if (t.kind === "struct") {
      const rt = ctx.structRef(t, "_Reader");
      return `${doc}export const ${ident}: ${rt} = ${msg}.getRoot(${rt});\n`;
    }
    if (t.kind === "list") {
      const lt = readerType(ctx, t);
      return `${doc}export const ${ident}: ${lt} = ${msg}\n  .getRootAnyPointer()\n  .getList(${readerListKind(ctx, t.elementType)});\n`;
    }
    return `${doc}export const ${ident}: $.AnyPointerReader = ${msg}.getRootAnyPointer();\n`;
  }
  if (t.kind === "enum" && v.kind === "enum") {
    return `${doc}export const ${ident}: ${ctx.ref(t.typeId, "")} = ${v.value};\n`;
  }
  if (v.kind === "data")
    return `${doc}export const ${ident}: Uint8Array = /*#__PURE__*/ ${bytesLiteral(v.value)};\n`;
  if (t.kind === "interface") return `${doc}export const ${ident} = null;\n`;
  return `${doc}export const ${ident} = ${primitiveLiteral(v)};\n`;
}

/** Nested declarations listed under a node: [local name, child id]. */
function nested(ctx: FileContext, node: Node): [string, bigint][] {
  const out: [string, bigint][] = [];
  for (const id of ctx.names.children.get(node.id) ?? []) {
    const kind = ctx.node(id).kind;
    // Annotations produce no declaration.
    if (kind !== "annotation") out.push([ctx.names.name(id).local, id]);
  }
  return out;
}

/** The value object `export const Foo = { typeId, Reader, Builder, <nested> }`. */
export function emitNamespaceObject(ctx: FileContext, node: Node, ident: string): string {
  const entries: string[] = [];
  const title = node.displayName.slice(node.displayNamePrefixLength);
  if (node.kind === "struct") {
    entries.push(
      `  typeId: ${hexBig(node.id)},`,
      `  Reader: ${ident}_Reader,`,
      `  Builder: ${ident}_Builder,`,
    );
  } else if (node.kind === "interface") {
    entries.push(
      `  typeId: ${hexBig(node.id)},`,
      `  Client: ${ident}_Client,`,
      `  /**`,
      `   * Wrap an implementation as a capability server (missing methods answer "unimplemented").`,
      `   * Members that are not methods of ${title} must not take a CallContext (see $rpc.ServerImpl).`,
      `   */`,
      `  server<I extends ${ident}_Server>(impl: ${ctx.rpc}.ServerImpl<I, ${ident}_Server>): ${ctx.rpc}.Server<${ident}_Client> {`,
      `    return new ${ctx.rpc}.Server<${ident}_Client>(${ident}_Client._interface, impl, ${ident}_dispatch);`,
      `  },`,
      `  methods: ${ident}_methods,`,
    );
  }
  for (const [local, id] of nested(ctx, node)) entries.push(`  ${local}: ${ctx.names.name(id).ident},`);
  const kind = node.kind === "struct" ? "struct" : node.kind === "interface" ? "interface" : node.kind;
  return `/** ${kind} ${title} */\nexport const ${ident} = {\n${entries.join("\n")}\n};\n`;
}

/** Whether a node gets a namespace object (structs, interfaces; others are plain declarations). */
export function hasNamespace(node: Node): boolean {
  return node.kind === "struct" || node.kind === "interface";
}

/** Type members of a node's namespace (`type Reader = Foo_Reader; namespace Bar { ... }`). */
function typeMembers(ctx: FileContext, node: Node, ident: string, indent: string): string[] {
  const out: string[] = [];
  if (node.kind === "struct") {
    out.push(`${indent}type Reader = ${ident}_Reader;`, `${indent}type Builder = ${ident}_Builder;`);
    if (node.discriminantCount > 0) out.push(`${indent}type Which = ${ident}_Which;`);
  } else if (node.kind === "interface") {
    out.push(`${indent}type Client = ${ident}_Client;`, `${indent}type Server = ${ident}_Server;`);
  }
  for (const [local, id] of nested(ctx, node)) {
    const child = ctx.node(id);
    const cIdent = ctx.names.name(id).ident;
    if (child.kind === "enum") out.push(`${indent}type ${local} = ${cIdent};`);
    else if (hasNamespace(child)) {
      const inner = typeMembers(ctx, child, cIdent, `${indent}  `);
      out.push(`${indent}namespace ${local} {`, ...inner, `${indent}}`);
    }
  }
  return out;
}

export function emitTypeNamespace(ctx: FileContext, node: Node, ident: string): string {
  return `export declare namespace ${ident} {\n${typeMembers(ctx, node, ident, "  ").join("\n")}\n}\n`;
}
