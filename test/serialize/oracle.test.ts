// The C++ `capnp` tool (Debian package `capnproto`) as the oracle for framing and packing: it turns
// text messages into framed, packed and flat bytes, and ours must match byte for byte.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import {
  decodeFrame,
  decodeFrames,
  decodePackedFrames,
  encodeFrame,
  FrameReader,
  PackedDecoder,
  pack,
  packedFrame,
  unpack,
} from "capnts/serialize";

const SCHEMA = `@0xd4c9b1ed0a3c7b21;
struct Root {
  a @0 :UInt32;
  b @1 :Int64;
  c @2 :UInt8;
  d @3 :Float64;
  name @4 :Text;
  list @5 :List(UInt64);
  data @6 :Data;
  inner @7 :Inner;
  inners @8 :List(Inner);
}
struct Inner {
  x @0 :Int16;
  label @1 :Text;
}
`;

const MAX = "18446744073709551615";

function repeat(item: string, n: number): string {
  return Array.from({ length: n }, () => item).join(", ");
}

/** Text messages exercising every packing shape: zero runs and 0xff runs longer than 255 words. */
const MESSAGES = [
  "()",
  '(a = 1, b = -2, c = 255, d = 1.5, name = "hello", list = [1, 2, 3], data = 0x"0102ff00")',
  `(list = [${repeat("0", 600)}])`,
  `(list = [${repeat(MAX, 300)}], name = "${"x".repeat(3000)}")`,
  `(list = [${Array.from({ length: 500 }, (_, i) => (i % 3 === 0 ? "0" : i % 3 === 1 ? MAX : String(i * 65537))).join(", ")}])`,
  `(data = 0x"${"a5".repeat(2000)}00000000${"00".repeat(3000)}ff", inner = (x = -3, label = "in"))`,
  `(a = 7, inners = [${repeat('(x = 1, label = "l")', 40)}], inner = (x = 2))`,
];

function haveCapnp(): boolean {
  const r = spawnSync("capnp", ["--version"], { encoding: "utf8" });
  return r.status === 0;
}

const available = haveCapnp();
const skip = available ? false : "capnp not found: apt-get install -y capnproto";

let dir = "";
let schema = "";

before(() => {
  if (!available) return;
  dir = mkdtempSync(join(tmpdir(), "capnts-oracle-"));
  schema = join(dir, "oracle.capnp");
  writeFileSync(schema, SCHEMA);
});

after(() => {
  if (dir !== "") rmSync(dir, { recursive: true, force: true });
});

/** Runs `capnp encode [flags] schema Root` on `text`; returns stdout bytes. */
function encode(text: string, ...flags: string[]): Uint8Array {
  const r = spawnSync("capnp", ["encode", ...flags, schema, "Root"], {
    input: text,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error(`capnp encode ${flags.join(" ")} failed: ${r.stderr.toString()}`);
  const out = r.stdout;
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
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

test("CI must have the capnp tool", () => {
  // On a user's machine the oracle tests skip; in CI a missing oracle is a failure.
  if (!available && process.env["CI"]) {
    assert.fail("capnp is missing in CI: apt-get install -y capnproto");
  }
});

test("capnp encode vs --packed: our pack / packedFrame / unpack agree byte for byte", { skip }, () => {
  const all = MESSAGES.join("\n");
  const framed = encode(all);
  const packed = encode(all, "--packed");
  const messages = [...decodeFrames(framed)];
  assert.equal(messages.length, MESSAGES.length);
  for (const m of messages) assert.equal(m.length, 1, "capnp encode writes single-segment messages");

  // Single-segment messages: packing the whole stream as one piece gives C++'s bytes.
  assert.deepEqual(pack(framed), packed);
  assert.deepEqual(concat(messages.map(packedFrame)), packed);
  assert.deepEqual(unpack(packed), framed);
  assert.deepEqual([...decodePackedFrames(packed)], messages);

  // Re-framing what we read gives C++'s framed bytes back.
  assert.deepEqual(concat(messages.map(encodeFrame)), framed);

  // Each message on its own too.
  for (const text of MESSAGES) {
    const f = encode(text);
    const p = encode(text, "--packed");
    assert.deepEqual(packedFrame(decodeFrame(f).segments), p, text.slice(0, 60));
    assert.deepEqual(unpack(p), f);
  }
});

test("capnp encode --segment-size: multi-segment messages pack piece by piece like C++", { skip }, () => {
  const all = MESSAGES.join("\n");
  for (const size of [4, 16, 100]) {
    const framed = encode(all, `--segment-size=${size}`);
    const packed = encode(all, "--packed", `--segment-size=${size}`);
    const messages = [...decodeFrames(framed)];
    assert.equal(messages.length, MESSAGES.length);
    assert.ok(
      messages.some((m) => m.length > 2),
      "the oracle produced multi-segment messages",
    );
    assert.ok(
      messages.some((m) => m.length % 2 === 0),
      "and an even segment count (padding)",
    );
    assert.deepEqual(concat(messages.map(packedFrame)), packed, `segment size ${size}`);
    assert.deepEqual(concat(messages.map(encodeFrame)), framed);
    assert.deepEqual(unpack(packed), framed);
    assert.deepEqual([...decodePackedFrames(packed)], messages);
  }
});

test("capnp encode --flat is the single segment of the framed message", { skip }, () => {
  for (const text of MESSAGES) {
    const flat = encode(text, "--flat");
    const { segments } = decodeFrame(encode(text));
    assert.deepEqual(flat, segments[0], text.slice(0, 60));
    assert.deepEqual(encodeFrame([flat]), encode(text));
  }
});

test("the oracle's streams read incrementally: FrameReader and PackedDecoder in small chunks", {
  skip,
}, () => {
  const all = MESSAGES.join("\n");
  const framed = encode(all, "--segment-size=16");
  const packed = encode(all, "--packed", "--segment-size=16");
  const expected = [...decodeFrames(framed)];
  for (const step of [1, 7, 64, 1000]) {
    const reader = new FrameReader();
    const got: Uint8Array[][] = [];
    for (let o = 0; o < framed.length; o += step) {
      reader.push(framed.subarray(o, o + step));
      for (const m of reader) got.push(m);
    }
    reader.finish();
    assert.deepEqual(got, expected, `framed by ${step}`);

    const dec = new PackedDecoder();
    const parts: Uint8Array[] = [];
    for (let o = 0; o < packed.length; o += step) parts.push(dec.push(packed.subarray(o, o + step)));
    dec.finish();
    assert.deepEqual(concat(parts), framed, `packed by ${step}`);
  }
});
