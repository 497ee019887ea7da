/**
 * Messages built by generated builders, decoded by `capnp decode` (the C++ oracle) and compared
 * with the expected text; our text format (toString, `capnts decode`) compared with capnp's on
 * the same bytes, packed and unpacked.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
// Installs the text-format printer behind generated toString() (src/wire/stringify.ts).
import "capnts/schema";
import { packedFrame } from "capnts/serialize";
import {
  GroupReader,
  MessageBuilder,
  MessageReader,
  StructList,
  StructListBuilder,
  StructReader,
} from "capnts/wire";
import { decodeToText, loadSchemaType } from "../../src/cli/decode.js";
import {
  AllTypes,
  AllTypes_List,
  AllTypes_ListBuilder,
  Collide,
  Color,
  Defaults,
  Shape,
  Shape_rectangle_Builder,
  Shape_style_fancy_Reader,
  Small,
  Small_List,
} from "./gen/codegen-test.capnp.js";
import { CODEGEN_TEST, capnpDecode, capnpEncode, frame, needCapnp, ROOT } from "./helpers.js";

function buildAllTypes(): MessageBuilder {
  const m = new MessageBuilder();
  const r = m.initRoot(AllTypes.Builder);
  r.boolField = true;
  r.int8Field = -100;
  r.int16Field = 1234;
  r.int32Field = -7;
  r.int64Field = -1n;
  r.uint8Field = 250;
  r.uint16Field = 65000;
  r.uint32Field = 4000000000;
  r.uint64Field = 2n ** 64n - 2n;
  r.float32Field = 0.1;
  r.float64Field = -0;
  r.textField = 'tab\there "quoted" é';
  r.dataField = new Uint8Array([0, 0x41, 0xff, 0x80, 0x0a]);
  const s = r.initStructField();
  s.textField = "inner";
  s.enumField = Color.green;
  r.enumField = Color.blue;
  r.initVoidList(2);
  const bl = r.initBoolList(3);
  bl.set(0, true);
  bl.set(2, true);
  const i8 = r.initInt8List(2);
  i8.set(0, -1);
  i8.set(1, 127);
  r.initInt64List(1).set(0, -(2n ** 63n));
  r.initUint64List(1).set(0, 2n ** 64n - 1n);
  const f32 = r.initFloat32List(4);
  for (const [i, v] of [1e20, Number.NaN, Number.NEGATIVE_INFINITY, 123456792].entries()) f32.set(i, v);
  const f64 = r.initFloat64List(5);
  for (const [i, v] of [0.1, 1e100, 5e-324, -0, 1.7976931348623157e308].entries()) f64.set(i, v);
  const tl = r.initTextList(2);
  tl.set(0, "x");
  tl.set(1, "");
  r.initDataList(1).set(0, new Uint8Array([1, 2]));
  const sl = r.initStructList(2);
  sl.get(0).int8Field = 1;
  sl.get(1).textField = "second";
  const el = r.initEnumList(2);
  el.set(0, Color.green);
  el.set(1, 7 as Color); // unknown enumerant
  const ll = r.initListList(2);
  const l0 = ll.init(0, 2);
  l0.set(0, 1);
  l0.set(1, 2);
  ll.init(1, 0);
  const sll = r.initStructListList(1);
  const inner = sll.init(0, 1);
  inner.get(0).a = 9;
  inner.get(0).b = "nine";
  r.initImported().id = 5n;
  r.initAnyField().setText("any");
  return m;
}

const EXPECTED_ALL_TYPES = `( voidField = void,
  boolField = true,
  int8Field = -100,
  int16Field = 1234,
  int32Field = -7,
  int64Field = -1,
  uint8Field = 250,
  uint16Field = 65000,
  uint32Field = 4000000000,
  uint64Field = 18446744073709551614,
  float32Field = 0.1,
  float64Field = -0,
  textField = "tab\\there \\"quoted\\" é",
  dataField = "\\000A\\377\\200\\n",
  structField = (
    voidField = void,
    boolField = false,
    int8Field = 0,
    int16Field = 0,
    int32Field = 0,
    int64Field = 0,
    uint8Field = 0,
    uint16Field = 0,
    uint32Field = 0,
    uint64Field = 0,
    float32Field = 0,
    float64Field = 0,
    textField = "inner",
    enumField = green ),
  enumField = blue,
  anyField = <opaque pointer>,
  voidList = [void, void],
  boolList = [true, false, true],
  int8List = [-1, 127],
  int64List = [-9223372036854775808],
  uint64List = [18446744073709551615],
  float32List = [1e20, nan, -inf, 1.2345679e08],
  float64List = [0.1, 1e100, 4.94065645841247e-324, -0, 1.7976931348623157e308],
  textList = ["x", ""],
  dataList = ["\\001\\002"],
  structList = [
    ( voidField = void,
      boolField = false,
      int8Field = 1,
      int16Field = 0,
      int32Field = 0,
      int64Field = 0,
      uint8Field = 0,
      uint16Field = 0,
      uint32Field = 0,
      uint64Field = 0,
      float32Field = 0,
      float64Field = 0,
      enumField = red ),
    ( voidField = void,
      boolField = false,
      int8Field = 0,
      int16Field = 0,
      int32Field = 0,
      int64Field = 0,
      uint8Field = 0,
      uint16Field = 0,
      uint32Field = 0,
      uint64Field = 0,
      float32Field = 0,
      float64Field = 0,
      textField = "second",
      enumField = red ) ],
  enumList = [green, (7)],
  listList = [[1, 2], []],
  structListList = [[(a = 9, b = "nine")]],
  imported = (id = 5) )
`;

test("a message built through generated builders decodes with capnp as expected", (t) => {
  if (!needCapnp(t)) return;
  const bytes = frame(buildAllTypes().getSegmentsForOutput());
  assert.equal(capnpDecode(CODEGEN_TEST, "AllTypes", bytes), EXPECTED_ALL_TYPES);
});

test("toString() is capnp decode --short; capnts decode is capnp decode (packed and not)", (t) => {
  if (!needCapnp(t)) return;
  const m = buildAllTypes();
  const segs = m.getSegmentsForOutput();
  const bytes = frame(segs);
  const packed = packedFrame(segs);
  const short = capnpDecode(CODEGEN_TEST, "AllTypes", bytes, ["--short"]);
  assert.equal(`${m.getRoot(AllTypes.Builder).toString()}\n`, short);
  assert.equal(`${new MessageReader(segs).getRoot(AllTypes.Reader)}\n`, short);
  const { loader, node } = loadSchemaType(CODEGEN_TEST, "AllTypes");
  const ours = (input: Uint8Array, o: { packed?: boolean; short?: boolean; flat?: boolean }) =>
    Buffer.from(decodeToText(input, loader, node, o)).toString("latin1");
  const theirs = (input: Uint8Array, flags: string[]) =>
    spawnSync("capnp", ["decode", ...flags, CODEGEN_TEST, "AllTypes"], { input }).stdout.toString("latin1");
  assert.equal(ours(bytes, {}), theirs(bytes, []));
  assert.equal(ours(packed, { packed: true }), theirs(packed, ["--packed"]));
  assert.equal(ours(packed, { packed: true, short: true }), theirs(packed, ["--packed", "--short"]));
  const flat = segs.length === 1 ? segs[0]! : undefined;
  if (flat !== undefined) assert.equal(ours(flat, { flat: true }), theirs(flat, ["--flat"]));
  // Several messages in one stream.
  const two = new Uint8Array([...bytes, ...bytes]);
  assert.equal(ours(two, {}), theirs(two, []));
});

test("capnts decode (the command) prints what capnp decode prints", (t) => {
  if (!needCapnp(t)) return;
  const bytes = frame(buildAllTypes().getSegmentsForOutput());
  const run = (cmd: string, args: string[]) =>
    spawnSync(cmd, args, { input: bytes }).stdout.toString("latin1");
  const ours = run(join(ROOT, "bin/capnts"), ["decode", CODEGEN_TEST, "AllTypes"]);
  assert.equal(ours, run("capnp", ["decode", CODEGEN_TEST, "AllTypes"]));
});

const SHAPES = [
  "()",
  `(name = "sq", square = 2)`,
  `(rectangle = (width = 1, height = 2), style = (colored = blue), position = (x = 3, y = 4))`,
  `(inner = (name = "deep", inner = (nothing = void)), style = (fancy = (pattern = "p", border = (width = 2))))`,
  `(nested = (kind = b, deeper = (value = -1)), nothing = void)`,
];

test("union, group and nested layouts print like capnp (pretty and short)", (t) => {
  if (!needCapnp(t)) return;
  const { loader, node } = loadSchemaType(CODEGEN_TEST, "Shape");
  for (const text of SHAPES) {
    const bytes = capnpEncode(CODEGEN_TEST, "Shape", text);
    for (const short of [false, true]) {
      const ours = Buffer.from(decodeToText(bytes, loader, node, { short })).toString();
      assert.equal(ours, capnpDecode(CODEGEN_TEST, "Shape", bytes, short ? ["--short"] : []), text);
    }
  }
});

test("builders: unions set their discriminant, groups init to zero, defaults XOR", (t) => {
  if (!needCapnp(t)) return;
  const m = new MessageBuilder();
  const s = m.initRoot(Shape.Builder);
  s.circle = 3;
  assert.equal(s.which, "circle");
  const rect = s.initRectangle();
  assert.equal(s.which, "rectangle");
  assert.equal(rect.width, 0, "initRectangle zeroed the circle's bits");
  rect.height = 2;
  s.style.initFancy().border.width = 5;
  s.position.x = 1;
  s.initNested().initDeeper();
  assert.equal(
    capnpDecode(CODEGEN_TEST, "Shape", frame(m.getSegmentsForOutput()), ["--short"]),
    "(rectangle = (width = 0, height = 2), style = (fancy = (border = (width = 5))), position = (x = 1, y = 0), nested = (kind = a, deeper = (value = 42)))\n",
  );

  const d = new MessageBuilder().initRoot(Defaults.Builder);
  assert.equal(d.int32Field, -12345678);
  d.int32Field = 5;
  d.float32Field = 0;
  d.boolField = false;
  assert.equal(d.int32Field, 5);
  assert.equal(d.textField, "foo");
  assert.equal(d.structField.a, 7, "getting a struct field copies its default");
  d.structField.a = 8;
  const dm = d.asReader();
  assert.equal(dm.int32Field, 5);
  assert.equal(dm.float32Field, 0);
  assert.equal(dm.boolField, false);
  assert.equal(dm.structField.a, 8);
  assert.equal(dm.structField.b, "seven");

  const c = new MessageBuilder().initRoot(Collide.Builder);
  c.class = 3;
  c.constructor$ = "x";
  c.setReturn();
  assert.equal(c.which, "return");
  c.enum = 4;
  assert.equal(c.which, "enum");
  const cr = c.asReader();
  assert.equal(cr.which, "enum");
  assert.equal(cr.enum, 4);
});

test("copying structs and lists between messages, orphans", () => {
  const a = buildAllTypes().getRoot(AllTypes.Builder);
  const m = new MessageBuilder();
  const b = m.initRoot(AllTypes.Builder);
  b.structField = a.structField;
  b.structList = a.asReader().structList;
  b.textList = a.textList;
  assert.equal(b.structField.textField, "inner");
  assert.equal(b.structList.get(1).textField, "second");
  assert.deepEqual(b.textList.toArray(), ["x", ""]);
  const o = b.disownStructField();
  assert.equal(b.hasStructField(), false);
  b.initStructList(0);
  b.structList.length;
  const inner = b.initStructField();
  inner.adoptStructField(o);
  assert.equal(b.structField.structField.textField, "inner");
  const r = new MessageReader(m.getSegmentsForOutput()).getRoot(StructReader);
  assert.ok(r._totalWords > 0);
});

test("accessors construct their classes: struct fields, groups, generated struct lists", () => {
  const m = buildAllTypes();
  const b = m.getRoot(AllTypes.Builder);
  // Builders: init/get of struct fields, struct lists (generated list classes).
  assert.ok(b.structField instanceof AllTypes.Builder);
  assert.equal(b.structField.textField, "inner");
  const lb = b.structList;
  assert.ok(lb instanceof AllTypes_ListBuilder && lb instanceof StructListBuilder);
  assert.ok(lb.get(1) instanceof AllTypes.Builder);
  lb.get(1).int32Field = 77;
  assert.deepEqual(
    b
      .initStructListList(1)
      .init(0, 2)
      .toArray()
      .map((s) => s instanceof Small.Builder),
    [true, true],
  );
  const r = new MessageReader(m.getSegmentsForOutput()).getRoot(AllTypes.Reader);
  assert.ok(r.structField instanceof AllTypes.Reader);
  assert.equal(r.structField.textField, "inner");
  assert.equal(r.structField.structField.textField, "", "a null struct reads as its defaults");
  const l = r.structList;
  assert.ok(l instanceof AllTypes_List && l instanceof StructList);
  assert.deepEqual(
    l.toArray().map((e) => [e instanceof AllTypes.Reader, e.int32Field]),
    [
      [true, 0],
      [true, 77],
    ],
  );
  assert.equal([...l][1]!.textField, "second");
  assert.ok(r.structListList.get(0) instanceof Small_List);
  // StructList.of still reads the same list (plain StructList, same elements).
  const viaOf = r._getList(18, StructList.of(AllTypes.Reader)); // structList is pointer 18
  assert.ok(!(viaOf instanceof AllTypes_List));
  assert.equal(viaOf.get(1).int32Field, 77);
  b.structList = viaOf; // setters take any struct list of the type
  // Struct defaults through _locStruct / _getStructLoc, groups from their parent's fields.
  const d = new MessageBuilder().initRoot(Defaults.Builder);
  assert.equal(d.asReader().structField.a, 7);
  assert.equal(d.structField.b, "seven", "the builder getter copies the default in");
  d.structField.a = 8;
  assert.equal(d.asReader().structField.a, 8);
  const sh = new MessageBuilder().initRoot(Shape.Builder);
  sh.initRectangle().width = 3;
  assert.ok(sh.rectangle instanceof Shape_rectangle_Builder);
  const shr = sh.asReader();
  assert.equal(shr.which, "rectangle");
  assert.equal(shr.rectangle.width, 3);
});

test("group readers read through their struct's reader and stay StructReaders", () => {
  const m = new MessageBuilder();
  const sh = m.initRoot(Shape.Builder);
  sh.name = "s";
  const fancy = sh.style.initFancy();
  fancy.pattern = "dots";
  fancy.border.width = 4;
  sh.position.x = -1;
  sh.position.y = 2;
  const r = new MessageReader(m.getSegmentsForOutput()).getRoot(Shape.Reader);
  // Nested groups share the struct's reader.
  assert.equal(r.style.which, "fancy");
  const f = r.style.fancy;
  assert.ok(f instanceof Shape_style_fancy_Reader);
  assert.ok(f instanceof GroupReader && f instanceof StructReader);
  assert.equal(f._p, r);
  assert.equal(f.border._p, r);
  assert.equal(f.pattern, "dots");
  assert.equal(f.border.which, "width");
  assert.equal(f.border.width, 4);
  assert.equal(r.position.y, 2);
  // A group reader is still a working StructReader (location fields through its parent's).
  assert.equal(f._seg, r._seg);
  assert.equal(f._dataOff, r._dataOff);
  assert.equal(r.position._hasPointer(0), true); // `name`, through an inherited StructView method
  assert.equal(r.position.toString(), "(x = -1, y = 2)");
  // A group builder's reader: over a plain StructReader of the same sections.
  const pr = sh.position.asReader();
  assert.equal(pr.x, -1);
  assert.equal(pr.y, 2);
  assert.equal(pr.toString(), r.position.toString());
  const border = sh.style.fancy.asReader().border;
  assert.equal(border.which, "width");
  assert.equal(border.width, 4);
});

test("the nesting limit applies to struct fields read through _locStruct", () => {
  const m = new MessageBuilder();
  let s = m.initRoot(AllTypes.Builder);
  for (let i = 0; i < 10; i++) s = s.initStructField();
  s.int32Field = 5;
  const deep = (limit: number) => {
    let r = new MessageReader(m.getSegmentsForOutput(), { nestingLimit: limit }).getRoot(AllTypes.Reader);
    for (let i = 0; i < 10; i++) r = r.structField;
    return r.int32Field;
  };
  assert.equal(deep(64), 5);
  assert.throws(() => deep(5), /nest/i);
});
