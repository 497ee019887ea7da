/**
 * Plain-object model of schema nodes (schema.capnp `Node` and friends), the form the code
 * generator and the reflection/text-format code work on. It mirrors schema.capnp closely, minus
 * what nobody needs after loading (union tags become `kind` strings, defaults become JS values,
 * pointer defaults become a self-contained word array).
 *
 * Two loaders produce it: `load.ts` (through the generated schema.capnp bindings) and the
 * compiler's bootstrap reader (hand-written, used only to regenerate those bindings).
 */

export type PrimitiveKind =
  | "void"
  | "bool"
  | "int8"
  | "int16"
  | "int32"
  | "int64"
  | "uint8"
  | "uint16"
  | "uint32"
  | "uint64"
  | "float32"
  | "float64"
  | "text"
  | "data";

/** A primitive type as the schema language names it (`UInt32`, `Float64`, `Text`). */
export function primitiveTypeName(kind: PrimitiveKind): string {
  return kind.startsWith("uint") ? `UInt${kind.slice(4)}` : kind[0]!.toUpperCase() + kind.slice(1);
}

export type AnyPointerConstraint = "anyKind" | "struct" | "list" | "capability";

/** schema.capnp `Type`. */
export type Type =
  | { readonly kind: PrimitiveKind }
  | { readonly kind: "list"; readonly elementType: Type }
  | { readonly kind: "enum" | "struct" | "interface"; readonly typeId: bigint; readonly brand: Brand }
  | { readonly kind: "anyPointer"; readonly constraint: AnyPointerConstraint }
  | { readonly kind: "parameter"; readonly scopeId: bigint; readonly parameterIndex: number }
  | { readonly kind: "implicitMethodParameter"; readonly parameterIndex: number };

export type ListType = Extract<Type, { kind: "list" }>;
export type NamedType = Extract<Type, { kind: "enum" | "struct" | "interface" }>;

/** schema.capnp `Brand`: one scope per generic scope that binds or inherits parameters. */
export interface Brand {
  readonly scopes: readonly BrandScope[];
}
export interface BrandScope {
  readonly scopeId: bigint;
  /** `null`: the scope inherits its bindings from the enclosing scope. */
  readonly bind: readonly (Type | null)[] | null;
}

/**
 * schema.capnp `Value`. Pointer values (struct, list, anyPointer) carry `words`: a single-segment
 * message whose word 0 is the root pointer of the value, or `null` for a null pointer.
 */
export type Value =
  | { readonly kind: "void" | "interface" }
  | { readonly kind: "bool"; readonly value: boolean }
  | {
      readonly kind:
        | "int8"
        | "int16"
        | "int32"
        | "uint8"
        | "uint16"
        | "uint32"
        | "float32"
        | "float64"
        | "enum";
      readonly value: number;
    }
  | { readonly kind: "int64" | "uint64"; readonly value: bigint }
  | { readonly kind: "text"; readonly value: string }
  | { readonly kind: "data"; readonly value: Uint8Array }
  | { readonly kind: "list" | "struct" | "anyPointer"; readonly words: Uint8Array | null };

export interface Annotation {
  readonly id: bigint;
  readonly brand: Brand;
  readonly value: Value;
}

export interface NestedNode {
  readonly name: string;
  readonly id: bigint;
}

interface NodeBase {
  readonly id: bigint;
  readonly displayName: string;
  readonly displayNamePrefixLength: number;
  readonly scopeId: bigint;
  readonly parameters: readonly string[];
  readonly isGeneric: boolean;
  readonly nestedNodes: readonly NestedNode[];
  readonly annotations: readonly Annotation[];
  /** Doc comment from the request's sourceInfo (empty when there is none). */
  readonly doc: string;
}

export interface FileNode extends NodeBase {
  readonly kind: "file";
}

export interface StructNode extends NodeBase {
  readonly kind: "struct";
  readonly dataWordCount: number;
  readonly pointerCount: number;
  readonly preferredListEncoding: number;
  readonly isGroup: boolean;
  readonly discriminantCount: number;
  /** In 16-bit units. */
  readonly discriminantOffset: number;
  /** In the order of the schema's `fields` list (the order C++ reflection and text use). */
  readonly fields: readonly Field[];
}

