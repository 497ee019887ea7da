/**
 * One declaration → its schema node (C++ `NodeTranslator`, node-translator.c++): structs with
 * their groups and layout, enums, interfaces with their implicit param/result structs,
 * constants, annotations; annotation applications; source info (doc comments).
 * Values of pointer type (struct, list) are compiled after every node exists
 * (`unfinishedValues` in C++), through the `values` module.
 */
import type { Brand, Type } from "../../schema/model.js";
import {
  type Declaration,
  type Expression,
  expressionString,
  type MethodParam,
  type ParamList,
} from "./ast.js";
import { type BrandedDecl, BrandScope, type ImplicitParams, NO_IMPLICITS } from "./brand.js";
import { generateGroupId, generateMethodParamsId } from "./ids.js";
import { GroupLayout, Issue344Error, type StructOrGroup, TopLayout, UnionLayout } from "./layout.js";
import type { DeclNode } from "./modules.js";
import type { Annotation, Field, Method, Node, SourceInfo, Value } from "./nodes.js";

/** The node, its groups or param structs (auxiliary nodes), and their source info. */
export interface Translated {
  node: Node;
  aux: Node[];
  sourceInfo: SourceInfo[];
}

/** What a translator needs from the compiler around it. */
export interface TranslateContext {
  /** Compile a value of a type now (primitives) or later (pointers), writing it with `set`. */
  compileValue(
    from: DeclNode,
    brand: BrandScope,
    source: Expression,
    type: Type,
    set: (v: Value) => void,
    isParamNullDefault?: boolean,
  ): void;
  /** The annotation node `id` (compiled), for its type and targets. */
  annotationNode(id: bigint): Node | undefined;
}

const STREAM_RESULT_ID = 0x995f9a3377c0b16en;

export function defaultValue(t: Type | undefined): Value {
  switch (t?.kind) {
    case undefined:
    case "void":
      return { kind: "void" };
    case "bool":
      return { kind: "bool", value: false };
    case "int64":
    case "uint64":
      return { kind: t.kind, value: 0n };
    case "int8":
    case "int16":
    case "int32":
    case "uint8":
    case "uint16":
    case "uint32":
    case "float32":
    case "float64":
    case "enum":
      return { kind: t.kind, value: 0 };
    case "text":
    case "data":
      return { kind: t.kind, value: null };
    case "interface":
      return { kind: "interface" };
    case "list":
    case "struct":
      return { kind: t.kind, words: null };
    default:
      return { kind: "anyPointer", words: null };
  }
}

function lgSizeOf(t: Type | undefined): number {
  switch (t?.kind) {
    case undefined:
    case "void":
      return -1;
    case "bool":
      return 0;
    case "int8":
    case "uint8":
      return 3;
    case "int16":
    case "uint16":
    case "enum":
      return 4;
    case "int32":
    case "uint32":
    case "float32":
      return 5;
    case "int64":
    case "uint64":
    case "float64":
      return 6;
    default:
      return -2;
  }
}

type MemberKind = "field" | "union" | "group";

/** C++ `StructTranslator::MemberInfo`: a field, group or union while a struct is laid out. */
class MemberInfo {
  index = 0;
  childCount = 0;
  childInitialized = 0;
  unionDiscriminantCount = 0;
  schema: Field | undefined;
  unionScope: UnionLayout | undefined;
  /** For fields: the type and default expression; for params, isParam. */
  fieldType: Expression | undefined;
  fieldDefault: Expression | undefined;
  isParam = false;

  constructor(
    readonly parent: MemberInfo | undefined,
    readonly codeOrder: number,
    readonly name: string,
    readonly declKind: MemberKind,
    readonly isInUnion: boolean,
    readonly decl: Declaration | MethodParam | undefined,
    /** Groups / unions / the root: the node being filled. */
    readonly node: Node | undefined,
    readonly sourceInfo: SourceInfo | undefined,
    readonly fieldScope: StructOrGroup | undefined,
    readonly docComment: string | undefined,
  ) {}

  getSchema(): Field {
    if (this.schema !== undefined) return this.schema;
    const parent = this.parent!;
    this.index = parent.childInitialized;
    const slot = parent.addMemberSchema();
    const f: Field = {
      name: this.name,
      codeOrder: this.codeOrder,
      annotations: [],
      discriminantValue: this.isInUnion ? parent.unionDiscriminantCount++ : 0xffff,
      ordinal: null,
      body: { kind: "group", typeId: 0n },
    };
    slot.fields[slot.i] = f;
    slot.docs[slot.i] = this.docComment;
    this.schema = f;
    return f;
  }

