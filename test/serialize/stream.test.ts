import assert from "node:assert/strict";
import { test } from "node:test";
import { encodeFrame, FrameReader } from "capnts/serialize";
import { DecodeError } from "../../src/wire/errors.js";

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

function segmentsOf(sizes: number[], seed: number): Uint8Array[] {
  return sizes.map((w, k) => {
    const s = new Uint8Array(w * 8);
    for (let i = 0; i < s.length; i++) s[i] = (seed * 13 + k * 31 + i * 7) & 0xff;
    return s;
  });
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function isDecodeError(code: string) {
  return (e: unknown) => e instanceof DecodeError && e.code === code;
}

/** A stream of messages with 1, 2, 3 and 40 segments (the last has a 168-byte table), some empty. */
const MESSAGES: Uint8Array[][] = [
  segmentsOf([1], 1),
  segmentsOf([2, 0], 2),
  segmentsOf([0, 1, 3], 3),
  segmentsOf([0], 4),
  segmentsOf(
    Array.from({ length: 40 }, (_, i) => i % 3),
    5,
  ),
  segmentsOf([5], 6),
];
const STREAM = concat(MESSAGES.map(encodeFrame));

function assertMessages(got: Uint8Array[][], expected: Uint8Array[][]): void {
  assert.equal(got.length, expected.length);
  for (let m = 0; m < expected.length; m++) {
    assert.equal(got[m]!.length, expected[m]!.length, `segment count of message ${m}`);
    for (let s = 0; s < expected[m]!.length; s++)
      assert.deepEqual(got[m]![s], expected[m]![s], `message ${m}.${s}`);
  }
}

/**
 * Feeds `stream` split at `cuts` (sorted offsets), draining after every push, or (`lazy`) only
 * once everything is pushed, so several chunks are queued when a header is parsed.
 */
function readSplit(stream: Uint8Array, cuts: number[], lazy = false): Uint8Array[][] {
  const reader = new FrameReader();
  const got: Uint8Array[][] = [];
  let prev = 0;
  for (const c of [...cuts, stream.length]) {
    reader.push(stream.subarray(prev, c));
    prev = c;
    if (!lazy) for (const m of reader) got.push(m);
  }
  for (const m of reader) got.push(m);
  reader.finish();
  assert.equal(reader.bufferedBytes, 0);
  return got;
}

test("FrameReader: the whole stream in one chunk gives every message, as views", () => {
  const reader = new FrameReader();
  reader.push(STREAM);
  const got = [...reader];
  assertMessages(got, MESSAGES);
  for (const m of got) for (const s of m) assert.equal(s.buffer, STREAM.buffer);
  assert.equal(reader.next(), undefined);
  reader.finish();
});

test("FrameReader: fixed chunk sizes 1 .. stream length", () => {
  for (let size = 1; size <= STREAM.length; size++) {
    const cuts: number[] = [];
    for (let c = size; c < STREAM.length; c += size) cuts.push(c);
    assertMessages(readSplit(STREAM, cuts), MESSAGES);
    assertMessages(readSplit(STREAM, cuts, true), MESSAGES);
  }
});

test("FrameReader: every split into two chunks, and every split into three of a shorter stream", () => {
  for (let a = 0; a <= STREAM.length; a++) {
    assertMessages(readSplit(STREAM, [a]), MESSAGES);
    assertMessages(readSplit(STREAM, [a], true), MESSAGES);
  }
  const short = MESSAGES.slice(0, 4);
  const stream = concat(short.map(encodeFrame));
  for (let a = 0; a <= stream.length; a++) {
    for (let b = a; b <= stream.length; b++) {
      assertMessages(readSplit(stream, [a, b]), short);
      assertMessages(readSplit(stream, [a, b], true), short);
    }
  }
});

test("FrameReader: random chunk sizes (fixed seed), drained at random times", () => {
  const r = rng(42);
  for (let round = 0; round < 300; round++) {
    const reader = new FrameReader();
    const got: Uint8Array[][] = [];
    let o = 0;
    while (o < STREAM.length) {
      const n = 1 + Math.floor(r() * (r() < 0.5 ? 8 : 200));
      reader.push(STREAM.subarray(o, o + n));
      o += n;
      if (r() < 0.5) for (const m of reader) got.push(m);
    }
    for (const m of reader) got.push(m);
    reader.finish();
    assertMessages(got, MESSAGES);
  }
});

test("FrameReader: a message spanning chunks is assembled into one fresh buffer", () => {
  const frame = encodeFrame(MESSAGES[2]!);
  const reader = new FrameReader();
  reader.push(frame.subarray(0, 10));
  assert.equal(reader.next(), undefined);
  reader.push(frame.subarray(10));
  const m = reader.next()!;
  assertMessages([m], [MESSAGES[2]!]);
  assert.notEqual(m[1]!.buffer, frame.buffer);
  assert.equal(m[1]!.buffer.byteLength, frame.length);
});

test("FrameReader: a large message in 1-byte chunks (no quadratic behaviour)", () => {
  const big = segmentsOf([20000, 1, 30000], 9);
  const frame = encodeFrame(big);
  const reader = new FrameReader();
  const got: Uint8Array[][] = [];
  for (let i = 0; i < frame.length; i++) {
    reader.push(frame.subarray(i, i + 1));
    const m = reader.next();
    if (m !== undefined) got.push(m);
  }
  assertMessages(got, [big]);
  reader.finish();
});

test("FrameReader: a hostile 4 GiB size claim is refused at the header, and the reader stays poisoned", () => {
  const reader = new FrameReader();
  reader.push(Uint8Array.from([0, 0, 0, 0]));
  let err: unknown;
  try {
    reader.push(Uint8Array.from([0xff, 0xff, 0xff, 0xff]));
  } catch (e) {
    err = e;
  }
  assert.ok(isDecodeError("too-large")(err));
  assert.equal(reader.bufferedBytes, 0);
  assert.throws(
    () => reader.push(new Uint8Array(8)),
    (e: unknown) => e === err,
  );
  assert.throws(
    () => reader.next(),
    (e: unknown) => e === err,
  );
  assert.throws(
    () => reader.finish(),
    (e: unknown) => e === err,
  );
});

test("FrameReader: limits are those of decodeFrame (segment count, traversalLimitInWords)", () => {
  const many = new FrameReader();
  assert.throws(() => many.push(Uint8Array.from([0, 2, 0, 0, 0, 0, 0, 0])), isDecodeError("too-large"));

  // A 3-segment table split across chunks: the total is checked when its last byte arrives.
  const frame = encodeFrame(segmentsOf([3, 4, 5], 1));
  const small = new FrameReader({ traversalLimitInWords: 11 });
  for (let i = 0; i < 15; i++) small.push(frame.subarray(i, i + 1));
  assert.throws(() => small.push(frame.subarray(15, 16)), isDecodeError("too-large"));

  const exact = new FrameReader({ traversalLimitInWords: 12 });
  exact.push(frame);
  assertMessages([exact.next()!], [segmentsOf([3, 4, 5], 1)]);
});

test("FrameReader: a bad header after good messages surfaces from next(), after the good ones", () => {
  const bad = Uint8Array.from([0, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f]);
  const reader = new FrameReader();
  reader.push(concat([encodeFrame(MESSAGES[0]!), encodeFrame(MESSAGES[1]!), bad]));
  assertMessages([reader.next()!, reader.next()!], MESSAGES.slice(0, 2));
  assert.throws(() => reader.next(), isDecodeError("too-large"));
  assert.throws(() => reader.push(new Uint8Array(1)), isDecodeError("too-large"));
});

test("FrameReader: finish() reports a partial message as truncated", () => {
  for (const cut of [1, 7, 8, 9, STREAM.length - 1]) {
    const reader = new FrameReader();
    reader.push(STREAM.subarray(0, cut));
    for (const _ of reader) {
      // drain complete messages
    }
    assert.throws(() => reader.finish(), isDecodeError("truncated"), `cut at ${cut}`);
  }
  const empty = new FrameReader();
  empty.push(new Uint8Array(0));
  empty.finish();
});
