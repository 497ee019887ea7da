/**
 * Loads schema nodes into the plain model (model.ts) through the generated schema.capnp
 * bindings: a whole CodeGeneratorRequest (the code generator), or single Node structs
 * (reflection over the nodes embedded in generated files).
 */
import { MessageReader, type ReaderOptions } from "../wire/index.js";
import type {
  Annotation,
  AnyPointerConstraint,
  Brand,
  Field,
  Node,
  PrimitiveKind,
  SchemaRequest,
  Type,
  Value,
} from "./model.js";
import {
  type Annotation_Reader,
  type Brand_Reader,
  CodeGeneratorRequest_Reader,
  type Field_Reader,
  type Node_Reader,
  type Type_Reader,
  type Value_Reader,
} from "./schema.capnp.js";
import { copyToWords } from "./words.js";

/** Raised for a node the loader cannot make sense of (the message names the node). */
export class SchemaError extends Error {
  override name = "SchemaError";
}

const PRIMITIVES = new Set<string>([
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
]);

export function loadBrand(b: Brand_Reader): Brand {
  return {
    scopes: b.scopes.toArray().map((s) => ({
      scopeId: s.scopeId,
      bind:
        s.which === "bind"
          ? s.bind.toArray().map((x) => (x.which === "type" ? loadType(x.type) : null))
          : null,
    })),
  };
}

export function loadType(t: Type_Reader): Type {
  const w = t.which;
  if (PRIMITIVES.has(w)) return { kind: w as PrimitiveKind };
  switch (t.which) {
    case "list":
      return { kind: "list", elementType: loadType(t.list.elementType) };
    case "enum":
      return { kind: "enum", typeId: t.enum.typeId, brand: loadBrand(t.enum.brand) };
    case "struct":
      return { kind: "struct", typeId: t.struct.typeId, brand: loadBrand(t.struct.brand) };
    case "interface":
      return { kind: "interface", typeId: t.interface.typeId, brand: loadBrand(t.interface.brand) };
    case "anyPointer": {
      const a = t.anyPointer;
      switch (a.which) {
        case "unconstrained": {
          const c = a.unconstrained.which;
          return {
            kind: "anyPointer",
            constraint: c === "_unknown" ? "anyKind" : (c as AnyPointerConstraint),
          };
        }
        case "parameter":
          return {
            kind: "parameter",
            scopeId: a.parameter.scopeId,
            parameterIndex: a.parameter.parameterIndex,
          };
        case "implicitMethodParameter":
          return {
            kind: "implicitMethodParameter",
            parameterIndex: a.implicitMethodParameter.parameterIndex,
          };
        default:
          break;
      }
    }
  }
  throw new SchemaError(`unknown Type (${w})`);
}

export function loadValue(v: Value_Reader): Value {
  switch (v.which) {
    case "void":
    case "interface":
      return { kind: v.which };
    case "bool":
      return { kind: "bool", value: v.bool };
    case "int8":
      return { kind: "int8", value: v.int8 };
    case "int16":
      return { kind: "int16", value: v.int16 };
    case "int32":
      return { kind: "int32", value: v.int32 };
    case "uint8":
      return { kind: "uint8", value: v.uint8 };
    case "uint16":
      return { kind: "uint16", value: v.uint16 };
    case "uint32":
      return { kind: "uint32", value: v.uint32 };
    case "float32":
      return { kind: "float32", value: v.float32 };
    case "float64":
      return { kind: "float64", value: v.float64 };
    case "enum":
      return { kind: "enum", value: v.enum };
    case "int64":
      return { kind: "int64", value: v.int64 };
    case "uint64":
      return { kind: "uint64", value: v.uint64 };
    case "text":
      return { kind: "text", value: v.text };
    case "data":
      return { kind: "data", value: v.data.slice() };
    case "list":
      return { kind: "list", words: copyToWords(v.list) };
    case "struct":
      return { kind: "struct", words: copyToWords(v.struct) };
    case "anyPointer":
      return { kind: "anyPointer", words: copyToWords(v.anyPointer) };
  }
  throw new SchemaError(`unknown Value (${v.which})`);
}

function loadAnnotations(list: Iterable<Annotation_Reader>): Annotation[] {
  const out: Annotation[] = [];
  for (const a of list) out.push({ id: a.id, brand: loadBrand(a.brand), value: loadValue(a.value) });
  return out;
}

function loadField(f: Field_Reader, doc: string): Field {
  const base = {
    name: f.name,
    codeOrder: f.codeOrder,
    annotations: loadAnnotations(f.annotations),
    discriminantValue: f.discriminantValue,
    ordinal: f.ordinal.which === "explicit" ? f.ordinal.explicit : null,
    doc,
  };
  if (f.which === "group") return { ...base, kind: "group", typeId: f.group.typeId };
  if (f.which !== "slot") throw new SchemaError(`unknown Field kind of ${f.name}`);
  const s = f.slot;
  return {
    ...base,
    kind: "slot",
    offset: s.offset,
    type: loadType(s.type),
    defaultValue: loadValue(s.defaultValue),
    hadExplicitDefault: s.hadExplicitDefault,
  };
}