  addMemberSchema(): { fields: Field[]; docs: (string | undefined)[]; i: number } {
    const s = this.node!.body;
    if (s.kind !== "struct") throw new Error("capnts internal error: not a struct");
    if (s.fields === null) {
      if (this.parent !== undefined) this.getSchema();
      s.fields = new Array(this.childCount);
      this.sourceInfo!.members = new Array(this.childCount).fill(undefined);
    }
    return { fields: s.fields, docs: this.sourceInfo!.members!, i: this.childInitialized++ };
  }

  finishGroup(): void {
    const s = this.node!.body;
    if (s.kind !== "struct") return;
    if (this.unionScope !== undefined) {
      this.unionScope.addDiscriminant();
      s.discriminantCount = this.unionDiscriminantCount;
      s.discriminantOffset = this.unionScope.discriminantOffset!;
    }
    if (this.parent !== undefined) {
      const groupId = generateGroupId(this.parent.node!.id, this.index);
      this.node!.id = groupId;
      this.node!.scopeId = this.parent.node!.id;
      this.getSchema().body = { kind: "group", typeId: groupId };
      this.sourceInfo!.id = groupId;
      this.sourceInfo!.docComment = this.docComment;
    }
  }
}

function emptyStruct(): Node["body"] {
  return {
    kind: "struct",
    dataWordCount: 0,
    pointerCount: 0,
    isGroup: false,
    discriminantCount: 0,
    discriminantOffset: 0,
    fields: null,
  };
}

export class NodeTranslator {
  readonly localBrand: BrandScope;
  readonly groups: { node: Node; sourceInfo: SourceInfo }[] = [];
  readonly paramStructs: { node: Node; sourceInfo: SourceInfo }[] = [];
  readonly sourceInfo: SourceInfo;
  readonly node: Node;

  constructor(
    readonly self: DeclNode,
    readonly ctx: TranslateContext,
  ) {
    this.localBrand = BrandScope.forDecl(self.errors, self.id, self.paramCount, self);
    const name = self.displayName;
    let prefix = 0;
    const dot = name.lastIndexOf(".");
    if (dot >= 0) prefix = dot + 1;
    const colon = name.lastIndexOf(":");
    if (colon >= 0 && colon > prefix) prefix = colon + 1;
    this.node = {
      id: self.id,
      displayName: name,
      displayNamePrefixLength: prefix,
      scopeId: self.parent?.id ?? 0n,
      parameters: null,
      isGeneric: false,
      nestedNodes: self.ordered.map((n) => ({ name: n.decl.name.value, id: n.id })),
      annotations: [],
      body: { kind: "file" },
    };
    this.sourceInfo = { id: self.id, docComment: undefined, members: null };
  }

  get errors() {
    return this.self.errors;
  }

  translate(): Translated {
    const decl = this.self.decl;
    checkDuplicateNames(this, decl.nested, decl.body.kind);
    if (decl.parameters.length > 0) this.node.parameters = decl.parameters.map((p) => p.name);
    this.node.isGeneric = this.localBrand.isGeneric();
    let target: string;
    const b = decl.body;
    switch (b.kind) {
      case "file":
        target = "file";
        break;
      case "const": {
        target = "const";
        const type = this.compileType(b.type, NO_IMPLICITS);
        const body = { kind: "const" as const, type, value: defaultValue(type) };
        this.node.body = body;
        if (type !== undefined)
          this.ctx.compileValue(this.self, this.localBrand, b.value, type, (v) => (body.value = v));
        break;
      }
      case "annotation":
        target = "annotation";
        this.node.body = {
          kind: "annotation",
          type: this.compileType(b.type, NO_IMPLICITS),
          targets: b.targets,
        };
        break;
      case "enum":
        target = "enum";
        this.compileEnum(decl.nested);
        break;
      case "struct":
        target = "struct";
        this.node.body = emptyStruct();
        new StructTranslator(this, NO_IMPLICITS).translate(decl.nested, this.node, this.sourceInfo);
        break;
      case "interface":
        target = "interface";
        this.compileInterface(b.superclasses, decl.nested);
        break;
      default:
        throw new Error(`capnts internal error: ${b.kind} is not a node`);
    }
    this.node.annotations = this.compileAnnotations(decl.annotations, target);
    this.sourceInfo.docComment = decl.docComment;
    const aux = this.node.body.kind === "interface" ? this.paramStructs : this.groups;
    return {
      node: this.node,
      aux: aux.map((a) => a.node),
      sourceInfo: [
        this.sourceInfo,
        ...this.groups.map((g) => g.sourceInfo),
        ...this.paramStructs.map((p) => p.sourceInfo),
      ],
    };
  }

