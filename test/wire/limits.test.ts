/**
 * Reader limits that must match C++ (layout.c++): the element count of an INLINE_COMPOSITE tag
 * keeps 29 bits, and a message of the most segments framing allows (511) is read through a far
 * pointer into its last segment.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeFrame, encodeFrame } from "capnts/serialize";
import { MessageBuilder, MessageReader } from "capnts/wire";
import { PrimsB, PrimsR } from "./fixtures.js";

test("an INLINE_COMPOSITE tag's element count keeps 29 bits, as C++ inlineCompositeListElementCount()", () => {
  const mb = new MessageBuilder();
  const root = mb.initRoot(PrimsB);
  root.initStructList(1).get(0).i32 = 42;
  const [seg] = mb.getSegmentsForOutput();
  const bytes = seg!.slice();
  const v = new DataView(bytes.buffer);
  // The tag: element count 1 in the offset field, kind struct, then the element's section sizes.
  const sizes = PrimsB._dataWords | (PrimsB._ptrCount << 16);
  let tag = -1;
  for (let o = 0; o + 8 <= bytes.length; o += 8) {
    if (v.getUint32(o, true) === 1 << 2 && v.getUint32(o + 4, true) === sizes) tag = o;
  }
  assert.ok(tag > 0, "tag word not found");
  // Bit 29 of the count set: C++ masks it away and sees one element; a 30-bit reader would see
  // 2^29 + 1 elements overrunning the list's word count and fail.
  v.setUint32(tag, ((((1 << 29) | 1) << 2) >>> 0) >>> 0, true);
  const list = new MessageReader([bytes]).getRoot(PrimsR).structList;
  assert.equal(list.length, 1);
  assert.equal(list.get(0).i32, 42);
});

test("a message of 511 segments (the framing maximum) is read through a far pointer into its last", () => {
  const COUNT = 511;
  const segs: Uint8Array[] = [];
  // Segment 0: the root, a far pointer to segment 510's word 0.
  const s0 = new Uint8Array(8);
  new DataView(s0.buffer).setUint32(0, 0x2, true); // far, single pad at word 0
  new DataView(s0.buffer).setUint32(4, COUNT - 1, true);
  segs.push(s0);
  for (let i = 1; i < COUNT - 1; i++) segs.push(new Uint8Array(0));
  // Segment 510: the landing pad (a struct pointer, offset 0 -> word 1) and a struct of 4 data
  // words whose u32 field (byte 20) is set.
  const last = new Uint8Array(40);
  const lv = new DataView(last.buffer);
  lv.setUint32(0, 0, true);
  lv.setUint32(4, 4, true); // 4 data words, 0 pointers
  lv.setUint32(8 + 20, 0xdeadbeef, true);
  segs.push(last);
  const framed = encodeFrame(segs);
  const { segments } = decodeFrame(framed);
  assert.equal(segments.length, COUNT);
  const m = new MessageReader(segments);
  const any = m.getRootAnyPointer();
  assert.equal(any.getAs(PrimsR).u32, 0xdeadbeef >>> 0);
});
