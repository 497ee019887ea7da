/**
 * Naming rules of generated code.
 *
 * - Cap'n Proto names never contain `_` and never start with `$`, so generated code joins scopes
 *   with `_` (`Node.Parameter` → `Node_Parameter_Reader`) and prefixes its own helpers with `$`
 *   (`$schema`, `$d0`, the runtime namespace imports `$`, `$rpc`, ...): they cannot collide.
 * - A name that would be invalid or would shadow something the generated code relies on gets a
 *   `$` suffix: a top-level type name that is a JS/TS reserved word or a global the generated code
 *   uses (`Promise`, `Uint8Array`, ...); a nested type name that is a reserved word or one of the
 *   members of the generated namespace object (`Reader`, `Builder`, `Client`, ...); a field or
 *   method name that equals a member of the base classes (`constructor`, `toString`, `which`,
 *   `asReader`, `castAs`, `then`, ...) or a server hook (`getFd`, `shortenPath`: see
 *   `$rpc.ServerHooks`). Property names that are merely reserved words (`struct`,
 *   `enum`, `return`) stay as they are: `node.struct` is valid JavaScript and reads better.
 * - Derived member names (`hasFoo`, `initFoo`, `disownFoo`, `adoptFoo`, `isFoo`, `setFoo`,
 *   `fooRequest`) get a `$` suffix when they collide with a field's own name or an earlier member.
 */

/** ECMAScript reserved words (including strict mode) and TS type keywords. */
export const RESERVED = new Set([
  "break",
  "case",
  "catch",
  "class",
  "const",
  "continue",
  "debugger",
  "default",
  "delete",
  "do",
  "else",
  "enum",
  "export",
  "extends",
  "false",
  "finally",
  "for",
  "function",
  "if",
  "import",
  "in",
  "instanceof",
  "new",
  "null",
  "return",
  "super",
  "switch",
  "this",
  "throw",
  "true",
  "try",
  "typeof",
  "var",
  "void",
  "while",
  "with",
  "yield",
  "let",
  "static",
  "implements",
  "interface",
  "package",
  "private",
  "protected",
  "public",
  "await",
  "async",
  "arguments",
  "eval",
  "undefined",
  "NaN",
  "Infinity",
  // TS type names that cannot be redeclared as types.
  "any",
  "unknown",
  "never",
  "object",
  "string",
  "number",
  "boolean",
  "bigint",
  "symbol",
  "type",
  "namespace",
  "declare",
  "module",
  "as",
  "is",
  "keyof",
  "readonly",
  "infer",
  "satisfies",
]);

/** Globals that generated code refers to; a top-level type with one of these names is renamed. */
const GLOBALS = new Set([
  "Promise",
  "Uint8Array",
  "Symbol",
  "BigInt",
  "Object",
  "Array",
  "Error",
  "Number",
  "String",
  "Boolean",
  "ReadonlyArray",
  "ArrayLike",
  "Record",
  "Partial",
  "Readonly",
  "globalThis",
]);

/** Members of the generated per-type namespace objects; nested types must not shadow them. */
const NAMESPACE_MEMBERS = new Set([
  "Reader",
  "Builder",
  "Pipeline",
  "Client",
  "Server",
  "Which",
  "typeId",
  "server",
  "methods",
  "prototype",
  "name",
  "length",
]);

/** Members of StructReader/StructBuilder/Object (and our own) that fields must not replace. */
export const STRUCT_MEMBERS = new Set([
  "constructor",
  "toString",
  "toLocaleString",
  "valueOf",
  "hasOwnProperty",
  "isPrototypeOf",
  "propertyIsEnumerable",
  "__proto__",
  "__defineGetter__",
  "__defineSetter__",
  "__lookupGetter__",
  "__lookupSetter__",
  "toJSON",
  "then",
  "which",
  "asReader",
]);

/**
 * Members of the RPC runtime's Client base (and our own) that methods must not replace, and the
 * hooks of a server implementation (`$rpc.ServerHooks`: `getFd`, `shortenPath`): client methods
 * and server implementations use the same names, so a method has one name on both sides.
 */
export const CLIENT_MEMBERS = new Set([
  ...STRUCT_MEMBERS,
  "castAs",
  "dup",
  "close",
  "closed",
  "isNull",
  "whenResolved",
  "getFd",
  "shortenPath",
  "pipeline",
  "cancel",
  "hook",
]);

export function topLevelName(name: string): string {
  return RESERVED.has(name) || GLOBALS.has(name) ? `${name}$` : name;
}

export function nestedName(name: string): string {
  return RESERVED.has(name) || NAMESPACE_MEMBERS.has(name) ? `${name}$` : name;
}

/** Suffixes of generated declarations (`Foo_Reader`, ...): a nested name equal to one is renamed. */
const DECLARATION_SUFFIXES = new Set([
  "Reader",
  "Builder",
  "Pipeline",
  "Client",
  "Server",
  "Which",
  "which",
  "dispatch",
  "methods",
  "List",
  "ListBuilder",
]);

/** The part a nested node or group contributes to its identifier (`Foo` + `_` + part). */
export function identPart(name: string): string {
  return DECLARATION_SUFFIXES.has(name) ? `${name}$` : name;
}

export function capitalize(s: string): string {
  return s.length === 0 ? s : s[0]!.toUpperCase() + s.slice(1);
}

/** Assigns member names within one class, applying the collision rules above. */
export class MemberNames {
  private readonly used = new Set<string>();
  constructor(private readonly reserved: ReadonlySet<string>) {}

  /** Claim a field's or method's own name. */
  own(name: string): string {
    let n = this.reserved.has(name) ? `${name}$` : name;
    while (this.used.has(n)) n += "$";
    this.used.add(n);
    return n;
  }

  /** Claim a derived name (`prefix` + Name); call after every own name has been claimed. */
  derived(prefix: string, name: string, suffix = ""): string {
    let n = prefix === "" ? `${name}${suffix}` : `${prefix}${capitalize(name)}${suffix}`;
    if (this.reserved.has(n)) n += "$";
    while (this.used.has(n)) n += "$";
    this.used.add(n);
    return n;
  }
}

/** A JS string literal. */
export function str(s: string): string {
  return JSON.stringify(s);
}

/** A bigint literal in hex (type IDs). */
export function hexBig(v: bigint): string {
  return `0x${v.toString(16)}n`;
}

/** A JSDoc block for a doc comment (empty string when there is none). */
export function jsdoc(doc: string, indent: string): string {
  const text = doc.trim();
  if (text === "") return "";
  const lines = text.split("\n").map((l) => l.replace(/\*\//g, "*\\/").trimEnd());
  if (lines.length === 1) return `${indent}/** ${lines[0]} */\n`;
  return `${indent}/**\n${lines.map((l) => (l === "" ? `${indent} *` : `${indent} * ${l}`)).join("\n")}\n${indent} */\n`;
}