  compileDeclExpression(e: Expression, implicits: ImplicitParams): BrandedDecl | undefined {
    return this.localBrand.compileDeclExpression(e, this.self, implicits);
  }

  compileType(e: Expression, implicits: ImplicitParams): Type | undefined {
    return this.compileDeclExpression(e, implicits)?.compileAsType(this.errors);
  }

  private compileEnum(members: readonly Declaration[]): void {
    const enumerants = members
      .filter((m) => m.body.kind === "enumerant")
      .map((m, codeOrder) => ({ m, codeOrder }))
      .sort((a, b) => ordinalOf(a.m) - ordinalOf(b.m));
    const dup = new DuplicateOrdinalDetector(this);
    const list: { name: string; codeOrder: number; annotations: Annotation[] }[] = [];
    this.sourceInfo.members = [];
    for (const { m, codeOrder } of enumerants) {
      if (m.id.kind === "ordinal") dup.check(m.id.value);
      this.sourceInfo.members.push(m.docComment);
      list.push({
        name: m.name.value,
        codeOrder,
        annotations: this.compileAnnotations(m.annotations, "enumerant"),
      });
    }
    this.node.body = { kind: "enum", enumerants: list };
  }

  private compileInterface(superclasses: readonly Expression[], members: readonly Declaration[]): void {
    const supers: { id: bigint; brand: Brand }[] = [];
    for (const s of superclasses) {
      const d = this.compileDeclExpression(s, NO_IMPLICITS);
      if (d === undefined) {
        supers.push({ id: 0n, brand: { scopes: [] } });
        continue;
      }
      const k = d.declKind;
      if (k === "interface") supers.push(d.idAndBrand());
      else {
        supers.push({ id: 0n, brand: { scopes: [] } });
        if (k !== undefined) d.addError(this.errors, `'${d.toString()}' is not an interface.`);
        else
          d.addError(
            this.errors,
            `'${d.toString()}' is an unbound generic parameter. Currently we don't support extending these.`,
          );
      }
    }
    const methods = members
      .filter((m) => m.body.kind === "method")
      .map((m, codeOrder) => ({ m, codeOrder }))
      .sort((a, b) => ordinalOf(a.m) - ordinalOf(b.m));
    const dup = new DuplicateOrdinalDetector(this);
    const out: Method[] = [];
    this.sourceInfo.members = [];
    const body = { kind: "interface" as const, methods: out, superclasses: supers };
    this.node.body = body;
    for (const { m, codeOrder } of methods) {
      if (m.body.kind !== "method" || m.id.kind !== "ordinal") continue;
      dup.check(m.id.value);
      const ordinal = Number(m.id.value.value) & 0xffff;
      this.sourceInfo.members.push(m.docComment);
      const implicits = m.parameters.map((p) => p.name);
      if (m.body.params.kind === "stream")
        this.errors.on(m.body.params, "'stream' can only appear after '->', not before.");
      const params = this.compileParamList(m.name.value, ordinal, false, m.body.params, implicits);
      const results = this.compileParamList(m.name.value, ordinal, true, m.body.results, implicits);
      out.push({
        name: m.name.value,
        codeOrder,
        implicitParameters: implicits,
        paramStructType: params.id,
        paramBrand: params.brand,
        resultStructType: results.id,
        resultBrand: results.brand,
        annotations: this.compileAnnotations(m.annotations, "method"),
      });
    }
  }

