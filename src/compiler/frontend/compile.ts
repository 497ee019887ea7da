/**
 * The schema compiler front end: `.capnp` files in, the CodeGeneratorRequest `capnp compile -o-`
 * writes out (c++/src/capnp/compiler/compiler.c++ and capnp.c++). Nodes are compiled when needed;
 * the request holds every node of the requested files and, transitively, every node they depend
 * on and those nodes' parents (capnp's default eagerness), with their source info.
 */

import type { Type } from "../../schema/model.js";
import type { MessageBuilder } from "../../wire/index.js";
import type { Declaration, Expression } from "./ast.js";
import { BrandScope, NO_IMPLICITS, type ResolveResult } from "./brand.js";
import { type LocatedDiagnostic, SchemaCompileError } from "./errors.js";
import { type DeclNode, normalizePath, Program, type SchemaSource } from "./modules.js";
import type { Node, SourceInfo, Value } from "./nodes.js";
import { type RequestedFileOut, writeRequest } from "./request.js";
import { NodeTranslator, type TranslateContext, type Translated } from "./translate.js";
import { ValueCompiler, type ValueHost } from "./values.js";

export interface CompileOptions {
  /** Reads schema files (paths as given, joined with import directories). */
  readonly source: SchemaSource;
  /** Directories searched for `/…` imports, in order (capnp's `-I`, then the standard ones). */
  readonly importPaths?: readonly string[];
}

/** A file to compile: where to read it, and the name capnp gives it (node display names). */
export interface RequestedSchema {
  readonly path: string;
  readonly name: string;
}

export interface CompiledSchemas {
  /** The CodeGeneratorRequest, as `capnp compile -o-` writes it. */
  readonly request: MessageBuilder;
  readonly nodes: readonly Node[];
  readonly sourceInfo: readonly SourceInfo[];
  readonly requestedFiles: readonly RequestedFileOut[];
}

// C++ Compiler::Eagerness.
const NODE = 1;
const PARENTS = 2;
const CHILDREN = 4;
const DEPENDENCIES = 1 << 15;

interface Job {
  state: "pending" | "running" | "done";
  run(): void;
}

class Compiler implements TranslateContext, ValueHost {
  readonly program: Program;
  private readonly translated = new Map<DeclNode, Translated | undefined>();
  private readonly inProgress = new Set<DeclNode>();
  private readonly jobs: Job[] = [];
  private readonly constJobs = new Map<bigint, Job>();

  constructor(options: CompileOptions) {
    this.program = new Program(options.source, options.importPaths ?? [], (scope, decl) =>
      this.compileAlias(scope, decl),
    );
  }

  compileAlias(scope: DeclNode, decl: Declaration): ResolveResult | undefined {
    if (decl.body.kind !== "using") return undefined;
    const brand = BrandScope.forDecl(scope.errors, scope.id, scope.paramCount, scope);
    const d = brand.compileDeclExpression(decl.body.target, scope, NO_IMPLICITS);
    if (d === undefined) return undefined;
    if (d.body.kind === "param") return d.body;
    const compiled = d.brand!.compile();
    return { ...d.body, scopeId: scope.id, ...(compiled.scopes.length > 0 ? { brand: compiled } : {}) };
  }

  compileNode(n: DeclNode): Translated | undefined {
    if (this.translated.has(n)) return this.translated.get(n);
    if (this.inProgress.has(n)) {
      n.errors.on(n.location, "Declaration recursively depends on itself.");
      return undefined;
    }
    this.inProgress.add(n);
    try {
      const t = new NodeTranslator(n, this).translate();
      this.translated.set(n, t);
      return t;
    } finally {
      this.inProgress.delete(n);
    }
  }

  // ---- TranslateContext / ValueHost --------------------------------------------------------

  annotationNode(id: bigint): Node | undefined {
    const d = this.program.nodes.get(id);
    return d === undefined ? undefined : this.compileNode(d)?.node;
  }

  nodeOf(id: bigint): { node: Node; aux: Node[] } | undefined {
    const d = this.program.nodes.get(id);
    return d === undefined ? undefined : this.compileNode(d);
  }

