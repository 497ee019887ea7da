import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeFrame, decodeFrames, encodeFrame, frameLength, frameSize, writeFrame } from "capnts/serialize";
import { DEFAULT_TRAVERSAL_LIMIT_IN_WORDS } from "../../src/wire/arena.js";
import { DecodeError, EncodeError } from "../../src/wire/errors.js";

/** mulberry32: a small seeded PRNG so failures reproduce. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function segment(words: number, fill: number): Uint8Array {
  const s = new Uint8Array(words * 8);
  for (let i = 0; i < s.length; i++) s[i] = (fill + i * 7) & 0xff;
  return s;
}

function segmentsOf(sizes: number[]): Uint8Array[] {
  return sizes.map((w, i) => segment(w, i * 31 + 1));
}

function u32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
}

function header(sizes: number[]): Uint8Array {
  const bytes = [...u32(sizes.length - 1), ...sizes.flatMap(u32)];
  if (sizes.length % 2 === 0) bytes.push(0, 0, 0, 0);
  return Uint8Array.from(bytes);
}

function isDecodeError(code: string) {
  return (e: unknown) => e instanceof DecodeError && e.code === code;
}

function assertSegmentsEqual(actual: Uint8Array[], expected: Uint8Array[]): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) assert.deepEqual(actual[i], expected[i], `segment ${i}`);
}

test("single segment: table is [0, size] and the segment follows", () => {
  const seg = segment(2, 5);
  const bytes = encodeFrame([seg]);
  assert.equal(bytes.length, 8 + 16);
  assert.deepEqual(bytes.subarray(0, 8), Uint8Array.from([0, 0, 0, 0, 2, 0, 0, 0]));
  assert.deepEqual(bytes.subarray(8), seg);
  const { segments, end } = decodeFrame(bytes);
  assert.equal(end, bytes.length);
  assertSegmentsEqual(segments, [seg]);
});

test("round trips with 1, 2, 3, 4, 7, 100 and 511 segments, empty ones included", () => {
  const cases = [[1], [0], [3, 4], [0, 0], [1, 0, 2], [5, 0, 0, 1], [1, 2, 3, 4, 5, 6, 7]];
  const r = rng(1);
  cases.push(Array.from({ length: 100 }, () => Math.floor(r() * 4)));
  cases.push(Array.from({ length: 511 }, () => Math.floor(r() * 3)));
  for (const sizes of cases) {
    const segs = segmentsOf(sizes);
    const bytes = encodeFrame(segs);
    assert.equal(bytes.length, frameSize(segs));
    assert.deepEqual(bytes.subarray(0, header(sizes).length), header(sizes), `table of ${sizes.length}`);
    const { segments, end } = decodeFrame(bytes);
    assert.equal(end, bytes.length);
    assertSegmentsEqual(segments, segs);
  }
});

test("padding word of an even segment count is written as zero even into a dirty buffer", () => {
  const segs = segmentsOf([1, 2]);
  const out = new Uint8Array(frameSize(segs) + 10).fill(0xaa);
  const end = writeFrame(segs, out, 5);
  assert.equal(end, 5 + frameSize(segs));
  assert.deepEqual(out.subarray(5, 5 + 16), header([1, 2]));
  assert.equal(out[4], 0xaa);
  assert.equal(out[end], 0xaa);
  assertSegmentsEqual(decodeFrame(out, 5).segments, segs);
});

test("decoded segments are zero-copy views of the input", () => {
  const bytes = encodeFrame(segmentsOf([2, 3]));
  const { segments } = decodeFrame(bytes);
  for (const s of segments) assert.equal(s.buffer, bytes.buffer);
  assert.equal(segments[0]!.byteOffset, 16);
  assert.equal(segments[1]!.byteOffset, 32);
});

test("unaligned input: frames at every byte offset of a buffer decode", () => {
  const segs = segmentsOf([1, 0, 3]);
  const frame = encodeFrame(segs);
  for (let shift = 0; shift < 8; shift++) {
    const backing = new Uint8Array(frame.length + 16);
    backing.set(frame, shift);
    // Offset argument...
    assertSegmentsEqual(decodeFrame(backing, shift).segments, segs);
    // ... and a view whose byteOffset is unaligned.
    const view = new Uint8Array(backing.buffer, shift, frame.length);
    const { segments, end } = decodeFrame(view);
    assert.equal(end, frame.length);
    assertSegmentsEqual(segments, segs);
    assert.equal(frameLength(view), frame.length);
  }
});

test("truncated headers and bodies: every proper prefix is DecodeError truncated", () => {
  for (const sizes of [[2], [1, 2], [0, 1, 2, 3]]) {
    const bytes = encodeFrame(segmentsOf(sizes));
    const tableBytes = header(sizes).length;
    for (let n = 0; n < bytes.length; n++) {
      const prefix = bytes.subarray(0, n);
      assert.throws(() => decodeFrame(prefix), isDecodeError("truncated"), `prefix ${n} of ${sizes}`);
      assert.equal(frameLength(prefix), n < tableBytes ? -1 : bytes.length, `frameLength of prefix ${n}`);
    }
    assert.equal(frameLength(bytes), bytes.length);
  }
  assert.throws(() => decodeFrame(new Uint8Array(0)), isDecodeError("truncated"));
});

test("too many segments: 511 are accepted, 512 and 2^32 are refused from the first word", () => {
  const ok = encodeFrame(segmentsOf(new Array(511).fill(0)));
  assert.equal(decodeFrame(ok).segments.length, 511);

  const many = new Uint8Array(8);
  many.set(u32(511), 0); // 512 segments
  assert.throws(
    () => frameLength(many),
    (e: unknown) =>
      isDecodeError("too-large")(e) && /Message has too many segments\./.test((e as Error).message),
  );
  assert.throws(() => decodeFrame(many), isDecodeError("too-large"));

  const wrap = Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);
  assert.throws(() => frameLength(wrap), isDecodeError("too-large"));
});

test("too large: total words over traversalLimitInWords is refused once the table is in", () => {
  // A hostile 4 GiB claim, with no body at all: refused from the header alone.
  const huge = Uint8Array.from([0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
  assert.throws(
    () => frameLength(huge),
    (e: unknown) =>
      isDecodeError("too-large")(e) &&
      (e as Error).message.startsWith(
        "Message is too large.  To increase the limit on the receiving end, see capnp::ReaderOptions.",
      ),
  );
  assert.throws(() => decodeFrame(huge), isDecodeError("too-large"));

  // Sum over several segments, exactly at and just over a custom limit.
  const bytes = encodeFrame(segmentsOf([3, 4, 5]));
  assert.equal(decodeFrame(bytes, 0, { traversalLimitInWords: 12 }).segments.length, 3);
  assert.throws(() => decodeFrame(bytes, 0, { traversalLimitInWords: 11 }), isDecodeError("too-large"));
  assert.throws(() => frameLength(bytes, 0, { traversalLimitInWords: 11 }), isDecodeError("too-large"));

  // The default is C++'s 8 Mi words.
  const atLimit = Uint8Array.from([0, 0, 0, 0, ...u32(DEFAULT_TRAVERSAL_LIMIT_IN_WORDS)]);
  assert.equal(frameLength(atLimit), 8 + DEFAULT_TRAVERSAL_LIMIT_IN_WORDS * 8);
  const overLimit = Uint8Array.from([0, 0, 0, 0, ...u32(DEFAULT_TRAVERSAL_LIMIT_IN_WORDS + 1)]);
  assert.throws(() => frameLength(overLimit), isDecodeError("too-large"));
});

test("many messages in one buffer, with decodeFrames and with decodeFrame offsets", () => {
  const r = rng(2);
  const messages: Uint8Array[][] = [];
  for (let i = 0; i < 50; i++) {
    messages.push(segmentsOf(Array.from({ length: 1 + Math.floor(r() * 5) }, () => Math.floor(r() * 4))));
  }
  const frames = messages.map(encodeFrame);
  const all = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
  let o = 0;
  for (const f of frames) {
    all.set(f, o);
    o += f.length;
  }
  const got = [...decodeFrames(all)];
  assert.equal(got.length, messages.length);
  for (let i = 0; i < messages.length; i++) assertSegmentsEqual(got[i]!, messages[i]!);

  let offset = 0;
  for (let i = 0; i < messages.length; i++) {
    const { segments, end } = decodeFrame(all, offset);
    assertSegmentsEqual(segments, messages[i]!);
    offset = end;
  }
  assert.equal(offset, all.length);

  // A partial last message: the complete ones come out, then "truncated".
  const cut = all.subarray(0, all.length - 3);
  const seen: Uint8Array[][] = [];
  assert.throws(() => {
    for (const m of decodeFrames(cut)) seen.push(m);
  }, isDecodeError("truncated"));
  assert.equal(seen.length, messages.length - 1);
  assert.deepEqual([...decodeFrames(new Uint8Array(0))], []);
});

test("encoding errors: no segments, partial words, short output buffer", () => {
  assert.throws(() => encodeFrame([]), EncodeError);
  assert.throws(() => encodeFrame([new Uint8Array(7)]), EncodeError);
  assert.throws(() => frameSize([new Uint8Array(8), new Uint8Array(9)]), EncodeError);
  const segs = segmentsOf([2]);
  assert.throws(() => writeFrame(segs, new Uint8Array(frameSize(segs) - 1), 0), RangeError);
  assert.throws(() => writeFrame(segs, new Uint8Array(frameSize(segs)), 1), RangeError);
});
