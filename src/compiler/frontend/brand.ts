/**
 * Generic brands (c++/src/capnp/compiler/generics.c++): which type each generic parameter of the
 * enclosing scopes is bound to while an expression is compiled (`BrandScope`), and a resolved
 * declaration with its brand (`BrandedDecl`), turned into schema.capnp Types and Brands.
 */
import type { Brand, BrandScope as BrandScopeModel, Type } from "../../schema/model.js";
import { type Expression, expressionString } from "./ast.js";
import type { ErrorReporter } from "./errors.js";

export interface ResolvedDecl {
  readonly kind: "decl";
  readonly id: bigint;
  readonly paramCount: number;
  /** The scope the name was found in (its parent's id; 0 for files and builtins). */
  readonly scopeId: bigint;
  /** The declaration kind: "struct", "enum", ..., or "builtin:List" etc. */
  readonly declKind: string;
  readonly resolver: Resolver | undefined;
  /** For an alias: the brand its target was given. */
  readonly brand?: Brand;
}
export interface ResolvedParameter {
  readonly kind: "param";
  /** The generic scope's id; 0 for a method's implicit parameter. */
  readonly id: bigint;
  readonly index: number;
}
export type ResolveResult = ResolvedDecl | ResolvedParameter;

/** C++ `Resolver`: name lookup from one declaration's point of view. */
export interface Resolver {
  resolve(name: string): ResolveResult | undefined;
  resolveMember(name: string): ResolveResult | undefined;
  getParent(): ResolvedDecl | undefined;
  getTopScope(): ResolvedDecl;
  resolveBuiltin(name: string): ResolvedDecl;
  resolveId(id: bigint): ResolvedDecl;
  resolveImport(name: string): ResolvedDecl | undefined;
}

export interface ImplicitParams {
  /** The method's param struct id, or 0 while compiling the method's own param list type. */
  readonly scopeId: bigint;
  readonly names: readonly string[];
}
export const NO_IMPLICITS: ImplicitParams = { scopeId: 0n, names: [] };

const POINTER_KINDS = new Set([
  "builtin:List",
  "builtin:Text",
  "builtin:Data",
  "builtin:AnyPointer",
  "struct",
  "interface",
]);

const PRIMITIVES: Record<string, Type["kind"]> = {
  "builtin:Void": "void",
  "builtin:Bool": "bool",
  "builtin:Int8": "int8",
  "builtin:Int16": "int16",
  "builtin:Int32": "int32",
  "builtin:Int64": "int64",
  "builtin:UInt8": "uint8",
  "builtin:UInt16": "uint16",
  "builtin:UInt32": "uint32",
  "builtin:UInt64": "uint64",
  "builtin:Float32": "float32",
  "builtin:Float64": "float64",
  "builtin:Text": "text",
  "builtin:Data": "data",
};

export class BrandedDecl {
  constructor(
    readonly body: ResolveResult,
    readonly brand: BrandScope | undefined,
    readonly source: Expression | undefined,
  ) {}

  static implicitMethodParam(index: number): BrandedDecl {
    return new BrandedDecl({ kind: "param", id: 0n, index }, undefined, undefined);
  }

  get declKind(): string | undefined {
    return this.body.kind === "decl" ? this.body.declKind : undefined;
  }

  addError(errors: ErrorReporter, message: string): void {
    // Without a source (an implicit method parameter), capnp reports at the file's start.
    errors.on(this.source ?? { startByte: 0, endByte: 0 }, message);
  }

  toString(): string {
    return this.source === undefined ? "" : expressionString(this.source);
  }

  applyParams(params: BrandedDecl[], source: Expression): BrandedDecl | undefined {
    if (this.body.kind === "param") return undefined;
    const scope = this.brand!.setParams(params, this.body.declKind, source);
    return scope === undefined ? undefined : new BrandedDecl(this.body, scope, source);
  }

  getMember(name: string, source: Expression): BrandedDecl | undefined {
    if (this.body.kind === "param") return undefined;
    const r = this.body.resolver?.resolveMember(name);
    if (r === undefined) return undefined;
    return this.brand!.interpretResolve(this.body.resolver!, r, source);
  }

