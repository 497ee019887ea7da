/**
 * Reflection over the nodes embedded in generated files: lookup by id and name, dynamic field
 * access, unions, enums by name, lists, generic bindings, annotations.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { type DynamicList, DynamicStruct, SchemaLoader, schemas } from "capnts/schema";
import { MessageBuilder } from "capnts/wire";
import { Node } from "../../src/schema/schema.capnp.js";
import { $schema, Annotated, Color, Shape, UsesGenerics } from "../compiler/gen/codegen-test.capnp.js";

const loader = new SchemaLoader().addFile($schema);

test("nodes by id and by name, imports included, annotations kept", () => {
  const shape = loader.getStruct(Shape.typeId);
  assert.equal(shape.displayName, "codegen-test.capnp:Shape");
  assert.equal(loader.find("codegen-test.capnp", "Shape.Nested.Deeper").kind, "struct");
  assert.ok(loader.find("codegen-import.capnp", "Imported"), "imported file's nodes are loaded");
  const annotated = loader.getStruct(Annotated.typeId);
  const note = loader.find("codegen-test.capnp", "note");
  assert.equal(note.kind, "annotation");
  assert.deepEqual(
    annotated.annotations.map((a) => [a.id, a.value]),
    [[note.id, { kind: "text", value: "on a struct" }]],
  );
  assert.deepEqual(annotated.fields[0]!.annotations[0]!.value, { kind: "text", value: "on a field" });
  assert.throws(() => loader.find("codegen-test.capnp", "Nope"), /not defined/);
});

test("dynamic access: fields by name, unions, groups, enums, lists", () => {
  const m = new MessageBuilder();
  const s = m.initRoot(Shape.Builder);
  s.name = "box";
  const r = s.initRectangle();
  r.width = 2;
  s.style.colored = Color.blue;
  s.initNested().kind = Shape.Nested.Kind.b;
  const d = DynamicStruct.of(s.asReader(), loader.getStruct(Shape.typeId), loader);
  assert.equal(d.get("name"), "box");
  assert.equal(d.which()?.name, "rectangle");
  assert.equal(d.has("circle"), false);
  const rect = d.get("rectangle") as DynamicStruct;
  assert.equal(rect.get("width"), 2);
  const style = d.get("style") as DynamicStruct;
  assert.equal(style.which()?.name, "colored");
  assert.deepEqual(style.get("colored"), { value: 2, name: "blue" });
  const nested = d.get("nested") as DynamicStruct;
  assert.deepEqual(nested.get("kind"), { value: 1, name: "b" });
  assert.equal((nested.get("deeper") as DynamicStruct).get("value"), 42n);
  assert.equal(d.toString(), String(s));
  assert.throws(() => d.get("nope"), /has no field "nope"/);
});

test("generic fields resolve through brands", () => {
  const m = new MessageBuilder();
  const u = m.initRoot(UsesGenerics.Builder);
  u.initTextBox().value = "inside";
  const il = u.initPair().initValue(2);
  il.set(0, 5);
  il.set(1, 6);
  const d = DynamicStruct.of(u.asReader(), loader.getStruct(UsesGenerics.typeId), loader);
  const box = d.get("textBox") as DynamicStruct;
  assert.equal(box.get("value"), "inside");
  assert.deepEqual(box.typeOf("value"), { kind: "text" });
  const pair = d.get("pair") as DynamicStruct;
  assert.deepEqual((pair.get("value") as DynamicList).toArray(), [5, 6]);
  assert.equal(String(u), '(textBox = (value = "inside"), pair = (value = [5, 6]))');
});

test("generated toString uses the process-wide loader; schema.capnp bindings print themselves", () => {
  const m = new MessageBuilder();
  const n = m.initRoot(Node.Builder);
  n.displayName = "x";
  n.initEnum();
  assert.match(String(n), /displayName = "x".*enum = \(\)/);
  assert.ok(schemas.has(Node.typeId));
});
