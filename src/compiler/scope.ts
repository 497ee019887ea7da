/**
 * The name table: for every node of the request, the TypeScript identifier its generated
 * declarations start with (`Message_Return` → `Message_Return_Reader`, ...), the file it belongs
 * to, and its path of names for the type namespaces (`Message.Return`). Built once per request
 * over all files, so references into imported files resolve too.
 */
import type { Node, SchemaRequest, StructNode } from "../schema/model.js";
import { CompileError } from "./errors.js";
import { identPart, nestedName, topLevelName } from "./names.js";

export interface NodeName {
  /** Base identifier, unique within the node's file. */
  readonly ident: string;
  /** The file node the declaration lives in. */
  readonly fileId: bigint;
  /** The name under its parent (`Return`), or "" for files and generated param/result structs. */
  readonly local: string;
  /** Parent whose namespace lists this node (0n when it is top-level or unlisted). */
  readonly parent: bigint;
  /** For groups: the struct that owns the data (sizes of builders). */
  readonly kind: "node" | "group" | "params";
}

export class NameTable {
  private readonly names = new Map<bigint, NodeName>();
  /** Every named node, in declaration order (depth first: a node, then what it contains). */
  readonly order: bigint[] = [];
  /** Nested (listed) children of each node, in declaration order. */
  readonly children = new Map<bigint, bigint[]>();

  constructor(readonly req: SchemaRequest) {
    for (const node of req.nodes.values()) {
      if (node.kind === "file") this.visitFile(node);
    }
  }

  node(id: bigint, context?: string): Node {
    const n = this.req.nodes.get(id);
    if (n === undefined) {
      throw new CompileError(
        `refers to node @0x${id.toString(16)}, which the request does not contain`,
        context,
      );
    }
    return n;
  }

  has(id: bigint): boolean {
    return this.names.has(id);
  }

  name(id: bigint, context?: string): NodeName {
    const n = this.names.get(id);
    if (n === undefined) {
      const node = this.req.nodes.get(id);
      throw new CompileError(
        `refers to ${node === undefined ? `unknown node @0x${id.toString(16)}` : `${node.displayName}, which has no name in any file`}`,
        context,
      );
    }
    return n;
  }

  private set(id: bigint, n: NodeName): void {
    if (this.names.has(id)) return; // a node reachable twice (should not happen) keeps its first name
    this.names.set(id, n);
    this.order.push(id);
    if (n.parent !== 0n) {
      let c = this.children.get(n.parent);
      if (c === undefined) this.children.set(n.parent, (c = []));
      c.push(id);
    }
  }

  private visitFile(file: Node): void {
    this.names.set(file.id, { ident: "", fileId: file.id, local: "", parent: 0n, kind: "node" });
    for (const nn of file.nestedNodes) {
      const node = this.req.nodes.get(nn.id);
      if (node === undefined) continue; // imported-but-unused declarations are not in the request
      const local = topLevelName(nn.name);
      this.set(nn.id, { ident: local, fileId: file.id, local, parent: 0n, kind: "node" });
      this.visit(node, local, file.id);
    }
  }

  private visit(node: Node, ident: string, fileId: bigint): void {
    for (const nn of node.nestedNodes) {
      const child = this.req.nodes.get(nn.id);
      if (child === undefined) continue;
      const local = nestedName(nn.name);
      const childIdent = `${ident}_${identPart(nn.name)}`;
      this.set(nn.id, { ident: childIdent, fileId, local, parent: node.id, kind: "node" });
      this.visit(child, childIdent, fileId);
    }
    if (node.kind === "struct") this.visitGroups(node, ident, fileId);
    if (node.kind === "interface") {
      for (const m of node.methods) {
        for (const [id, suffix] of [
          [m.paramStructType, "Params"],
          [m.resultStructType, "Results"],
        ] as const) {
          const s = this.req.nodes.get(id);
          // Only the structs the compiler made for the method ("$Params"/"$Results") are named
          // after it; a method may also name an existing struct.
          if (s !== undefined && s.scopeId === 0n && !this.names.has(id)) {
            const pIdent = `${ident}_${m.name}_${suffix}`;
            this.set(id, { ident: pIdent, fileId, local: "", parent: 0n, kind: "params" });
            this.visit(s, pIdent, fileId);
          }
        }
      }
    }
  }

  private visitGroups(node: StructNode, ident: string, fileId: bigint): void {
    for (const f of node.fields) {
      if (f.kind !== "group") continue;
      const g = this.req.nodes.get(f.typeId);
      if (g === undefined)
        throw new CompileError(`group field ${f.name} refers to a missing node`, node.displayName);
      const gIdent = `${ident}_${identPart(f.name)}`;
      this.set(f.typeId, { ident: gIdent, fileId, local: "", parent: 0n, kind: "group" });
      this.visit(g, gIdent, fileId);
    }
  }

  /** The non-group struct whose storage a group uses (the struct itself when it is not a group). */
  storageOf(node: StructNode): StructNode {
    let n: Node = node;
    while (n.kind === "struct" && n.isGroup) n = this.node(n.scopeId, node.displayName);
    if (n.kind !== "struct") throw new CompileError("group is not inside a struct", node.displayName);
    return n;
  }
}