  /** The id, and the brand to record with it (`getIdAndFillBrand`). */
  idAndBrand(): { id: bigint; brand: Brand } {
    if (this.body.kind !== "decl") throw new Error("capnts internal error: not a declaration");
    return { id: this.body.id, brand: this.brand!.compile() };
  }

  compileAsType(errors: ErrorReporter): Type | undefined {
    const b = this.body;
    if (b.kind === "param") {
      if (b.id === 0n) return { kind: "implicitMethodParameter", parameterIndex: b.index };
      return { kind: "parameter", scopeId: b.id, parameterIndex: b.index };
    }
    const k = b.declKind;
    if (k === "enum" || k === "struct" || k === "interface") {
      const { id, brand } = this.idAndBrand();
      return { kind: k, typeId: id, brand };
    }
    if (k === "builtin:List") {
      const params = this.brand!.getParams(b.id);
      if (params === undefined || params.length !== 1) {
        this.addError(errors, "'List' requires exactly one parameter.");
        return undefined;
      }
      const element = params[0]!.compileAsType(errors);
      if (element === undefined) return undefined;
      // capnp (0.9.2 and 1.x, generics.c++) reads `anyPointer.unconstrained` without checking
      // that it is the active member; its discriminant shares bytes with a type parameter's
      // index, so List(T) of a generic's first parameter reads as List(AnyPointer) and of its
      // second as List(AnyStruct), and both are refused. We accept and refuse what capnp does.
      const constraint =
        element.kind === "anyPointer"
          ? element.constraint
          : element.kind === "parameter" || element.kind === "implicitMethodParameter"
            ? (["anyKind", "struct", "list", "capability"] as const)[element.parameterIndex]
            : undefined;
      if (constraint === "anyKind") {
        this.addError(errors, "'List(AnyPointer)' is not supported.");
        return undefined;
      }
      if (constraint === "struct") {
        this.addError(errors, "'List(AnyStruct)' is not supported.");
        return undefined;
      }
      return { kind: "list", elementType: element };
    }
    const prim = PRIMITIVES[k];
    if (prim !== undefined) return { kind: prim } as Type;
    switch (k) {
      case "builtin:Object":
        this.addError(
          errors,
          "As of Cap'n Proto 0.4, 'Object' has been renamed to 'AnyPointer'.  Sorry for the inconvenience, and thanks for being an early adopter.  :)",
        );
        return { kind: "anyPointer", constraint: "anyKind" };
      case "builtin:AnyPointer":
        return { kind: "anyPointer", constraint: "anyKind" };
      case "builtin:AnyStruct":
        return { kind: "anyPointer", constraint: "struct" };
      case "builtin:AnyList":
        return { kind: "anyPointer", constraint: "list" };
      case "builtin:Capability":
        return { kind: "anyPointer", constraint: "capability" };
    }
    this.addError(errors, `'${this.toString()}' is not a type.`);
    return undefined;
  }
}

export class BrandScope {
  parent: BrandScope | undefined;
  params: BrandedDecl[] = [];

  constructor(
    readonly errors: ErrorReporter,
    readonly leafId: bigint,
    public leafParamCount: number,
    public inherited: boolean,
  ) {}

  /** The scope of a declaration being compiled: its own and its parents' parameters, unbound. */
  static forDecl(errors: ErrorReporter, id: bigint, paramCount: number, resolver: Resolver): BrandScope {
    const s = new BrandScope(errors, id, paramCount, true);
    const p = resolver.getParent();
    if (p !== undefined) s.parent = BrandScope.forDecl(errors, p.id, p.paramCount, p.resolver!);
    return s;
  }

  isGeneric(): boolean {
    if (this.leafParamCount > 0) return true;
    return this.parent?.isGeneric() ?? false;
  }

  push(typeId: bigint, paramCount: number): BrandScope {
    const s = new BrandScope(this.errors, typeId, paramCount, false);
    s.parent = this;
    return s;
  }

