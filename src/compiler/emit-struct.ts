/**
 * Struct (and group) emitter: a Reader class over StructReader and a Builder class over
 * StructBuilder, one accessor per field, calling the runtime's `_get*`/`_set*` methods with the
 * field's byte offset (bit offset for Bool, pointer index for pointers) and default.
 *
 * Accessors (field `foo`): readers have `get foo()`, `hasFoo()` for pointers, `isFoo()` for union
 * members; builders add `set foo(v)`, `initFoo(...)` (structs, lists, Data, groups, AnyPointer),
 * `disownFoo()`/`adoptFoo(o)` (pointers) and `setFoo()` for Void union members. Setting a union
 * member writes the discriminant.
 *
 * Unions (docs/generated-code-contract.md, "Unions"): `which` is a getter returning the active
 * member's name. The reader of a struct (or group) with a union is a class named `$Foo_Reader`;
 * what is exported as `Foo_Reader` is, as a type, that class without the union members,
 * intersected with a discriminated union of `{ readonly which: "bar" } & Pick<class, "bar">`
 * variants (and `{ readonly which: "_unknown" }`), and as a value, the class typed as a
 * constructor of that type. So `if (r.which === "bar") r.bar` narrows, reading `r.bar` without the
 * test does not compile, and at run time nothing changes (same class, same getters). Builders
 * keep every member (setting one is how the active member changes) and check the discriminant in
 * the getters of union members, throwing `$.InactiveMemberError` for an inactive one.
 */
import { resolveType } from "../schema/brand.js";
import {
  dataBits,
  type Field,
  NO_DISCRIMINANT,
  type SlotField,
  type StructNode,
  type Type,
} from "../schema/model.js";
import type { FileContext } from "./context.js";
import { pointerDefaultArg, primitiveDefaultArg } from "./defaults.js";
import { hexBig, jsdoc, MemberNames, STRUCT_MEMBERS, staticName, str } from "./names.js";
import {
  builderListKind,
  builderListType,
  enumType,
  readerListKind,
  readerListType,
  readerType,
} from "./types.js";

const ACCESSOR: Record<string, string> = {
  bool: "Bool",
  int8: "Int8",
  int16: "Int16",
  int32: "Int32",
  int64: "Int64",
  uint8: "Uint8",
  uint16: "Uint16",
  uint32: "Uint32",
  uint64: "Uint64",
  float32: "Float32",
  float64: "Float64",
  enum: "Uint16",
};

/** Names of every member generated for one field (shared by reader and builder). */
interface FieldNames {
  own: string;
  is?: string;
  has?: string;
  set?: string;
  init?: string;
  disown?: string;
  adopt?: string;
}

function isPointer(t: Type): boolean {
  return dataBits(t) < 0;
}

function needsInit(f: Field, untypedCapabilities: boolean): boolean {
  if (f.kind === "group") return true;
  switch (f.type.kind) {
    case "anyPointer":
      return f.type.constraint !== "capability" || untypedCapabilities;
    case "struct":
    case "list":
    case "data":
    case "parameter":
    case "implicitMethodParameter":
      return true;
    default:
      return false;
  }
}

function planNames(fields: readonly Field[], untypedCapabilities: boolean): FieldNames[] {
  const m = new MemberNames(STRUCT_MEMBERS);
  const plans: FieldNames[] = fields.map((f) => ({ own: m.own(f.name) }));
  fields.forEach((f, i) => {
    const p = plans[i]!;
    const inUnion = f.discriminantValue !== NO_DISCRIMINANT;
    // Pointer-ness does not depend on bindings (generic parameters are always pointers).
    const ptr = f.kind === "slot" && isPointer(f.type);
    const isVoid = f.kind === "slot" && f.type.kind === "void";
    if (inUnion) p.is = m.derived("is", f.name);
    if (ptr) p.has = m.derived("has", f.name);
    if (inUnion && isVoid) p.set = m.derived("set", f.name);
    if (needsInit(f, untypedCapabilities)) p.init = m.derived("init", f.name);
    if (ptr) {
      p.disown = m.derived("disown", f.name);
      p.adopt = m.derived("adopt", f.name);
    }
  });
  return plans;
}

