/**
 * Writing the CodeGeneratorRequest (schema.capnp) from the front end's nodes, leaving unset what
 * capnp leaves unset (an empty annotation list or brand is a null pointer; a struct's field list
 * exists only when it has fields).
 */
import type { Brand, Type } from "../../schema/model.js";
import {
  type Annotation_ListBuilder,
  type Brand_Builder,
  CodeGeneratorRequest_Builder,
  CodeGeneratorRequest_RequestedFile_ListBuilder,
  type Node_Builder,
  Node_ListBuilder,
  Node_SourceInfo_ListBuilder,
  type Type_Builder,
  type Value_Builder,
} from "../../schema/schema.capnp.js";
import { MessageBuilder, MessageReader } from "../../wire/index.js";
import { ANNOTATION_TARGETS } from "./ast.js";
import type { Annotation, Node, SourceInfo, Value } from "./nodes.js";

export interface RequestedFileOut {
  id: bigint;
  filename: string;
  imports: { id: bigint; name: string }[];
}

export const CAPNP_VERSION = { major: 0, minor: 9, micro: 2 };

function writeBrand(brand: Brand, init: () => Brand_Builder): void {
  if (brand.scopes.length === 0) return;
  const scopes = init().initScopes(brand.scopes.length);
  brand.scopes.forEach((s, i) => {
    const b = scopes.get(i);
    b.scopeId = s.scopeId;
    if (s.bind === null) b.setInherit();
    else {
      const binds = b.initBind(s.bind.length);
      s.bind.forEach((t, j) => {
        if (t === null) binds.get(j).setUnbound();
        else writeType(t, binds.get(j).initType());
      });
    }
  });
}

const PRIMITIVE_SETTERS = {
  void: "setVoid",
  bool: "setBool",
  int8: "setInt8",
  int16: "setInt16",
  int32: "setInt32",
  int64: "setInt64",
  uint8: "setUint8",
  uint16: "setUint16",
  uint32: "setUint32",
  uint64: "setUint64",
  float32: "setFloat32",
  float64: "setFloat64",
  text: "setText",
  data: "setData",
} as const;

export function writeType(t: Type, b: Type_Builder): void {
  switch (t.kind) {
    case "void":
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
    case "text":
    case "data":
      b[PRIMITIVE_SETTERS[t.kind]]();
      return;
    case "list":
      writeType(t.elementType, b.initList().initElementType());
      return;
    case "enum": {
      const e = b.initEnum();
      e.typeId = t.typeId;
      writeBrand(t.brand, () => e.initBrand());
      return;
    }
    case "struct": {
      const e = b.initStruct();
      e.typeId = t.typeId;
      writeBrand(t.brand, () => e.initBrand());
      return;
    }
    case "interface": {
      const e = b.initInterface();
      e.typeId = t.typeId;
      writeBrand(t.brand, () => e.initBrand());
      return;
    }
    case "anyPointer": {
      const u = b.initAnyPointer().initUnconstrained();
      if (t.constraint === "anyKind") u.setAnyKind();
      else if (t.constraint === "struct") u.setStruct();
      else if (t.constraint === "list") u.setList();
      else u.setCapability();
      return;
    }
    case "parameter": {
      const p = b.initAnyPointer().initParameter();
      p.scopeId = t.scopeId;
      p.parameterIndex = t.parameterIndex;
      return;
    }
    case "implicitMethodParameter":
      b.initAnyPointer().initImplicitMethodParameter().parameterIndex = t.parameterIndex;
      return;
  }
}