export interface EnumNode extends NodeBase {
  readonly kind: "enum";
  readonly enumerants: readonly Enumerant[];
}

export interface InterfaceNode extends NodeBase {
  readonly kind: "interface";
  readonly methods: readonly Method[];
  readonly superclasses: readonly Superclass[];
}

export interface ConstNode extends NodeBase {
  readonly kind: "const";
  readonly type: Type;
  readonly value: Value;
}

export interface AnnotationNode extends NodeBase {
  readonly kind: "annotation";
  readonly type: Type;
  /** Names of the targets this annotation may be applied to (`file`, `struct`, ...). */
  readonly targets: readonly string[];
}

export type Node = FileNode | StructNode | EnumNode | InterfaceNode | ConstNode | AnnotationNode;

/** schema.capnp `Field.noDiscriminant`. */
export const NO_DISCRIMINANT = 0xffff;

interface FieldBase {
  readonly name: string;
  readonly codeOrder: number;
  readonly annotations: readonly Annotation[];
  /** NO_DISCRIMINANT (0xffff) when the field is not in the struct's union. */
  readonly discriminantValue: number;
  /** Explicit ordinal (`@n`), or null for groups and unions. */
  readonly ordinal: number | null;
  readonly doc: string;
}

export interface SlotField extends FieldBase {
  readonly kind: "slot";
  /** In units of the field's size (bits for Bool, pointers for pointer types). */
  readonly offset: number;
  readonly type: Type;
  readonly defaultValue: Value;
  readonly hadExplicitDefault: boolean;
}

export interface GroupField extends FieldBase {
  readonly kind: "group";
  readonly typeId: bigint;
}

export type Field = SlotField | GroupField;

export interface Enumerant {
  readonly name: string;
  readonly codeOrder: number;
  readonly annotations: readonly Annotation[];
  readonly doc: string;
}

export interface Superclass {
  readonly id: bigint;
  readonly brand: Brand;
}

export interface Method {
  readonly name: string;
  readonly codeOrder: number;
  readonly implicitParameters: readonly string[];
  readonly paramStructType: bigint;
  readonly paramBrand: Brand;
  readonly resultStructType: bigint;
  readonly resultBrand: Brand;
  readonly annotations: readonly Annotation[];
  readonly doc: string;
}

export interface RequestedFile {
  readonly id: bigint;
  readonly filename: string;
  readonly imports: readonly { readonly id: bigint; readonly name: string }[];
}

/** A loaded CodeGeneratorRequest. */
export interface SchemaRequest {
  readonly capnpVersion: { readonly major: number; readonly minor: number; readonly micro: number };
  readonly nodes: ReadonlyMap<bigint, Node>;
  readonly requestedFiles: readonly RequestedFile[];
}

/** The `typeId` of a type that names a node, else undefined. */
export function typeIdOf(t: Type): bigint | undefined {
  return t.kind === "enum" || t.kind === "struct" || t.kind === "interface" ? t.typeId : undefined;
}

/** True when values of this type live in the pointer section. */
export function isPointerType(t: Type): boolean {
  switch (t.kind) {
    case "text":
    case "data":
    case "list":
    case "struct":
    case "interface":
    case "anyPointer":
    case "parameter":
    case "implicitMethodParameter":
      return true;
    default:
      return false;
  }
}

/** Size of a data field in bits (0 for void; -1 for pointer types). */
export function dataBits(t: Type): number {
  switch (t.kind) {
    case "void":
      return 0;
    case "bool":
      return 1;
    case "int8":
    case "uint8":
      return 8;
    case "int16":
    case "uint16":
    case "enum":
      return 16;
    case "int32":
    case "uint32":
    case "float32":
      return 32;
    case "int64":
    case "uint64":
    case "float64":
      return 64;
    default:
      return -1;
  }
}