export interface StructEmit {
  /** The classes and helper declarations, in order. */
  code: string;
}

/** Data offset of a field in bytes (bit for Bool). */
function dataOffset(f: SlotField): number {
  const b = dataBits(f.type);
  return b === 1 ? f.offset : (f.offset * b) / 8;
}

/** Statements zeroing every field of a group (C++ `initGroup`: raw zeros, pointers cleared). */
function zeroGroup(ctx: FileContext, g: StructNode, out: string[], seen: Set<string>): void {
  if (g.discriminantCount > 0) {
    const k = `u16:${g.discriminantOffset * 2}`;
    if (!seen.has(k)) {
      seen.add(k);
      out.push(`this._setUint16(${g.discriminantOffset * 2}, 0);`);
    }
  }
  for (const f of g.fields) {
    if (f.kind === "group") {
      const sub = ctx.node(f.typeId);
      if (sub.kind !== "struct") throw ctx.error(`group ${f.name} is not a struct node`);
      zeroGroup(ctx, sub, out, seen);
      continue;
    }
    const b = dataBits(f.type);
    if (b === 0) continue;
    if (b < 0) {
      const k = `p:${f.offset}`;
      if (!seen.has(k)) {
        seen.add(k);
        out.push(`this._clearPointer(${f.offset});`);
      }
      continue;
    }
    const off = dataOffset(f);
    const k = `${b}:${off}`;
    if (seen.has(k)) continue;
    seen.add(k);
    if (b === 1) out.push(`this._setBool(${off}, false);`);
    else if (b === 64) out.push(`this._setUint64(${off}, 0n);`);
    else out.push(`this._setUint${b}(${off}, 0);`);
  }
}

/** A JS literal of generic bindings (`Map<scopeId, Type[]>`), for the text format. */
function bindingsLiteral(b: ReadonlyMap<bigint, readonly (Type | null)[]>): string {
  const lit = (v: unknown): string => {
    if (typeof v === "bigint") return hexBig(v);
    if (v === null) return "null";
    if (Array.isArray(v)) return `[${v.map(lit).join(", ")}]`;
    if (typeof v === "object") {
      return `{ ${Object.entries(v as object)
        .map(([k, x]) => `${k}: ${lit(x)}`)
        .join(", ")} }`;
    }
    return JSON.stringify(v);
  };
  return `new Map<bigint, readonly ($text.model.Type | null)[]>([${[...b].map(([k, v]) => `[${hexBig(k)}, ${lit(v)}]`).join(", ")}])`;
}

function args(...a: string[]): string {
  return a.filter((x) => x !== "").join(", ");
}

/** Longest generated line before a call is split into one argument per line. */
const LINE_WIDTH = 110;

/** `head(a, b, ...)` plus `tail`: one line when it fits, else one argument per line. */
function call(indent: string, head: string, argList: readonly string[], tail = ";"): string[] {
  const line = `${indent}${head}(${argList.join(", ")})${tail}`;
  if (line.length <= LINE_WIDTH) return [line];
  return [`${indent}${head}(`, ...argList.map((a) => `${indent}  ${a},`), `${indent})${tail}`];
}

/** The location fields of a struct view, in constructor order. */
const VIEW_FIELDS = ["arena", "seg", "dataOff", "dataSize", "ptrOff", "ptrCount", "nesting"] as const;

/** Arguments constructing a view of the struct `locateStruct`/`_initStructLoc`/... left in `$.S`. */
const FROM_S = VIEW_FIELDS.map((f) => `s.${f}`);

/** Arguments constructing another view of this struct's sections (groups). */
const FROM_THIS = VIEW_FIELDS.map((f) => `this._${f}`);

/**
 * The constructor every generated reader/builder has: `super()` (which assigns nothing) and the
 * seven field stores here, so that each class's stores stay monomorphic (BENCHMARKS.md, profile
 * finding 2). The runtime constructs through it too (`StructCtor` / `StructBuilderCtor`).
 */
