/**
 * Canonical form (https://capnproto.org/encoding.html#canonicalization): one segment, objects in
 * pre-order, no far pointers, struct sections truncated (trailing zero data words and null
 * pointers dropped; a struct list uses the largest truncated element size). Used for hashing and
 * signing. C++: `capnp::canonicalize()` and `MessageReader::isCanonical()`.
 */
import { BuilderArena, ReaderArena, type ReaderOptions } from "../wire/arena.js";
import { DecodeError } from "../wire/errors.js";
import type { StructView } from "../wire/struct.js";
import { copyPointer, copyStructInto } from "../wire/write.js";

function totalWords(segments: readonly Uint8Array[]): number {
  let n = 0;
  for (const s of segments) n += s.byteLength >>> 3;
  return n;
}

function singleSegment(arena: BuilderArena): Uint8Array {
  if (arena.segments.length !== 1) {
    // Cannot happen: canonical output is never larger than the input it was copied from.
    throw new Error("canonicalize: output spilled into a second segment");
  }
  return arena.segmentsForOutput()[0]!;
}

/** Canonical bytes (one segment, unframed) of the message whose root is in `segments`. */
export function canonicalize(segments: readonly Uint8Array[], options?: ReaderOptions): Uint8Array {
  const src = new ReaderArena(segments, options);
  const dst = new BuilderArena({ firstSegmentWords: totalWords(segments) + 1 });
  dst.allocate(1);
  copyPointer(dst, dst.segments[0]!, 0, src, src.segment(0), 0, src.nestingLimit, true);
  return singleSegment(dst);
}

/** Canonical bytes of one struct (reader or builder). */
export function canonicalizeStruct(value: StructView): Uint8Array {
  // Copy once plainly (to get a message rooted at `value`), then canonicalize that message.
  const tmp = new BuilderArena();
  tmp.allocate(1);
  copyStructInto(tmp, tmp.segments[0]!, 0, value);
  return canonicalize(tmp.segmentsForOutput());
}

/** Whether `segments` already are the canonical form of their message (C++ `isCanonical`). */
export function isCanonical(segments: readonly Uint8Array[], options?: ReaderOptions): boolean {
  if (segments.length !== 1) return false;
  let canon: Uint8Array;
  try {
    canon = canonicalize(segments, options);
  } catch (e) {
    if (e instanceof DecodeError) return false;
    throw e;
  }
  const s = segments[0]!;
  if (canon.byteLength !== s.byteLength) return false;
  for (let i = 0; i < s.byteLength; i++) if (canon[i] !== s[i]) return false;
  return true;
}
