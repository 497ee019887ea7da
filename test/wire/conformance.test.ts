// Conformance with the C++ implementation as oracle (test layer 2 of DESIGN.md): messages encoded
// by `capnp encode` are read by our reader; messages built by our builder are decoded by
// `capnp decode` and must print the same text; canonical form matches `capnp convert
// binary:canonical` byte for byte. (The code generator issue moves these to generated code.)
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, test } from "node:test";
import { decodeFrame, decodePackedFrames, encodeFrame, packedFrame } from "capnts/serialize";
import { MessageBuilder, MessageReader } from "capnts/wire";
import { canonicalize, isCanonical } from "../../src/serialize/canonical.js";
import { setSlabPoisonForTesting } from "../../src/wire/arena.js";
import { capnp, requireCapnp } from "../helpers/capnp-tool.js";
import { PrimsB, PrimsR } from "./fixtures.js";

// Builders' first segments come from uninitialised memory that they zero as they allocate
// (wire/arena.ts): poisoned here, so a builder that relied on bytes it never zeroed would show
// up in the byte-for-byte comparisons with capnp below.
setSlabPoisonForTesting(0xa5);

const SCHEMA = join(import.meta.dirname, "../schemas/wire-test.capnp");

function primsText(depth: number): string {
  const fields = [
    "b = true",
    "i8 = -8",
    "i16 = -1600",
    "i32 = -320000",
    "i64 = -4611686018427387904",
    "u8 = 200",
    "u16 = 60000",
    "u32 = 4000000000",
    "u64 = 18446744073709551615",
    "f32 = 1.25",
    "f64 = 3.141592653589793",
    'text = "hello, wörld ✓"',
    'data = 0x"000102ff"',
    "color = blue",
    "boolList = [true, false, false, true, false, false, true, false, false, true]",
    "i8List = [-1, 0, 127]",
    "u16List = [1, 65535]",
    "i32List = [0, -1000, -2000, -3000]",
    "u64List = [0, 9223372036854775808]",
    "f64List = [-0.5]",
    'textList = ["a", "", "ccc"]',
    "listList = [[5, 6], []]",
    `voidList = [${new Array(1000).fill("void").join(", ")}]`,
    'dataList = ["", 0x"0909"]',
    "colorList = [green, blue]",
    "num = 77",
    'grp = (x = 5, y = "group")',
  ];
  if (depth > 0) {
    fields.push(`inner = ${primsText(depth - 1)}`);
    fields.push('structList = [(i32 = 0, text = "s0"), (i32 = 1, text = "s1"), (i32 = 2, text = "s2")]');
  }
  return `(${fields.join(", ")})`;
}

function fill(p: PrimsB, depth: number): void {
  p.b = true;
  p.i8 = -8;
  p.i16 = -1600;
  p.i32 = -320000;
  p.i64 = -4611686018427387904n;
  p.u8 = 200;
  p.u16 = 60000;
  p.u32 = 4000000000;
  p.u64 = 18446744073709551615n;
  p.f32 = 1.25;
  p.f64 = Math.PI;
  p.text = "hello, wörld ✓";
  p.data = new Uint8Array([0, 1, 2, 255]);
  p.color = 2;
  const bl = p.initBoolList(10);
  for (let i = 0; i < 10; i++) bl.set(i, i % 3 === 0);
  const i8 = p.initI8List(3);
  i8.set(0, -1);
  i8.set(2, 127);
  const u16 = p.initU16List(2);
  u16.set(0, 1);
  u16.set(1, 65535);
  const i32 = p.initI32List(4);
  for (let i = 0; i < 4; i++) i32.set(i, i * -1000);
  p.initU64List(2).set(1, 1n << 63n);
  p.initF64List(1).set(0, -0.5);
  const tl = p.initTextList(3);
  tl.set(0, "a");
  tl.set(1, "");
  tl.set(2, "ccc");
  const ll = p.initListList(2);
  const l0 = ll.init(0, 2);
  l0.set(0, 5);
  l0.set(1, 6);
  ll.init(1, 0);
  p.initVoidList(1000);
  const dl = p.initDataList(2);
  dl.set(0, new Uint8Array(0));
  dl.set(1, new Uint8Array([9, 9]));
  const cl = p.initColorList(2);
  cl.set(0, 1);
  cl.set(1, 2);
  p.num = 77;
  p.grpX = 5;
  p.grpY = "group";
  if (depth > 0) {
    fill(p.initInner(), depth - 1);
    const sl = p.initStructList(3);
    for (let i = 0; i < 3; i++) {
      sl.get(i).i32 = i;
      sl.get(i).text = `s${i}`;
    }
  }
}

