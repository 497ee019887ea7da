// Fuzzing (bounded count, fixed seeds): random and mutated messages through the framing, the
// packed decoder and a reader that walks every pointer. Only typed errors (DecodeError) may come
// out: no other exception, no hang, no read outside the buffer.
import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeFrame, encodeFrame, packedFrame, unpack } from "capnts/serialize";
import {
  AnyList,
  AnyPointerList,
  type AnyPointerReader,
  DecodeError,
  ElementSize,
  MessageBuilder,
  MessageReader,
  StructList,
  StructReader,
} from "capnts/wire";
import { PrimsB, PrimsR } from "./fixtures.js";

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Visit every object reachable from `p`, reading text and data where the shape allows. */
function walk(p: AnyPointerReader): void {
  switch (p.pointerType()) {
    case "struct": {
      const s = p.getAs(StructReader);
      for (let i = 0; i < s._dataSize; i += 8) if (i + 8 <= s._dataSize) s._getUint64(i);
      for (let i = 0; i < s._ptrCount; i++) walk(s._getPointer(i));
      return;
    }
    case "list": {
      const l = p.getList(AnyList.kind);
      if (l._actual === ElementSize.POINTER) {
        for (const e of p.getList(AnyPointerList.kind)) walk(e);
      } else if (l._actual === ElementSize.INLINE_COMPOSITE) {
        for (const s of p.getList(StructList.of(StructReader))) {
          for (let i = 0; i < s._ptrCount; i++) walk(s._getPointer(i));
        }
      } else if (l._actual === ElementSize.BYTE) {
        try {
          p.getText();
        } catch (e) {
          if (!(e instanceof DecodeError)) throw e;
        }
      }
      return;
    }
    default:
      return;
  }
}

function readAll(segments: Uint8Array[]): void {
  const m = new MessageReader(segments, { traversalLimitInWords: 1 << 16 });
  walk(m.getRootAnyPointer());
  const r = m.getRoot(PrimsR);
  void r.text;
  void r.structList.length;
  for (const s of r.structList) void s.text;
  for (const l of r.listList) void l.toArray();
}

function expectOnlyDecodeErrors(f: () => void): "ok" | "error" {
  try {
    f();
    return "ok";
  } catch (e) {
    if (e instanceof DecodeError) return "error";
    throw e;
  }
}

function sample(): Uint8Array[] {
  const m = new MessageBuilder({ firstSegmentWords: 16 });
  const p = m.initRoot(PrimsB);
  p.text = "fuzz";
  p.i32 = 5;
  const sl = p.initStructList(4);
  for (let i = 0; i < 4; i++) sl.get(i).text = `e${i}`;
  const ll = p.initListList(2);
  ll.init(0, 3).set(1, 7);
  p.initInner().initTextList(2).set(0, "x");
  return m.getSegmentsForOutput();
}

test("mutated framed messages yield values or DecodeError only", () => {
  const rand = rng(1234);
  const base = encodeFrame(sample());
  let errors = 0;
  for (let iter = 0; iter < 3000; iter++) {
    const bytes = base.slice();
    const flips = 1 + Math.floor(rand() * 8);
    for (let k = 0; k < flips; k++) bytes[Math.floor(rand() * bytes.length)] = Math.floor(rand() * 256);
    const r = expectOnlyDecodeErrors(() => readAll(decodeFrame(bytes).segments));
    if (r === "error") errors++;
  }
  assert.ok(errors > 0, "mutations should hit some errors");
});

test("random bytes as segments yield values or DecodeError only", () => {
  const rand = rng(99);
  for (let iter = 0; iter < 2000; iter++) {
    const nseg = 1 + Math.floor(rand() * 3);
    const segs: Uint8Array[] = [];
    for (let s = 0; s < nseg; s++) {
      const b = new Uint8Array(8 * (1 + Math.floor(rand() * 16)));
      for (let i = 0; i < b.length; i++) b[i] = rand() < 0.5 ? 0 : Math.floor(rand() * 256);
      segs.push(b);
    }
    expectOnlyDecodeErrors(() => readAll(segs));
  }
});

test("random and mutated packed input yields bytes or DecodeError only", () => {
  const rand = rng(7);
  const packed = packedFrame(sample());
  for (let iter = 0; iter < 3000; iter++) {
    let bytes: Uint8Array;
    if (iter % 2 === 0) {
      bytes = packed.slice();
      bytes[Math.floor(rand() * bytes.length)] = Math.floor(rand() * 256);
    } else {
      bytes = new Uint8Array(Math.floor(rand() * 64));
      for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(rand() * 256);
    }
    expectOnlyDecodeErrors(() => {
      const u = unpack(bytes);
      readAll(decodeFrame(u).segments);
    });
  }
});
