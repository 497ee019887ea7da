/**
 * Schema files and the declarations in them (C++ `Compiler::CompiledModule` / `Compiler::Node`):
 * loading and importing files, node IDs and display names, and name lookup through scopes.
 */
import type { Declaration } from "./ast.js";
import type { ResolvedDecl, ResolveResult, Resolver } from "./brand.js";
import { ErrorReporter } from "./errors.js";
import { generateChildId } from "./ids.js";
import { lex } from "./lexer.js";
import { Parser } from "./parser.js";

/** Where schema files come from (the CLI reads the disk; a browser could serve them from memory). */
export interface SchemaSource {
  /** The file's bytes, or undefined when it does not exist. */
  readFile(path: string): Uint8Array | undefined;
}

export function normalizePath(path: string): string {
  const abs = path.startsWith("/");
  const out: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === ".." && out.length > 0 && out[out.length - 1] !== "..") out.pop();
    else out.push(part);
  }
  return (abs ? "/" : "") + out.join("/");
}

function dirname(path: string): string {
  const i = path.lastIndexOf("/");
  return i < 0 ? "" : path.slice(0, i);
}

/** Builtin names (grammar.capnp's `builtin*` declarations), visible from every scope. */
const BUILTINS: Record<string, number> = {
  Void: 0,
  Bool: 0,
  Int8: 0,
  Int16: 0,
  Int32: 0,
  Int64: 0,
  UInt8: 0,
  UInt16: 0,
  UInt32: 0,
  UInt64: 0,
  Float32: 0,
  Float64: 0,
  Text: 0,
  Data: 0,
  List: 1,
  Object: 0,
  AnyPointer: 0,
  AnyStruct: 0,
  AnyList: 0,
  Capability: 0,
};
const BUILTIN_ORDER = Object.keys(BUILTINS);

export function builtinDecl(name: string): ResolvedDecl {
  // capnp gives builtins bogus ids below any real one (1000 + declaration kind).
  return {
    kind: "decl",
    id: BigInt(1000 + BUILTIN_ORDER.indexOf(name)),
    paramCount: BUILTINS[name]!,
    scopeId: 0n,
    declKind: `builtin:${name}`,
    resolver: BUILTIN_RESOLVER,
  };
}

const BUILTIN_RESOLVER: Resolver = {
  resolve: () => undefined,
  resolveMember: () => undefined,
  getParent: () => undefined,
  getTopScope: () => {
    throw new Error("capnts internal error: builtin has no scope");
  },
  resolveBuiltin: builtinDecl,
  resolveId: () => {
    throw new Error("capnts internal error: builtin has no scope");
  },
  resolveImport: () => undefined,
};

export class Module {
  readonly root: DeclNode;
  readonly errors: ErrorReporter;
  readonly imports = new Map<string, Module | undefined>();
  constructor(
    readonly program: Program,
    /** The name capnp prints for the file (displayName of its node). */
    readonly sourceName: string,
    readonly path: string,
    readonly text: Uint8Array,
  ) {
    this.errors = new ErrorReporter(sourceName);
    const decl = new Parser(this.errors).file(lex(text, this.errors), sourceName);
    this.root = new DeclNode(this, undefined, decl);
  }

  /** C++ `importRelative`: `/x` from the import path, anything else beside this file. */
  importRelative(name: string): Module | undefined {
    if (this.imports.has(name)) return this.imports.get(name);
    let m: Module | undefined;
    if (name.startsWith("/")) {
      for (const dir of this.program.importPaths) {
        m = this.program.load(normalizePath(`${dir}/${name.slice(1)}`), normalizePath(name.slice(1)));
        if (m !== undefined) break;
      }
    } else {
      const d = dirname(this.path);
      const sd = dirname(this.sourceName);
      m = this.program.load(
        normalizePath(d === "" ? name : `${d}/${name}`),
        normalizePath(sd === "" ? name : `${sd}/${name}`),
      );
    }
    this.imports.set(name, m);
    return m;
  }

  readEmbed(name: string): Uint8Array | undefined {
    if (name.startsWith("/")) {
      for (const dir of this.program.importPaths) {
        const b = this.program.source.readFile(normalizePath(`${dir}/${name.slice(1)}`));
        if (b !== undefined) return b;
      }
      return undefined;
    }
    const d = dirname(this.path);
    return this.program.source.readFile(normalizePath(d === "" ? name : `${d}/${name}`));
  }
}

/** The declarations that become nodes. */
const NODE_KINDS = new Set(["file", "const", "annotation", "enum", "struct", "interface"]);

export class DeclNode implements Resolver {
  readonly id: bigint;
  readonly displayName: string;
  readonly nested = new Map<string, DeclNode>();
  readonly ordered: DeclNode[] = [];
  readonly aliases = new Map<string, Alias>();