  private compileParamList(
    methodName: string,
    ordinal: number,
    isResults: boolean,
    list: ParamList | undefined,
    implicits: readonly string[],
  ): { id: bigint; brand: Brand } {
    // No result list at all is an empty named list (C++ default-constructed ParamList).
    const pl: ParamList = list ?? { kind: "namedList", params: [], startByte: 0, endByte: 0 };
    switch (pl.kind) {
      case "namedList": {
        const typeName = `${methodName}${isResults ? "$Results" : "$Params"}`;
        const id = generateMethodParamsId(this.node.id, ordinal, isResults);
        const displayName = `${this.node.displayName}.${typeName}`;
        const node: Node = {
          id,
          displayName,
          displayNamePrefixLength: displayName.length - typeName.length,
          scopeId: 0n,
          parameters: null,
          isGeneric: this.node.isGeneric || implicits.length > 0,
          nestedNodes: null,
          annotations: [],
          body: emptyStruct(),
        };
        // capnp 0.9.2 leaves this id 0 (every param struct's source info then collides on
        // id 0 and one arbitrary entry survives); 1.x sets it to the struct's id, as we do.
        const sourceInfo: SourceInfo = { id, docComment: undefined, members: null };
        new StructTranslator(this, { scopeId: id, names: implicits }).translateParams(
          pl.params,
          node,
          sourceInfo,
        );
        this.paramStructs.push({ node, sourceInfo });
        const brand = this.localBrand.push(id, implicits.length);
        // capnp (0.9.2 and 1.x) binds the implicit parameters on a copy of the scope that it
        // then drops, so the method's brand does not bind them: we write what capnp writes.
        if (implicits.length > 0) node.parameters = [...implicits];
        return { id, brand: brand.compile() };
      }
      case "type": {
        const target = this.compileDeclExpression(pl.type, { scopeId: 0n, names: implicits });
        if (target === undefined) return { id: 0n, brand: { scopes: [] } };
        const k = target.declKind;
        if (k === "struct") return target.idAndBrand();
        if (k !== undefined) {
          this.errors.on(pl.type, `'${exprText(pl.type)}' is not a struct type.`);
          return { id: 0n, brand: { scopes: [] } };
        }
        target.addError(
          this.errors,
          "Cannot use generic parameter as whole input or output of a method. Instead, use a parameter/result list containing a field with this type.",
        );
        return { id: 0n, brand: { scopes: [] } };
      }
      case "stream": {
        const stream = this.self.module.importRelative("/capnp/stream.capnp");
        if (stream === undefined)
          this.errors.on(
            pl,
            "A method declaration uses streaming, but '/capnp/stream.capnp' is not found in the import path. This is a standard file that should always be installed with the Cap'n Proto compiler.",
          );
        else if (stream.root.nested.get("StreamResult") === undefined)
          this.errors.on(
            pl,
            "The version of '/capnp/stream.capnp' found in your import path does not appear to be the official one; it is missing the declaration of StreamResult.",
          );
        return { id: STREAM_RESULT_ID, brand: { scopes: [] } };
      }
    }
  }

  /** C++ `compileAnnotationApplications`: `target` is the kind of thing annotated. */
  compileAnnotations(anns: Declaration["annotations"], target: string): Annotation[] {
    const out: Annotation[] = [];
    for (const a of anns) {
      const ann: Annotation = { id: 0n, brand: { scopes: [] }, value: { kind: "void" } };
      out.push(ann);
      const d = this.compileDeclExpression(a.name, NO_IMPLICITS);
      if (d === undefined) continue;
      const k = d.declKind;
      if (k !== "annotation") {
        this.errors.on(a.name, `'${exprText(a.name)}' is not an annotation.`);
        continue;
      }
      const { id, brand } = d.idAndBrand();
      Object.assign(ann, { id, brand });
      const node = this.ctx.annotationNode(id);
      if (node === undefined || node.body.kind !== "annotation") continue;
      if (!node.body.targets.has(target as never))
        this.errors.on(a.name, `'${exprText(a.name)}' cannot be applied to this kind of declaration.`);
      const type = node.body.type;
      if (a.value === undefined) {
        if (type === undefined || type.kind === "void") ann.value = { kind: "void" };
        else {
          this.errors.on(a.name, `'${exprText(a.name)}' requires a value.`);
          ann.value = defaultValue(type);
        }
      } else if (type !== undefined) {
        ann.value = defaultValue(type);
        this.ctx.compileValue(this.self, this.localBrand, a.value, type, (v) => (ann.value = v));
      }
    }
    return out;
  }
}

const exprText = expressionString;

function ordinalOf(d: Declaration): number {
  return d.id.kind === "ordinal" ? Number(d.id.value.value) : 0;
}

