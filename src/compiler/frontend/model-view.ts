/**
 * The front end's nodes as the runtime's schema model (`capnts/schema` model types), so that the
 * text-format encoder can write struct and list values against the structs being compiled.
 */
import type * as model from "../../schema/model.js";
import type { Node, Value } from "./nodes.js";

export function modelValue(v: Value): model.Value {
  if (v.kind === "text") return { kind: "text", value: v.value ?? "" };
  if (v.kind === "data") return { kind: "data", value: v.value ?? new Uint8Array(0) };
  if (v.kind === "list" || v.kind === "struct" || v.kind === "anyPointer")
    return { kind: v.kind, words: v.words };
  return v;
}

const base = (n: Node) => ({
  id: n.id,
  displayName: n.displayName,
  displayNamePrefixLength: n.displayNamePrefixLength,
  scopeId: n.scopeId,
  parameters: n.parameters ?? [],
  isGeneric: n.isGeneric,
  nestedNodes: n.nestedNodes ?? [],
  annotations: [],
  doc: "",
});

export function modelNode(n: Node): model.Node {
  const b = n.body;
  switch (b.kind) {
    case "struct":
      return {
        ...base(n),
        kind: "struct",
        dataWordCount: b.dataWordCount,
        pointerCount: b.pointerCount,
        preferredListEncoding: 7,
        isGroup: b.isGroup,
        discriminantCount: b.discriminantCount,
        discriminantOffset: b.discriminantOffset,
        fields: (b.fields ?? []).map((f) => {
          const fb = {
            name: f.name,
            codeOrder: f.codeOrder,
            annotations: [],
            discriminantValue: f.discriminantValue,
            ordinal: f.ordinal,
            doc: "",
          };
          if (f.body.kind === "group") return { ...fb, kind: "group" as const, typeId: f.body.typeId };
          return {
            ...fb,
            kind: "slot" as const,
            offset: f.body.offset,
            type: f.body.type ?? { kind: "void" },
            defaultValue: modelValue(f.body.defaultValue),
            hadExplicitDefault: f.body.hadExplicitDefault,
          };
        }),
      };
    case "enum":
      return {
        ...base(n),
        kind: "enum",
        enumerants: b.enumerants.map((e) => ({
          name: e.name,
          codeOrder: e.codeOrder,
          annotations: [],
          doc: "",
        })),
      };
    default:
      return { ...base(n), kind: "file" };
  }
}
