import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  DecodeError,
  ElementSize,
  Int32List,
  MessageBuilder,
  MessageReader,
  StructList,
  Uint8ListBuilder,
  Uint16ListBuilder,
} from "capnts/wire";
import { setSlabPoisonForTesting } from "../../src/wire/arena.js";
import { DefaultsB, NewB, NewR, OldB, OldR, PrimsB, PrimsR } from "./fixtures.js";

function fill(p: PrimsB, depth = 1): void {
  p.b = true;
  p.i8 = -8;
  p.i16 = -1600;
  p.i32 = -320000;
  p.i64 = -(1n << 62n);
  p.u8 = 200;
  p.u16 = 60000;
  p.u32 = 4000000000;
  p.u64 = (1n << 64n) - 1n;
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
  const u64 = p.initU64List(2);
  u64.set(1, 1n << 63n);
  const f64 = p.initF64List(1);
  f64.set(0, -0.5);
  const tl = p.initTextList(3);
  tl.set(0, "a");
  tl.set(2, "ccc");
  const ll = p.initListList(2);
  const l0 = ll.init(0, 2);
  l0.set(0, 5);
  l0.set(1, 6);
  ll.init(1, 0);
  p.initVoidList(1000);
  const dl = p.initDataList(2);
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

function check(r: PrimsR, depth = 1): void {
  assert.equal(r.b, true);
  assert.equal(r.i8, -8);
  assert.equal(r.i16, -1600);
  assert.equal(r.i32, -320000);
  assert.equal(r.i64, -(1n << 62n));
  assert.equal(r.u8, 200);
  assert.equal(r.u16, 60000);
  assert.equal(r.u32, 4000000000);
  assert.equal(r.u64, (1n << 64n) - 1n);
  assert.equal(r.f32, 1.25);
  assert.equal(r.f64, Math.PI);
  assert.equal(r.text, "hello, wörld ✓");
  assert.deepEqual([...r.data], [0, 1, 2, 255]);
  assert.equal(r.color, 2);
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
  assert.equal(r.which, 1);
  assert.equal(r.num, 77);
  assert.equal(r.grpX, 5);
  assert.equal(r.grpY, "group");
  if (depth > 0) {
    check(r.inner, depth - 1);
    assert.deepEqual(
      r.structList.toArray().map((s) => [s.i32, s.text]),
      [
        [0, "s0"],
        [1, "s1"],
        [2, "s2"],
      ],
    );
  } else {
    assert.equal(r.hasInner, false);
    assert.equal(r.inner.i32, 0);
    assert.equal(r.structList.length, 0);
  }
}

describe("wire round trips", () => {
  test("every field type, one segment", () => {
    const m = new MessageBuilder();
    fill(m.initRoot(PrimsB));
    assert.equal(m.getSegmentsForOutput().length, 1);
    check(new MessageReader(m.getSegmentsForOutput()).getRoot(PrimsR));
    check(m.getRoot(PrimsB).asReader());
  });

  test("every field type, tiny segments force far pointers", () => {
    const m = new MessageBuilder({ firstSegmentWords: 1 });
    fill(m.initRoot(PrimsB));
    const segs = m.getSegmentsForOutput();
    assert.ok(segs.length >= 3, `expected several segments, got ${segs.length}`);
    check(new MessageReader(segs).getRoot(PrimsR));
  });

  test("segment growth follows the total allocated so far (C++ GROW_HEURISTICALLY)", () => {
    const m = new MessageBuilder({ firstSegmentWords: 8 });
    const root = m.initRoot(PrimsB);
    root.data = new Uint8Array(8 * 100);
    const sizes = m.arena.segments.map((s) => s.bytes.byteLength / 8);
    // 8 words first; the 24-word root struct (+1 landing pad) starts a 25-word segment; the
    // 100-word Data then needs max(101, 33 allocated so far) words.
    assert.deepEqual(sizes, [8, 25, 101]);
  });

  test("double-far pointers when the target segment has no room for a landing pad", () => {
    const m = new MessageBuilder({ firstSegmentWords: 1 });
    const root = m.initRoot(PrimsB); // root struct lands in segment 1 (full after it)
    // A struct allocated alone fills its own segment exactly; adopting it from another
    // segment needs a double-far landing pad.
    const orphan = m.newOrphanStruct(PrimsB._dataWords, PrimsB._ptrCount);
    const ob = orphan.getAs(PrimsB);
    ob.i32 = 4242;
    ob.text = "via double far";
    // Fill the orphan's segment so that no landing pad fits next to it.
    const orphanSeg = m.arena.segments[m.arena.segments.length - 1]!;
    m.arena.allocate(orphanSeg.available() / 8);
    assert.equal(orphanSeg.available(), 0);
    root._adopt(2, orphan);
    const ptr = root._seg.view.getUint32(root._ptrOff + 2 * 8, true);
    assert.equal(ptr & 7, 6, "pointer must be a double-far pointer");
    const r = new MessageReader(m.getSegmentsForOutput()).getRoot(PrimsR);
    assert.equal(r.inner.i32, 4242);
    assert.equal(r.inner.text, "via double far");
  });

  test("defaults: primitives XOR, pointers from the schema default", () => {
    const m = new MessageBuilder();
    const d = m.initRoot(DefaultsB);
    const r = d.asReader();
    assert.equal(r.b, true);
    assert.equal(r.i32, -123);
    assert.equal(r.u64, 12345678901234n);
    assert.equal(r.f32, 1.5);
    assert.equal(r.f64, -2.25);
    assert.equal(r.text, "hello");
    assert.deepEqual([...r.data], [1, 2]);
    assert.deepEqual(r.i16List.toArray(), [1, 2, 3]);
    assert.equal(r.inner.i32, 7);
    assert.equal(r.inner.text, "nested");
    assert.equal(r.inner.inner.text, "nested");
    assert.equal(r.color, 2);
    // Zero bytes on the wire: all data words are zero when every field holds its default.
    const seg = m.getSegmentsForOutput()[0]!;
    assert.ok(seg.subarray(8, 40).every((b) => b === 0));
    d.b = false;
    d.i32 = 0;
    d.f32 = 0;
    d.f64 = 1;
    d.color = 0;
    assert.equal(r.b, false);
    assert.equal(r.i32, 0);
    assert.equal(r.f32, 0);
    assert.equal(r.f64, 1);
    assert.equal(r.color, 0);
    // Builder getter of a defaulted struct copies the default in.
    const inner = d.getInner();
    assert.equal(inner.asReader().text, "nested");
    inner.i32 = 8;
    assert.equal(d.asReader().inner.i32, 8);
  });

  test("reading a newer schema's fields from an older struct gives defaults", () => {
    const m = new MessageBuilder();
    const o = m.initRoot(OldB);
    o.a = 5n;
    o.s = "old";
    const r = new MessageReader(m.getSegmentsForOutput()).getRoot(NewR);
    assert.equal(r.a, 5n);
    assert.equal(r.s, "old");
    assert.equal(r.b, 42n);
    assert.equal(r.t, "default");
    assert.equal(r.l.length, 0);
  });

  test("a builder upgrades an older struct in place when written with the newer schema", () => {
    const m = new MessageBuilder();
    const o = m.initRoot(OldB);
    o.a = 5n;
    o.s = "old";
    const n = m.getRoot(NewB);
    assert.equal(n.a, 5n);
    assert.equal(n.s, "old");
    assert.equal(n.b, 42n);
    n.b = 7n;
    n.t = "new";
    n.initL(1).set(0, 9);
    const r = new MessageReader(m.getSegmentsForOutput()).getRoot(NewR);
    assert.deepEqual([r.a, r.s, r.b, r.t, r.l.toArray()], [5n, "old", 7n, "new", [9]]);
    const old = new MessageReader(m.getSegmentsForOutput()).getRoot(OldR);
    assert.deepEqual([old.a, old.s], [5n, "old"]);
  });

  test("struct list upgrade: list of smaller structs read and written with the newer schema", () => {
    const m = new MessageBuilder();
    const root = m.initRoot(PrimsB);
    // Write List(UInt16) where the schema now says List(Prims): reads as structs whose first
    // field (bits 0..16) is the element.
    const l = root._initList(10, Uint16ListBuilder.kind, 3);
    l.set(0, 0x0101);
    l.set(1, 0x0201);
    l.set(2, 0x0301);
    const rs = root.asReader().structList;
    assert.equal(rs.length, 3);
    assert.deepEqual(
      rs.toArray().map((s) => [s.b, s.i8, s.i32]),
      [
        [true, 1, 0],
        [true, 2, 0],
        [true, 3, 0],
      ],
    );
    // A builder upgrades it to a full struct list, keeping the values.
    const wl = root.getStructList();
    wl.get(1).i32 = 99;
    wl.get(1).text = "upgraded";
    const r2 = new MessageReader(m.getSegmentsForOutput()).getRoot(PrimsR).structList;
    assert.deepEqual(
      r2.toArray().map((s) => [s.i8, s.i32, s.text]),
      [
        [1, 0, ""],
        [2, 99, "upgraded"],
        [3, 0, ""],
      ],
    );
  });

  test("a struct list read as a primitive list reads each element's first field", () => {
    const m = new MessageBuilder();
    const root = m.initRoot(PrimsB);
    const sl = root.initStructList(2);
    sl.get(0).b = true;
    sl.get(0).i8 = 0x10;
    const asU8 = root.asReader()._getList(10, Int32List.kind);
    assert.equal(asU8.get(0), 0x1001);
  });

  test("deep copy between messages (set from a reader)", () => {
    const a = new MessageBuilder({ firstSegmentWords: 2 });
    fill(a.initRoot(PrimsB));
    const src = new MessageReader(a.getSegmentsForOutput()).getRoot(PrimsR);
    const b = new MessageBuilder();
    b.setRoot(src);
    check(new MessageReader(b.getSegmentsForOutput()).getRoot(PrimsR));
    const c = new MessageBuilder();
    const root = c.initRoot(PrimsB);
    root._setStruct(2, src);
    check(new MessageReader(c.getSegmentsForOutput()).getRoot(PrimsR).inner);
  });

  test("deep copy of lists of every encoding (set from a list reader)", () => {
    const a = new MessageBuilder({ firstSegmentWords: 3 });
    fill(a.initRoot(PrimsB));
    const src = new MessageReader(a.getSegmentsForOutput()).getRoot(PrimsR);
    const b = new MessageBuilder();
    const dst = b.initRoot(PrimsB);
    dst._setList(3, src.boolList);
    dst._setList(6, src.i32List);
    dst._setList(9, src.textList);
    dst._setList(10, src.structList);
    dst._setList(11, src.listList);
    dst._setList(12, src.voidList);
    const r = new MessageReader(b.getSegmentsForOutput()).getRoot(PrimsR);
    assert.deepEqual(r.boolList.toArray(), src.boolList.toArray());
    assert.deepEqual(r.i32List.toArray(), [0, -1000, -2000, -3000]);
    assert.deepEqual(r.textList.toArray(), ["a", "", "ccc"]);
    assert.deepEqual(
      r.structList.toArray().map((x) => [x.i32, x.text]),
      [
        [0, "s0"],
        [1, "s1"],
        [2, "s2"],
      ],
    );
    assert.deepEqual(
      r.listList.toArray().map((l) => l.toArray()),
      [[5, 6], []],
    );
    assert.equal(r.voidList.length, 1000);
  });

  test("orphans move objects without copying; overwritten objects are zeroed", () => {
    const m = new MessageBuilder();
    const root = m.initRoot(PrimsB);
    root.initInner().text = "moved";
    const before = m.sizeInWords;
    const orphan = root._disown(2);
    assert.equal(root.asReader().hasInner, false);
    root.getStructList(); // no-op
    root._adopt(2, orphan);
    assert.equal(root.asReader().inner.text, "moved");
    assert.equal(m.sizeInWords, before);
    root.text = "secret";
    root.text = "x";
    const bytes = Buffer.concat(m.getSegmentsForOutput());
    assert.equal(bytes.indexOf(Buffer.from("secret")), -1, "overwritten text must be zeroed");
    assert.throws(() => new MessageBuilder().initRoot(PrimsB)._adopt(2, root._disown(2)), /adopted/);
  });
});

describe("read limits and hostile input", () => {
  function words(...ws: bigint[]): Uint8Array {
    const b = new Uint8Array(ws.length * 8);
    const v = new DataView(b.buffer);
    for (let i = 0; i < ws.length; i++) v.setBigUint64(i * 8, ws[i]!, true);
    return b;
  }

  test("out-of-bounds struct pointer", () => {
    // root: struct at offset 10 words, 1 data word; segment only 1 word long
    const seg = words((1n << 32n) | (10n << 2n));
    const r = new MessageReader([seg]);
    assert.throws(
      () => r.getRoot(PrimsR),
      (e: unknown) => e instanceof DecodeError && e.code === "out-of-bounds",
    );
  });

  test("negative offsets are bounds-checked", () => {
    const seg = words((1n << 32n) | (BigInt((-5 << 2) >>> 0) & 0xffffffffn));
    assert.throws(
      () => new MessageReader([seg]).getRoot(PrimsR),
      (e: unknown) => e instanceof DecodeError && e.code === "out-of-bounds",
    );
  });

  test("far pointer to a missing segment", () => {
    const seg = words((7n << 32n) | 2n);
    assert.throws(
      () => new MessageReader([seg]).getRoot(PrimsR),
      (e: unknown) => e instanceof DecodeError && e.code === "out-of-bounds",
    );
  });

  test("far pointer landing pad that is itself a far pointer", () => {
    const seg0 = words((1n << 32n) | 2n); // far → segment 1, word 0
    const seg1 = words((1n << 32n) | 2n); // landing pad: another far
    assert.throws(
      () => new MessageReader([seg0, seg1]).getRoot(PrimsR),
      (e: unknown) => e instanceof DecodeError && e.code === "bad-pointer",
    );
  });

  test("list pointer where a struct is expected", () => {
    const seg = words(1n | (((3n << 3n) | 2n) << 32n), 0n);
    assert.throws(
      () => new MessageReader([seg]).getRoot(PrimsR),
      (e: unknown) => e instanceof DecodeError && e.code === "schema-mismatch",
    );
  });

  test("text without NUL terminator", () => {
    const m = new MessageBuilder();
    const root = m.initRoot(PrimsB);
    const bytes = root._initList(0, Uint8ListBuilder.kind, 3);
    bytes.set(0, 65);
    bytes.set(1, 66);
    bytes.set(2, 67);
    const r = new MessageReader(m.getSegmentsForOutput()).getRoot(PrimsR);
    assert.throws(
      () => r.text,
      (e: unknown) => e instanceof DecodeError && e.code === "bad-text",
    );
  });

  test("traversal limit stops a self-referential cycle read repeatedly", () => {
    // A struct whose pointer 0 points at itself: reading it over and over must stop.
    const seg = words(0n | (1n << 48n), (BigInt((-1 << 2) >>> 0) & 0xffffffffn) | (1n << 48n));
    const r = new MessageReader([seg], { traversalLimitInWords: 1000, nestingLimit: 1 << 20 });
    let s: PrimsR = r.getRoot(PrimsR);
    assert.throws(
      () => {
        for (let i = 0; i < 10000; i++) s = s._getStruct(0, PrimsR);
      },
      (e: unknown) => e instanceof DecodeError && e.code === "traversal-limit",
    );
  });

  test("nesting limit stops deep recursion", () => {
    const seg = words(0n | (1n << 48n), (BigInt((-1 << 2) >>> 0) & 0xffffffffn) | (1n << 48n));
    const r = new MessageReader([seg], { nestingLimit: 10 });
    let s: PrimsR = r.getRoot(PrimsR);
    assert.throws(
      () => {
        for (let i = 0; i < 100; i++) s = s._getStruct(0, PrimsR);
      },
      (e: unknown) => e instanceof DecodeError && e.code === "nesting-limit",
    );
  });

  test("a huge list of zero-sized structs is charged against the traversal limit (amplification)", () => {
    // Inline composite list: word count 0, tag says 2^29-1 elements of size 0.
    const count = (1n << 29n) - 1n;
    const seg = words(
      0n | (1n << 48n), // root struct: 0 data, 1 ptr
      1n | (((0n << 3n) | 7n) << 32n), // list pointer at offset 0, inline composite, 0 words
      (count << 2n) | 0n, // tag: count elements, 0 data, 0 ptrs
    );
    const r = new MessageReader([seg]).getRoot(PrimsR);
    assert.throws(
      () => r._getList(0, StructList.of(PrimsR)),
      (e: unknown) => e instanceof DecodeError && e.code === "traversal-limit",
    );
  });

  test("a huge void list is charged against the traversal limit", () => {
    const count = (1n << 29n) - 1n;
    const seg = words(0n | (1n << 48n), 1n | (((count << 3n) | BigInt(ElementSize.VOID)) << 32n));
    const r = new MessageReader([seg]).getRoot(PrimsR);
    assert.throws(
      () => r._getList(0, StructList.of(PrimsR)),
      (e: unknown) => e instanceof DecodeError && e.code === "traversal-limit",
    );
  });

  test("inline composite elements overrunning the word count", () => {
    const seg = words(0n | (1n << 48n), 1n | (((1n << 3n) | 7n) << 32n), (5n << 2n) | (1n << 32n), 0n);
    const r = new MessageReader([seg]).getRoot(PrimsR);
    assert.throws(
      () => r._getList(0, StructList.of(PrimsR)),
      (e: unknown) => e instanceof DecodeError && e.code === "bad-pointer",
    );
  });

  test("bit list where a struct list is expected", () => {
    const seg = words(0n | (1n << 48n), 1n | (((8n << 3n) | 1n) << 32n), 0xffn);
    const r = new MessageReader([seg]).getRoot(PrimsR);
    assert.throws(
      () => r._getList(0, StructList.of(PrimsR)),
      (e: unknown) => e instanceof DecodeError && e.code === "schema-mismatch",
    );
  });
});

describe("capabilities in cap tables", () => {
  class Ref {
    refs = 1;
    addRef(): this {
      this.refs++;
      return this;
    }
  }

  test("copying a struct that holds a capability takes a new reference (C++ extractCap/injectCap)", () => {
    const a = new MessageBuilder();
    const cap = new Ref();
    a.initRoot(PrimsB)._setCapability(0, cap);
    const b = new MessageBuilder();
    b.setRoot(a.getRoot(PrimsB));
    assert.equal(cap.refs, 2);
    assert.equal(b.capTable.length, 1);
    assert.equal(b.getRoot(PrimsB)._getCapability(0), cap);
    const c = new MessageBuilder();
    c.getRootAnyPointer().set(a.getRootAnyPointer());
    assert.equal(cap.refs, 3);
  });

  test("plain values in a cap table are shared as they are", () => {
    const a = new MessageBuilder();
    a.initRoot(PrimsB)._setCapability(1, "token");
    const b = new MessageBuilder();
    b.setRoot(a.getRoot(PrimsB));
    assert.equal(b.getRoot(PrimsB)._getCapability(1), "token");
  });
});

describe("text encoding paths", () => {
  const samples = [
    "",
    "short",
    "a".repeat(24),
    "b".repeat(25),
    "ascii ".repeat(100),
    "wörld ✓ ".repeat(40),
    "emoji 😀 and CJK 漢字 ".repeat(20),
    `lone surrogate \ud800 in a long enough string ${"x".repeat(30)}`,
  ];

  for (const firstSegmentWords of [1024, 4]) {
    test(`long and short, ASCII and not, round-trip exactly (firstSegmentWords=${firstSegmentWords})`, () => {
      const m = new MessageBuilder({ firstSegmentWords });
      const root = m.initRoot(PrimsB);
      const list = root.initTextList(samples.length);
      samples.forEach((s, i) => {
        list.set(i, s);
      });
      root.text = samples[5]!;
      const r = new MessageReader(m.getSegmentsForOutput()).getRoot(PrimsR);
      const expected = samples.map((s) => Buffer.from(s, "utf8").toString("utf8"));
      assert.deepEqual(r.textList.toArray(), expected);
      assert.equal(r.text, samples[5]);
    });
  }

  test("the one-pass path gives back unused space: a long ASCII text takes its exact words", () => {
    const m = new MessageBuilder();
    const root = m.initRoot(PrimsB);
    const before = m.sizeInWords;
    root.text = "z".repeat(100); // 101 bytes with NUL → 13 words
    assert.equal(m.sizeInWords - before, 13);
  });

  test("a leading U+FEFF (byte order mark) is kept, short and long", () => {
    for (const s of ["\ufeff", "\ufeffab", `\ufeff${"long enough for the platform decoder ".repeat(3)}`]) {
      const m = new MessageBuilder();
      m.initRoot(PrimsB).text = s;
      assert.equal(new MessageReader(m.getSegmentsForOutput()).getRoot(PrimsR).text, s);
    }
  });

  // The one-pass paths must lay messages out exactly as the exact-size path does (C++'s layout):
  // Data of the same bytes (UTF-8 plus NUL) goes through initList with the exact size, so the two
  // messages must be the same bytes, whether texts land in their pointer's segment, behind a
  // landing pad in the last segment (struct list segments filled by the list) or in new segments.
  const texts = ["", "a", "x".repeat(7), "y".repeat(8), "z".repeat(30), "wörld ✓ ".repeat(5), "😀", "\ud800"];
  for (const firstSegmentWords of [1, 4, 16, 64, 1024]) {
    test(`one-pass text layout is the exact-size layout (firstSegmentWords=${firstSegmentWords})`, () => {
      const enc = new TextEncoder();
      const build = (asData: boolean) => {
        const m = new MessageBuilder({ firstSegmentWords });
        const list = m.initRoot(PrimsB).initStructList(24);
        for (let i = 0; i < 24; i++) {
          const el = list.get(i);
          for (let k = 0; k < 2; k++) {
            const s = texts[(i * 3 + k) % texts.length]!.repeat(1 + (i % 4));
            const bytes = enc.encode(`${s}\0`);
            if (asData) el._setData(k, bytes);
            else el._setText(k, s);
          }
          el.i32 = i;
        }
        return m.getSegmentsForOutput();
      };
      const a = build(false);
      const b = build(true);
      assert.equal(a.length, b.length);
      for (let i = 0; i < a.length; i++) assert.deepEqual(a[i], b[i], `segment ${i}`);
    });
  }
});

describe("first segments from uninitialised memory", () => {
  // Builders zero their slab memory ahead of allocation (wire/arena.ts); with poisoned slabs the
  // same build must give the same bytes as with zeroed ones, whatever the segment layout.
  for (const firstSegmentWords of [1, 4, 16, 100, 1024]) {
    test(`poisoned slabs give the same message (firstSegmentWords=${firstSegmentWords})`, () => {
      const build = (poison: number) => {
        setSlabPoisonForTesting(poison);
        try {
          const m = new MessageBuilder({ firstSegmentWords });
          const root = m.initRoot(PrimsB);
          fill(root, 2);
          root.text = "one pass ".repeat(20);
          const tl = root.initTextList(40);
          for (let i = 0; i < 40; i++) tl.set(i, "wörd ".repeat(i % 7));
          const copy = new MessageBuilder({ firstSegmentWords });
          copy.setRoot(root.asReader());
          return [m.getSegmentsForOutput(), copy.getSegmentsForOutput()];
        } finally {
          setSlabPoisonForTesting(-1);
        }
      };
      const zeroed = build(0);
      const poisoned = build(0xa5);
      assert.deepEqual(poisoned, zeroed);
    });
  }

  // A new builder's first segment trims the previous one's unused tail off the slab (wire/arena.ts):
  // builders built in turns must not write over each other, and one that grows past its trimmed
  // segment continues in a new one.
  test("builders built in turns keep their own bytes (trimmed slab tails)", () => {
    setSlabPoisonForTesting(0xa5);
    try {
      const builders = Array.from({ length: 6 }, () => new MessageBuilder());
      const roots = builders.map((m) => m.initRoot(PrimsB));
      for (let round = 0; round < 4; round++) {
        roots.forEach((root, i) => {
          const tl = root.initTextList(30 + round * 40);
          for (let k = 0; k < tl.length; k++) tl.set(k, `m${i} r${round} ${"x".repeat(k % 13)}`);
          root.i32 = i * 1000 + round;
        });
      }
      builders.forEach((m, i) => {
        const segs = m.getSegmentsForOutput();
        assert.ok(segs.length > 1, `builder ${i} grew into more segments (${segs.length})`);
        const r = new MessageReader(segs).getRoot(PrimsR);
        assert.equal(r.i32, i * 1000 + 3);
        const tl = r.textList;
        assert.equal(tl.length, 30 + 3 * 40);
        for (let k = 0; k < tl.length; k++) assert.equal(tl.get(k), `m${i} r3 ${"x".repeat(k % 13)}`);
      });
    } finally {
      setSlabPoisonForTesting(-1);
    }
  });
});
