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
 *   method name that really collides with a member of its generated class or the runtime class
 *   it extends (see STRUCT_MEMBERS, PIPELINE_MEMBERS, CLIENT_MEMBERS: `toString`, `which`,
 *   `castAs`, `close`, `then` on clients, the server hooks `getFd` and `shortenPath`, ...). Property
 *   names that are merely reserved words (`struct`, `enum`, `return`) stay as they are:
 *   `node.struct` is valid JavaScript and reads better.
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

/**
 * Members every object has (`Object.prototype`'s): a field or method with one of these names
 * would replace them (`toString` prints the text format, `hasOwnProperty` is used by libraries, a
 * server implementation object answers for them when it does not define the method).
 */
export const OBJECT_MEMBERS: readonly string[] = [
  "constructor",
  "__defineGetter__",
  "__defineSetter__",
  "__lookupGetter__",
  "__lookupSetter__",
  "__proto__",
  "hasOwnProperty",
  "isPrototypeOf",
  "propertyIsEnumerable",
  "toLocaleString",
  "toString",
  "valueOf",
];

/**
 * The public members (names not starting with `_`: Cap'n Proto names cannot, so `_`-names never
 * collide) of the runtime classes generated code extends, besides `constructor`.
 * test/compiler/names.test.ts compares these lists with the real classes, so they cannot drift:
 * a member added to a base class must be added here, and generated names then avoid it.
 */
export const RUNTIME_MEMBERS = {
  /** `$.StructReader` (and `$.GroupReader`): accessors only, all `_`-named. */
  StructReader: [] as readonly string[],
  /** `$.StructBuilder`. */
  StructBuilder: [] as readonly string[],
  /** `$rpc.Client`. */
  Client: ["castAs", "close", "closed", "dup", "getFd", "isNull", "whenResolved"] as readonly string[],
  /** `$rpc.Pipeline`: `close()` releases a pipeline from `sendForPipeline()`. */
  Pipeline: ["close"] as readonly string[],
  /** `$rpc.ServerHooks`, what a server implementation may define besides its methods. */
  ServerHooks: ["getFd", "shortenPath"] as readonly string[],
};

/**
 * Names a field must not take on readers and builders (one name on both: `b.asReader().x`):
 * Object's and the bases' members, plus what the generator adds to every struct class: `which`
 * (the union discriminant; reserved in every struct, not only those with a union, so that adding
 * a union to a struct, a compatible schema change, does not rename a field) and `asReader`
 * (builders). `then` and `toJSON` are free: a field getter never returns a function, so a reader
 * stays a non-thenable and JSON.stringify does not call it.
 */
export const STRUCT_MEMBERS: ReadonlySet<string> = new Set([
  ...OBJECT_MEMBERS,
  ...RUNTIME_MEMBERS.StructReader,
  ...RUNTIME_MEMBERS.StructBuilder,
  "which",
  "asReader",
]);

/**
 * Names a getter of a pipeline class must not take: the struct's names (so a field has the same
 * name on its reader and its pipeline) and the Pipeline base's (`close`). Only pipelines rename a
 * field named `close`; its reader and builder keep `close`.
 */
export const PIPELINE_MEMBERS: ReadonlySet<string> = new Set([
  ...STRUCT_MEMBERS,
  ...RUNTIME_MEMBERS.Pipeline,
]);

/**
 * Names a method must not take. Client methods and server implementations use the same name, so
 * a method has one name on both sides; the set covers both: Object's members (a server
 * implementation object would answer a missing method with Object.prototype's), the Client
 * base's (`castAs`, `close`, `dup`, ...), the server hooks (`getFd`, `shortenPath`), and `then`:
 * a client with a `then` method would be a thenable, so `await`ing or resolving a promise with it
 * would make a call. Nothing else: `cancel`, `pipeline` (members of RemotePromise, not of
 * Client), `which`, `toJSON` stay as they are.
 */
export const CLIENT_MEMBERS: ReadonlySet<string> = new Set([
  ...OBJECT_MEMBERS,
  ...RUNTIME_MEMBERS.Client,
  ...RUNTIME_MEMBERS.ServerHooks,
  "then",
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

/**
 * The module-level constant behind a generated class's static getter (`$Foo_List_kind` for
 * `Foo_List.kind`, `$Foo_Client_interface` for `Foo_Client._interface`). Generated classes
 * have no static fields: compiled with `useDefineForClassFields: false` (this repository's
 * setting; TypeScript's default below ES2022) they become `static {}` blocks, which bundlers
 * never drop, so every class of a file would stay in every bundle that imports one of them.
 */
export function staticName(cls: string, member: string): string {
  return `$${cls}_${member}`;
}