function viewConstructor(arena: string): string[] {
  const types = [arena, "$.Segment", "number", "number", "number", "number", "number"];
  return [
    `  constructor(`,
    ...VIEW_FIELDS.map((f, i) => `    ${f}: ${types[i]},`),
    `  ) {`,
    `    super();`,
    ...VIEW_FIELDS.map((f) => `    this._${f} = ${f};`),
    `  }`,
  ];
}

/**
 * Group readers' constructor: they keep their struct's reader, one store (BENCHMARKS.md, profile
 * finding 10). No `super()`: a group reader class does not `extends` (its prototype is linked to
 * `$.GroupReader`'s after the class, its type by interface merging), so constructing one inlines
 * to a single store; the `super()` chain and a seven-argument form measured 20-40% slower on
 * eval read-only, by the inlining budget they take from recursive readers.
 */
function groupReaderConstructor(): string[] {
  return [`  constructor(parent: $.StructReader) {`, `    this._p = parent;`, `  }`];
}

/** A group's `X_Reader` value: its class `cls`, prototype linked to `$.GroupReader`'s. */
function groupReaderValue(ident: string, cls: string): string {
  return `/*#__PURE__*/ $.groupReader(${cls}) as unknown as new (parent: $.StructReader) => ${ident}_Reader`;
}

/** `override` goes where there is nothing to override (group readers do not `extends`). */
function noOverride(line: string): string {
  return line.replace(/^ {2}override /, "  ");
}

/**
 * A group reader's accessor line, reading through its struct's reader: `this._getX(` becomes
 * `this._p._getX(` and `(this, ` (runtime helpers taking the view) `(this._p, `.
 */
