/**
 * Text to binary (`capnts encode`) against `capnp encode`: the same bytes, framed, packed and flat.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import { encodeFrame } from "capnts/serialize";
import { loadSchemaType } from "../../src/cli/decode.js";
import { encodeText } from "../../src/schema/text-encode.js";
import { CODEGEN_TEST, capnpEncode, needCapnp, ROOT, TEST_SCHEMAS } from "../compiler/helpers.js";

const CASES: [string, string][] = [
  ["AllTypes", "()"],
  [
    "AllTypes",
    `(int32List = [1, -2], textField = "t\\x01\\303\\251", boolField = true, int8Field = -0x10, uint16Field = 017,
      float32Field = -0, float64Field = -1.5e-7, dataField = 0x"de ad be ef", enumField = green, # a comment
      structList = [(textList = ["a", ""], int64Field = -9223372036854775808), ()],
      listList = [[], [7]], structListList = [[(a = 1, b = "x")], []], voidList = [void],
      float32List = [inf, -inf, nan, 1e-45], uint64List = [18446744073709551615],
      structField = (structField = (textField = "deep")), imported = (id = 1, tags = ["a", "b"]), enumList = [blue])`,
  ],
  [
    "Shape",
    `(style = (fancy = (border = (width = 2), pattern = "p")), name = "n", rectangle = (height = 1, width = 2))`,
  ],
  ["Shape", `(inner = (inner = (nothing = void)), nested = (deeper = (value = 5), kind = b))`],
  ["Defaults", `(int32Field = -12345678, textField = "foo", structField = (a = 1), textList = [])`],
  ["Collide", `(class = 1, constructor = "c", return = void)`],
  ["UsesGenerics", `(textBox = (value = "v"), pair = (key = "k", value = [1, 2]))`],
];

test("capnts encode writes what capnp encode writes (framed, packed)", (t) => {
  if (!needCapnp(t)) return;
  for (const [type, text] of CASES) {
    const { loader, node } = loadSchemaType(CODEGEN_TEST, type);
    const ours = encodeText(`${text}\n${text}`, node, loader).map((m) =>
      encodeFrame(m.getSegmentsForOutput()),
    );
    const theirs = capnpEncode(CODEGEN_TEST, type, `${text}\n${text}`);
    assert.deepEqual(Buffer.concat(ours), Buffer.from(theirs), `${type} ${text}`);
  }
  const [type, text] = CASES[1]!;
  const run = (cmd: string, args: string[]) =>
    spawnSync(cmd, args, { input: text, cwd: TEST_SCHEMAS, env: { ...process.env, CAPNTS_FROM_SOURCE: "1" } })
      .stdout;
  for (const flags of [[], ["--packed"], ["--flat"], ["--flat", "--packed"]]) {
    assert.deepEqual(
      run(join(ROOT, "bin/capnts"), ["encode", ...flags, CODEGEN_TEST, type]),
      run("capnp", ["encode", ...flags, CODEGEN_TEST, type]),
      flags.join(" "),
    );
  }
});

test("text that does not fit the schema is refused with its position", (t) => {
  if (!needCapnp(t)) return;
  const { loader, node } = loadSchemaType(CODEGEN_TEST, "AllTypes");
  assert.throws(() => encodeText("(nope = 1)", node, loader), /has no field "nope"/);
  assert.throws(() => encodeText("(int8Field = 300)", node, loader), /out of range for int8/);
  assert.throws(() => encodeText("(enumField = purple)", node, loader), /"purple" is not an enumerant/);
  assert.throws(() => encodeText("(textField = 3", node, loader), /expected a string|expected "\)"/);
  assert.throws(() => encodeText('(textField = "x"', node, loader), /expected "\)" \(at offset 16\)/);
});
