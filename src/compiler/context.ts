/**
 * Per-output-file state: which node is being generated, the imports the code so far needs
 * (runtime namespaces and other generated files), and module-level helper constants (default
 * values). Emitters write through it; the file writer assembles the result.
 */
import { type Bindings, bindingsOf, NO_BINDINGS, resolveBrand } from "../schema/brand.js";
import type { FileNode, Node, Type } from "../schema/model.js";
import { CompileError } from "./errors.js";
import type { NameTable } from "./scope.js";

/**
 * A generic struct with its parameters bound to concrete types, generated as its own classes in
 * the file that uses it (`Box(Text)` → `Box$Text_Reader` whose `value` is a string).
 */
export interface Specialization {
  readonly ident: string;
  readonly typeId: bigint;
  readonly bindings: Bindings;
}

/** How generated files reach the runtime and each other. */
export interface ModuleResolver {
  /** Module specifier of a runtime entry point ("wire", "rpc", "schema") from this file. */
  runtime(entry: "wire" | "rpc" | "schema"): string;
  /** Module specifier of another schema file's generated module, from this file. */
  file(fileId: bigint): string;
}

/**
 * Files whose bindings the RPC runtime itself imports (src/rpc imports src/gen/rpc.capnp.js and
 * rpc-twoparty.capnp.js): they must not import capnts/rpc back, or loading the runtime would run
 * their module code inside its own import cycle. Their `:Capability` fields (rpc-twoparty's
 * JoinResult.cap) stay AnyPointer.
 */
export const RPC_RUNTIME_IMPORTS: ReadonlySet<bigint> = new Set([0xb312981b2552a250n, 0xa184c7885cdaf2a1n]);

export class FileContext {
  /** Lines of module-level constants (defaults), emitted after the imports. */
  readonly helpers: string[] = [];
  private helperCount = 0;
  private readonly helperByKey = new Map<string, string>();
  /** Imported generated files: file id → namespace alias. */
  readonly fileImports = new Map<bigint, string>();
  private readonly aliasesUsed = new Set<string>();
  usesRpc = false;
  /** `:Capability` fields read as AnyPointer (a file the RPC runtime imports). */
  readonly untypedCapabilities: boolean;
  /** Display name of the node being generated, for error messages. */
  current = "";
  /** Generic bindings in effect while generating a specialization. */
  bindings: Bindings = NO_BINDINGS;
  /** Specializations referenced so far (emitted by the file writer until none is pending). */
  readonly specializations = new Map<string, Specialization>();
  private readonly specIdents = new Set<string>();

  constructor(
    readonly names: NameTable,
    readonly file: FileNode,
    readonly resolver: ModuleResolver,
    /** Only these members of these classes (GenerateOptions `members`); undefined: everything. */
    readonly members?: ReadonlyMap<string, ReadonlySet<string>>,
  ) {
    this.untypedCapabilities = RPC_RUNTIME_IMPORTS.has(file.id);
  }

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

  /**
   * Identifier (plus `suffix`) of the classes for struct type `t`: its own, or a specialization
   * when `t` binds generic parameters to concrete types.
   */
  structRef(
    t: {
      typeId: bigint;
      brand: { scopes: readonly { scopeId: bigint; bind: readonly (Type | null)[] | null }[] };
    },
    suffix: string,
  ): string {
    const node = this.node(t.typeId);
    if (node.kind !== "struct" || !node.isGeneric) return this.ref(t.typeId, suffix);
    const brand = resolveBrand(t.brand, this.bindings);
    const concrete = brand.scopes.some((sc) => sc.bind?.some((b) => b !== null && b.kind !== "anyPointer"));
    if (!concrete) return this.ref(t.typeId, suffix);
    const bindings = bindingsOf(brand);
    const key = `${t.typeId}:${JSON.stringify(
      [...bindings].sort((a, b) => (a[0] < b[0] ? -1 : 1)),
      (_, v) => (typeof v === "bigint" ? v.toString() : v),
    )}`;
    let spec = this.specializations.get(key);
    if (spec === undefined) {
      const args = brand.scopes.flatMap((sc) => (sc.bind ?? []).map((b) => this.typeName(b)));
      let ident = `${this.names.name(t.typeId, this.current).ident}$${args.join("$")}`;
      while (this.specIdents.has(ident)) ident += "$";
      this.specIdents.add(ident);
      spec = { ident, typeId: t.typeId, bindings };
      this.specializations.set(key, spec);
    }
    return `${spec.ident}${suffix}`;
  }

  /** A short name of a type for specialization identifiers. */
  private typeName(t: Type | null): string {
    if (t === null) return "Any";
    switch (t.kind) {
      case "struct":
      case "enum":
      case "interface":
        return this.names.name(t.typeId, this.current).ident;
      case "list":
        return `List${this.typeName(t.elementType)}`;
      case "anyPointer":
      case "parameter":
      case "implicitMethodParameter":
        return "Any";
      default:
        return t.kind[0]!.toUpperCase() + t.kind.slice(1);
    }
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
      while (this.aliasesUsed.has(alias) || takenDollarName(alias)) alias += "_";
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

  /** Whether the file needs its `$Client_List` classes (`List(Capability)`). */
  usesClientList = false;

  /** `$Client` + suffix: this file's list classes of untyped clients (emit-file.ts). */
  clientList(suffix: "_List" | "_ListBuilder"): string {
    this.usesClientList = true;
    return `$Client${suffix}`;
  }

  /** A module-level constant holding `expr` (deduplicated); returns its name. */
  helper(expr: string): string {
    let name = this.helperByKey.get(expr);
    if (name === undefined) {
      name = `$d${this.helperCount++}`;
      this.helperByKey.set(expr, name);
      // Helpers build objects (defaults, brand bindings): pure, so bundlers drop unused ones.
      this.helpers.push(`const ${name} = /*#__PURE__*/ ${expr};`);
    }
    return name;
  }

  error(message: string): CompileError {
    return new CompileError(message, this.current);
  }
}

/**
 * `$` names the generated module declares itself: the runtime namespaces, `$schema`, `$inspect`
 * (no longer declared, still reserved so that import aliases stay as they were),
 * helpers `$d0`..., `$Client_List` / `$Client_ListBuilder`, `$Foo_Reader` (the reader class of
 * a struct with a union or of a group) and the constants behind static getters (`$Foo_List_kind`,
 * `$Foo_Client_interface`: names.ts `staticName`). An import alias (`$` + file name) must avoid
 * them.
 */
function takenDollarName(alias: string): boolean {
  return (
    alias === "$" ||
    alias === "$schema" ||
    alias === "$rpc" ||
    alias === "$text" ||
    alias === "$inspect" ||
    /^\$d\d+$/.test(alias) ||
    /_(Reader|List|ListBuilder|kind|interface)$/.test(alias)
  );
}
