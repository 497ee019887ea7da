/**
 * Unsupported or malformed CodeGeneratorRequests end in a CompileError naming the schema node,
 * never in invalid TypeScript.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { encodeFrame } from "capnts/serialize";
import { MessageBuilder } from "capnts/wire";
import { CompileError } from "../../src/compiler/errors.js";
import { generate, readRequest } from "../../src/compiler/generate.js";
import { CodeGeneratorRequest, type Node_Builder } from "../../src/schema/schema.capnp.js";

/** A request for file "bad.capnp" with one struct Foo whose fields `edit` adds. */
function request(edit: (foo: Node_Builder, req: ReturnType<MessageBuilder["initRoot"]>) => void): Uint8Array {
  const m = new MessageBuilder();
  const req = m.initRoot(CodeGeneratorRequest.Builder);
  const nodes = req.initNodes(2);
  const file = nodes.get(0);
  file.id = 0x1000n;
  file.displayName = "bad.capnp";
  file.displayNamePrefixLength = 0;
  file.initNestedNodes(1).get(0).name = "Foo";
  file.nestedNodes.get(0).id = 0x2000n;
  const foo = nodes.get(1);
  foo.id = 0x2000n;
  foo.displayName = "bad.capnp:Foo";
  foo.displayNamePrefixLength = 10;
  foo.scopeId = 0x1000n;
  const s = foo.initStruct();
  s.dataWordCount = 1;
  s.pointerCount = 1;
  edit(foo, req as never);
  const rf = req.initRequestedFiles(1).get(0);
  rf.id = 0x1000n;
  rf.filename = "bad.capnp";
  return encodeFrame(m.getSegmentsForOutput());
}

function compileError(bytes: Uint8Array): CompileError {
  try {
    generate(readRequest(bytes));
  } catch (e) {
    assert.ok(e instanceof CompileError, `expected a CompileError, got ${String(e)}`);
    return e;
  }
  assert.fail("no error");
}

test("a well-formed minimal request generates", () => {
  const files = generate(readRequest(request(() => {})));
  assert.equal(files.length, 1);
  assert.equal(files[0]!.path, "bad.capnp.ts");
  assert.match(files[0]!.content, /export class Foo_Reader extends \$\.StructReader/);
});

test("a field referring to a missing struct names the node", () => {
  const e = compileError(
    request((foo) => {
      const f = foo.struct.initFields(1).get(0);
      f.name = "bar";
      f.discriminantValue = 0xffff;
      const slot = f.initSlot();
      slot.initType().initStruct().typeId = 0xdeadn;
      slot.initDefaultValue().initStruct();
    }),
  );
  assert.equal(e.node, "bad.capnp:Foo");
  assert.match(e.message, /bad\.capnp:Foo: .*0xdead/);
});

test("a group field referring to a missing node names the struct", () => {
  const e = compileError(
    request((foo) => {
      const f = foo.struct.initFields(1).get(0);
      f.name = "grp";
      f.initGroup().typeId = 0xbeefn;
    }),
  );
  assert.match(e.message, /bad\.capnp:Foo/);
});

test("an unknown kind of Type names the node", () => {
  const e = compileError(
    request((foo) => {
      const f = foo.struct.initFields(1).get(0);
      f.name = "weird";
      const t = f.initSlot().initType();
      t._setUint16(0, 99); // a Type discriminant no schema.capnp version has
    }),
  );
  assert.match(e.message, /bad\.capnp:Foo/);
});

test("a requested file without a file node, and bytes that are not a message", () => {
  const m = new MessageBuilder();
  const req = m.initRoot(CodeGeneratorRequest.Builder);
  req.initNodes(0);
  const rf = req.initRequestedFiles(1).get(0);
  rf.id = 0x1n;
  rf.filename = "missing.capnp";
  assert.match(compileError(encodeFrame(m.getSegmentsForOutput())).message, /missing\.capnp/);
  assert.match(compileError(new Uint8Array([1, 2, 3])).message, /not a Cap'n Proto message/);
});
