/**
 * Generic bindings during reflection: which concrete type each generic parameter stands for
 * (C++ `RawBrandedSchema`). A struct reached through a field of type `Box(Text)` reads its
 * `T`-typed fields as Text; a parameter nobody bound reads as AnyPointer.
 */
import type { Brand, BrandScope, Type } from "./model.js";

/** Bindings in effect: generic scope id → bound types (null: unbound). */
export type Bindings = ReadonlyMap<bigint, readonly (Type | null)[]>;

export const NO_BINDINGS: Bindings = new Map();

const ANY: Type = { kind: "anyPointer", constraint: "anyKind" };

/** `t` with every parameter replaced by its binding (or AnyPointer) and every brand resolved. */
export function resolveType(t: Type, b: Bindings): Type {
  switch (t.kind) {
    case "parameter":
      return b.get(t.scopeId)?.[t.parameterIndex] ?? ANY;
    case "implicitMethodParameter":
      return ANY;
    case "list":
      return { kind: "list", elementType: resolveType(t.elementType, b) };
    case "struct":
    case "interface":
    case "enum":
      return t.brand.scopes.length === 0
        ? t
        : { kind: t.kind, typeId: t.typeId, brand: resolveBrand(t.brand, b) };
    default:
      return t;
  }
}

/** A brand whose bindings are all concrete: `inherit` scopes take the enclosing bindings. */
export function resolveBrand(brand: Brand, b: Bindings): Brand {
  const scopes: BrandScope[] = [];
  for (const s of brand.scopes) {
    if (s.bind === null) {
      const inherited = b.get(s.scopeId);
      if (inherited !== undefined) scopes.push({ scopeId: s.scopeId, bind: inherited });
    } else {
      scopes.push({ scopeId: s.scopeId, bind: s.bind.map((x) => (x === null ? null : resolveType(x, b))) });
    }
  }
  return { scopes };
}

/** The bindings inside a type referenced with `brand` (already resolved). */
export function bindingsOf(brand: Brand): Bindings {
  if (brand.scopes.length === 0) return NO_BINDINGS;
  const m = new Map<bigint, readonly (Type | null)[]>();
  for (const s of brand.scopes) if (s.bind !== null) m.set(s.scopeId, s.bind);
  return m;
}
