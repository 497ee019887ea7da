import assert from "node:assert/strict";
import { test } from "node:test";
import {
  decodePackedFrame,
  decodePackedFrames,
  encodeFrame,
  FrameReader,
  maxPackedSize,
  PackedDecoder,
  pack,
  packedFrame,
  packInto,
  unpack,
  unpackedSize,
} from "capnts/serialize";
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

/** Random words where each byte is zero with probability `zero` (0..1). */
function randomWords(r: () => number, words: number, zero: number): Uint8Array {
  const out = new Uint8Array(words * 8);
  for (let i = 0; i < out.length; i++) out[i] = r() < zero ? 0 : 1 + Math.floor(r() * 255);
  return out;
}

/** Words mixing the shapes the packer treats specially: zero runs, dense runs, sparse words. */
function mixedWords(r: () => number, words: number): Uint8Array {
  const out = new Uint8Array(words * 8);
  let w = 0;
  while (w < words) {
    const kind = r();
    const run = Math.min(words - w, 1 + Math.floor(r() * (r() < 0.2 ? 400 : 6)));
    const zero = kind < 0.3 ? 1 : kind < 0.6 ? 0 : kind < 0.8 ? 0.13 : 0.5;
    out.set(randomWords(r, run, zero), w * 8);
    w += run;
  }
  return out;
}

