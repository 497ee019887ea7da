/**
 * Generated `toString()` before and after capnts/schema is loaded (src/wire/stringify.ts). This
 * file must not import capnts/schema statically: loading it is what installs the printer.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { inspect } from "node:util";
import { MessageBuilder } from "capnts/wire";
import { AllTypes } from "../compiler/gen/codegen-test.capnp.js";

test("toString() names the struct and what to import until capnts/schema is loaded, then prints the text format", async () => {
  const m = new MessageBuilder();
  const b = m.initRoot(AllTypes.Builder);
  b.int32Field = -7;
  b.textField = "hi";
  const r = b.asReader();
  const bare = `<struct @0x${AllTypes.typeId.toString(16).padStart(16, "0")}: import "capnts/schema" to print the text format>`;
  assert.equal(b.toString(), bare);
  assert.equal(String(r), bare);
  // Node's inspect (console.log) shows toString() through the base class.
  assert.equal(inspect(r), bare);

  // Loading the schema module installs the printer; the generated module registered its schema
  // when it was evaluated, so nothing else is needed.
  await import("capnts/schema");
  for (const text of [b.toString(), String(r), inspect(r), inspect(b)]) {
    assert.match(text, /^\(.*int32Field = -7, .*textField = "hi"/);
  }
});