  constructor(
    readonly module: Module,
    readonly parent: DeclNode | undefined,
    readonly decl: Declaration,
  ) {
    const name = decl.name.value;
    this.id =
      decl.id.kind === "uid"
        ? decl.id.value.value
        : parent === undefined
          ? 0n
          : generateChildId(parent.id, name);
    this.displayName =
      parent === undefined
        ? module.sourceName
        : `${parent.displayName}${parent.parent === undefined ? ":" : "."}${name}`;
    this.id = module.program.register(this);
    for (const d of decl.nested) {
      if (NODE_KINDS.has(d.body.kind)) {
        const n = new DeclNode(module, this, d);
        this.ordered.push(n);
        if (!this.nested.has(d.name.value)) this.nested.set(d.name.value, n);
      } else if (d.body.kind === "using") {
        if (!this.aliases.has(d.name.value)) this.aliases.set(d.name.value, new Alias(this, d));
      }
    }
  }

  get kind(): string {
    return this.decl.body.kind;
  }
  get paramCount(): number {
    return this.decl.parameters.length;
  }
  get errors(): ErrorReporter {
    return this.module.errors;
  }
  /** Where capnp reports errors about the node itself: its name, else the whole declaration. */
  get location(): { startByte: number; endByte: number } {
    return this.decl.name.value.length > 0 && this.parent !== undefined ? this.decl.name : this.decl;
  }

  asResolved(): ResolvedDecl {
    return {
      kind: "decl",
      id: this.id,
      paramCount: this.paramCount,
      scopeId: this.parent?.id ?? 0n,
      declKind: this.kind,
      resolver: this,
    };
  }

  resolve(name: string): ResolveResult | undefined {
    const m = this.resolveMember(name);
    if (m !== undefined) return m;
    const i = this.decl.parameters.findIndex((p) => p.name === name);
    if (i >= 0) return { kind: "param", id: this.id, index: i };
    if (this.parent !== undefined) return this.parent.resolve(name);
    if (Object.hasOwn(BUILTINS, name)) return builtinDecl(name);
    return undefined;
  }

  resolveMember(name: string): ResolveResult | undefined {
    const n = this.nested.get(name);
    if (n !== undefined) return n.asResolved();
    return this.aliases.get(name)?.compile();
  }

  getParent(): ResolvedDecl | undefined {
    return this.parent?.asResolved();
  }

  getTopScope(): ResolvedDecl {
    return { ...this.module.root.asResolved(), paramCount: 0 };
  }

  resolveBuiltin(name: string): ResolvedDecl {
    return builtinDecl(name);
  }

  resolveId(id: bigint): ResolvedDecl {
    const n = this.module.program.nodes.get(id);
    if (n === undefined) throw new Error(`capnts internal error: no node @0x${id.toString(16)}`);
    return n.asResolved();
  }

  resolveImport(name: string): ResolvedDecl | undefined {
    const m = this.module.importRelative(name);
    if (m === undefined) return undefined;
    return { ...m.root.asResolved(), paramCount: 0 };
  }
}

/** A `using` declaration, compiled when first looked up. */
export class Alias {
  private done = false;
  private result: ResolveResult | undefined;
  constructor(
    readonly scope: DeclNode,
    readonly decl: Declaration,
  ) {}
  compile(): ResolveResult | undefined {
    if (!this.done) {
      this.done = true;
      this.result = this.scope.module.program.compileAlias(this.scope, this.decl);
    }
    return this.result;
  }
}

/** The set of loaded files and their nodes by id (C++ `Compiler::Impl`). */
export class Program {
  readonly nodes = new Map<bigint, DeclNode>();
  readonly modules = new Map<string, Module>();
  private nextBogusId = 1000n;

  constructor(
    readonly source: SchemaSource,
    readonly importPaths: readonly string[],
    readonly compileAlias: (scope: DeclNode, decl: Declaration) => ResolveResult | undefined,
  ) {}

  load(path: string, sourceName: string): Module | undefined {
    const key = normalizePath(path);
    const existing = this.modules.get(key);
    if (existing !== undefined) return existing;
    const text = this.source.readFile(key);
    if (text === undefined) return undefined;
    const m = new Module(this, sourceName, key, text);
    this.modules.set(key, m);
    return m;
  }

  /** Register a node's id; a duplicate is an error on both and gets a bogus id, as in capnp. */
  register(n: DeclNode): bigint {
    const other = this.nodes.get(n.id);
    if (other === undefined) {
      this.nodes.set(n.id, n);
      return n.id;
    }
    const hex = n.id.toString(16);
    n.module.errors.on(n.location, `Duplicate ID @0x${hex}.`);
    other.module.errors.on(other.location, `ID @0x${hex} originally used here.`);
    return this.nextBogusId++;
  }
}