  constValue(id: bigint): { type: Type | undefined; value: Value } | undefined {
    const d = this.program.nodes.get(id);
    if (d === undefined) return undefined;
    const t = this.compileNode(d);
    if (t === undefined || t.node.body.kind !== "const") return undefined;
    const job = this.constJobs.get(id);
    if (job !== undefined && job.state !== "done") {
      if (job.state === "running") {
        d.errors.on(d.location, "Declaration recursively depends on itself.");
        return undefined;
      }
      this.runJob(job);
    }
    return { type: t.node.body.type, value: t.node.body.value };
  }

  compileValue(
    from: DeclNode,
    brand: BrandScope,
    source: Expression,
    type: Type,
    set: (v: Value) => void,
  ): void {
    const run = () => {
      const v = new ValueCompiler(this, from, brand).compile(source, type);
      if (v !== undefined) set(v);
    };
    const deferred =
      type.kind === "list" ||
      type.kind === "struct" ||
      type.kind === "interface" ||
      type.kind === "anyPointer";
    if (!deferred) {
      run();
      return;
    }
    const job: Job = { state: "pending", run };
    this.jobs.push(job);
    if (from.decl.body.kind === "const" && from.decl.body.value === source) this.constJobs.set(from.id, job);
  }

  private runJob(job: Job): void {
    if (job.state !== "pending") return;
    job.state = "running";
    try {
      job.run();
    } finally {
      job.state = "done";
    }
  }

  runJobs(): void {
    for (let i = 0; i < this.jobs.length; i++) this.runJob(this.jobs[i]!);
  }

  // ---- what goes into the request -------------------------------------------------------------

  readonly output: DeclNode[] = [];
  private readonly seen = new Map<DeclNode, number>();

  /** C++ `Compiler::Node::traverse`. */
  traverse(n: DeclNode, eagerness: number): void {
    const slot = this.seen.get(n) ?? 0;
    if ((slot & eagerness) === eagerness) return;
    this.seen.set(n, slot | eagerness);
    const t = this.compileNode(n);
    if (t !== undefined) {
      if (slot === 0) this.output.push(n);
      if (Math.floor(eagerness / DEPENDENCIES) !== 0) {
        const next = (eagerness & ~(DEPENDENCIES - 1)) | Math.floor(eagerness / DEPENDENCIES);
        this.traverseDeps(t.node, next);
        for (const a of t.aux) this.traverseDeps(a, next);
      }
    }
    if (eagerness & PARENTS && n.parent !== undefined) this.traverse(n.parent, eagerness);
    if (eagerness & CHILDREN) {
      for (const c of n.ordered) this.traverse(c, eagerness);
      for (const a of n.aliases.values()) a.compile();
    }
  }

  private dep(id: bigint, eagerness: number): void {
    const d = this.program.nodes.get(id);
    if (d !== undefined) this.traverse(d, eagerness);
  }

  private traverseType(t: Type | undefined, e: number): void {
    if (t === undefined) return;
    if (t.kind === "list") {
      this.traverseType(t.elementType, e);
      return;
    }
    if (t.kind !== "struct" && t.kind !== "enum" && t.kind !== "interface") return;
    this.dep(t.typeId, e);
    this.traverseBrand(t.brand, e);
  }

  private traverseBrand(
    b: { scopes: readonly { bind: readonly (Type | null)[] | null }[] },
    e: number,
  ): void {
    for (const s of b.scopes) for (const t of s.bind ?? []) if (t !== null) this.traverseType(t, e);
  }

