/**
 * Schema registry for reflection: nodes by id, loaded from the schema blobs embedded in generated
 * files (`$schema` of each module) or from a CodeGeneratorRequest. A process-wide loader
 * (`schemas`) serves generated code's `toString()`; create your own for isolated use.
 *
 * An embedded blob is base64 of a single-segment message whose root pointer is a List(AnyPointer)
 * of schema.capnp `Node` structs: the file node and every node declared in the file.
 */
import { AnyPointerList, MessageReader } from "../wire/index.js";
import type { SchemaFile } from "../wire/stringify.js";
import { decodeBase64 } from "./base64.js";
import { loadNode, SchemaError } from "./load.js";
import type { EnumNode, InterfaceNode, Node, SchemaRequest, StructNode } from "./model.js";
import { Node_Reader } from "./schema.capnp.js";

export type { SchemaFile };

/** Decode an embedded blob into Node readers (no copy beyond the base64 decoding). */
export function decodeSchemaNodes(blob: string): Node_Reader[] {
  const bytes = decodeBase64(blob);
  const list = new MessageReader([bytes], { traversalLimitInWords: 1 << 30 })
    .getRootAnyPointer()
    .getList(AnyPointerList.kind);
  const out: Node_Reader[] = [];
  for (const p of list) out.push(p.getAs(Node_Reader));
  return out;
}

export class SchemaLoader {
  private readonly nodes = new Map<bigint, Node>();
  private readonly files = new WeakSet<SchemaFile>();

  /** Add a generated file's nodes (and, transitively, those of the files it imports). */
  addFile(file: SchemaFile): this {
    if (this.files.has(file)) return this;
    this.files.add(file);
    for (const n of decodeSchemaNodes(file.nodes)) {
      const node = loadNode(n);
      if (!this.nodes.has(node.id)) this.nodes.set(node.id, node);
    }
    for (const f of file.imports()) this.addFile(f);
    return this;
  }

  /** Add loaded nodes (e.g. a whole CodeGeneratorRequest). */
  addRequest(req: SchemaRequest): this {
    for (const n of req.nodes.values()) if (!this.nodes.has(n.id)) this.nodes.set(n.id, n);
    return this;
  }

  has(id: bigint): boolean {
    return this.nodes.has(id);
  }

  get(id: bigint): Node {
    const n = this.nodes.get(id);
    if (n === undefined) throw new SchemaError(`No schema loaded for node @0x${id.toString(16)}.`);
    return n;
  }

  getStruct(id: bigint): StructNode {
    const n = this.get(id);
    if (n.kind !== "struct") throw new SchemaError(`${n.displayName} is not a struct.`);
    return n;
  }

  getEnum(id: bigint): EnumNode {
    const n = this.get(id);
    if (n.kind !== "enum") throw new SchemaError(`${n.displayName} is not an enum.`);
    return n;
  }

  getInterface(id: bigint): InterfaceNode {
    const n = this.get(id);
    if (n.kind !== "interface") throw new SchemaError(`${n.displayName} is not an interface.`);
    return n;
  }

  /**
   * A node by its name within a file (`Foo`, `Foo.Bar`): `file` is the file node's id or its
   * display name (as capnp printed it, e.g. "foo.capnp").
   */
  find(file: bigint | string, path: string): Node {
    let scope: Node | undefined;
    if (typeof file === "bigint") scope = this.nodes.get(file);
    else for (const n of this.nodes.values()) if (n.kind === "file" && n.displayName === file) scope = n;
    if (scope === undefined) throw new SchemaError(`No schema loaded for file ${String(file)}.`);
    for (const part of path.split(".")) {
      const nn: { name: string; id: bigint } | undefined = scope.nestedNodes.find((x) => x.name === part);
      if (nn === undefined) throw new SchemaError(`"${path}" is not defined in ${scope.displayName}.`);
      scope = this.get(nn.id);
    }
    return scope;
  }

  values(): IterableIterator<Node> {
    return this.nodes.values();
  }
}

/** The process-wide loader used by generated code (`toString()`, `inspect`). */
export const schemas = new SchemaLoader();
