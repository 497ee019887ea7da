/**
 * Hand-written reader of a CodeGeneratorRequest over the low-level StructReader API, with the
 * field offsets printed by `capnp compile -ocapnp schema.capnp`. It exists so the plugin can
 * generate src/schema/schema.capnp.ts before that file exists (or when it is broken): run the
 * plugin with CAPNTS_BOOTSTRAP=1. Normally the plugin reads requests through the generated
 * bindings (src/schema/load.ts); a test checks that both readers agree.
 */
import type {
  Annotation,
  AnyPointerConstraint,
  Brand,
  BrandScope,
  Enumerant,
  Field,
  Method,
  NestedNode,
  Node,
  PrimitiveKind,
  RequestedFile,
  SchemaRequest,
  Superclass,
  Type,
  Value,
} from "../schema/model.js";
import { copyToWords } from "../schema/words.js";
import { MessageReader, type ReaderOptions, StructList, StructReader } from "../wire/index.js";
import { CompileError } from "./errors.js";

type S = StructReader;
const LIST = StructList.of(StructReader);

function structs(s: S, ptr: number): S[] {
  return s._getList(ptr, LIST).toArray();
}

const PRIMITIVES: readonly PrimitiveKind[] = [
  "void",
  "bool",
  "int8",
  "int16",
  "int32",
  "int64",
  "uint8",
  "uint16",
  "uint32",
  "uint64",
  "float32",
  "float64",
  "text",
  "data",
];
const CONSTRAINTS: readonly AnyPointerConstraint[] = ["anyKind", "struct", "list", "capability"];

function readBrand(s: S): Brand {
  const scopes: BrandScope[] = structs(s, 0).map((sc) => ({
    scopeId: sc._getUint64(0),
    bind:
      sc._getUint16(8) === 0
        ? structs(sc, 0).map((b) => (b._getUint16(0) === 1 ? readType(b._getStruct(0, StructReader)) : null))
        : null,
  }));
  return { scopes };
}

function readType(s: S): Type {
  const tag = s._getUint16(0);
  if (tag < 14) return { kind: PRIMITIVES[tag]! };
  switch (tag) {
    case 14:
      return { kind: "list", elementType: readType(s._getStruct(0, StructReader)) };
    case 15:
    case 16:
    case 17:
      return {
        kind: tag === 15 ? "enum" : tag === 16 ? "struct" : "interface",
        typeId: s._getUint64(8),
        brand: readBrand(s._getStruct(0, StructReader)),
      };
    case 18:
      switch (s._getUint16(8)) {
        case 0:
          return { kind: "anyPointer", constraint: CONSTRAINTS[s._getUint16(10)] ?? "anyKind" };
        case 1:
          return { kind: "parameter", scopeId: s._getUint64(16), parameterIndex: s._getUint16(10) };
        case 2:
          return { kind: "implicitMethodParameter", parameterIndex: s._getUint16(10) };
      }
  }
  throw new CompileError(`unknown Type discriminant ${tag}`);
}

function readValue(s: S): Value {
  const tag = s._getUint16(0);
  switch (tag) {
    case 0:
      return { kind: "void" };
    case 1:
      return { kind: "bool", value: s._getBool(16) };
    case 2:
      return { kind: "int8", value: s._getInt8(2) };
    case 3:
      return { kind: "int16", value: s._getInt16(2) };
    case 4:
      return { kind: "int32", value: s._getInt32(4) };
    case 5:
      return { kind: "int64", value: s._getInt64(8) };
    case 6:
      return { kind: "uint8", value: s._getUint8(2) };
    case 7:
      return { kind: "uint16", value: s._getUint16(2) };
    case 8:
      return { kind: "uint32", value: s._getUint32(4) };
    case 9:
      return { kind: "uint64", value: s._getUint64(8) };
    case 10:
      return { kind: "float32", value: s._getFloat32(4) };
    case 11:
      return { kind: "float64", value: s._getFloat64(8) };
    case 12:
      return { kind: "text", value: s._getText(0) };
    case 13:
      return { kind: "data", value: s._getData(0).slice() };
    case 14:
      return { kind: "list", words: copyToWords(s._getPointer(0)) };
    case 15:
      return { kind: "enum", value: s._getUint16(2) };
    case 16:
      return { kind: "struct", words: copyToWords(s._getPointer(0)) };
    case 17:
      return { kind: "interface" };
    case 18:
      return { kind: "anyPointer", words: copyToWords(s._getPointer(0)) };
  }
  throw new CompileError(`unknown Value discriminant ${tag}`);
}

function readAnnotations(s: S, ptr: number): Annotation[] {
  return structs(s, ptr).map((a) => ({
    id: a._getUint64(0),
    brand: readBrand(a._getStruct(1, StructReader)),
    value: readValue(a._getStruct(0, StructReader)),
  }));
}