function writeValue(v: Value, b: Value_Builder): void {
  switch (v.kind) {
    case "void":
      b.setVoid();
      return;
    case "interface":
      b.setInterface();
      return;
    case "bool":
      b.bool = v.value;
      return;
    case "int8":
      b.int8 = v.value;
      return;
    case "int16":
      b.int16 = v.value;
      return;
    case "int32":
      b.int32 = v.value;
      return;
    case "uint8":
      b.uint8 = v.value;
      return;
    case "uint16":
      b.uint16 = v.value;
      return;
    case "uint32":
      b.uint32 = v.value;
      return;
    case "float32":
      b.float32 = v.value;
      return;
    case "float64":
      b.float64 = v.value;
      return;
    case "enum":
      b.enum = v.value;
      return;
    case "int64":
      b.int64 = v.value;
      return;
    case "uint64":
      b.uint64 = v.value;
      return;
    case "text":
      // A null text: the discriminant alone (the value struct is fresh, its pointer null).
      if (v.value === null) b._setUint16(0, 12);
      else if (v.bytes !== undefined) {
        // The exact bytes (they need not be UTF-8): Value.text is pointer 0, a byte list
        // ending in NUL.
        b._setUint16(0, 12);
        b._initData(0, v.bytes.length + 1).set(v.bytes);
      } else b.text = v.value;
      return;
    case "data":
      if (v.value === null) b._setUint16(0, 13);
      else b.data = v.value;
      return;
    case "list":
    case "struct":
    case "anyPointer": {
      const p = v.kind === "list" ? b.initList() : v.kind === "struct" ? b.initStruct() : b.initAnyPointer();
      if (v.words !== null) p.set(new MessageReader([v.words]).getRootAnyPointer());
      return;
    }
  }
}

function writeAnnotations(anns: readonly Annotation[], init: (n: number) => Annotation_ListBuilder): void {
  if (anns.length === 0) return;
  const list = init(anns.length);
  anns.forEach((a, i) => {
    const b = list.get(i);
    b.id = a.id;
    writeValue(a.value, b.initValue());
    // capnp reads the brand back through a builder getter, which creates it: always present.
    const brand = b.initBrand();
    writeBrand(a.brand, () => brand);
  });
}

const TARGET_SETTERS = ANNOTATION_TARGETS.map((t) => `targets${t[0]!.toUpperCase()}${t.slice(1)}`);

export function writeNode(n: Node, b: Node_Builder): void {
  b.id = n.id;
  b.displayName = n.displayName;
  b.displayNamePrefixLength = n.displayNamePrefixLength;
  b.scopeId = n.scopeId;
  if (n.nestedNodes !== null) {
    const nested = b.initNestedNodes(n.nestedNodes.length);
    n.nestedNodes.forEach((x, i) => {
      nested.get(i).name = x.name;
      nested.get(i).id = x.id;
    });
  }
  if (n.parameters !== null) {
    const ps = b.initParameters(n.parameters.length);
    n.parameters.forEach((p, i) => {
      ps.get(i).name = p;
    });
  }
  b.isGeneric = n.isGeneric;
  const body = n.body;
  switch (body.kind) {
    case "file":
      b.setFile();
      break;
    case "struct": {
      const s = b.initStruct();
      s.dataWordCount = body.dataWordCount;
      s.pointerCount = body.pointerCount;
      s.preferredListEncoding = 7;
      s.isGroup = body.isGroup;
      s.discriminantCount = body.discriminantCount;
      s.discriminantOffset = body.discriminantOffset;
      if (body.fields !== null) {
        const fs = s.initFields(body.fields.length);
        body.fields.forEach((f, i) => {
          const fb = fs.get(i);
          fb.name = f.name;
          fb.codeOrder = f.codeOrder;
          writeAnnotations(f.annotations, (k) => fb.initAnnotations(k));
          fb.discriminantValue = f.discriminantValue;
          if (f.body.kind === "group") fb.initGroup().typeId = f.body.typeId;
          else {
            const slot = fb.initSlot();
            slot.offset = f.body.offset;
            const tb = slot.initType();
            if (f.body.type !== undefined) writeType(f.body.type, tb);
            writeValue(f.body.defaultValue, slot.initDefaultValue());
            slot.hadExplicitDefault = f.body.hadExplicitDefault;
          }
          if (f.ordinal !== null) fb.initOrdinal().explicit = f.ordinal;
        });
      }
      break;
    }
    case "enum": {
      const es = b.initEnum().initEnumerants(body.enumerants.length);
      body.enumerants.forEach((e, i) => {
        const eb = es.get(i);
        eb.name = e.name;
        eb.codeOrder = e.codeOrder;
        writeAnnotations(e.annotations, (k) => eb.initAnnotations(k));
      });
      break;
    }
    case "interface": {
      const ib = b.initInterface();
      const ms = ib.initMethods(body.methods.length);
      body.methods.forEach((m, i) => {
        const mb = ms.get(i);
        mb.name = m.name;
        mb.codeOrder = m.codeOrder;
        mb.paramStructType = m.paramStructType;
        mb.resultStructType = m.resultStructType;
        writeAnnotations(m.annotations, (k) => mb.initAnnotations(k));
        writeBrand(m.paramBrand, () => mb.initParamBrand());
        writeBrand(m.resultBrand, () => mb.initResultBrand());
        const ip = mb.initImplicitParameters(m.implicitParameters.length);
        m.implicitParameters.forEach((p, j) => {
          ip.get(j).name = p;
        });
      });
      const ss = ib.initSuperclasses(body.superclasses.length);
      body.superclasses.forEach((s, i) => {
        ss.get(i).id = s.id;
        writeBrand(s.brand, () => ss.get(i).initBrand());
      });
      break;
    }
    case "const": {
      const c = b.initConst();
      const tb = c.initType();
      if (body.type !== undefined) writeType(body.type, tb);
      writeValue(body.value, c.initValue());
      break;
    }
    case "annotation": {
      const a = b.initAnnotation();
      const tb = a.initType();
      if (body.type !== undefined) writeType(body.type, tb);
      ANNOTATION_TARGETS.forEach((t, i) => {
        if (body.targets.has(t)) (a as unknown as Record<string, boolean>)[TARGET_SETTERS[i]!] = true;
      });
      break;
    }
  }
  writeAnnotations(n.annotations, (k) => b.initAnnotations(k));
}