class DuplicateOrdinalDetector {
  private expected = 0;
  private last: { value: bigint; startByte: number; endByte: number } | undefined;
  constructor(readonly t: NodeTranslator) {}
  check(o: { value: bigint; startByte: number; endByte: number }): void {
    const v = Number(o.value);
    if (v < this.expected) {
      this.t.errors.on(o, "Duplicate ordinal number.");
      if (this.last !== undefined) {
        this.t.errors.on(this.last, `Ordinal @${this.last.value} originally used here.`);
        this.last = undefined;
      }
    } else if (v > this.expected) {
      this.t.errors.on(o, `Skipped ordinal @${this.expected}.  Ordinals must be sequential with no holes.`);
      this.expected = v + 1;
    } else {
      ++this.expected;
      this.last = o;
    }
  }
}

class StructTranslator {
  private readonly layout = new TopLayout();
  private readonly byOrdinal: { ordinal: number; member: MemberInfo }[] = [];
  private readonly all: MemberInfo[] = [];

  constructor(
    readonly t: NodeTranslator,
    readonly implicits: ImplicitParams,
  ) {}

  translate(members: readonly Declaration[], node: Node, sourceInfo: SourceInfo): void {
    const root = new MemberInfo(
      undefined,
      0,
      "",
      "group",
      false,
      undefined,
      node,
      sourceInfo,
      undefined,
      undefined,
    );
    this.traverseTopOrGroup(members, root, this.layout);
    this.finish(root, node);
  }

  translateParams(params: readonly MethodParam[], node: Node, sourceInfo: SourceInfo): void {
    const root = new MemberInfo(
      undefined,
      0,
      "",
      "group",
      false,
      undefined,
      node,
      sourceInfo,
      undefined,
      undefined,
    );
    params.forEach((p, i) => {
      root.childCount++;
      const m = new MemberInfo(
        root,
        i,
        p.name.value,
        "field",
        false,
        p,
        undefined,
        undefined,
        this.layout,
        undefined,
      );
      m.fieldType = p.type;
      m.fieldDefault = p.defaultValue;
      m.isParam = true;
      this.all.push(m);
      this.byOrdinal.push({ ordinal: i, member: m });
    });
    this.finish(root, node);
  }

  private newGroupNode(parent: Node, name: string): { node: Node; sourceInfo: SourceInfo } {
    const displayName = `${parent.displayName}.${name}`;
    const node: Node = {
      id: 0n,
      displayName,
      displayNamePrefixLength: displayName.length - name.length,
      scopeId: 0n,
      parameters: null,
      isGeneric: parent.isGeneric,
      nestedNodes: null,
      annotations: [],
      body: { ...(emptyStruct() as object), isGroup: true } as Node["body"],
    };
    const g = { node, sourceInfo: { id: 0n, docComment: undefined, members: null } as SourceInfo };
    this.t.groups.push(g);
    return g;
  }

  private fieldMember(
    parent: MemberInfo,
    codeOrder: number,
    d: Declaration,
    scope: StructOrGroup,
    inUnion: boolean,
  ) {
    const m = new MemberInfo(
      parent,
      codeOrder,
      d.name.value,
      "field",
      inUnion,
      d,
      undefined,
      undefined,
      scope,
      d.docComment,
    );
    if (d.body.kind === "field") {
      m.fieldType = d.body.type;
      m.fieldDefault = d.body.defaultValue;
    }
    return m;
  }

  private groupMember(
    parent: MemberInfo,
    codeOrder: number,
    d: Declaration,
    kind: MemberKind,
    inUnion: boolean,
  ) {
    const g = this.newGroupNode(parent.node!, d.name.value);
    return new MemberInfo(
      parent,
      codeOrder,
      d.name.value,
      kind,
      inUnion,
      d,
      g.node,
      g.sourceInfo,
      undefined,
      d.docComment,
    );
  }