function bytes(...b: number[]): Uint8Array {
  return Uint8Array.from(b);
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

/** Unpacks `packed` through a PackedDecoder fed the given chunks. */
function streamUnpack(packed: Uint8Array, cuts: number[]): Uint8Array {
  const dec = new PackedDecoder();
  const parts: Uint8Array[] = [];
  let prev = 0;
  for (const c of [...cuts, packed.length]) {
    parts.push(dec.push(packed.subarray(prev, c)));
    prev = c;
  }
  dec.finish();
  return concat(parts);
}

// serialize-packed-test.c++ TEST(Packed, SimplePacking), byte for byte.
const CPP_VECTORS: [number[], number[]][] = [
  [[], []],
  [
    [0, 0, 0, 0, 0, 0, 0, 0],
    [0, 0],
  ],
  [
    [0, 0, 12, 0, 0, 34, 0, 0],
    [0x24, 12, 34],
  ],
  [
    [1, 3, 2, 4, 5, 7, 6, 8],
    [0xff, 1, 3, 2, 4, 5, 7, 6, 8, 0],
  ],
  [
    [0, 0, 0, 0, 0, 0, 0, 0, 1, 3, 2, 4, 5, 7, 6, 8],
    [0, 0, 0xff, 1, 3, 2, 4, 5, 7, 6, 8, 0],
  ],
  [
    [0, 0, 12, 0, 0, 34, 0, 0, 1, 3, 2, 4, 5, 7, 6, 8],
    [0x24, 12, 34, 0xff, 1, 3, 2, 4, 5, 7, 6, 8, 0],
  ],
  [
    [1, 3, 2, 4, 5, 7, 6, 8, 8, 6, 7, 4, 5, 2, 3, 1],
    [0xff, 1, 3, 2, 4, 5, 7, 6, 8, 1, 8, 6, 7, 4, 5, 2, 3, 1],
  ],
  [
    [
      1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8, 0, 2, 4,
      0, 9, 0, 5, 1,
    ],
    [
      0xff, 1, 2, 3, 4, 5, 6, 7, 8, 3, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8,
      0xd6, 2, 4, 9, 5, 1,
    ],
  ],
  [
    [
      1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8, 6, 2, 4, 3, 9, 0, 5, 1, 1, 2, 3, 4, 5, 6, 7, 8, 0, 2, 4,
      0, 9, 0, 5, 1,
    ],
    [
      0xff, 1, 2, 3, 4, 5, 6, 7, 8, 3, 1, 2, 3, 4, 5, 6, 7, 8, 6, 2, 4, 3, 9, 0, 5, 1, 1, 2, 3, 4, 5, 6, 7, 8,
      0xd6, 2, 4, 9, 5, 1,
    ],
  ],
  [
    [
      8, 0, 100, 6, 0, 1, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
      1, 0, 2, 0, 3, 1,
    ],
    [0xed, 8, 100, 6, 1, 1, 2, 0, 2, 0xd4, 1, 2, 3, 1],
  ],
  // The example of https://capnproto.org/encoding.html#packing.
  [
    [0x08, 0, 0, 0, 0x03, 0, 0x02, 0, 0x19, 0, 0, 0, 0xaa, 0x01, 0, 0],
    [0x51, 0x08, 0x03, 0x02, 0x31, 0x19, 0xaa, 0x01],
  ],
];

test("C++ SimplePacking vectors pack and unpack byte for byte", () => {
  for (const [u, p] of CPP_VECTORS) {
    const unpacked = Uint8Array.from(u);
    const packed = Uint8Array.from(p);
    assert.deepEqual(pack(unpacked), packed, `pack ${u}`);
    assert.deepEqual(unpack(packed), unpacked, `unpack ${p}`);
    assert.equal(unpackedSize(packed), unpacked.length);
    // Chunked, at every block size (as the C++ test does with powers of two).
    for (let size = 1; size <= packed.length; size++) {
      const cuts: number[] = [];
      for (let c = size; c < packed.length; c += size) cuts.push(c);
      assert.deepEqual(streamUnpack(packed, cuts), unpacked, `stream ${p} by ${size}`);
    }
  }
});

test("zero runs: counts up to 255 extra words, longer runs start a new tag", () => {
  for (const words of [1, 2, 255, 256, 257, 511, 512, 513, 1000]) {
    const unpacked = new Uint8Array(words * 8);
    const expected: number[] = [];
    for (let left = words; left > 0; left -= 256) expected.push(0, Math.min(left, 256) - 1);
    const packed = pack(unpacked);
    assert.deepEqual(packed, Uint8Array.from(expected), `${words} zero words`);
    assert.deepEqual(unpack(packed), unpacked);
  }
});

test("0xff runs: raw counts up to 255 words, then a new 0xff tag", () => {
  for (const words of [1, 2, 255, 256, 257, 600]) {
    const unpacked = new Uint8Array(words * 8).fill(0x5a);
    const packed = pack(unpacked);
    // Each group: tag 0xff, 8 bytes, count, count * 8 raw bytes; a group covers up to 256 words.
    let expectedLength = 0;
    for (let left = words; left > 0; left -= 256) expectedLength += 10 + (Math.min(left, 256) - 1) * 8;
    assert.equal(packed.length, expectedLength, `${words} dense words`);
    assert.equal(packed[0], 0xff);
    assert.equal(packed[9], Math.min(words, 256) - 1);
    if (words > 256) assert.equal(packed[10 + 255 * 8], 0xff);
    assert.deepEqual(unpack(packed), unpacked);
  }
});

test("0xff run heuristic: words with one zero byte stay raw, two zeros end the run", () => {
  const dense = [1, 2, 3, 4, 5, 6, 7, 8];
  const oneZero = [1, 0, 3, 4, 5, 6, 7, 8];
  const twoZeros = [1, 0, 3, 0, 5, 6, 7, 8];
  assert.deepEqual(
    pack(Uint8Array.from([...dense, ...oneZero, ...oneZero, ...twoZeros, ...oneZero])),
    Uint8Array.from([
      0xff,
      ...dense,
      2,
      ...oneZero,
      ...oneZero,
      0xf5,
      1,
      3,
      5,
      6,
      7,
      8,
      // After a non-0xff tag a one-zero word is an ordinary tag, not a raw run.
      0xfd,
      1,
      3,
      4,
      5,
      6,
      7,
      8,
    ]),
  );
  // A zero word ends a raw run too (8 zeros), and is then counted as a zero run.
  assert.deepEqual(
    pack(Uint8Array.from([...dense, ...oneZero, 0, 0, 0, 0, 0, 0, 0, 0])),
    Uint8Array.from([0xff, ...dense, 1, ...oneZero, 0, 0]),
  );
});

test("random round trips at several densities stay within maxPackedSize", () => {
  const r = rng(7);
  for (let round = 0; round < 400; round++) {
    const words = Math.floor(r() * 700);
    const unpacked =
      round % 2 === 0 ? randomWords(r, words, [0, 0.1, 0.25, 0.5, 0.9][round % 5]!) : mixedWords(r, words);
    const packed = pack(unpacked);
    assert.ok(packed.length <= maxPackedSize(unpacked.length), `bound at round ${round}`);
    assert.equal(unpackedSize(packed), unpacked.length);
    assert.deepEqual(unpack(packed), unpacked, `round ${round}`);
  }
});

/** C++ PackedOutputStream::write, transcribed byte by byte: the reference for packInto. */
function referencePack(src: Uint8Array): Uint8Array {
  const out: number[] = [];
  let i = 0;
  while (i < src.length) {
    let tag = 0;
    const lits: number[] = [];
    for (let k = 0; k < 8; k++) {
      if (src[i + k] !== 0) {
        tag |= 1 << k;
        lits.push(src[i + k]!);
      }
    }
    out.push(tag, ...lits);
    i += 8;
    if (tag === 0) {
      let n = 0;
      while (n < 255 && i < src.length && src.subarray(i, i + 8).every((b) => b === 0)) {
        n++;
        i += 8;
      }
      out.push(n);
    } else if (tag === 0xff) {
      let n = 0;
      while (n < 255 && i < src.length && src.subarray(i, i + 8).filter((b) => b === 0).length < 2) {
        n++;
        i += 8;
      }
      out.push(n, ...src.subarray(i - n * 8, i));
    }
  }
  return Uint8Array.from(out);
}

test("packInto matches a byte-by-byte transcription of C++, at any byte offset of the input", () => {
  const r = rng(11);
  for (let round = 0; round < 300; round++) {
    const words = Math.floor(r() * 300);
    const unpacked =
      round % 2 === 0 ? randomWords(r, words, [0, 0.05, 0.13, 0.25, 0.5][round % 5]!) : mixedWords(r, words);
    // An input at an odd offset of its buffer: packInto reads it through a DataView too.
    const shift = round % 8;
    const host = new Uint8Array(unpacked.length + shift);
    host.set(unpacked, shift);
    const view = host.subarray(shift);
    assert.deepEqual(pack(view), referencePack(unpacked), `round ${round}`);
  }
});

test("maxPackedSize holds for the worst shapes (0xff word then a two-zero word, a lone final 0xff)", () => {
  const ff = [1, 2, 3, 4, 5, 6, 7, 8];
  const two = [0, 0, 3, 4, 5, 6, 7, 8];
  for (let pairs = 0; pairs < 40; pairs++) {
    for (const tail of [[], ff, two]) {
      const words: number[] = [];
      for (let i = 0; i < pairs; i++) words.push(...ff, ...two);
      words.push(...tail);
      const unpacked = Uint8Array.from(words);
      const packed = pack(unpacked);
      assert.ok(packed.length <= maxPackedSize(unpacked.length), `${pairs} pairs, tail ${tail.length}`);
      assert.deepEqual(unpack(packed), unpacked);
    }
  }
});

test("packInto writes at an offset and leaves bytes outside its bound alone", () => {
  const r = rng(8);
  const unpacked = mixedWords(r, 100);
  const bound = maxPackedSize(unpacked.length);
  const out = new Uint8Array(bound + 20).fill(0xee);
  const end = packInto(unpacked, out, 7);
  assert.deepEqual(out.subarray(7, end), pack(unpacked));
  assert.equal(out[6], 0xee);
  for (let i = 7 + bound; i < out.length; i++) assert.equal(out[i], 0xee);
  assert.throws(() => packInto(unpacked, new Uint8Array(bound - 1), 0), RangeError);
  assert.throws(() => pack(new Uint8Array(12)), EncodeError);
});

test("PackedDecoder: chunk boundaries at every position, and every pair of positions", () => {
  const r = rng(9);
  // Short enough for all pairs; includes zero runs, 0xff runs and sparse words.
  const unpacked = concat([
    mixedWords(r, 12),
    new Uint8Array(8 * 3),
    new Uint8Array(8 * 4).fill(7),
    randomWords(r, 3, 0.5),
  ]);
  const packed = pack(unpacked);
  for (let a = 0; a <= packed.length; a++) {
    assert.deepEqual(streamUnpack(packed, [a]), unpacked, `split at ${a}`);
    for (let b = a; b <= packed.length; b++) {
      assert.deepEqual(streamUnpack(packed, [a, b]), unpacked, `split at ${a}, ${b}`);
    }
  }
  // A long input with long runs, split at every position.
  const long = concat([mixedWords(r, 600), new Uint8Array(8 * 300), new Uint8Array(8 * 300).fill(1)]);
  const longPacked = pack(long);
  for (let a = 0; a <= longPacked.length; a++) {
    assert.deepEqual(streamUnpack(longPacked, [a]), long, `long split at ${a}`);
  }
});

test("PackedDecoder: 1-byte chunks and random chunk sizes", () => {
  const r = rng(10);
  for (let round = 0; round < 50; round++) {
    const unpacked = mixedWords(r, Math.floor(r() * 500));
    const packed = pack(unpacked);
    const ones = Array.from({ length: packed.length }, (_, i) => i);
    assert.deepEqual(streamUnpack(packed, ones.slice(1)), unpacked, `1-byte chunks, round ${round}`);
    const cuts: number[] = [];
    for (let c = Math.floor(r() * 30); c < packed.length; c += 1 + Math.floor(r() * 30)) cuts.push(c);
    assert.deepEqual(streamUnpack(packed, cuts), unpacked, `random chunks, round ${round}`);
  }
});

test("truncated packed input is DecodeError truncated, never a hang or a short result", () => {
  const r = rng(11);
  const unpacked = concat([mixedWords(r, 40), new Uint8Array(8 * 5), new Uint8Array(8 * 5).fill(3)]);
  const packed = pack(unpacked);
  // Offsets where a unit (with its raw run) ends: prefixes ending there are valid.
  const boundaries = new Set<number>([0]);
  for (let p = 0; p < packed.length; ) {
    const tag = packed[p]!;
    let n = 1;
    for (let b = 0; b < 8; b++) if (tag & (1 << b)) n++;
    if (tag === 0) n++;
    else if (tag === 0xff) n += 1 + packed[p + n]! * 8;
    p += n;
    boundaries.add(p);
  }
  for (let cut = 0; cut < packed.length; cut++) {
    const prefix = packed.subarray(0, cut);
    const dec = new PackedDecoder();
    const out = dec.push(prefix);
    if (boundaries.has(cut)) {
      assert.deepEqual(unpack(prefix), unpacked.subarray(0, unpackedSize(prefix)));
      dec.finish();
    } else {
      assert.throws(() => unpack(prefix), isDecodeError("truncated"), `unpack cut at ${cut}`);
      assert.throws(() => unpackedSize(prefix), isDecodeError("truncated"));
      assert.throws(() => dec.finish(), isDecodeError("truncated"), `decoder cut at ${cut}`);
      assert.deepEqual(out, unpacked.subarray(0, out.length), "what came out is right");
    }
  }
  // A lone tag, a tag missing its count, a 0xff missing raw words.
  assert.throws(() => unpack(bytes(0x00)), isDecodeError("truncated"));
  assert.throws(() => unpack(bytes(0xff, 1, 2, 3, 4, 5, 6, 7, 8)), isDecodeError("truncated"));
  assert.throws(
    () => unpack(bytes(0xff, 1, 2, 3, 4, 5, 6, 7, 8, 2, 1, 1, 1, 1, 1, 1, 1, 1)),
    isDecodeError("truncated"),
  );
  assert.throws(() => unpack(bytes(0x03, 1)), isDecodeError("truncated"));
});

test("unpack refuses hostile expansion before allocating", () => {
  // 0x00 0xff = 256 zero words (2 KiB) per 2 bytes.
  const bomb = new Uint8Array(2000);
  for (let i = 0; i < bomb.length; i += 2) bomb[i + 1] = 0xff;
  assert.equal(unpackedSize(bomb), 1000 * 2048);
  assert.throws(() => unpack(bomb, 1 << 20), isDecodeError("too-large"));
  assert.throws(() => new PackedDecoder(1 << 20).push(bomb), isDecodeError("too-large"));
});

test("packedFrame / decodePackedFrame round trips, with 1, 2, 3 and many segments", () => {
  const r = rng(12);
  for (const count of [1, 2, 3, 4, 9, 100]) {
    const segments = Array.from({ length: count }, () => mixedWords(r, Math.floor(r() * 40)));
    const packed = packedFrame(segments);
    const { segments: got, end } = decodePackedFrame(packed);
    assert.equal(end, packed.length);
    assert.equal(got.length, count);
    for (let i = 0; i < count; i++) assert.deepEqual(got[i], segments[i]);
    assert.deepEqual(unpack(packed), encodeFrame(segments));
  }
});

test("packedFrame packs the table and each segment as separate pieces, like C++", () => {
  const zeros = new Uint8Array(16);
  const segments = [zeros, zeros];
  const packed = packedFrame(segments);
  // table [1, 2, 2, 0] -> tag 0x11; each segment is its own zero run of 2 words.
  assert.deepEqual(packed, bytes(0x11, 1, 2, 0x01, 2, 0, 1, 0, 1));
  // pack() of the whole frame merges the runs; both decode the same.
  const merged = pack(encodeFrame(segments));
  assert.deepEqual(merged, bytes(0x11, 1, 2, 0x01, 2, 0, 3));
  assert.deepEqual(decodePackedFrame(merged).segments, segments);
  assert.deepEqual(decodePackedFrame(packed).segments, segments);
});

test("decodePackedFrame: consecutive messages, offsets, options as second argument", () => {
  const r = rng(13);
  const messages = Array.from({ length: 20 }, () =>
    Array.from({ length: 1 + Math.floor(r() * 4) }, () => mixedWords(r, Math.floor(r() * 30))),
  );
  const stream = concat(messages.map(packedFrame));
  const got = [...decodePackedFrames(stream)];
  assert.equal(got.length, messages.length);
  for (let m = 0; m < messages.length; m++) assert.deepEqual(got[m], messages[m]);
  const first = decodePackedFrame(stream, { traversalLimitInWords: 1000 });
  assert.deepEqual(first.segments, messages[0]);
  assert.deepEqual(decodePackedFrame(stream, first.end).segments, messages[1]);
});

test("decodePackedFrame: limits apply before the body is unpacked", () => {
  // One segment claiming 0xffffffff words, no body.
  const huge = pack(bytes(0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff));
  assert.throws(() => decodePackedFrame(huge), isDecodeError("too-large"));
  const many = pack(bytes(0, 4, 0, 0, 1, 0, 0, 0));
  assert.throws(() => decodePackedFrame(many), isDecodeError("too-large"));
  const segs = [new Uint8Array(8 * 10).fill(1)];
  assert.throws(
    () => decodePackedFrame(packedFrame(segs), { traversalLimitInWords: 9 }),
    isDecodeError("too-large"),
  );
  assert.equal(decodePackedFrame(packedFrame(segs), { traversalLimitInWords: 10 }).segments.length, 1);
});

test("decodePackedFrame: truncated input, and runs crossing the end of the message", () => {
  const segs = [concat([new Uint8Array(8).fill(9), new Uint8Array(8 * 3)])];
  const packed = packedFrame(segs);
  for (let cut = 0; cut < packed.length; cut++) {
    assert.throws(() => decodePackedFrame(packed.subarray(0, cut)), isDecodeError("truncated"), `cut ${cut}`);
  }
  // The message is [0, 4] + 4 words; a zero run of 3 more words than the last segment holds.
  const overrun = bytes(0x10, 4, 0xff, 9, 9, 9, 9, 9, 9, 9, 9, 0, 0, 5);
  assert.throws(() => decodePackedFrame(overrun), isDecodeError("bad-packed"));
  // A zero first word whose run spills past the first word (C++ reads that word on its own).
  assert.throws(() => decodePackedFrame(bytes(0, 1)), isDecodeError("bad-packed"));
  // A raw run spilling past the message.
  const rawOver = bytes(0x10, 1, 0xff, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2);
  assert.throws(() => decodePackedFrame(rawOver), isDecodeError("bad-packed"));
});

test("PackedDecoder feeding a FrameReader reads a packed message stream in arbitrary chunks", () => {
  const r = rng(14);
  const messages = Array.from({ length: 8 }, () =>
    Array.from({ length: 1 + Math.floor(r() * 3) }, () => mixedWords(r, Math.floor(r() * 60))),
  );
  const stream = concat(messages.map(packedFrame));
  for (let round = 0; round < 30; round++) {
    const dec = new PackedDecoder();
    const reader = new FrameReader();
    const got: Uint8Array[][] = [];
    for (let o = 0; o < stream.length; ) {
      const n = 1 + Math.floor(r() * 40);
      reader.push(dec.push(stream.subarray(o, o + n)));
      o += n;
      for (const m of reader) got.push(m);
    }
    dec.finish();
    reader.finish();
    assert.deepEqual(got, messages);
  }
});
