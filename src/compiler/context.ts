/**
 * Per-output-file state: which node is being generated, the imports the code so far needs
 * (runtime namespaces and other generated files), and module-level helper constants (default
 * values). Emitters write through it; the file writer assembles the result.
 */
import type { FileNode, Node } from "../schema/model.js";
import { CompileError } from "./errors.js";
import type { NameTable } from "./scope.js";

/** How generated files reach the runtime and each other. */
export interface ModuleResolver {
  /** Module specifier of a runtime entry point ("wire", "rpc", "schema") from this file. */
  runtime(entry: "wire" | "rpc" | "schema"): string;
  /** Module specifier of another schema file's generated module, from this file. */
  file(fileId: bigint): string;
}

export class FileContext {
  /** Lines of module-level constants (defaults), emitted after the imports. */
  readonly helpers: string[] = [];
  private helperCount = 0;
  private readonly helperByKey = new Map<string, string>();
  /** Imported generated files: file id → namespace alias. */
  readonly fileImports = new Map<bigint, string>();
  private readonly aliasesUsed = new Set<string>();
  usesRpc = false;
  /** Display name of the node being generated, for error messages. */
  current = "";

  constructor(
    readonly names: NameTable,
    readonly file: FileNode,
    readonly resolver: ModuleResolver,
  ) {}

  node(id: bigint): Node {
    return this.names.node(id, this.current);
  }

  /** Identifier of a node's declaration plus `suffix`, qualified with its module when imported. */
  ref(id: bigint, suffix: string): string {
    const n = this.names.name(id, this.current);
    const ident = `${n.ident}${suffix}`;
    if (n.fileId === this.file.id) return ident;
    return `${this.importFile(n.fileId)}.${ident}`;
  }

  /** True when `id` is declared in the file being generated. */
  isLocal(id: bigint): boolean {
    return this.names.name(id, this.current).fileId === this.file.id;
  }

  importFile(fileId: bigint): string {
    let alias = this.fileImports.get(fileId);
    if (alias === undefined) {
      const f = this.names.node(fileId, this.current);
      const base = f.displayName
        .replace(/^.*\//, "")
        .replace(/\.capnp$/, "")
        .replace(/[^A-Za-z0-9]/g, "_");
      alias = `$${base}`;
      while (this.aliasesUsed.has(alias) || alias === "$schema" || alias === "$rpc" || alias === "$text")
        alias += "_";
      this.aliasesUsed.add(alias);
      this.fileImports.set(fileId, alias);
    }
    return alias;
  }

  /** The runtime namespace for RPC classes (marks the file as needing it). */
  get rpc(): string {
    this.usesRpc = true;
    return "$rpc";
  }

  /** A module-level constant holding `expr` (deduplicated); returns its name. */
  helper(expr: string): string {
    let name = this.helperByKey.get(expr);
    if (name === undefined) {
      name = `$d${this.helperCount++}`;
      this.helperByKey.set(expr, name);
      this.helpers.push(`const ${name} = ${expr};`);
    }
    return name;
  }

  error(message: string): CompileError {
    return new CompileError(message, this.current);
  }
}
