/**
 * `capnts decode <schema> <Type>`: prints binary messages from stdin as text, byte for byte what
 * `capnp decode` prints (pretty by default, `--short` for one line each; `--packed`, `--flat`).
 */

import type { SchemaLoader } from "../schema/loader.js";
import type { StructNode } from "../schema/model.js";
import { formatStructBytes } from "../schema/text.js";
import { decodeFrame, decodePackedFrame, unpack } from "../serialize/index.js";
import { MessageReader, StructReader } from "../wire/index.js";
import { loadSchemaFile, type SchemaArgs } from "./schema-files.js";

export { capnpMessage } from "./capnp-tool.js";

export interface DecodeOptions {
  packed?: boolean;
  flat?: boolean;
  short?: boolean;
}

/** Compile `schemaFile` (capnts's front end, or capnp with `--capnp`) and find `typeName` (dotted path) in it. */
export function loadSchemaType(
  schemaFile: string,
  typeName: string,
  args: SchemaArgs = { importPaths: [], noStandardImport: false, srcPrefixes: [], capnp: false },
): {
  loader: SchemaLoader;
  node: StructNode;
} {
  const { loader, file } = loadSchemaFile(schemaFile, args);
  let node: ReturnType<SchemaLoader["find"]>;
  try {
    node = loader.find(file.id, typeName);
  } catch (e) {
    // Name the schema as the user wrote it (capnp's display name drops a leading "/").
    if (e instanceof Error) e.message = e.message.replace(` in ${file.filename}`, ` in ${schemaFile}`);
    throw e;
  }
  if (node.kind !== "struct") throw new Error(`"${typeName}" is not a struct type.`);
  return { loader, node };
}

/** Text to bytes the way `capnp decode` writes them (Latin-1: the formatter escapes the rest). */
function latin1(text: string): Uint8Array {
  const b = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) b[i] = text.charCodeAt(i);
  return b;
}

/**
 * A stream that could not be decoded completely: the messages before `index` were converted (and
 * given to the caller), message `index` (0-based) starting at byte `offset` was not.
 */
export class DecodeStreamError extends Error {
  override name = "DecodeStreamError";
  /** 0-based index of the message that failed. */
  readonly index: number;
  /** Byte offset in the input where that message starts. */
  readonly offset: number;
  /** A hint about the input's format ("looks like packed"), or "". */
  readonly hint: string;
  constructor(index: number, offset: number, cause: unknown, hint: string) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.index = index;
    this.offset = offset;
    this.hint = hint;
  }
}

/**
 * Converts the messages of `input` one at a time, handing each message's text to `write` before
 * reading the next (so a bad or truncated message comes after the good ones, as with `capnp
 * decode`). Throws DecodeStreamError at the first message that cannot be read or converted.
 */
export function decodeStream(
  input: Uint8Array,
  loader: SchemaLoader,
  node: StructNode,
  options: DecodeOptions,
  write: (text: Uint8Array) => void,
): void {
  const format = (segments: Uint8Array[]): Uint8Array => {
    const root = new MessageReader(segments).getRoot(StructReader);
    return latin1(`${formatStructBytes(root, node, { pretty: !options.short, loader })}\n`);
  };
  if (options.flat) {
    try {
      write(format([options.packed ? unpack(input) : input]));
    } catch (e) {
      throw new DecodeStreamError(0, 0, e, formatHint(input, options));
    }
    return;
  }
  if (input.length === 0)
    throw new DecodeStreamError(0, 0, new Error("Premature EOF: the input is empty."), "");
  let offset = 0;
  let index = 0;
  while (offset < input.length) {
    let text: Uint8Array;
    let end: number;
    try {
      const frame = options.packed ? decodePackedFrame(input, offset) : decodeFrame(input, offset);
      end = frame.end;
      text = format(frame.segments);
    } catch (e) {
      throw new DecodeStreamError(index, offset, e, index === 0 ? formatHint(input, options) : "");
    }
    write(text);
    offset = end;
    index++;
  }
}

/** The text `capnp decode` prints for `input`, as bytes (throws DecodeStreamError on bad input). */
export function decodeToText(
  input: Uint8Array,
  loader: SchemaLoader,
  node: StructNode,
  options: DecodeOptions = {},
): Uint8Array {
  const parts: Uint8Array[] = [];
  decodeStream(input, loader, node, options, (t) => parts.push(t));
  return new Uint8Array(Buffer.concat(parts));
}

/** Does `bytes` start with a plausible unpacked segment table (and fill it exactly or more)? */
function plausiblyBinary(bytes: Uint8Array): boolean {
  if (bytes.length < 8) return false;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = view.getUint32(0, true) + 1;
  if (count > 512) return false;
  const header = (4 + count * 4 + 7) & ~7;
  if (bytes.length < header) return false;
  let words = 0;
  for (let i = 0; i < count; i++) words += view.getUint32(4 + i * 4, true);
  return words > 0 && header + words * 8 <= bytes.length;
}

/** Does `bytes` unpack to a plausible unpacked stream? */
function plausiblyPacked(bytes: Uint8Array): boolean {
  try {
    return plausiblyBinary(unpack(bytes));
  } catch {
    return false;
  }
}

/**
 * capnp's hint when the input seems to be in another format than the flags say (its wording:
 * `The input is not in "packed" format. It looks like it is in "binary" format. Try that
 * instead.`), or "".
 */
export function formatHint(input: Uint8Array, options: DecodeOptions): string {
  const given = options.flat
    ? options.packed
      ? "flat-packed"
      : "flat"
    : options.packed
      ? "packed"
      : "binary";
  let likely = "";
  if (given !== "binary" && plausiblyBinary(input)) likely = "binary";
  else if (given !== "packed" && plausiblyPacked(input)) likely = "packed";
  if (likely === "") return "";
  return `The input is not in "${given}" format. It looks like it is in "${likely}" format. Try that instead.`;
}

/**
 * For --flat input: capnp's warning when the root pointer does not look like the schema's struct
 * and the bytes look like a framed (binary) stream instead, or "".
 */
export function flatWarning(input: Uint8Array, node: StructNode, options: DecodeOptions): string {
  if (!options.flat) return "";
  let words: Uint8Array;
  try {
    words = options.packed ? unpack(input) : input;
  } catch {
    return "";
  }
  if (words.length < 8) return "";
  const view = new DataView(words.buffer, words.byteOffset, words.byteLength);
  const lo = view.getUint32(0, true);
  const hi = view.getUint32(4, true);
  const matches = (lo & 3) === 0 && (hi & 0xffff) === node.dataWordCount && hi >>> 16 === node.pointerCount;
  if (matches || !plausiblyBinary(words)) return "";
  const binary = options.packed ? "packed" : "binary";
  return (
    "*** WARNING ***\n" +
    "The input data does not appear to match the schema that you specified. I'll try\n" +
    "to parse it anyway, but if it doesn't look right, please verify that you\n" +
    'have the right schema. This could also be because the input is not in "flat"\n' +
    `format; indeed, it looks like this input may be in regular ${binary} format,\n` +
    `so you might want to try "${binary}" instead.  Use --quiet to suppress this\n` +
    "warning.\n" +
    "*** END WARNING ***\n"
  );
}
