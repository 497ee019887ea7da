/**
 * Type mapping: a schema `Type` to the TypeScript type of a reader's / builder's value and to the
 * list kind expression (`$.StructList.of(Foo_Reader)`, ...) that `_getList`/`_initList` take.
 * Callers pass types resolved against the bindings in effect (schema/brand.ts `resolveType`):
 * generic parameters left unbound are then AnyPointer; bound generic structs name their
 * specialization (FileContext.structRef).
 */
import type { Type } from "../schema/model.js";
import type { FileContext } from "./context.js";

const PRIMITIVE_TS: Record<string, string> = {
  void: "void",
  bool: "boolean",
  int8: "number",
  int16: "number",
  int32: "number",
  int64: "bigint",
  uint8: "number",
  uint16: "number",
  uint32: "number",
  uint64: "bigint",
  float32: "number",
  float64: "number",
  text: "string",
  data: "Uint8Array",
};

/** Name of the list class for a non-struct, non-list element type. */
const LIST_CLASS: Record<string, string> = {
  void: "VoidList",
  bool: "BoolList",
  int8: "Int8List",
  int16: "Int16List",
  int32: "Int32List",
  int64: "Int64List",
  uint8: "Uint8List",
  uint16: "Uint16List",
  uint32: "Uint32List",
  uint64: "Uint64List",
  float32: "Float32List",
  float64: "Float64List",
  text: "TextList",
  data: "DataList",
  interface: "CapabilityList",
  anyPointer: "AnyPointerList",
  parameter: "AnyPointerList",
  implicitMethodParameter: "AnyPointerList",
};

export function primitiveTs(t: Type): string | undefined {
  return PRIMITIVE_TS[t.kind];
}

/** TS type of an enum value. */
export function enumType(ctx: FileContext, typeId: bigint): string {
  return ctx.ref(typeId, "");
}

/** TS type a reader returns for a value of type `t`. */
export function readerType(ctx: FileContext, t: Type): string {
  const p = PRIMITIVE_TS[t.kind];
  if (p !== undefined) return p;
  switch (t.kind) {
    case "enum":
      return enumType(ctx, t.typeId);
    case "struct":
      return ctx.structRef(t, "_Reader");
    case "interface":
      return ctx.ref(t.typeId, "_Client");
    case "list":
      return readerListType(ctx, t.elementType);
    case "anyPointer":
      return t.constraint === "capability" ? `${ctx.rpc}.Client` : "$.AnyPointerReader";
    default:
      return "$.AnyPointerReader";
  }
}

/** TS type a builder returns for a value of type `t`. */
export function builderType(ctx: FileContext, t: Type): string {
  switch (t.kind) {
    case "struct":
      return ctx.structRef(t, "_Builder");
    case "list":
      return builderListType(ctx, t.elementType);
    case "anyPointer":
      return t.constraint === "capability" ? `${ctx.rpc}.Client` : "$.AnyPointerBuilder";
    case "parameter":
    case "implicitMethodParameter":
      return "$.AnyPointerBuilder";
    default:
      return readerType(ctx, t);
  }
}

/**
 * The generated list class of `List(e)`, if it has one: `Foo_List` for a struct (or its
 * specialization), for an interface (typed clients), and this file's `$Client_List` for
 * `:Capability` (untyped clients; not in the files the RPC runtime imports).
 */
function generatedList(ctx: FileContext, e: Type, suffix: "_List" | "_ListBuilder"): string | undefined {
  switch (e.kind) {
    case "struct":
      return ctx.structRef(e, suffix);
    case "interface":
      return ctx.ref(e.typeId, suffix);
    case "anyPointer":
      return e.constraint === "capability" && !ctx.untypedCapabilities ? ctx.clientList(suffix) : undefined;
    default:
      return undefined;
  }
}

/** The runtime's list class of an element type (`CapabilityList` for capabilities). */
function runtimeList(e: Type): string {
  if (e.kind === "anyPointer" && e.constraint === "capability") return "CapabilityList";
  return LIST_CLASS[e.kind]!;
}

/**
 * TS type of a reader's `List(e)`: the generated list class (see generatedList), else the
 * runtime's. With `exact` false, the runtime class any list of that type is an instance of
 * (`$.StructList<Foo_Reader>`, `$.CapabilityList`): what setters accept.
 */
export function readerListType(ctx: FileContext, e: Type, exact = true): string {
  switch (e.kind) {
    case "enum":
      return `$.EnumList<${enumType(ctx, e.typeId)}>`;
    case "list":
      return `$.ListList<${readerListType(ctx, e.elementType, exact)}>`;
    case "struct":
      if (!exact) return `$.StructList<${ctx.structRef(e, "_Reader")}>`;
      break;
  }
  return (exact ? generatedList(ctx, e, "_List") : undefined) ?? `$.${runtimeList(e)}`;
}

/** TS type of a builder's `List(e)` (see readerListType). */
export function builderListType(ctx: FileContext, e: Type, exact = true): string {
  switch (e.kind) {
    case "enum":
      return `$.EnumListBuilder<${enumType(ctx, e.typeId)}>`;
    case "list":
      return `$.ListListBuilder<${builderListType(ctx, e.elementType, exact)}>`;
    case "struct":
      if (!exact) return `$.StructListBuilder<${ctx.structRef(e, "_Builder")}>`;
      break;
  }
  return (exact ? generatedList(ctx, e, "_ListBuilder") : undefined) ?? `$.${runtimeList(e)}Builder`;
}

/** Expression for the reader list kind of `List(e)`. */
export function readerListKind(ctx: FileContext, e: Type): string {
  switch (e.kind) {
    case "enum":
      return `($.EnumList.kind as $.ListKind<${readerListType(ctx, e)}>)`;
    case "list":
      return `$.ListList.of(${readerListKind(ctx, e.elementType)})`;
    default:
      return `${readerListType(ctx, e)}.kind`;
  }
}

/** Expression for the builder list kind of `List(e)`. */
export function builderListKind(ctx: FileContext, e: Type): string {
  switch (e.kind) {
    case "enum":
      return `($.EnumListBuilder.kind as $.ListBuilderKind<${builderListType(ctx, e)}>)`;
    case "list":
      return `$.ListListBuilder.of(${builderListKind(ctx, e.elementType)})`;
    default:
      return `${builderListType(ctx, e)}.kind`;
  }
}