function throughParent(line: string): string {
  return line.replace(/\bthis\._(?=[A-Za-z]\w*\()/g, "this._p._").replace(/\(this, /g, "(this._p, ");
}

/**
 * The members of a class body (lines, doc comments included) that `keep` names; the constructor
 * and `which` always. A member is its doc comment, its first line at class indent (`get x(`, `set x(`,
 * `x(`, `override toString(`) and the lines up to its closing brace at class indent.
 */
function selectMembers(body: readonly string[], keep: ReadonlySet<string> | undefined): string[] {
  if (keep === undefined) return [...body];
  const out: string[] = [];
  let doc: string[] = [];
  let member: string[] | null = null;
  let kept = false;
  for (const line of body.join("\n").split("\n")) {
    if (member !== null) {
      member.push(line);
      if (line === "  }") {
        if (kept) out.push(...member);
        member = null;
      }
      continue;
    }
    if (doc.length > 0 && !doc[doc.length - 1]!.endsWith("*/")) {
      doc.push(line);
      continue;
    }
    if (line.startsWith("  /**")) {
      doc.push(line);
      continue;
    }
    const m = /^ {2}(?:override )?(?:[gs]et )?([\w$]+)\(/.exec(line);
    if (m === null) throw new Error(`selectMembers: not a member line: ${line}`);
    // `which` too: a builder's union getters name the active member when they throw.
    kept = m[1] === "constructor" || m[1] === "which" || keep.has(m[1]!);
    member = [...doc, line];
    doc = [];
    if (line.endsWith("}")) {
      if (kept) out.push(...member);
      member = null;
    }
  }
  return out;
}

/**
 * `X_List` / `X_ListBuilder`: struct lists whose `get(i)` constructs X's reader/builder itself
 * (one monomorphic `new` site per struct type; BENCHMARKS.md, profile finding 3), each with the
 * list kind that `_getList` / `_initList` take. `$.StructList.of(X_Reader)` still works; it makes
 * plain `$.StructList`s.
 */
function emitStructLists(ident: string, title: string, dataWords: number, ptrCount: number): string {
  const list = (
    name: string,
    base: string,
    kind: string,
    elem: string,
    dw: number,
    pc: number,
    what: string,
  ): string[] => [
    `/** ${what} of List(${title}): \`get(i)\` is a ${elem}. */`,
    `export class ${name} extends ${base}<${elem}> {`,
    // A getter, not a static field (names.ts `staticName`).
    `  static get kind(): ${kind}<${name}> {`,
    `    return ${staticName(name, "kind")};`,
    `  }`,
    `  override get(i: number): ${elem} {`,
    `    const o = this._at(i);`,
    `    const d = this._dataSize;`,
    ...call(`    `, `return new ${elem}`, [
      "this._arena",
      "this._seg",
      "o",
      "d",
      "o + d",
      "this._ptrCount",
      "this._nesting",
    ]),
    `  }`,
    `}`,
    // The ElementSize as a number: a property read of the runtime's enum object would keep the
    // constant, so the class, in bundles that never use it.
    `const ${staticName(name, "kind")}: ${kind}<${name}> = {`,
    `  size: 7 /* INLINE_COMPOSITE */,`,
    `  dataWords: ${dw},`,
    `  ptrCount: ${pc},`,
    `  make: (arena, seg, off, len, step, ds, pc, nest, es) =>`,
    ...call(
      "    ",
      `new ${name}`,
      ["arena", "seg", "off", "len", "step", "ds", "pc", "nest", "es", elem],
      ",",
    ),
    `};`,
  ];
  return [
    ...list(`${ident}_List`, "$.StructList", "$.ListKind", `${ident}_Reader`, 0, 0, "Reader"),
    "",
    ...list(
      `${ident}_ListBuilder`,
      "$.StructListBuilder",
      "$.ListBuilderKind",
      `${ident}_Builder`,
      dataWords,
      ptrCount,
      "Builder",
    ),
    "",
  ].join("\n");
}

/**
 * Capability fields (an interface, or `:Capability` as the untyped `$rpc.Client`): getters return
 * a new reference (`$rpc.getClient`); builders' setters take the client or a `$rpc.Server`, the
 * message keeping its own reference (`$rpc.setClient`), or null.
 */
function capabilityAccessors(
  ctx: FileContext,
  client: string,
  own: string,
  ptr: number,
  doc: string,
  setDisc: string,
  R: string[],
  B: string[],
  bget: (lines: string[]) => string[],
): void {
  const rpc = ctx.rpc;
  const get = [
    `${doc}  get ${own}(): ${client} {`,
    `    return ${rpc}.getClient(this, ${ptr}, ${client});`,
    `  }`,
  ];
  // A server of this interface (or of a subinterface); any server for the untyped Client.
  const server = client === `${rpc}.Client` ? `${rpc}.Server` : `${rpc}.Server<${client}>`;
  R.push(...get);
  B.push(
    ...bget(get),
    `  set ${own}(value: ${client} | ${server} | null) {`,
    `    ${setDisc}${rpc}.setClient(this, ${ptr}, value);`,
    `  }`,
  );
}

/** AnyPointer fields (and unbound generic parameters). */
function anyPointerAccessors(
  n: FieldNames,
  ptr: number,
  doc: string,
  setDisc: string,
  inUnion: boolean,
  R: string[],
  B: string[],
  bget: (lines: string[]) => string[],
): void {
  R.push(`${doc}  get ${n.own}(): $.AnyPointerReader {`, `    return this._getPointer(${ptr});`, `  }`);
  B.push(
    ...bget([`${doc}  get ${n.own}(): $.AnyPointerBuilder {`, `    return this._getPointer(${ptr});`, `  }`]),
    `  /** Clear the field${inUnion ? " (making it the active union member)" : ""} and return it for writing. */`,
    `  ${n.init}(): $.AnyPointerBuilder {`,
    `    ${setDisc}this._clearPointer(${ptr});`,
    `    return this._getPointer(${ptr});`,
    `  }`,
  );
}

export function emitStruct(ctx: FileContext, node: StructNode, ident: string): string {
  ctx.current = node.displayName;
  const storage = ctx.names.storageOf(node);
  const fields = node.fields;
  const names = planNames(fields, ctx.untypedCapabilities);
  const R: string[] = [];
  const B: string[] = [];
  const discOff = node.discriminantOffset * 2;
  const pre = "    ";
  const title = node.displayName.slice(node.displayNamePrefixLength);
  /** The name within its file (`Shape.style`), for error messages. */
  const scoped = node.displayName.slice(node.displayName.indexOf(":") + 1);
  const hasUnion = node.discriminantCount > 0;
  // The reader class; with a union it is `$X_Reader` and `X_Reader` is its narrowing type/value.
  // So it is for a group (`X_Reader` is the class with its prototype linked, see below).
  const readerClass = hasUnion || node.isGroup ? `$${ident}_Reader` : `${ident}_Reader`;
  /** Union members in discriminant order: [schema name, reader getter or undefined (Void)]. */
  const variants: [string, string | undefined][] = [];
  let head = "";

  if (hasUnion) {
    const members: string[] = new Array(node.discriminantCount).fill("");
    for (const f of fields)
      if (f.discriminantValue !== NO_DISCRIMINANT) members[f.discriminantValue] = f.name;
    head += `const ${ident}_which = [${members.map(str).join(", ")}] as const;\n`;
    head += `/** Members of ${title}'s union; "_unknown" for a discriminant this schema does not know. */\n`;
    head += `export type ${ident}_Which = (typeof ${ident}_which)[number] | "_unknown";\n\n`;
    const which = [
      `  /** The active member of the union ("_unknown": a member this schema does not know). */`,
      `  get which(): ${ident}_Which {`,
      `    return ${ident}_which[this._getUint16(${discOff})] ?? "_unknown";`,
      `  }`,
    ];
    R.push(...which);
    B.push(...which);
  }

  fields.forEach((f, i) => {
    const n = names[i]!;
    const doc = jsdoc(f.doc, "  ");
    const inUnion = f.discriminantValue !== NO_DISCRIMINANT;
    const setDisc = inUnion ? `this._setUint16(${discOff}, ${f.discriminantValue});\n${pre}` : "";
    // A builder's getter of a union member checks that it is the active one.
    const check = inUnion
      ? `    if (this._getUint16(${discOff}) !== ${f.discriminantValue}) $.inactiveMember(${str(`${scoped}.${f.name}`)}, this.which);`
      : undefined;
    /** A builder getter: its first line (doc and signature), the check, the rest. */
    const bget = (lines: string[]): string[] =>
      check === undefined ? lines : [lines[0]!, check, ...lines.slice(1)];
    if (inUnion) {
      const isVoid = f.kind === "slot" && f.type.kind === "void";
      variants.push([f.name, isVoid ? undefined : n.own]);
    }
    if (n.is !== undefined) {
      const test = `    return this._getUint16(${discOff}) === ${f.discriminantValue};`;
      // On readers a type guard: `if (r.isFoo()) r.foo` narrows like `r.which === "foo"`.
      R.push(`  ${n.is}(): this is { readonly which: ${str(f.name)} } {`, test, `  }`);
      B.push(`  ${n.is}(): boolean {`, test, `  }`);
    }
    if (f.kind === "group") {
      const g = ctx.ref(f.typeId, "");
      const gn = ctx.node(f.typeId);
      if (gn.kind !== "struct") throw ctx.error(`group ${f.name} is not a struct node`);
      // A group is another view of this struct's sections.
      // Group readers keep their struct's reader (`$.GroupReader`); nested ones share it.
      R.push(
        `${doc}  get ${n.own}(): ${g}_Reader {`,
        `    return new ${g}_Reader(${node.isGroup ? "this._p" : "this"});`,
        `  }`,
      );
      B.push(
        ...bget([
          `${doc}  get ${n.own}(): ${g}_Builder {`,
          ...call("    ", `return new ${g}_Builder`, FROM_THIS),
          `  }`,
        ]),
      );
      const zero: string[] = [];
      zeroGroup(ctx, gn, zero, new Set());
      B.push(
        `  ${n.init}(): ${g}_Builder {`,
        ...(inUnion ? [`    this._setUint16(${discOff}, ${f.discriminantValue});`] : []),
        ...zero.map((z) => `    ${z}`),
        ...call("    ", `return new ${g}_Builder`, FROM_THIS),
        `  }`,
      );
      return;
    }
    // Generic parameters: bound ones take their binding, unbound ones read as AnyPointer.
    const t = resolveType(f.type, ctx.bindings);
    const ptr = f.offset;
    switch (t.kind) {
      case "void":
        if (n.set !== undefined)
          B.push(`  ${n.set}(): void {`, `    this._setUint16(${discOff}, ${f.discriminantValue});`, `  }`);
        return;
      case "bool":
      case "int8":
      case "int16":
      case "int32":
      case "int64":
      case "uint8":
      case "uint16":
      case "uint32":
      case "uint64":
      case "float32":
      case "float64":
      case "enum": {
        const acc = ACCESSOR[t.kind]!;
        const off = dataOffset(f);
        const def = primitiveDefaultArg(f.defaultValue);
        const ts = t.kind === "enum" ? enumType(ctx, t.typeId) : readerType(ctx, t);
        const cast = t.kind === "enum" ? ` as ${ts}` : "";
        const get = [
          `${doc}  get ${n.own}(): ${ts} {`,
          `    return this._get${acc}(${args(String(off), def)})${cast};`,
          `  }`,
        ];
        R.push(...get);
        B.push(
          ...bget(get),
          `  set ${n.own}(value: ${ts}) {`,
          `    ${setDisc}this._set${acc}(${args(String(off), "value", def)});`,
          `  }`,
        );
        return;
      }
      case "text":
      case "data": {
        const acc = t.kind === "text" ? "Text" : "Data";
        const ts = t.kind === "text" ? "string" : "Uint8Array";
        const def = pointerDefaultArg(ctx, f.defaultValue);
        const get = [
          `${doc}  get ${n.own}(): ${ts} {`,
          `    return this._get${acc}(${args(String(ptr), def)});`,
          `  }`,
        ];
        R.push(...get);
        B.push(
          ...bget(get),
          `  set ${n.own}(value: ${ts}) {`,
          `    ${setDisc}this._set${acc}(${ptr}, value);`,
          `  }`,
        );
        if (t.kind === "data") {
          B.push(
            `  ${n.init}(length: number): Uint8Array {`,
            `    ${setDisc}return this._initData(${ptr}, length);`,
            `  }`,
          );
        }
        break;
      }
      case "struct": {
        const rt = ctx.structRef(t, "_Reader");
        const bt = ctx.structRef(t, "_Builder");
        const def = pointerDefaultArg(ctx, f.defaultValue);
        const sn = ctx.node(t.typeId);
        if (sn.kind !== "struct") throw ctx.error(`field ${f.name} is not of a struct type`);
        const size = `${sn.dataWordCount}, ${sn.pointerCount}`;
        // The runtime leaves the struct's location in $.S; the class is constructed here.
        R.push(
          `${doc}  get ${n.own}(): ${rt} {`,
          `    this._locStruct(${args(String(ptr), def)});`,
          `    const s = $.S;`,
          ...call("    ", `return new ${rt}`, FROM_S),
          `  }`,
        );
        B.push(
          ...bget([
            `${doc}  get ${n.own}(): ${bt} {`,
            `    this._getStructLoc(${args(String(ptr), size, def)});`,
            `    const s = $.S;`,
            ...call("    ", `return new ${bt}`, ["this._arena", ...FROM_S.slice(1)]),
            `  }`,
          ]),
          `  set ${n.own}(value: ${rt} | ${bt}) {`,
          `    ${setDisc}this._setStruct(${ptr}, value);`,
          `  }`,
          `  ${n.init}(): ${bt} {`,
          ...(inUnion ? [`    this._setUint16(${discOff}, ${f.discriminantValue});`] : []),
          `    this._initStructLoc(${ptr}, ${size});`,
          `    const s = $.S;`,
          ...call("    ", `return new ${bt}`, ["this._arena", ...FROM_S.slice(1)]),
          `  }`,
        );
        break;
      }
      case "list": {
        const rt = readerListType(ctx, t.elementType);
        const bt = builderListType(ctx, t.elementType);
        // Setters take any list of the type, not only the generated classes.
        const rtAny = readerListType(ctx, t.elementType, false);
        const btAny = builderListType(ctx, t.elementType, false);
        const def = pointerDefaultArg(ctx, f.defaultValue);
        R.push(
          `${doc}  get ${n.own}(): ${rt} {`,
          `    return this._getList(${args(String(ptr), readerListKind(ctx, t.elementType), def)});`,
          `  }`,
        );
        const bk = builderListKind(ctx, t.elementType);
        B.push(
          ...bget([
            `${doc}  get ${n.own}(): ${bt} {`,
            `    return this._getList(${args(String(ptr), bk, def)});`,
            `  }`,
          ]),
          `  set ${n.own}(value: ${rtAny} | ${btAny}) {`,
          `    ${setDisc}this._setList(${ptr}, value);`,
          `  }`,
          `  ${n.init}(length: number): ${bt} {`,
          `    ${setDisc}return this._initList(${ptr}, ${bk}, length);`,
          `  }`,
        );
        break;
      }
      case "interface":
        capabilityAccessors(ctx, readerType(ctx, t), n.own, ptr, doc, setDisc, R, B, bget);
        break;
      case "anyPointer":
        if (t.constraint === "capability" && !ctx.untypedCapabilities) {
          // `:Capability`: a capability of any interface, as the runtime's untyped Client.
          capabilityAccessors(ctx, `${ctx.rpc}.Client`, n.own, ptr, doc, setDisc, R, B, bget);
          break;
        }
        anyPointerAccessors(n, ptr, doc, setDisc, inUnion, R, B, bget);
        break;
      default:
        // Generic parameters read as AnyPointer.
        anyPointerAccessors(n, ptr, doc, setDisc, inUnion, R, B, bget);
        break;
    }
    // Every pointer field: presence (of a union member: only while it is the active one, as in
    // C++), orphans.
    const present = inUnion
      ? `this._getUint16(${discOff}) === ${f.discriminantValue} && this._hasPointer(${ptr})`
      : `this._hasPointer(${ptr})`;
    const has = [`  ${n.has}(): boolean {`, `    return ${present};`, `  }`];
    R.push(...has);
    B.push(
      ...has,
      `  ${n.disown}(): $.Orphan {`,
      `    return this._disown(${ptr});`,
      `  }`,
      `  ${n.adopt}(orphan: $.Orphan): void {`,
      `    ${setDisc}this._adopt(${ptr}, orphan);`,
      `  }`,
    );
  });

  const id = hexBig(node.id);
  // A specialization prints its generic fields with their bound types, like C++ does.
  const brand = ctx.bindings.size === 0 ? "" : `, ${ctx.helper(bindingsLiteral(ctx.bindings))}`;
  // Node's inspect shows toString() through the base class (src/wire/struct.ts).
  const text = [
    `  override toString(): string {`,
    `    return $text.structToString(this, ${id}${brand});`,
    `  }`,
  ];
  // Only the members named for these classes (GenerateOptions `members`), when so generated.
  const keepR = ctx.members?.get(readerClass);
  const keepB = ctx.members?.get(`${ident}_Builder`);
  const what = node.isGroup ? `group ${title}` : `struct ${title}`;
  const docR = jsdoc(node.doc, "") || `/** Reader of ${what}. */\n`;
  const docB = `/** Builder of ${what}. */\n`;
  let code = head;
  if (node.isGroup) {
    // The class does not `extends` (groupReaderConstructor); `$.groupReader` links its prototype
    // to GroupReader's where `X_Reader` is defined, an expression marked pure, so that a bundler
    // drops the class with X_Reader when nothing uses it (a statement after the class could not
    // be dropped).
    code += `/** The group reader's type: a $.GroupReader (\`$.groupReader\` links its prototype). */\n`;
    code += `interface ${readerClass} extends $.GroupReader {}\n`;
    code += `/** Class of ${ident}_Reader (which see). */\n`;
    code += `class ${readerClass} {\n`;
    code += selectMembers(
      [...groupReaderConstructor(), ...R.map(throughParent), ...text.map(noOverride)],
      keepR,
    ).join("\n");
    code += `\n}\n`;
    if (!hasUnion) {
      code += `${docR}export type ${ident}_Reader = ${readerClass};\n`;
      code += `export const ${ident}_Reader = ${groupReaderValue(ident, readerClass)};\n`;
    }
  } else {
    if (hasUnion) code += `/** Class of ${ident}_Reader (which see). */\n`;
    else code += docR;
    code += `${hasUnion ? "" : "export "}class ${readerClass} extends $.StructReader {\n`;
    code += selectMembers([...viewConstructor("$.Arena"), ...R, ...text], keepR).join("\n");
    code += `\n}\n`;
  }
  if (hasUnion) {
    // A member left out reads as a Void one (no getter to pick).
    const kept = variants.map(([w, o]): [string, string | undefined] => [
      w,
      keepR && !keepR.has(o ?? "") ? undefined : o,
    ]);
    code += narrowingReader(ident, readerClass, node.isGroup, kept, docR);
  }
  code += `\n${docB}export class ${ident}_Builder extends $.StructBuilder {\n`;
  // Getters, not static fields (names.ts `staticName`); only untyped paths read them (initRoot,
  // AnyPointer's initAs): generated accessors pass the sizes as numbers.
  code += `  static get _dataWords(): number {\n    return ${storage.dataWordCount};\n  }\n`;
  code += `  static get _ptrCount(): number {\n    return ${storage.pointerCount};\n  }\n`;
  code += selectMembers(
    [
      ...viewConstructor("$.BuilderArena"),
      ...B,
      `  /** A reader over this builder's data. */`,
      `  asReader(): ${ident}_Reader {`,
      node.isGroup
        ? `    return new ${ident}_Reader(this._asReader($.StructReader));`
        : `    return this._asReader(${ident}_Reader);`,
      `  }`,
      ...text,
    ],
    keepB,
  ).join("\n");
  code += `\n}\n`;
  // Groups are never list elements, nor are the structs capnp makes for method parameters.
  if (!node.isGroup && ctx.names.name(node.id).kind === "node") {
    code += `\n${emitStructLists(ident, title, storage.dataWordCount, storage.pointerCount)}`;
  }
  return code;
}

/**
 * `X_Reader` of a struct or group with a union: as a type, the class without `which` and the
 * members, intersected with one variant per member (`{ readonly which: "m" } & Pick<class, "m">`,
 * Void members without a getter, and `"_unknown"`), so that testing `which` narrows; as a value,
 * the class itself, typed as a constructor of that type (so `new`, `getRoot`, lists and field
 * getters all give the narrowing type, and `instanceof X_Reader` narrows to it).
 */
function narrowingReader(
  ident: string,
  cls: string,
  isGroup: boolean,
  variants: readonly [string, string | undefined][],
  doc: string,
): string {
  const own = variants.flatMap(([, o]) => (o === undefined ? [] : [o]));
  const omit = ["which", ...own].map(str).join(" | ");
  const alts = [
    ...variants.map(([w, o]) =>
      o === undefined
        ? `{ readonly which: ${str(w)} }`
        : `({ readonly which: ${str(w)} } & Pick<${cls}, ${str(o)}>)`,
    ),
    `{ readonly which: "_unknown" }`,
  ];
  const value = isGroup ? groupReaderValue(ident, cls) : `${cls} as unknown as $.StructCtor<${ident}_Reader>`;
  return [
    `${doc}export type ${ident}_Reader = Omit<${cls}, ${omit}> &`,
    `  (`,
    ...alts.map((a) => `    | ${a}`),
    `  );`,
    `export const ${ident}_Reader = ${value};`,
    ``,
  ].join("\n");
}
