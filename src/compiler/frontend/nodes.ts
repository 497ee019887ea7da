/**
 * What the front end produces: schema.capnp nodes as plain objects, with the distinctions
 * capnp's output makes (a null list or pointer is not an empty one) so that the request written
 * from them is the one `capnp compile -o-` writes.
 */

import type { Brand, Type } from "../../schema/model.js";
import type { AnnotationTarget } from "./ast.js";

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
  /**
   * null: a null pointer (capnp's default default), not an empty text. `bytes`, when given, are
   * the text's exact bytes (a literal's escapes may make bytes that are not UTF-8, which capnp
   * keeps as they are); `value` is then their decoding.
   */
  | { readonly kind: "text"; readonly value: string | null; readonly bytes?: Uint8Array }
  | { readonly kind: "data"; readonly value: Uint8Array | null }
  /** A single-segment message whose root is the value; null for a null pointer. */
  | { readonly kind: "list" | "struct" | "anyPointer"; words: Uint8Array | null };

export interface Annotation {
  readonly id: bigint;
  readonly brand: Brand;
  value: Value;
}

export interface Field {
  readonly name: string;
  readonly codeOrder: number;
  annotations: Annotation[];
  readonly discriminantValue: number;
  ordinal: number | null;
  body:
    | {
        kind: "slot";
        offset: number;
        type: Type | undefined;
        defaultValue: Value;
        hadExplicitDefault: boolean;
      }
    | { kind: "group"; typeId: bigint };
}

export interface Method {
  readonly name: string;
  readonly codeOrder: number;
  readonly implicitParameters: readonly string[];
  paramStructType: bigint;
  paramBrand: Brand;
  resultStructType: bigint;
  resultBrand: Brand;
  annotations: Annotation[];
}

export type NodeBody =
  | { kind: "file" }
  | {
      kind: "struct";
      dataWordCount: number;
      pointerCount: number;
      isGroup: boolean;
      discriminantCount: number;
      discriminantOffset: number;
      /** null when the struct has no fields (capnp leaves the list unset). */
      fields: Field[] | null;
    }
  | { kind: "enum"; enumerants: { name: string; codeOrder: number; annotations: Annotation[] }[] }
  | { kind: "interface"; methods: Method[]; superclasses: { id: bigint; brand: Brand }[] }
  | { kind: "const"; type: Type | undefined; value: Value }
  | { kind: "annotation"; type: Type | undefined; targets: ReadonlySet<AnnotationTarget> };

export interface Node {
  id: bigint;
  displayName: string;
  displayNamePrefixLength: number;
  scopeId: bigint;
  /** Generic parameter names; null when the node declares none. */
  parameters: string[] | null;
  isGeneric: boolean;
  /** null for groups and param structs (capnp only sets it on declared nodes). */
  nestedNodes: { name: string; id: bigint }[] | null;
  annotations: Annotation[];
  body: NodeBody;
}

export interface SourceInfo {
  id: bigint;
  docComment: string | undefined;
  /** Doc comments of fields / enumerants / methods in order; null when capnp leaves it unset. */
  members: (string | undefined)[] | null;
}