/** The request as one message. */
export function writeRequest(
  nodes: readonly Node[],
  sourceInfo: readonly SourceInfo[],
  files: readonly RequestedFileOut[],
): MessageBuilder {
  const m = new MessageBuilder();
  const r = m.initRoot(CodeGeneratorRequest_Builder);
  const v = r.initCapnpVersion();
  v.major = CAPNP_VERSION.major;
  v.minor = CAPNP_VERSION.minor;
  v.micro = CAPNP_VERSION.micro;
  // Structs the size capnp 0.9.2 writes them: its Node, Node.SourceInfo and RequestedFile lack
  // the 1.x fields (positions, fileSourceInfo) that make ours bigger. The 1.x fields are not
  // filled, so the data is the same; the size is what embedded copies of nodes keep.
  const nl = r._initList(0, { ...Node_ListBuilder.kind, dataWords: 5 }, nodes.length);
  nodes.forEach((n, i) => {
    writeNode(n, nl.get(i));
  });
  const sl = r._initList(3, { ...Node_SourceInfo_ListBuilder.kind, dataWords: 1 }, sourceInfo.length);
  sourceInfo.forEach((s, i) => {
    const b = sl.get(i);
    b.id = s.id;
    if (s.docComment !== undefined) b.docComment = s.docComment;
    if (s.members !== null) {
      const ms = b.initMembers(s.members.length);
      s.members.forEach((d, j) => {
        if (d !== undefined) ms.get(j).docComment = d;
      });
    }
  });
  const fl = r._initList(
    1,
    { ...CodeGeneratorRequest_RequestedFile_ListBuilder.kind, ptrCount: 2 },
    files.length,
  );
  files.forEach((f, i) => {
    const b = fl.get(i);
    b.id = f.id;
    b.filename = f.filename;
    const is = b.initImports(f.imports.length);
    f.imports.forEach((x, j) => {
      is.get(j).id = x.id;
      is.get(j).name = x.name;
    });
  });
  return m;
}
