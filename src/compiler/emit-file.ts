/**
 * One output module per schema file. Layout (the order matters: module-level code may only use
 * what is already defined):
 *
 *   header, imports (runtime namespaces `$`, `$rpc`, `$text`; imported schema files `$name`)
 *   `$schema` (this file's nodes, for reflection and the text format) and helper constants
 *   enums, struct classes, pipelines, interfaces (superclasses first)
 *   constants (may build readers, so after the classes)
 *   namespace objects (children before parents), type namespaces
 *
 * Module-level code never calls into `$rpc`, nor into `$text` beyond `registerSchema` (which
 * src/wire defines): the schema runtime imports the generated schema.capnp bindings, so it may be
 * mid-evaluation when a generated module runs.
 */
import { NO_BINDINGS } from "../schema/brand.js";
import type { FileNode, InterfaceNode, Node } from "../schema/model.js";
import { FileContext, type ModuleResolver } from "./context.js";
import { emitClientLists, emitInterface, emitPipeline } from "./emit-interface.js";
import { emitConst, emitEnum, emitNamespaceObject, emitTypeNamespace, hasNamespace } from "./emit-misc.js";
import { emitStruct } from "./emit-struct.js";
import { hexBig, jsdoc } from "./names.js";
import type { NameTable } from "./scope.js";
import { VERSION } from "./version.js";

export interface FileInput {
  names: NameTable;
  file: FileNode;
  /** Source file name as given to capnp (for the header). */
  filename: string;
  resolver: ModuleResolver;
  /** The generator options, as the header names them (generate.ts `describeOptions`). */
  options: string;
  /** Files whose structs have `_Pipeline` classes. */
  pipelineFiles: ReadonlySet<bigint>;
  /** This file's nodes encoded for embedding (base64 of a single-segment message); null: no `$schema`. */
  schemaBase64: string | null;
  /** Only these members of these classes (GenerateOptions `members`). */
  members?: ReadonlyMap<string, ReadonlySet<string>> | undefined;
}

/** Every node declared in `file`, parents before children (groups and param structs included). */
export function fileNodes(names: NameTable, file: FileNode): Node[] {
  const out: Node[] = [];
  for (const id of names.order) {
    if (names.name(id).fileId === file.id) out.push(names.node(id));
  }
  return out;
}

function chunk(s: string, n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < s.length; i += n) out.push(s.slice(i, i + n));
  return out.length === 0 ? [""] : out;
}

