/**
 * Wire conformance through generated readers: messages written by `capnp encode` (the C++
 * oracle) are read field by field through the checked-in bindings of codegen-test.capnp.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { decodePackedFrame } from "capnts/serialize";
// Installs the text-format printer behind generated toString() (src/wire/stringify.ts).
import "capnts/schema";
import { MessageReader } from "capnts/wire";
import {
  AllTypes,
  Collide,
  Collide_ListBuilder,
  Color,
  constBool,
  constData,
  constEnum,
  constInt,
  constList,
  constStruct,
  constText,
  constU64,
  Defaults,
  Shape,
  Small,
  UsesGenerics,
} from "./gen/codegen-test.capnp.js";
import { CODEGEN_TEST, capnpEncode, needCapnp, readerOf } from "./helpers.js";

function read<T>(type: string, text: string, ctor: new (...a: never[]) => T, flags: string[] = []): T {
  const bytes = capnpEncode(CODEGEN_TEST, type, text, flags);
  return readerOf(bytes).getRoot(ctor as never) as T;
}

test("every primitive, Text, Data, enum and list type reads as capnp wrote it", (t) => {
  if (!needCapnp(t)) return;
  const r = read(
    "AllTypes",
    `(boolField = true, int8Field = -128, int16Field = -32768, int32Field = -2147483648,
      int64Field = -9223372036854775808, uint8Field = 255, uint16Field = 65535,
      uint32Field = 4294967295, uint64Field = 18446744073709551615, float32Field = 1.5,
      float64Field = -2.25e300, textField = "héllo\\n", dataField = 0x"00 ff 10",
      structField = (int32Field = 7, textField = "inner"), enumField = blue,
      voidList = [void, void, void], boolList = [true, false, true], int8List = [-1, 2],
      int16List = [-300], int32List = [1, -2, 3], int64List = [-5000000000],
      uint8List = [200], uint16List = [60000], uint32List = [4000000000],
      uint64List = [12345678901234567890], float32List = [0.5, -1], float64List = [1e-300],
      textList = ["a", "", "ccc"], dataList = [0x"01 02", 0x"03"],
      structList = [(int8Field = 1), (int8Field = 2, textField = "two")],
      enumList = [green, red], listList = [[1, 2], [], [3]],
      structListList = [[(a = 1, b = "x")], [(a = 2), (a = 3)]],
      imported = (id = 99, tags = ["p", "q"]))`,
    AllTypes.Reader,
  );
  assert.equal(r.boolField, true);
  assert.equal(r.int8Field, -128);
  assert.equal(r.int16Field, -32768);
  assert.equal(r.int32Field, -2147483648);
  assert.equal(r.int64Field, -9223372036854775808n);
  assert.equal(r.uint8Field, 255);
  assert.equal(r.uint16Field, 65535);
  assert.equal(r.uint32Field, 4294967295);
  assert.equal(r.uint64Field, 18446744073709551615n);
  assert.equal(r.float32Field, 1.5);
  assert.equal(r.float64Field, -2.25e300);
  assert.equal(r.textField, "héllo\n");
  assert.deepEqual([...r.dataField], [0, 255, 16]);
  assert.equal(r.hasStructField(), true);
  assert.equal(r.structField.int32Field, 7);
  assert.equal(r.structField.textField, "inner");
  assert.equal(r.structField.hasStructField(), false);
  assert.equal(r.enumField, Color.blue);
  assert.equal(r.voidList.length, 3);
  assert.deepEqual(r.boolList.toArray(), [true, false, true]);
  assert.deepEqual(r.int8List.toArray(), [-1, 2]);
  assert.deepEqual(r.int16List.toArray(), [-300]);
  assert.deepEqual(r.int32List.toArray(), [1, -2, 3]);
  assert.deepEqual(r.int64List.toArray(), [-5000000000n]);
  assert.deepEqual(r.uint8List.toArray(), [200]);
  assert.deepEqual(r.uint16List.toArray(), [60000]);
  assert.deepEqual(r.uint32List.toArray(), [4000000000]);
  assert.deepEqual(r.uint64List.toArray(), [12345678901234567890n]);
  assert.deepEqual(r.float32List.toArray(), [0.5, -1]);
  assert.deepEqual(r.float64List.toArray(), [1e-300]);
  assert.deepEqual(r.textList.toArray(), ["a", "", "ccc"]);
  assert.deepEqual(
    r.dataList.toArray().map((d) => [...d]),
    [[1, 2], [3]],
  );
  assert.deepEqual(
    r.structList.toArray().map((s) => [s.int8Field, s.textField]),
    [
      [1, ""],
      [2, "two"],
    ],
  );
  assert.deepEqual(r.enumList.toArray(), [Color.green, Color.red]);
  assert.deepEqual(
    r.listList.toArray().map((l) => l.toArray()),
    [[1, 2], [], [3]],
  );
  assert.deepEqual(
    r.structListList.toArray().map((l) => l.toArray().map((s) => [s.a, s.b])),
    [
      [[1, "x"]],
      [
        [2, ""],
        [3, ""],
      ],
    ],
  );
  assert.equal(r.imported.id, 99n);
  assert.deepEqual(r.imported.tags.toArray(), ["p", "q"]);
  assert.equal(r.hasAnyField(), false);
});

test("defaults of every type apply to an empty message and XOR with set values", (t) => {
  if (!needCapnp(t)) return;
  const d = read("Defaults", "()", Defaults.Reader);
  assert.equal(d.boolField, true);
  assert.equal(d.int8Field, -123);
  assert.equal(d.int16Field, -12345);
  assert.equal(d.int32Field, -12345678);
  assert.equal(d.int64Field, -123456789012345n);
  assert.equal(d.uint8Field, 234);
  assert.equal(d.uint16Field, 45678);
  assert.equal(d.uint32Field, 3456789012);
  assert.equal(d.uint64Field, 12345678901234567890n);
  assert.equal(d.float32Field, 1234.5);
  assert.equal(d.float64Field, -123e45);
  assert.equal(d.textField, "foo");
  assert.deepEqual([...d.dataField], [0x62, 0x61, 0x72]);
  assert.equal(d.structField.a, 7);
  assert.equal(d.structField.b, "seven");
  assert.equal(d.enumField, Color.blue);
  assert.deepEqual(d.int32List.toArray(), [1, 2, 3]);
  assert.deepEqual(d.textList.toArray(), ["x", "yz"]);
  assert.deepEqual(
    d.structList.toArray().map((s) => [s.a, s.b]),
    [
      [1, ""],
      [2, "two"],
    ],
  );
  assert.ok(Number.isNaN(d.float64Nan));
  assert.equal(d.float32Inf, Number.NEGATIVE_INFINITY);
  assert.deepEqual(
    d.listList.toArray().map((l) => l.toArray()),
    [["a"], [], ["b", "c"]],
  );
  const s = read(
    "Defaults",
    '(boolField = false, int8Field = 0, uint32Field = 0, float32Field = 0, float64Field = 1, enumField = red, textField = "")',
    Defaults.Reader,
  );
  assert.equal(s.boolField, false);
  assert.equal(s.int8Field, 0);
  assert.equal(s.uint32Field, 0);
  assert.equal(s.float32Field, 0);
  assert.equal(s.float64Field, 1);
  assert.equal(s.enumField, Color.red);
  assert.equal(s.textField, "");
});

test("unions, named unions, groups and nested types", (t) => {
  if (!needCapnp(t)) return;
  const a = read(
    "Shape",
    `(name = "r", rectangle = (width = 2, height = 3), style = (fancy = (pattern = "dots", border = (width = 4))),
      position = (x = -1, y = 5), nested = (kind = b, deeper = (value = 9)))`,
    Shape.Reader,
  );
  assert.equal(a.which, "rectangle");
  assert.equal(a.isRectangle(), true);
  assert.equal(a.isCircle(), false);
  assert.equal(a.rectangle.width, 2);
  assert.equal(a.rectangle.height, 3);
  assert.equal(a.style.which, "fancy");
  assert.equal(a.style.fancy.pattern, "dots");
  assert.equal(a.style.fancy.border.which, "width");
  assert.equal(a.style.fancy.border.width, 4);
  assert.equal(a.position.x, -1);
  assert.equal(a.position.y, 5);
  assert.equal(a.nested.kind, Shape.Nested.Kind.b);
  assert.equal(a.nested.deeper.value, 9n);

  const b = read("Shape", `(circle = 1.5, style = (colored = green))`, Shape.Reader);
  assert.equal(b.which, "circle");
  assert.equal(b.circle, 1.5);
  assert.equal(b.style.which, "colored");
  assert.equal(b.style.colored, Color.green);
  assert.equal(b.nested.deeper.value, 42n, "default through a null struct");

  const c = read("Shape", `(inner = (name = "in", nothing = void))`, Shape.Reader);
  assert.equal(c.which, "inner");
  assert.equal(c.inner.name, "in");
  assert.equal(c.inner.which, "nothing");
});

test("names that collide with reserved words and base members", (t) => {
  if (!needCapnp(t)) return;
  const r = read(
    "Collide",
    `(class = 1, constructor = "c", toString = true, which = -2, hasFoo = true, foo = "f", then = 3, enum = 7)`,
    Collide.Reader,
  );
  assert.equal(r.class, 1);
  assert.equal(r.constructor$, "c");
  assert.equal(r.toString$, true);
  assert.equal(r.which$, -2);
  assert.equal(r.hasFoo, true);
  assert.equal(r.hasFoo$(), true);
  assert.equal(r.foo, "f");
  assert.equal(r.then, 3);
  assert.equal(r.which, "enum");
  assert.equal(r.enum, 7);
  assert.equal(typeof r.toString(), "string");
  // Nested types named like the generated list classes keep their namespace names.
  assert.equal(Collide.List.a, 0);
  assert.equal(typeof Collide.ListBuilder.Reader, "function");
  assert.notEqual(Collide.ListBuilder.Reader, Collide_ListBuilder);
});

test("generic structs: bound parameters take their types, unbound ones read as AnyPointer", (t) => {
  if (!needCapnp(t)) return;
  const r = read(
    "UsesGenerics",
    `(textBox = (value = "v", label = "l"), smallBox = (value = (a = 5)), pair = (key = "k", value = [1, 2]),
      anyBox = (label = "any"))`,
    UsesGenerics.Reader,
  );
  assert.equal(r.textBox.label, "l");
  assert.equal(r.textBox.value, "v");
  assert.equal(r.smallBox.value.a, 5);
  assert.equal(r.pair.key, "k");
  assert.deepEqual(r.pair.value.toArray(), [1, 2]);
  assert.equal(r.anyBox.label, "any");
  assert.equal(r.anyBox.value.isNull(), true);
  // Specializations print their generic fields with the bound types, like C++.
  assert.equal(String(r.textBox), '(value = "v", label = "l")');
  assert.equal(String(r.pair), '(key = "k", value = [1, 2])');
});

test("constants of every kind", () => {
  assert.equal(constInt, -77);
  assert.equal(constText, "constant text");
  assert.deepEqual([...constData], [0, 1, 255]);
  assert.equal(constStruct.a, 99);
  assert.equal(constStruct.b, "ninety-nine");
  assert.deepEqual(constList.toArray(), [1.5, -2.25]);
  assert.equal(constEnum, Color.green);
  assert.equal(constBool, true);
  assert.equal(constU64, 18446744073709551615n);
});

test("packed and multi-segment input reads the same", (t) => {
  if (!needCapnp(t)) return;
  const packed = capnpEncode(CODEGEN_TEST, "Small", `(a = 3, b = "packed")`, ["--packed"]);
  const s = new MessageReader(decodePackedFrame(packed).segments).getRoot(Small.Reader);
  assert.equal(s.a, 3);
  assert.equal(s.b, "packed");
  // One word per segment: every pointer is a far pointer.
  const multi = read(
    "AllTypes",
    `(textField = "far", structList = [(int8Field = 4)], listList = [[5]])`,
    AllTypes.Reader,
    ["--segment-size=1"],
  );
  assert.equal(multi.textField, "far");
  assert.equal(multi.structList.get(0).int8Field, 4);
  assert.equal(multi.listList.get(0).get(0), 5);
});
