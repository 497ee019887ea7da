/**
 * Self-contained copies of pointer values: a default value or constant lives in the middle of a
 * CodeGeneratorRequest; generated code and reflection need it as a standalone single-segment
 * message (word 0 = root pointer), which is what `PointerDefault` reads.
 */
import { type AnyPointerReader, MessageBuilder } from "../wire/index.js";

/** Deep-copy the object behind `p` into a fresh single segment; null for a null pointer. */
export function copyToWords(p: AnyPointerReader): Uint8Array | null {
  if (p.isNull()) return null;
  let words = 64;
  for (;;) {
    const m = new MessageBuilder({ firstSegmentWords: words });
    m.getRootAnyPointer().set(p);
    const segs = m.getSegmentsForOutput();
    if (segs.length === 1) return segs[0]!.slice();
    // Did not fit: retry with room for everything at once.
    words = m.sizeInWords + 1;
  }
}