const TARGETS = [
  "file",
  "const",
  "enum",
  "enumerant",
  "struct",
  "field",
  "union",
  "group",
  "interface",
  "method",
  "param",
  "annotation",
];

interface Docs {
  node: string;
  members: string[];
}

function readNode(s: S, docs: Map<bigint, Docs>): Node {
  const id = s._getUint64(0);
  const doc = docs.get(id);
  const member = (i: number) => doc?.members[i] ?? "";
  const base = {
    id,
    displayName: s._getText(0),
    displayNamePrefixLength: s._getUint32(8),
    scopeId: s._getUint64(16),
    parameters: structs(s, 5).map((p) => p._getText(0)),
    isGeneric: s._getBool(288),
    nestedNodes: structs(s, 1).map((n): NestedNode => ({ name: n._getText(0), id: n._getUint64(0) })),
    annotations: readAnnotations(s, 2),
    doc: doc?.node ?? "",
  };
  const tag = s._getUint16(12);
  switch (tag) {
    case 0:
      return { ...base, kind: "file" };
    case 1:
      return {
        ...base,
        kind: "struct",
        dataWordCount: s._getUint16(14),
        pointerCount: s._getUint16(24),
        preferredListEncoding: s._getUint16(26),
        isGroup: s._getBool(224),
        discriminantCount: s._getUint16(30),
        discriminantOffset: s._getUint32(32),
        fields: structs(s, 3).map((f, i) => readField(f, member(i))),
      };
    case 2:
      return {
        ...base,
        kind: "enum",
        enumerants: structs(s, 3).map(
          (e, i): Enumerant => ({
            name: e._getText(0),
            codeOrder: e._getUint16(0),
            annotations: readAnnotations(e, 1),
            doc: member(i),
          }),
        ),
      };
    case 3:
      return {
        ...base,
        kind: "interface",
        methods: structs(s, 3).map(
          (m, i): Method => ({
            name: m._getText(0),
            codeOrder: m._getUint16(0),
            implicitParameters: structs(m, 4).map((p) => p._getText(0)),
            paramStructType: m._getUint64(8),
            paramBrand: readBrand(m._getStruct(2, StructReader)),
            resultStructType: m._getUint64(16),
            resultBrand: readBrand(m._getStruct(3, StructReader)),
            annotations: readAnnotations(m, 1),
            doc: member(i),
          }),
        ),
        superclasses: structs(s, 4).map(
          (c): Superclass => ({ id: c._getUint64(0), brand: readBrand(c._getStruct(0, StructReader)) }),
        ),
      };
    case 4:
      return {
        ...base,
        kind: "const",
        type: readType(s._getStruct(3, StructReader)),
        value: readValue(s._getStruct(4, StructReader)),
      };
    case 5:
      return {
        ...base,
        kind: "annotation",
        type: readType(s._getStruct(3, StructReader)),
        targets: TARGETS.filter((_, i) => s._getBool(112 + i)),
      };
  }
  throw new CompileError(`unknown Node discriminant ${tag}`, base.displayName);
}

function readField(f: S, doc: string): Field {
  const base = {
    name: f._getText(0),
    codeOrder: f._getUint16(0),
    annotations: readAnnotations(f, 1),
    discriminantValue: f._getUint16(2, 0xffff),
    ordinal: f._getUint16(10) === 1 ? f._getUint16(12) : null,
    doc,
  };
  if (f._getUint16(8) === 1) return { ...base, kind: "group", typeId: f._getUint64(16) };
  return {
    ...base,
    kind: "slot",
    offset: f._getUint32(4),
    type: readType(f._getStruct(2, StructReader)),
    defaultValue: readValue(f._getStruct(3, StructReader)),
    hadExplicitDefault: f._getBool(128),
  };
}

/** Read a CodeGeneratorRequest message (its segments) into the model. */
export function readRequestBootstrap(
  segments: readonly Uint8Array[],
  options?: ReaderOptions,
): SchemaRequest {
  const root = new MessageReader(segments, options).getRoot(StructReader);
  const docs = new Map<bigint, Docs>();
  for (const si of structs(root, 3)) {
    docs.set(si._getUint64(0), {
      node: si._getText(0),
      members: structs(si, 1).map((m) => m._getText(0)),
    });
  }
  const nodes = new Map<bigint, Node>();
  for (const n of structs(root, 0)) {
    const node = readNode(n, docs);
    nodes.set(node.id, node);
  }
  const requestedFiles = structs(root, 1).map(
    (f): RequestedFile => ({
      id: f._getUint64(0),
      filename: f._getText(0),
      imports: structs(f, 1).map((i) => ({ id: i._getUint64(0), name: i._getText(0) })),
    }),
  );
  const v = root._getStruct(2, StructReader);
  return {
    capnpVersion: { major: v._getUint16(0), minor: v._getUint8(2), micro: v._getUint8(3) },
    nodes,
    requestedFiles,
  };
}