  private traverseUnion(
    decl: Declaration,
    members: readonly Declaration[],
    parent: MemberInfo,
    layout: UnionLayout,
    codeOrder: { n: number },
  ) {
    if (members.length < 2) this.t.errors.on(decl, "Union must have at least two members.");
    for (const member of members) {
      let ordinal: number | undefined;
      let info: MemberInfo | undefined;
      switch (member.body.kind) {
        case "field": {
          parent.childCount++;
          info = this.fieldMember(parent, codeOrder.n++, member, new GroupLayout(layout), true);
          this.all.push(info);
          ordinal = ordinalOf(member);
          break;
        }
        case "union":
          if (member.name.value === "") this.t.errors.on(member, "Unions cannot contain unnamed unions.");
          else {
            parent.childCount++;
            const unionLayout = new UnionLayout(new GroupLayout(layout));
            info = this.groupMember(parent, codeOrder.n++, member, "union", true);
            this.all.push(info);
            info.unionScope = unionLayout;
            this.traverseUnion(member, member.nested, info, unionLayout, { n: 0 });
            if (member.id.kind === "ordinal") ordinal = ordinalOf(member);
          }
          break;
        case "group": {
          parent.childCount++;
          const group = new GroupLayout(layout);
          info = this.groupMember(parent, codeOrder.n++, member, "group", true);
          this.all.push(info);
          this.traverseGroup(member, info, group);
          break;
        }
        default:
          break;
      }
      if (ordinal !== undefined && info !== undefined) this.byOrdinal.push({ ordinal, member: info });
    }
  }

  private traverseGroup(decl: Declaration, parent: MemberInfo, layout: StructOrGroup) {
    if (decl.nested.length < 1) this.t.errors.on(decl, "Group must have at least one member.");
    this.traverseTopOrGroup(decl.nested, parent, layout);
  }

  private traverseTopOrGroup(members: readonly Declaration[], parent: MemberInfo, layout: StructOrGroup) {
    const codeOrder = { n: 0 };
    for (const member of members) {
      let ordinal: number | undefined;
      let info: MemberInfo | undefined;
      switch (member.body.kind) {
        case "field":
          parent.childCount++;
          info = this.fieldMember(parent, codeOrder.n++, member, layout, false);
          this.all.push(info);
          ordinal = ordinalOf(member);
          break;
        case "union": {
          const unionLayout = new UnionLayout(layout);
          let sub = { n: 0 };
          if (member.name.value === "") {
            info = parent;
            sub = codeOrder;
          } else {
            parent.childCount++;
            info = this.groupMember(parent, codeOrder.n++, member, "union", false);
            this.all.push(info);
          }
          info.unionScope = unionLayout;
          this.traverseUnion(member, member.nested, info, unionLayout, sub);
          if (member.id.kind === "ordinal") ordinal = ordinalOf(member);
          break;
        }
        case "group":
          parent.childCount++;
          info = this.groupMember(parent, codeOrder.n++, member, "group", false);
          this.all.push(info);
          this.traverseGroup(member, info, layout);
          break;
        default:
          break;
      }
      if (ordinal !== undefined && info !== undefined) this.byOrdinal.push({ ordinal, member: info });
    }
  }

  private finish(root: MemberInfo, node: Node): void {
    // std::multimap: ordinal order, equal ordinals in insertion order (a stable sort).
    const entries = this.byOrdinal
      .map((e, i) => ({ ...e, i }))
      .sort((a, b) => a.ordinal - b.ordinal || a.i - b.i);
    const dup = new DuplicateOrdinalDetector(this.t);
    for (const { ordinal, member } of entries) {
      const d = member.decl;
      if (d !== undefined && "id" in d && d.id.kind === "ordinal") dup.check(d.id.value);
      const field = member.getSchema();
      field.ordinal = ordinal;
      if (member.declKind === "field") {
        const type =
          member.fieldType === undefined ? undefined : this.t.compileType(member.fieldType, this.implicits);
        const slot = {
          kind: "slot" as const,
          offset: 0,
          type,
          defaultValue: defaultValue(type),
          hadExplicitDefault: false,
        };
        field.body = slot;
        if (type !== undefined && member.fieldDefault !== undefined) {
          const dv = member.fieldDefault;
          if (member.isParam && dv.kind === "relativeName" && dv.name.value === "null") {
            if (lgSizeOf(type) !== -2)
              this.t.errors.on(dv.name, "Only pointer parameters can declare their default as 'null'.");
          } else {
            this.t.ctx.compileValue(this.t.self, this.t.localBrand, dv, type, (v) => (slot.defaultValue = v));
          }
          slot.hadExplicitDefault = true;
        }
        const lg = lgSizeOf(type);
        const scope = member.fieldScope!;
        try {
          if (lg === -2) slot.offset = scope.addPointer();
          else if (lg === -1) scope.addVoid();
          else slot.offset = scope.addData(lg);
        } catch (e) {
          if (!(e instanceof Issue344Error)) throw e;
          // capnp stops with this assertion (naming the member); we report it on the field.
          this.t.errors.on(d !== undefined && "name" in d ? d.name : { startByte: 0, endByte: 0 }, e.message);
        }
      } else if (member.declKind === "union") {
        if (!member.unionScope!.addDiscriminant() && d !== undefined && "id" in d && d.id.kind === "ordinal")
          this.t.errors.on(
            d.id.value,
            "Union ordinal, if specified, must be greater than no more than one of its member ordinals (i.e. there can only be one field retroactively unionized).",
          );
      }
    }
    root.finishGroup();
    for (const m of this.all) {
      let target: string;
      if (m.isParam) target = "param";
      else if (m.declKind === "field") target = "field";
      else {
        m.finishGroup();
        target = m.declKind;
      }
      m.getSchema().annotations = this.t.compileAnnotations(m.decl?.annotations ?? [], target);
    }
    const s = node.body;
    if (s.kind !== "struct") return;
    s.dataWordCount = this.layout.dataWordCount;
    s.pointerCount = this.layout.pointerCount;
    for (const g of this.t.groups) {
      const gb = g.node.body;
      if (gb.kind === "struct") {
        gb.dataWordCount = s.dataWordCount;
        gb.pointerCount = s.pointerCount;
      }
    }
  }
}