export function emitFile(input: FileInput): string {
  const { names, file } = input;
  const ctx = new FileContext(names, file, input.resolver, input.members);
  const nodes = fileNodes(names, file);
  const withPipelines = input.pipelineFiles.has(file.id);
  const ident = (n: Node) => names.name(n.id).ident;

  const enums: string[] = [];
  const structs: string[] = [];
  const ifaces: string[] = [];
  const consts: string[] = [];
  for (const n of nodes) {
    switch (n.kind) {
      case "enum":
        enums.push(emitEnum(ctx, n, ident(n)));
        break;
      case "struct":
        structs.push(emitStruct(ctx, n, ident(n)));
        if (withPipelines) structs.push(emitPipeline(ctx, n, ident(n), input.pipelineFiles));
        break;
      case "const":
        consts.push(emitConst(ctx, n, ident(n)));
        break;
      default:
        break;
    }
  }
  // Specializations of generic structs referenced so far (they may reference further ones).
  const emittedSpecs = new Set<string>();
  for (let more = true; more; ) {
    more = false;
    for (const spec of [...ctx.specializations.values()]) {
      if (emittedSpecs.has(spec.ident)) continue;
      emittedSpecs.add(spec.ident);
      more = true;
      const n = names.node(spec.typeId);
      if (n.kind !== "struct") continue;
      ctx.bindings = spec.bindings;
      structs.push(emitStruct(ctx, n, spec.ident));
      if (withPipelines) structs.push(emitPipeline(ctx, n, spec.ident, input.pipelineFiles));
      ctx.bindings = NO_BINDINGS;
    }
  }

  // Interfaces: a client class extends its first superclass's, so local superclasses go first.
  const done = new Set<bigint>();
  const visit = (n: InterfaceNode): void => {
    if (done.has(n.id)) return;
    done.add(n.id);
    for (const s of n.superclasses) {
      const sn = names.req.nodes.get(s.id);
      if (sn?.kind === "interface" && ctx.isLocal(s.id)) visit(sn);
    }
    ifaces.push(emitInterface(ctx, n, ident(n), input.pipelineFiles));
  };
  for (const n of nodes) if (n.kind === "interface") visit(n);

  // Namespace objects: children first (a parent's object refers to its children's).
  const objects: string[] = [];
  const types: string[] = [];
  const emitted = new Set<bigint>();
  const post = (id: bigint): void => {
    for (const c of names.children.get(id) ?? []) post(c);
    const n = names.req.nodes.get(id);
    if (n === undefined || !hasNamespace(n) || emitted.has(id)) return;
    emitted.add(id);
    ctx.current = n.displayName;
    objects.push(emitNamespaceObject(ctx, n, ident(n)));
  };
  for (const n of nodes) {
    const nn = names.name(n.id);
    if (nn.parent === 0n) {
      post(n.id);
      if (hasNamespace(n) && nn.kind === "node") types.push(emitTypeNamespace(ctx, n, ident(n)));
    }
  }

  // `List(Capability)` reads as lists of untyped clients (classes declared before any use).
  if (ctx.usesClientList) structs.unshift(emitClientLists(ctx, "$Client", `${ctx.rpc}.Client`, "Capability"));

  // Imports last: emitting decided which are needed.
  let body = "";
  for (const section of [enums, structs, ifaces, consts, objects, types]) {
    if (section.length > 0) body += `\n${section.join("\n")}`;
  }
  const helpers = ctx.helpers.length > 0 ? `\n${ctx.helpers.join("\n")}\n` : "";
  const imports: string[] = [];
  const wire = input.resolver.runtime("wire");
  // From a package, the three runtime namespaces are one entry (capnts/codegenv1): one import,
  // and `$rpc.X` / `$text.X` are written `$.X` (below). Inside this repository they are three
  // modules, so that src/gen does not load the RPC runtime that imports it.
  const single = wire === input.resolver.runtime("rpc") && wire === input.resolver.runtime("schema");
  if (single) {
    imports.push(`import * as $ from ${JSON.stringify(wire)};`);
  } else {
    if (/(?<![\w$])\$\./.test(body + helpers)) imports.push(`import * as $ from ${JSON.stringify(wire)};`);
    if (ctx.usesRpc) imports.push(`import * as $rpc from ${JSON.stringify(input.resolver.runtime("rpc"))};`);
    if (input.schemaBase64 !== null || /(?<![\w$])\$text\./.test(body + helpers))
      imports.push(`import * as $text from ${JSON.stringify(input.resolver.runtime("schema"))};`);
  }
  const fileImports = [...ctx.fileImports].sort((a, b) => (a[1] < b[1] ? -1 : 1));
  for (const [id, alias] of fileImports) {
    imports.push(`import * as ${alias} from ${JSON.stringify(input.resolver.file(id))};`);
  }

  let out = `// Generated by capnpc-capnts ${VERSION} from ${input.filename} (${input.options}). Do not edit.\n`;
  const fileDoc = jsdoc(file.doc, "");
  if (fileDoc !== "") out += fileDoc;
  out += `${imports.join("\n")}\n`;
  if (input.schemaBase64 !== null) {
    const b64 = chunk(input.schemaBase64, 100);
    const deps = fileImports.map(([, alias]) => `${alias}.$schema`);
    // Registered for toString() as the module is evaluated, but referred to by no class: marked
    // pure, so that a bundle which never uses it drops the blob (src/wire/stringify.ts).
    out += `\n/** Schema nodes of ${input.filename} (reflection, text format): an encoded List(Node). */\n`;
    out += `export const $schema: $text.SchemaFile = /*#__PURE__*/ $text.registerSchema({\n  id: ${hexBig(file.id)},\n  nodes:\n`;
    out += b64.map((l, i) => `    ${JSON.stringify(l)}${i < b64.length - 1 ? " +" : ","}`).join("\n");
    out += `\n  imports: () => [${deps.join(", ")}],\n});\n`;
  }
  out += helpers + body;
  return single ? out.replace(/(?<![\w$])\$(?:rpc|text)\./g, "$.") : out;
}
