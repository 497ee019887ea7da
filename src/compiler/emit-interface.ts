/**
 * Interface emitter (docs/generated-code-contract.md, "Interfaces"): for `interface Foo`
 *
 * - `Foo_Client extends $rpc.Client` (or the first superclass's client): one method per schema
 *   method returning a RemotePromise of the results reader with the results pipeline, plus
 *   `fooRequest()`; methods of further superclasses are added to the class directly.
 *   `-> stream` methods return `Promise<void>` through `_callStreaming`.
 * - `Foo_Server`: the interface a user implements (every method optional; missing ones answer
 *   "unimplemented"), extending the superclasses' server interfaces.
 * - `Foo_dispatch`: routes (interfaceId, methodId) to the implementation, superclasses included.
 * - Pipeline classes (`X_Pipeline`) for the structs of files that use capabilities: one getter
 *   per capability field (`_getCap`), struct field (`_getPipeline`) and group.
 */
import { resolveType } from "../schema/brand.js";
import type { Annotation, InterfaceNode, Method, Node, StructNode, Type } from "../schema/model.js";
import type { FileContext } from "./context.js";
import { CLIENT_MEMBERS, hexBig, jsdoc, MemberNames, PIPELINE_MEMBERS, staticName, str } from "./names.js";

/** stream.capnp `StreamResult`: methods returning it are streaming. */
export const STREAM_RESULT_ID = 0x995f9a3377c0b16en;
/** c++.capnp (1.x) `allowCancellation`. */
export const ALLOW_CANCELLATION_ID = 0xac7096ff8cfc9dcen;

/** An interface type, or `:Capability` (AnyPointer constrained to capabilities). */
export function isCapability(t: Type): boolean {
  return t.kind === "interface" || (t.kind === "anyPointer" && t.constraint === "capability");
}

/**
 * Whether a file gets pipeline classes: it declares interfaces or capability fields (`:Capability`
 * ones only when they are typed: not in the files the RPC runtime imports, see generate.ts).
 */
export function fileUsesCapabilities(nodes: Iterable<Node>, untypedCapabilities = false): boolean {
  for (const n of nodes) {
    if (n.kind === "interface") return true;
    if (
      n.kind === "struct" &&
      n.fields.some(
        (f) =>
          f.kind === "slot" && (untypedCapabilities ? f.type.kind === "interface" : isCapability(f.type)),
      )
    )
      return true;
  }
  return false;
}

/** The pipeline class for a struct, or the untyped base when its file has none. */
export function pipelineRef(ctx: FileContext, structId: bigint, pipelineFiles: ReadonlySet<bigint>): string {
  const n = ctx.names.name(structId, ctx.current);
  if (!pipelineFiles.has(n.fileId)) return `${ctx.rpc}.Pipeline`;
  return ctx.ref(structId, "_Pipeline");
}

export function emitPipeline(
  ctx: FileContext,
  node: StructNode,
  ident: string,
  pipelineFiles: ReadonlySet<bigint>,
): string {
  ctx.current = node.displayName;
  const rpc = ctx.rpc;
  // The reader's names, and `$` where the Pipeline base has the member (`close`).
  const m = new MemberNames(PIPELINE_MEMBERS);
  const body: string[] = [];
  for (const f of node.fields) {
    if (f.kind === "group") {
      const g = pipelineRef(ctx, f.typeId, pipelineFiles);
      body.push(`  get ${m.own(f.name)}(): ${g} {`, `    return new ${g}(this._hook, this._ops);`, `  }`);
      continue;
    }
    // Generic parameters take the bindings of a specialization (`Box(Foo)`: a Foo capability).
    const t = resolveType(f.type, ctx.bindings);
    if (t.kind === "struct") {
      const p = pipelineRef(ctx, t.typeId, pipelineFiles);
      body.push(
        `${jsdoc(f.doc, "  ")}  get ${m.own(f.name)}(): ${p} {`,
        `    return this._getPipeline(${f.offset}, ${p});`,
        `  }`,
      );
    } else if (isCapability(t)) {
      const c = t.kind === "interface" ? ctx.ref(t.typeId, "_Client") : `${rpc}.Client`;
      body.push(
        `${jsdoc(f.doc, "  ")}  /** A new reference to the promised capability; close it when done. */`,
        `  get ${m.own(f.name)}(): ${c} {`,
        `    return this._getCap(${f.offset}, ${c});`,
        `  }`,
      );
    }
  }
  const title = node.displayName.slice(node.displayNamePrefixLength);
  return `/** Promise pipeline of ${title}. */\nexport class ${ident}_Pipeline extends ${rpc}.Pipeline {\n${body.join("\n")}${body.length > 0 ? "\n" : ""}}\n`;
}