  setParams(params: BrandedDecl[], genericKind: string, source: Expression): BrandScope | undefined {
    if (this.params.length !== 0) {
      this.errors.on(source, "Double-application of generic parameters.");
      return undefined;
    }
    if (params.length > this.leafParamCount) {
      this.errors.on(
        source,
        this.leafParamCount === 0
          ? "Declaration does not accept generic parameters."
          : "Too many generic parameters.",
      );
      return undefined;
    }
    if (params.length < this.leafParamCount) {
      this.errors.on(source, "Not enough generic parameters.");
      return undefined;
    }
    if (genericKind !== "builtin:List")
      for (const p of params) {
        const k = p.declKind;
        if (k !== undefined && !POINTER_KINDS.has(k))
          p.addError(this.errors, "Sorry, only pointer types can be used as generic parameters.");
      }
    const s = new BrandScope(this.errors, this.leafId, this.leafParamCount, false);
    s.params = params;
    s.parent = this.parent;
    return s;
  }

  pop(newLeafId: bigint): BrandScope {
    if (this.leafId === newLeafId) return this;
    if (this.parent !== undefined) return this.parent.pop(newLeafId);
    return new BrandScope(this.errors, newLeafId, 0, false);
  }

  lookupParameter(resolver: Resolver, scopeId: bigint, index: number): BrandedDecl | undefined {
    if (scopeId === this.leafId) {
      if (index < this.params.length) return this.params[index];
      if (this.inherited) return undefined;
      const decl = resolver.resolveBuiltin("AnyPointer");
      return new BrandedDecl(decl, this.evaluateBrand(resolver, decl, []), undefined);
    }
    if (this.parent !== undefined) return this.parent.lookupParameter(resolver, scopeId, index);
    throw new Error("capnts internal error: scope is not a parent");
  }

  getParams(scopeId: bigint): BrandedDecl[] | undefined {
    if (scopeId === this.leafId) return this.inherited ? undefined : this.params;
    if (this.parent !== undefined) return this.parent.getParams(scopeId);
    throw new Error("capnts internal error: scope is not a parent");
  }

  /** `BrandScope::compile`: the Brand of every level that binds (or inherits) parameters. */
  compile(): Brand {
    const scopes: BrandScopeModel[] = [];
    for (let p: BrandScope | undefined = this; p !== undefined; p = p.parent) {
      if (p.params.length > 0 || (p.inherited && p.leafParamCount > 0)) {
        if (p.inherited) scopes.push({ scopeId: p.leafId, bind: null });
        else
          scopes.push({
            scopeId: p.leafId,
            bind: p.params.map((x) => x.compileAsType(this.errors) ?? null),
          });
      }
    }
    return { scopes };
  }

  interpretResolve(resolver: Resolver, result: ResolveResult, source: Expression | undefined): BrandedDecl {
    if (result.kind === "decl") {
      let scope = this.pop(result.scopeId);
      if (result.brand !== undefined) scope = scope.evaluateBrand(resolver, result, result.brand.scopes);
      else scope = scope.push(result.id, result.paramCount);
      return new BrandedDecl(result, scope, source);
    }
    return (
      this.lookupParameter(resolver, result.id, result.index) ?? new BrandedDecl(result, undefined, source)
    );
  }

  evaluateBrand(
    resolver: Resolver,
    decl: ResolvedDecl,
    brand: readonly BrandScopeModel[],
    index = 0,
  ): BrandScope {
    const result = new BrandScope(this.errors, decl.id, decl.paramCount, false);
    if (index < brand.length) {
      const next = brand[index]!;
      if (decl.id === next.scopeId) {
        if (next.bind !== null) {
          result.params = next.bind.map((t) => {
            if (t === null) {
              const ap = resolver.resolveBuiltin("AnyPointer");
              return new BrandedDecl(ap, new BrandScope(this.errors, ap.scopeId, 0, false), undefined);
            }
            return this.decompileType(resolver, t);
          });
        } else {
          const p = this.getParams(decl.id);
          if (p !== undefined) result.params = [...p];
          else result.inherited = true;
        }
        ++index;
      }
    }
    const parent = decl.resolver?.getParent();
    if (parent !== undefined) result.parent = this.evaluateBrand(resolver, parent, brand, index);
    return result;
  }