/** C++ `DuplicateNameDetector` and the naming rules it enforces. */
function checkDuplicateNames(t: NodeTranslator, nested: readonly Declaration[], parentKind: string): void {
  const names = new Map<string, Declaration["name"]>();
  const errors = t.errors;
  const check = (decls: readonly Declaration[], kind: string, seen: Map<string, Declaration["name"]>) => {
    for (const d of decls) {
      const name = d.name;
      const text = name.value;
      const prev = seen.get(text);
      if (prev !== undefined) {
        if (text.length === 0 && d.body.kind === "union") {
          errors.on(name, "An unnamed union is already defined in this scope.");
          errors.on(prev, "Previously defined here.");
        } else {
          errors.on(name, `'${text}' is already defined in this scope.`);
          errors.on(prev, `'${text}' previously defined here.`);
        }
      } else seen.set(text, name);
      const lower = text.length > 0 && (text[0]! < "a" || text[0]! > "z");
      const upper = text.length > 0 && (text[0]! < "A" || text[0]! > "Z");
      switch (d.body.kind) {
        case "using": {
          const target = targetName(d.body.target);
          if (target.length > 0 && target[0]! >= "a" && target[0]! <= "z") {
            if (lower) errors.on(name, "Non-type names must begin with a lower-case letter.");
          } else if (upper) errors.on(name, "Type names must begin with a capital letter.");
          break;
        }
        case "enum":
        case "struct":
        case "interface":
          if (upper) errors.on(name, "Type names must begin with a capital letter.");
          break;
        default:
          if (lower) errors.on(name, "Non-type names must begin with a lower-case letter.");
      }
      if (text.includes("_"))
        errors.on(
          name,
          "Cap'n Proto declaration names should use camelCase and must not contain underscores. (Code generators may convert names to the appropriate style for the target language.)",
        );
      switch (d.body.kind) {
        case "using":
        case "const":
        case "enum":
        case "struct":
        case "interface":
        case "annotation":
          if (kind !== "file" && kind !== "struct" && kind !== "interface")
            errors.on(d, "This kind of declaration doesn't belong here.");
          break;
        case "enumerant":
          if (kind !== "enum") errors.on(d, "Enumerants can only appear in enums.");
          break;
        case "method":
          if (kind !== "interface") errors.on(d, "Methods can only appear in interfaces.");
          break;
        case "field":
        case "union":
        case "group":
          if (kind !== "struct" && kind !== "union" && kind !== "group")
            errors.on(d, "This declaration can only appear in structs.");
          if (text.length === 0) check(d.nested, d.body.kind, seen);
          else check(d.nested, d.body.kind, new Map());
          break;
        default:
          errors.on(d, "This kind of declaration doesn't belong here.");
      }
    }
  };
  check(nested, parentKind, names);
}

function targetName(e: Expression): string {
  switch (e.kind) {
    case "absoluteName":
    case "relativeName":
      return e.name.value;
    case "application":
      return targetName(e.fn);
    case "member":
      return e.name.value;
    default:
      return "";
  }
}