/**
 * Typed lists of capabilities (`List(Foo)`: `Foo_List` / `Foo_ListBuilder`; `List(Capability)`:
 * a file's `$ClientList` / `$ClientListBuilder` over `$rpc.Client`), subclasses of the runtime's
 * CapabilityList / CapabilityListBuilder. `get(i)` is a new reference to element i's capability
 * (close it) or null for a null pointer; the builder's `set(i, v)` takes a client, a Server or
 * null, the message keeping its own reference. Element i is handed to `$rpc.getClient` /
 * `$rpc.setClient` as pointer 0 of a one-pointer struct view, so references and broken entries
 * are handled by the runtime exactly as for capability fields.
 */
export function emitClientLists(ctx: FileContext, name: string, client: string, title: string): string {
  const rpc = ctx.rpc;
  const kind = (cls: string, type: string) => [
    `  static override get kind(): ${type}<${cls}> {`,
    `    return ${staticName(cls, "kind")};`,
    `  }`,
  ];
  const kindConst = (cls: string, type: string) => [
    `const ${staticName(cls, "kind")}: ${type}<${cls}> = {`,
    `  size: 6 /* POINTER */,`,
    `  dataWords: 0,`,
    `  ptrCount: 0,`,
    `  make: (arena, seg, off, len, step, ds, pc, nest, es) => new ${cls}(arena, seg, off, len, step, ds, pc, nest, es),`,
    `};`,
  ];
  // A server of this interface (or of a subinterface); any server for the untyped Client.
  const server = client === `${rpc}.Client` ? `${rpc}.Server` : `${rpc}.Server<${client}>`;
  const view = (base: string) => `new ${base}(this._arena, this._seg, 0, 0, this._ptr(i), 1, this._nesting)`;
  const get = (base: string) => [
    `  override get(i: number): ${client} | null {`,
    `    const element = ${view(base)};`,
    `    return element._hasPointer(0) ? ${rpc}.getClient(element, 0, ${client}) : null;`,
    `  }`,
  ];
  return [
    `/** List(${title}): \`get(i)\` is a new reference to element i (close it), or null. */`,
    `export class ${name}_List extends $.CapabilityList<${client}> {`,
    ...kind(`${name}_List`, "$.ListKind"),
    ...get("$.StructReader"),
    `}`,
    ...kindConst(`${name}_List`, "$.ListKind"),
    ``,
    `/** Builder of List(${title}): \`set(i, v)\` takes a client, a Server or null (the list keeps its own reference). */`,
    `export class ${name}_ListBuilder extends $.CapabilityListBuilder<${client}> {`,
    ...kind(`${name}_ListBuilder`, "$.ListBuilderKind"),
    ...get("$.StructBuilder"),
    `  override set(i: number, value: ${client} | ${server} | null): void {`,
    `    ${rpc}.setClient(${view("$.StructBuilder")}, 0, value);`,
    `  }`,
    `}`,
    ...kindConst(`${name}_ListBuilder`, "$.ListBuilderKind"),
    ``,
  ].join("\n");
}

function hasAnnotation(list: readonly Annotation[], id: bigint): boolean {
  return list.some((a) => a.id === id);
}

interface MethodRef {
  iface: InterfaceNode;
  index: number;
  method: Method;
}

/** All ancestors of an interface (not itself), depth-first, each once. */
function ancestors(
  ctx: FileContext,
  node: InterfaceNode,
  out: InterfaceNode[] = [],
  seen = new Set<bigint>(),
): InterfaceNode[] {
  for (const s of node.superclasses) {
    if (seen.has(s.id)) continue;
    seen.add(s.id);
    const sn = ctx.node(s.id);
    if (sn.kind !== "interface") throw ctx.error(`superclass @0x${s.id.toString(16)} is not an interface`);
    out.push(sn);
    ancestors(ctx, sn, out, seen);
  }
  return out;
}