/** schema.capnp's annotation targets, in the order of the `targetsX` fields. */
export const ANNOTATION_TARGETS = [
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
] as const;

export interface NodeDocs {
  readonly node: string;
  readonly members: readonly string[];
}

/** One Node struct to the model (`docs`: its doc comments, from the request's sourceInfo). */
export function loadNode(n: Node_Reader, docs?: NodeDocs): Node {
  const member = (i: number) => docs?.members[i] ?? "";
  const base = {
    id: n.id,
    displayName: n.displayName,
    displayNamePrefixLength: n.displayNamePrefixLength,
    scopeId: n.scopeId,
    parameters: n.parameters.toArray().map((p) => p.name),
    isGeneric: n.isGeneric,
    nestedNodes: n.nestedNodes.toArray().map((x) => ({ name: x.name, id: x.id })),
    annotations: loadAnnotations(n.annotations),
    doc: docs?.node ?? "",
  };
  try {
    switch (n.which) {
      case "file":
        return { ...base, kind: "file" };
      case "struct": {
        const s = n.struct;
        return {
          ...base,
          kind: "struct",
          dataWordCount: s.dataWordCount,
          pointerCount: s.pointerCount,
          preferredListEncoding: s.preferredListEncoding,
          isGroup: s.isGroup,
          discriminantCount: s.discriminantCount,
          discriminantOffset: s.discriminantOffset,
          fields: s.fields.toArray().map((f, i) => loadField(f, member(i))),
        };
      }
      case "enum":
        return {
          ...base,
          kind: "enum",
          enumerants: n.enum.enumerants.toArray().map((e, i) => ({
            name: e.name,
            codeOrder: e.codeOrder,
            annotations: loadAnnotations(e.annotations),
            doc: member(i),
          })),
        };
      case "interface": {
        const it = n.interface;
        return {
          ...base,
          kind: "interface",
          methods: it.methods.toArray().map((m, i) => ({
            name: m.name,
            codeOrder: m.codeOrder,
            implicitParameters: m.implicitParameters.toArray().map((p) => p.name),
            paramStructType: m.paramStructType,
            paramBrand: loadBrand(m.paramBrand),
            resultStructType: m.resultStructType,
            resultBrand: loadBrand(m.resultBrand),
            annotations: loadAnnotations(m.annotations),
            doc: member(i),
          })),
          superclasses: it.superclasses.toArray().map((c) => ({ id: c.id, brand: loadBrand(c.brand) })),
        };
      }
      case "const":
        return { ...base, kind: "const", type: loadType(n.const.type), value: loadValue(n.const.value) };
      case "annotation": {
        const a = n.annotation;
        const flags = [
          a.targetsFile,
          a.targetsConst,
          a.targetsEnum,
          a.targetsEnumerant,
          a.targetsStruct,
          a.targetsField,
          a.targetsUnion,
          a.targetsGroup,
          a.targetsInterface,
          a.targetsMethod,
          a.targetsParam,
          a.targetsAnnotation,
        ];
        return {
          ...base,
          kind: "annotation",
          type: loadType(a.type),
          targets: ANNOTATION_TARGETS.filter((_, i) => flags[i]),
        };
      }
      default:
        break;
    }
  } catch (e) {
    if (e instanceof SchemaError) throw new SchemaError(`${base.displayName}: ${e.message}`);
    throw e;
  }
  throw new SchemaError(`${base.displayName}: unknown kind of node`);
}

/** Read a CodeGeneratorRequest message (its segments) into the model. */
export function loadRequest(segments: readonly Uint8Array[], options?: ReaderOptions): SchemaRequest {
  const req = new MessageReader(segments, options).getRoot(CodeGeneratorRequest_Reader);
  const docs = new Map<bigint, NodeDocs>();
  for (const si of req.sourceInfo) {
    docs.set(si.id, { node: si.docComment, members: si.members.toArray().map((m) => m.docComment) });
  }
  const nodes = new Map<bigint, Node>();
  for (const n of req.nodes) {
    const node = loadNode(n, docs.get(n.id));
    nodes.set(node.id, node);
  }
  const v = req.capnpVersion;
  return {
    capnpVersion: { major: v.major, minor: v.minor, micro: v.micro },
    nodes,
    requestedFiles: req.requestedFiles.toArray().map((f) => ({
      id: f.id,
      filename: f.filename,
      imports: f.imports.toArray().map((i) => ({ id: i.id, name: i.name })),
    })),
  };
}
