/**
 * The parsed schema (c++/src/capnp/compiler/grammar.capnp, as plain objects): expressions and
 * declarations with byte positions.
 */
import { ANNOTATION_TARGETS } from "../../schema/load.js";
import type { Located } from "./lexer.js";

export interface LocatedText extends Located {
  readonly value: string;
}
export interface LocatedInteger extends Located {
  readonly value: bigint;
}

export interface Param {
  readonly name: LocatedText | undefined;
  readonly value: Expression;
}

export type Expression = Located &
  (
    | { readonly kind: "unknown" }
    | { readonly kind: "positiveInt"; readonly value: bigint }
    | { readonly kind: "negativeInt"; readonly value: bigint }
    | { readonly kind: "float"; readonly value: number }
    /** `bytes`: exactly what the literal says (the value of a Text or Data), `value` decoded. */
    | { readonly kind: "string"; readonly value: string; readonly bytes: Uint8Array }
    | { readonly kind: "binary"; readonly value: Uint8Array }
    | { readonly kind: "relativeName" | "absoluteName" | "import" | "embed"; readonly name: LocatedText }
    | { readonly kind: "list"; readonly items: readonly Expression[] }
    | { readonly kind: "tuple"; readonly params: readonly Param[] }
    | { readonly kind: "application"; readonly fn: Expression; readonly params: readonly Param[] }
    | { readonly kind: "member"; readonly parent: Expression; readonly name: LocatedText }
  );

export interface AnnotationApplication {
  readonly name: Expression;
  readonly value: Expression | undefined;
}

export interface BrandParameter extends Located {
  readonly name: string;
}

export interface MethodParam extends Located {
  readonly name: LocatedText;
  readonly type: Expression;
  readonly annotations: readonly AnnotationApplication[];
  readonly defaultValue: Expression | undefined;
}

export type ParamList = Located &
  (
    | { readonly kind: "namedList"; readonly params: readonly MethodParam[] }
    | { readonly kind: "type"; readonly type: Expression }
    | { readonly kind: "stream" }
  );

export { ANNOTATION_TARGETS };
export type AnnotationTarget = (typeof ANNOTATION_TARGETS)[number];

export type DeclBody =
  | { readonly kind: "file" }
  | { readonly kind: "using"; readonly target: Expression }
  | { readonly kind: "const"; readonly type: Expression; readonly value: Expression }
  | { readonly kind: "enum" | "enumerant" | "struct" | "union" | "group" }
  | { readonly kind: "field"; readonly type: Expression; readonly defaultValue: Expression | undefined }
  | { readonly kind: "interface"; readonly superclasses: readonly Expression[] }
  | { readonly kind: "method"; readonly params: ParamList; readonly results: ParamList | undefined }
  | {
      readonly kind: "annotation";
      readonly type: Expression;
      readonly targets: ReadonlySet<AnnotationTarget>;
    }
  | { readonly kind: "nakedId"; readonly id: LocatedInteger }
  | { readonly kind: "nakedAnnotation"; readonly annotation: AnnotationApplication };

export type DeclId =
  | { readonly kind: "unspecified" }
  | { readonly kind: "uid"; readonly value: LocatedInteger }
  | { readonly kind: "ordinal"; readonly value: LocatedInteger };

export interface Declaration extends Located {
  readonly name: LocatedText;
  readonly id: DeclId;
  readonly parameters: readonly BrandParameter[];
  readonly nested: readonly Declaration[];
  readonly annotations: readonly AnnotationApplication[];
  readonly docComment: string | undefined;
  readonly body: DeclBody;
}

/** capnp's `expressionString`: how error messages print an expression. */
export function expressionString(e: Expression): string {
  const tuple = (ps: readonly Param[]) =>
    `( ${ps.map((p) => (p.name ? `${p.name.value} = ` : "") + expressionString(p.value)).join(", ")} )`;
  switch (e.kind) {
    case "unknown":
      return "<parse error>";
    case "positiveInt":
      return e.value.toString();
    case "negativeInt":
      return `-${e.value}`;
    case "float":
      return String(e.value);
    case "string":
      return JSON.stringify(e.value);
    case "binary":
      return `0x"${[...e.value].map((b) => b.toString(16).padStart(2, "0")).join(" ")}"`;
    case "relativeName":
      return e.name.value;
    case "absoluteName":
      return `.${e.name.value}`;
    case "import":
      return `import ${JSON.stringify(e.name.value)}`;
    case "embed":
      return `embed ${JSON.stringify(e.name.value)}`;
    case "list":
      return `[ ${e.items.map(expressionString).join(", ")} ]`;
    case "tuple":
      return tuple(e.params);
    case "application":
      return `${expressionString(e.fn)}(${tuple(e.params)})`;
    case "member":
      return `${expressionString(e.parent)}.${e.name.value}`;
  }
}