  decompileType(resolver: Resolver, type: Type): BrandedDecl {
    const builtin = (name: string) => {
      const d = resolver.resolveBuiltin(name);
      return new BrandedDecl(d, this.evaluateBrand(resolver, d, []), undefined);
    };
    switch (type.kind) {
      case "enum":
      case "struct":
      case "interface": {
        const d = resolver.resolveId(type.typeId);
        return new BrandedDecl(d, this.evaluateBrand(resolver, d, type.brand.scopes), undefined);
      }
      case "list": {
        const element = this.decompileType(resolver, type.elementType);
        const list = builtin("List");
        return new BrandedDecl(
          list.body,
          list.brand!.setParams([element], "builtin:List", dummy)!,
          undefined,
        );
      }
      case "anyPointer":
        return builtin("AnyPointer");
      case "parameter":
        return (
          this.lookupParameter(resolver, type.scopeId, type.parameterIndex) ??
          new BrandedDecl(
            { kind: "param", id: type.scopeId, index: type.parameterIndex },
            undefined,
            undefined,
          )
        );
      case "implicitMethodParameter":
        throw new Error("capnts internal error: alias pointed to an implicit method type parameter");
      default: {
        const name = Object.entries(PRIMITIVES)
          .find(([, v]) => v === type.kind)![0]
          .slice("builtin:".length);
        return builtin(name);
      }
    }
  }

  compileDeclExpression(
    source: Expression,
    resolver: Resolver,
    implicits: ImplicitParams,
  ): BrandedDecl | undefined {
    switch (source.kind) {
      case "unknown":
        return undefined;
      case "positiveInt":
      case "negativeInt":
      case "float":
      case "string":
      case "binary":
      case "list":
      case "tuple":
      case "embed":
        this.errors.on(source, "Expected name.");
        return undefined;
      case "relativeName": {
        const name = source.name.value;
        const i = implicits.names.indexOf(name);
        if (i >= 0) {
          if (implicits.scopeId === 0n) return BrandedDecl.implicitMethodParam(i);
          return new BrandedDecl({ kind: "param", id: implicits.scopeId, index: i }, undefined, undefined);
        }
        const r = resolver.resolve(name);
        if (r === undefined) {
          this.errors.on(source.name, `Not defined: ${name}`);
          return undefined;
        }
        return this.interpretResolve(resolver, r, source);
      }
      case "absoluteName": {
        const r = resolver.getTopScope().resolver!.resolveMember(source.name.value);
        if (r === undefined) {
          this.errors.on(source.name, `Not defined: ${source.name.value}`);
          return undefined;
        }
        return this.interpretResolve(resolver, r, source);
      }
      case "import": {
        const d = resolver.resolveImport(source.name.value);
        if (d === undefined) {
          this.errors.on(source.name, `Import failed: ${source.name.value}`);
          return undefined;
        }
        return new BrandedDecl(d, BrandScope.forDecl(this.errors, d.id, d.paramCount, d.resolver!), source);
      }
      case "application": {
        const decl = this.compileDeclExpression(source.fn, resolver, implicits);
        if (decl === undefined) return undefined;
        const params: BrandedDecl[] = [];
        let failed = false;
        for (const p of source.params) {
          if (p.name !== undefined) this.errors.on(p.name, "Named parameter not allowed here.");
          const d = this.compileDeclExpression(p.value, resolver, implicits);
          if (d === undefined) failed = true;
          else params.push(d);
        }
        if (failed) return decl;
        return decl.applyParams(params, source) ?? decl;
      }
      case "member": {
        const decl = this.compileDeclExpression(source.parent, resolver, implicits);
        if (decl === undefined) return undefined;
        const m = decl.getMember(source.name.value, source);
        if (m === undefined) {
          this.errors.on(
            source.name,
            `'${expressionString(source.parent)}' has no member named '${source.name.value}'`,
          );
          return undefined;
        }
        return m;
      }
    }
  }
}

const dummy: Expression = { kind: "unknown", startByte: 0, endByte: 0 };