  private traverseDeps(n: Node, e: number): void {
    const b = n.body;
    const anns = (list: readonly { id: bigint }[]) => {
      for (const a of list) this.dep(a.id, e);
    };
    switch (b.kind) {
      case "struct":
        for (const f of b.fields ?? []) {
          if (f.body.kind === "slot") this.traverseType(f.body.type, e);
          anns(f.annotations);
        }
        break;
      case "enum":
        for (const x of b.enumerants) anns(x.annotations);
        break;
      case "interface":
        for (const s of b.superclasses) {
          if (s.id !== 0n) this.dep(s.id, e);
          this.traverseBrand(s.brand, e);
        }
        for (const m of b.methods) {
          this.dep(m.paramStructType, e);
          this.traverseBrand(m.paramBrand, e);
          this.dep(m.resultStructType, e);
          this.traverseBrand(m.resultBrand, e);
          anns(m.annotations);
        }
        break;
      case "const":
      case "annotation":
        this.traverseType(b.type, e);
        break;
      default:
        break;
    }
    anns(n.annotations);
  }

  translatedOf(n: DeclNode): Translated | undefined {
    return this.translated.get(n);
  }
}

/** The `import` expressions naming types (C++ `findImports`), for RequestedFile.imports. */
function findImports(d: Declaration, out: Set<string>): void {
  const expr = (e: Expression | undefined): void => {
    if (e === undefined) return;
    switch (e.kind) {
      case "import":
        out.add(e.name.value);
        break;
      case "application":
        expr(e.fn);
        for (const p of e.params) expr(p.value);
        break;
      case "member":
        expr(e.parent);
        break;
      default:
        break;
    }
  };
  const b = d.body;
  switch (b.kind) {
    case "using":
      expr(b.target);
      break;
    case "const":
      expr(b.type);
      break;
    case "field":
      expr(b.type);
      break;
    case "interface":
      for (const s of b.superclasses) expr(s);
      break;
    case "method":
      for (const pl of [b.params, b.results]) {
        if (pl === undefined) continue;
        if (pl.kind === "namedList")
          for (const p of pl.params) {
            expr(p.type);
            for (const a of p.annotations) expr(a.name);
          }
        else if (pl.kind === "type") expr(pl.type);
        else out.add("/capnp/stream.capnp");
      }
      break;
    default:
      break;
  }
  for (const a of d.annotations) expr(a.name);
  for (const n of d.nested) findImports(n, out);
}

/**
 * Compile schema files (paths as capnp takes them on its command line) into a
 * CodeGeneratorRequest. Throws SchemaCompileError listing every error, as capnp prints them.
 */
export function compileSchemas(
  files: readonly (string | RequestedSchema)[],
  options: CompileOptions,
): CompiledSchemas {
  const c = new Compiler(options);
  const requested: DeclNode[] = [];
  const missing: LocatedDiagnostic[] = [];
  for (const entry of files) {
    const { path, name } = typeof entry === "string" ? { path: entry, name: normalizePath(entry) } : entry;
    const m = c.program.load(normalizePath(path), name);
    if (m === undefined) {
      missing.push({
        file: name,
        startByte: 0,
        endByte: 0,
        line: 1,
        column: 1,
        endLine: 1,
        endColumn: 1,
        message: "no such file",
      });
      continue;
    }
    requested.push(m.root);
  }
  if (missing.length > 0) throw new SchemaCompileError(missing);
  for (const r of requested) c.traverse(r, NODE | CHILDREN | DEPENDENCIES | (PARENTS * DEPENDENCIES));
  c.runJobs();

  const diagnostics: LocatedDiagnostic[] = [];
  for (const m of c.program.modules.values()) diagnostics.push(...m.errors.locate(m.text));
  if (diagnostics.length > 0) throw new SchemaCompileError(diagnostics);

  const nodes: Node[] = [];
  const sourceInfo: SourceInfo[] = [];
  for (const n of c.output) {
    const t = c.translatedOf(n)!;
    nodes.push(t.node, ...t.aux);
    sourceInfo.push(...t.sourceInfo);
  }
  const requestedFiles: RequestedFileOut[] = requested.map((r) => {
    const names = new Set<string>();
    findImports(r.decl, names);
    // std::set<StringPtr>: byte-wise order.
    const sorted = [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return {
      id: r.id,
      filename: r.module.sourceName,
      imports: sorted.map((name) => ({ id: r.module.importRelative(name)!.root.id, name })),
    };
  });
  return { request: writeRequest(nodes, sourceInfo, requestedFiles), nodes, sourceInfo, requestedFiles };
}