export function emitInterface(
  ctx: FileContext,
  node: InterfaceNode,
  ident: string,
  pipelineFiles: ReadonlySet<bigint>,
): string {
  ctx.current = node.displayName;
  const rpc = ctx.rpc;
  const title = node.displayName.slice(node.displayNamePrefixLength);
  const id = hexBig(node.id);
  const file = ctx.file;
  const fileCancel = hasAnnotation(file.annotations, ALLOW_CANCELLATION_ID);
  const ifaceCancel = fileCancel || hasAnnotation(node.annotations, ALLOW_CANCELLATION_ID);

  // The client class extends the first superclass's client; methods of interfaces not reachable
  // through it are added here, so every inherited method is callable on this client.
  const first = node.superclasses[0];
  const base = first === undefined ? `${rpc}.Client` : ctx.ref(first.id, "_Client");
  const inherited = new Set<bigint>(first === undefined ? [] : [first.id]);
  if (first !== undefined) {
    const fn = ctx.node(first.id);
    if (fn.kind === "interface") for (const a of ancestors(ctx, fn)) inherited.add(a.id);
  }
  const own: MethodRef[] = node.methods.map((method, index) => ({ iface: node, index, method }));
  for (const a of ancestors(ctx, node)) {
    if (inherited.has(a.id)) continue;
    a.methods.forEach((method, index) => {
      own.push({ iface: a, index, method });
    });
  }

  const names = new MemberNames(CLIENT_MEMBERS);
  const methodNames = own.map((r) => names.own(r.method.name));
  const requestNames = own.map((r) => names.derived("", r.method.name, "Request"));

  const client: string[] = [];
  const infos: string[] = [];
  for (const m of node.methods) {
    const streaming = m.resultStructType === STREAM_RESULT_ID;
    const cancel = ifaceCancel || hasAnnotation(m.annotations, ALLOW_CANCELLATION_ID);
    infos.push(
      `    {`,
      `      name: ${str(m.name)},`,
      `      get params() {`,
      `        return ${ctx.ref(m.paramStructType, "_Reader")};`,
      `      },`,
      `      get results() {`,
      `        return ${ctx.ref(m.resultStructType, "_Builder")};`,
      `      },`,
      ...(streaming ? [`      streaming: true,`] : []),
      ...(cancel ? [`      allowCancellation: true,`] : []),
      `    },`,
    );
  }
  own.forEach((r, k) => {
    const m = r.method;
    const ifaceId = hexBig(r.iface.id);
    const pb = ctx.ref(m.paramStructType, "_Builder");
    const rr = ctx.ref(m.resultStructType, "_Reader");
    const rp = pipelineRef(ctx, m.resultStructType, pipelineFiles);
    const doc = jsdoc(m.doc, "  ");
    if (m.resultStructType === STREAM_RESULT_ID) {
      client.push(
        `${doc}  /** Streaming call: settles when flow control lets the next call go. */`,
        `  ${methodNames[k]}(init?: (params: ${pb}) => void): Promise<void> {`,
        `    return this._callStreaming(${ifaceId}, ${r.index}, ${pb}, init);`,
        `  }`,
      );
    } else {
      client.push(
        `${doc}  ${methodNames[k]}(init?: (params: ${pb}) => void): ${rpc}.RemotePromise<${rr}, ${rp}> {`,
        `    return this._call(${ifaceId}, ${r.index}, ${pb}, ${rr}, ${rp}, init);`,
        `  }`,
      );
    }
    client.push(
      `  ${requestNames[k]}(): ${rpc}.Request<${pb}, ${rr}, ${rp}> {`,
      `    return this._request(${ifaceId}, ${r.index}, ${pb}, ${rr}, ${rp});`,
      `  }`,
    );
  });

  const supers = node.superclasses.map((s) => `${ctx.ref(s.id, "_Client")}._interface`);
  const info = staticName(`${ident}_Client`, "interface");
  let code = jsdoc(node.doc, "") || `/** Client of interface ${title}. */\n`;
  code += `export class ${ident}_Client extends ${base} {\n`;
  code += `  static override get _interface(): ${rpc}.InterfaceInfo {\n    return ${info};\n  }\n`;
  code += `  /**\n   * A capability of ${title}: from a server of ${title} (\`${title}.server(impl)\`) or of a\n`;
  code += `   * subinterface, another client of it (a new reference), a promise of one, an Error (a broken\n`;
  code += `   * capability) or null (the null capability).\n   */\n`;
  code += `  constructor(source?: ${rpc}.ClientSource<${ident}_Client>) {\n    super(source);\n  }\n`;
  code += client.join("\n");
  code += `${client.length ? "\n" : ""}}\n`;
  code += `const ${info}: ${rpc}.InterfaceInfo = {\n`;
  code += `  typeId: ${id},\n  name: ${str(title)},\n  methods: [\n${infos.join("\n")}${infos.length ? "\n" : ""}  ],\n`;
  if (supers.length > 0) code += `  get superclasses() {\n    return [${supers.join(", ")}];\n  },\n`;
  code += `};\n\n`;
  code += `${emitClientLists(ctx, ident, `${ident}_Client`, title)}\n`;

  // Server interface.
  const serverNames = new MemberNames(CLIENT_MEMBERS);
  const ext = node.superclasses.map((s) => ctx.ref(s.id, "_Server"));
  code += `/** What an implementation of ${title} provides (missing methods answer "unimplemented"). */\n`;
  // The superclasses' interfaces already extend ServerHooks.
  const bases = ext.length > 0 ? ext : [`${rpc}.ServerHooks`];
  code += `export interface ${ident}_Server extends ${bases.join(", ")} {\n`;
  const serverMethod: string[] = [];
  node.methods.forEach((m) => {
    const name = serverNames.own(m.name);
    serverMethod.push(name);
    const pr = ctx.ref(m.paramStructType, "_Reader");
    const rb = ctx.ref(m.resultStructType, "_Builder");
    code += jsdoc(m.doc, "  ");
    code += `  ${name}?(context: ${rpc}.CallContext<${pr}, ${rb}>): Promise<void> | void;\n`;
  });
  code += `}\n\n`;

  // Dispatch.
  code += `/** Routes a call on ${title} (or a superclass) to the implementation. */\n`;
  code += `export function ${ident}_dispatch(\n  impl: ${ident}_Server,\n  interfaceId: bigint,\n  methodId: number,\n  context: ${rpc}.CallContext<unknown, unknown>,\n): Promise<void> | void {\n`;
  code += `  switch (interfaceId) {\n    case ${id}:\n      switch (methodId) {\n`;
  node.methods.forEach((m, i) => {
    const name = serverMethod[i]!;
    const pr = ctx.ref(m.paramStructType, "_Reader");
    const rb = ctx.ref(m.resultStructType, "_Builder");
    code += `        case ${i}:\n`;
    code += `          if (impl.${name} === undefined) ${rpc}.unimplemented(${str(title)}, ${str(m.name)}, ${id}, ${i});\n`;
    code += `          return impl.${name}(context as ${rpc}.CallContext<${pr}, ${rb}>);\n`;
  });
  code += `      }\n      break;\n`;
  code += `  }\n`;
  for (const s of node.superclasses) {
    code += `  if (${hasAncestorExpr(ctx, s.id)}) {\n`;
    code += `    return ${ctx.ref(s.id, "_dispatch")}(impl, interfaceId, methodId, context);\n  }\n`;
  }
  code += `  return ${rpc}.unimplemented(${str(title)}, \`method \${methodId}\`, interfaceId, methodId);\n}\n`;
  code += `\n/** Method ordinals of ${title}. */\nexport const ${ident}_methods = {\n`;
  node.methods.forEach((m, i) => {
    code += `  ${m.name}: ${i},\n`;
  });
  code += `} as const;\n`;
  return code;
}

/** A runtime test "interfaceId is the superclass `id` or one of its ancestors". */
function hasAncestorExpr(ctx: FileContext, id: bigint): string {
  const n = ctx.node(id);
  const ids = [id, ...(n.kind === "interface" ? ancestors(ctx, n).map((a) => a.id) : [])];
  return ids.map((x) => `interfaceId === ${hexBig(x)}`).join(" || ");
}
