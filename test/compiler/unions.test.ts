/**
 * Unions at run time (the types are in types.test.ts): `which` is a getter on readers and
 * builders, `isFoo()` tests a member, `hasFoo()` of a pointer member is false unless it is the
 * active one (C++ `hasFoo()`), and a builder asked for an inactive member throws
 * InactiveMemberError instead of returning another member's bytes (C++ checks the same in debug
 * builds). Readers do no such check: their types offer a member only where `which` was tested.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { CapnpError, InactiveMemberError, MessageBuilder, MessageReader, StructReader } from "capnts/wire";
import { Calculator, Shape } from "./gen/codegen-test.capnp.js";

function reread(m: MessageBuilder): Shape.Reader {
  return new MessageReader(m.getSegmentsForOutput()).getRoot(Shape.Reader);
}

test("which is a getter on readers and builders; isFoo() tests one member", () => {
  const m = new MessageBuilder();
  const b = m.initRoot(Shape.Builder);
  assert.equal(b.which, "circle", "discriminant 0 is the first member");
  b.square = 2;
  assert.equal(b.which, "square");
  assert.equal(b.isSquare(), true);
  assert.equal(b.isCircle(), false);
  const r = reread(m);
  assert.equal(r.which, "square");
  assert.equal(r.isSquare(), true);
  assert.equal(r.isCircle(), false);
  if (r.which === "square") assert.equal(r.square, 2);
  else assert.fail("narrowing test: square expected");
  // A getter on the prototype, like every field: nothing is stored per reader.
  const proto = Object.getPrototypeOf(r) as object;
  assert.equal(typeof Object.getOwnPropertyDescriptor(proto, "which")?.get, "function");
  assert.deepEqual(Object.keys(r).sort(), [
    "_arena",
    "_dataOff",
    "_dataSize",
    "_nesting",
    "_ptrCount",
    "_ptrOff",
    "_seg",
  ]);
});

test("the reader value is the class: instanceof, lists and struct fields construct it", () => {
  const m = new MessageBuilder();
  const b = m.initRoot(Shape.Builder);
  b.initInner().circle = 1.5;
  const r = reread(m);
  assert.ok(r instanceof Shape.Reader);
  assert.ok(r instanceof StructReader);
  assert.equal(r.which, "inner");
  if (r.which !== "inner") return;
  const inner = r.inner;
  assert.ok(inner instanceof Shape.Reader);
  assert.equal(Object.getPrototypeOf(inner), Object.getPrototypeOf(r));
  assert.equal(inner.which, "circle");
  assert.ok(inner.isCircle() && inner.circle === 1.5);

  const e = new MessageBuilder().initRoot(Calculator.Expression.Builder);
  const params = e.initCall().initParams(2);
  params.get(0).literal = 4;
  params.get(1).parameter = 7;
  const er = e.asReader();
  assert.ok(er instanceof Calculator.Expression.Reader);
  assert.equal(er.which, "call");
  if (er.which !== "call") return;
  const kinds = er.call.params.toArray().map((x) => {
    assert.ok(x instanceof Calculator.Expression.Reader);
    return x.which === "literal" ? x.literal : x.which === "parameter" ? -x.parameter : Number.NaN;
  });
  assert.deepEqual(kinds, [4, -7]);
});

test("hasFoo() of a union member is true only while it is the active member (C++ semantics)", () => {
  const m = new MessageBuilder();
  const b = m.initRoot(Shape.Builder);
  b.initInner().square = 1;
  assert.equal(b.hasInner(), true);
  assert.equal(reread(m).hasInner(), true);
  // Switching to another member leaves the old pointer in place (as C++ does) ...
  b.circle = 3;
  // ... but it no longer counts as present.
  assert.equal(b.hasInner(), false);
  assert.equal(reread(m).hasInner(), false);
  assert.equal(b.hasName(), false, "non-union pointers are unaffected");
  b.name = "n";
  assert.equal(reread(m).hasName(), true);
});

test("a builder asked for an inactive member throws InactiveMemberError, never another member's data", () => {
  const m = new MessageBuilder();
  const b = m.initRoot(Shape.Builder);
  const rect = b.initRectangle();
  rect.width = 3;
  rect.height = 4;
  b.setNothing();
  // Reading `rectangle` now would give the width/height bytes left by the old member.
  const err = (f: () => unknown, member: string, active: string) =>
    assert.throws(f, (e: unknown) => {
      assert.ok(e instanceof InactiveMemberError);
      assert.ok(e instanceof CapnpError);
      assert.equal(e.member, member);
      assert.equal(e.active, active);
      assert.match(e.message, new RegExp(`${member.replace(".", "\\.")} is not the active union member`));
      return true;
    });
  err(() => b.rectangle, "Shape.rectangle", "nothing");
  err(() => b.circle, "Shape.circle", "nothing");
  err(() => b.inner, "Shape.inner", "nothing");
  assert.equal(b.hasInner(), false, "has() answers without throwing");
  // Setting a member makes it active; reading it is then fine.
  b.circle = 2.5;
  assert.equal(b.circle, 2.5);
  err(() => b.square, "Shape.square", "circle");
  // Nothing was allocated by the failed reads: the struct member is still unset.
  b.initInner();
  assert.equal(b.inner.which, "circle");
  // Named unions (groups), nested ones too.
  const style = b.style;
  assert.equal(style.which, "plain");
  err(() => style.colored, "Shape.style.colored", "plain");
  err(() => style.fancy, "Shape.style.fancy", "plain");
  const fancy = style.initFancy();
  err(() => fancy.border.width, "Shape.style.fancy.border.width", "none");
  fancy.border.width = 9;
  assert.equal(b.style.fancy.border.width, 9);
  // Members outside the union are always readable.
  assert.equal(b.position.x, 0);
  assert.equal(b.name, "");
});

test("a discriminant from a newer schema reads as _unknown; the builder then refuses every member", () => {
  const m = new MessageBuilder();
  const b = m.initRoot(Shape.Builder);
  // Shape's discriminant is the UInt16 at byte 8 (after circle/square's Float64).
  b._setUint16(8, 40);
  assert.equal(b.which, "_unknown");
  const r = reread(m);
  assert.equal(r.which, "_unknown");
  assert.equal(r.isCircle(), false);
  assert.throws(
    () => b.circle,
    (e: unknown) => e instanceof InactiveMemberError && e.active === "_unknown",
  );
});
