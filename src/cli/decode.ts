/**
 * `capnts decode <schema> <Type>`: prints binary messages from stdin as text, byte for byte what
 * `capnp decode` prints (pretty by default, `--short` for one line each; `--packed`, `--flat`).
 */

import { loadRequest } from "../schema/load.js";
import { SchemaLoader } from "../schema/loader.js";
import type { StructNode } from "../schema/model.js";
import { formatStructBytes } from "../schema/text.js";
import { decodeFrames, decodePackedFrames, unpack } from "../serialize/index.js";
import { MessageReader, StructReader } from "../wire/index.js";
import { runCapnp } from "./capnp-tool.js";

export interface DecodeOptions {
  packed?: boolean;
  flat?: boolean;
  short?: boolean;
  /** Extra `capnp compile` arguments (-I, --no-standard-import). */
  capnpArgs?: readonly string[];
}

/** Parse `schemaFile` with capnp and find `typeName` (dotted path) in it. */
export function loadSchemaType(
  schemaFile: string,
  typeName: string,
  capnpArgs: readonly string[] = [],
): {
  loader: SchemaLoader;
  node: StructNode;
} {
  const r = runCapnp(["compile", "-o-", ...capnpArgs, schemaFile]);
  if (r.status !== 0) throw new Error(r.stderr.trim() || `capnp compile failed (${r.status})`);
  const req = loadRequest([...decodeFrames(r.stdout, { traversalLimitInWords: 1 << 30 })][0]!, {
    traversalLimitInWords: 1 << 30,
  });
  const loader = new SchemaLoader().addRequest(req);
  const file = req.requestedFiles[0];
  if (file === undefined) throw new Error("capnp returned no file");
  const node = loader.find(file.id, typeName);
  if (node.kind !== "struct") throw new Error(`"${typeName}" is not a struct type.`);
  return { loader, node };
}

/** The text `capnp decode` prints for `input`, as bytes. */
export function decodeToText(
  input: Uint8Array,
  loader: SchemaLoader,
  node: StructNode,
  options: DecodeOptions = {},
): Uint8Array {
  let messages: Iterable<Uint8Array[]>;
  if (options.flat) {
    const bytes = options.packed ? unpack(input) : input;
    messages = [[bytes]];
  } else if (options.packed) {
    messages = decodePackedFrames(input);
  } else {
    messages = decodeFrames(input);
  }
  let out = "";
  for (const segments of messages) {
    const root = new MessageReader(segments).getRoot(StructReader);
    out += `${formatStructBytes(root, node, { pretty: !options.short, loader })}\n`;
  }
  const b = new Uint8Array(out.length);
  for (let i = 0; i < out.length; i++) b[i] = out.charCodeAt(i);
  return b;
}