function checkFields(r: PrimsR, depth: number): void {
  assert.deepEqual(
    [r.b, r.i8, r.i16, r.i32, r.i64, r.u8, r.u16, r.u32, r.u64, r.f32, r.f64, r.text, [...r.data], r.color],
    [
      true,
      -8,
      -1600,
      -320000,
      -4611686018427387904n,
      200,
      60000,
      4000000000,
      18446744073709551615n,
      1.25,
      Math.PI,
      "hello, wörld ✓",
      [0, 1, 2, 255],
      2,
    ],
  );
  assert.deepEqual(r.boolList.toArray(), [true, false, false, true, false, false, true, false, false, true]);
  assert.deepEqual(r.i8List.toArray(), [-1, 0, 127]);
  assert.deepEqual(r.u16List.toArray(), [1, 65535]);
  assert.deepEqual(r.i32List.toArray(), [0, -1000, -2000, -3000]);
  assert.deepEqual(r.u64List.toArray(), [0n, 1n << 63n]);
  assert.deepEqual(r.f64List.toArray(), [-0.5]);
  assert.deepEqual(r.textList.toArray(), ["a", "", "ccc"]);
  assert.deepEqual(
    r.listList.toArray().map((l) => l.toArray()),
    [[5, 6], []],
  );
  assert.equal(r.voidList.length, 1000);
  assert.deepEqual(
    r.dataList.toArray().map((d) => [...d]),
    [[], [9, 9]],
  );
  assert.deepEqual(r.colorList.toArray(), [1, 2]);
  assert.deepEqual([r.which, r.num, r.grpX, r.grpY], [1, 77, 5, "group"]);
  if (depth > 0) {
    checkFields(r.inner, depth - 1);
    assert.deepEqual(
      r.structList.toArray().map((s) => [s.i32, s.text]),
      [
        [0, "s0"],
        [1, "s1"],
        [2, "s2"],
      ],
    );
  }
}

const decode = (bytes: Uint8Array, ...flags: string[]) =>
  capnp(["decode", ...flags, SCHEMA, "Prims"], bytes).toString("utf8");

describe("conformance with capnp (C++ 0.9.2) as oracle", () => {
  test("capnp encode → our reader: every field", (t) => {
    if (!requireCapnp(t)) return;
    const bytes = capnp(["encode", SCHEMA, "Prims"], primsText(1));
    const { segments } = decodeFrame(bytes);
    checkFields(new MessageReader(segments).getRoot(PrimsR), 1);
  });

  test("capnp encode with tiny segments (far pointers everywhere) → our reader", (t) => {
    if (!requireCapnp(t)) return;
    const bytes = capnp(["encode", "--segment-size=1", SCHEMA, "Prims"], primsText(1));
    const { segments } = decodeFrame(bytes);
    assert.ok(segments.length > 10);
    checkFields(new MessageReader(segments).getRoot(PrimsR), 1);
  });

  test("capnp encode --packed → our packed decoder and reader", (t) => {
    if (!requireCapnp(t)) return;
    const bytes = capnp(["encode", "--packed", SCHEMA, "Prims"], primsText(1));
    const msgs = [...decodePackedFrames(bytes)];
    assert.equal(msgs.length, 1);
    checkFields(new MessageReader(msgs[0]!).getRoot(PrimsR), 1);
  });

  for (const firstSegmentWords of [1024, 1, 7]) {
    test(`our builder (firstSegmentWords=${firstSegmentWords}) → capnp decode prints the same text`, (t) => {
      if (!requireCapnp(t)) return;
      const expected = decode(capnp(["encode", SCHEMA, "Prims"], primsText(1)));
      const m = new MessageBuilder({ firstSegmentWords });
      fill(m.initRoot(PrimsB), 1);
      assert.equal(decode(encodeFrame(m.getSegmentsForOutput())), expected);
      assert.equal(decode(packedFrame(m.getSegmentsForOutput()), "--packed"), expected);
    });
  }

  test("canonical form equals capnp convert binary:canonical, byte for byte", (t) => {
    if (!requireCapnp(t)) return;
    const m = new MessageBuilder({ firstSegmentWords: 3 });
    fill(m.initRoot(PrimsB), 1);
    const segs = m.getSegmentsForOutput();
    const ours = canonicalize(segs);
    const theirs = capnp(["convert", "binary:canonical"], encodeFrame(segs));
    assert.deepEqual(Buffer.from(ours), theirs);
    assert.equal(isCanonical([ours]), true);
    assert.equal(isCanonical(segs), false); // several segments
  });

  test("isCanonical rejects non-truncated and out-of-order layouts", () => {
    const m = new MessageBuilder();
    const root = m.initRoot(PrimsB);
    root.i32 = 1; // only the first data word is non-zero: canonical form truncates the rest
    const seg = m.getSegmentsForOutput()[0]!;
    assert.equal(isCanonical([seg]), false);
    const canon = canonicalize([seg]);
    assert.equal(isCanonical([canon]), true);
    assert.equal(canon.byteLength, 16); // root pointer + one data word
  });
});
