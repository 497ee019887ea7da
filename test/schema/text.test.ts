/**
 * Text format against `capnp decode` on values chosen to hit kj's number formatting and C
 * escaping: random float bit patterns, every byte in Data and Text, deep and wide layouts.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import "capnts/schema";
import { fileURLToPath } from "node:url";
import { decodeFrame } from "capnts/serialize";
import { MessageBuilder, MessageReader } from "capnts/wire";
import { decodeToText, loadSchemaType } from "../../src/cli/decode.js";
import * as SCHEMA_MODULE from "../../src/schema/schema.capnp.js";
import { formatFloat32, formatFloat64 } from "../../src/schema/text.js";
import { AllTypes } from "../compiler/gen/codegen-test.capnp.js";
import { CODEGEN_TEST, capnpDecode, frame, needCapnp } from "../compiler/helpers.js";
import { capnp, requireCapnp } from "../helpers/capnp-tool.js";

/** Deterministic pseudo-random numbers (xorshift). */
const ROOT = fileURLToPath(new URL("../..", import.meta.url));

function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

function compare(m: MessageBuilder, short = false): void {
  const bytes = frame(m.getSegmentsForOutput());
  const { loader, node } = loadSchemaType(CODEGEN_TEST, "AllTypes");
  const ours = Buffer.from(decodeToText(bytes, loader, node, { short })).toString("latin1");
  const theirs = Buffer.from(capnpDecode(CODEGEN_TEST, "AllTypes", bytes, short ? ["--short"] : []), "utf8");
  assert.equal(ours, theirs.toString("latin1"));
}

test("floats print like kj (random bit patterns, specials, boundaries)", (t) => {
  if (!needCapnp(t)) return;
  const next = rng(12345);
  const m = new MessageBuilder();
  const r = m.initRoot(AllTypes.Builder);
  const n = 400;
  const f32 = r.initFloat32List(n);
  const f64 = r.initFloat64List(n);
  const dv = new DataView(new ArrayBuffer(8));
  const specials = [
    0,
    -0,
    1,
    -1,
    0.1,
    1e-5,
    1e-4,
    1e15,
    1e16,
    1e17,
    123456,
    1234567,
    1e21,
    2 ** 53,
    2 ** 24,
    3.4e38,
    1.4e-45,
    5e-324,
  ];
  for (let i = 0; i < n; i++) {
    if (i < specials.length) {
      f32.set(i, specials[i]!);
      f64.set(i, specials[i]!);
      continue;
    }
    dv.setUint32(0, next());
    f32.set(i, dv.getFloat32(0));
    dv.setUint32(0, next());
    dv.setUint32(4, next());
    // Mix raw patterns with "human" decimals (short digit strings).
    f64.set(
      i,
      i % 2 === 0
        ? dv.getFloat64(0)
        : Number(((next() % 100000) / 10 ** (next() % 12)).toPrecision(1 + (next() % 17))),
    );
  }
  compare(m, true);
});

test("every byte value in Data and in Text is escaped like kj::encodeCEscape", (t) => {
  if (!needCapnp(t)) return;
  const m = new MessageBuilder();
  const r = m.initRoot(AllTypes.Builder);
  r.dataField = Uint8Array.from({ length: 256 }, (_, i) => i);
  let s = "";
  for (let i = 1; i < 128; i++) s += String.fromCharCode(i);
  r.textField = `${s}é€😀`;
  compare(m);
  compare(m, true);
});

test("integers at their limits and pretty layout of long lists", (t) => {
  if (!needCapnp(t)) return;
  const m = new MessageBuilder();
  const r = m.initRoot(AllTypes.Builder);
  r.int64Field = -(2n ** 63n);
  r.uint64Field = 2n ** 64n - 1n;
  const l = r.initInt32List(40);
  for (let i = 0; i < 40; i++) l.set(i, i * 1000003);
  const tl = r.initTextList(3);
  tl.set(0, "a".repeat(22));
  tl.set(1, "b".repeat(23));
  tl.set(2, "c");
  const sl = r.initStructList(2);
  sl.get(0).int8List = new MessageBuilder().initRoot(AllTypes.Builder).initInt8List(0);
  compare(m);
});

test("formatFloat64/32 spot checks", () => {
  assert.equal(formatFloat64(1e20), "1e20");
  assert.equal(formatFloat64(1e-5), "1e-05");
  assert.equal(formatFloat64(0.1), "0.1");
  assert.equal(formatFloat64(-0), "-0");
  assert.equal(formatFloat64(Number.NaN), "nan");
  assert.equal(formatFloat64(123456789012345680), "1.2345678901234568e17");
  assert.equal(formatFloat32(Math.fround(0.1)), "0.1");
  assert.equal(formatFloat32(Math.fround(3.4028234663852886e38)), "3.4028235e38");
  assert.equal(formatFloat32(Number.NEGATIVE_INFINITY), "-inf");
});

test('a CodeGeneratorRequest prints as capnp decode prints it (a null Text that is the active union member reads as "")', (t) => {
  if (!requireCapnp(t)) return;
  // Value.text of a Text field without a default is the active member with a null pointer.
  const request = capnp(["compile", "-o-", "test/interop/schema/test.capnp"], "", ROOT);
  const { CodeGeneratorRequest_Reader } = SCHEMA_MODULE;
  const ours = String(
    new MessageReader(decodeFrame(new Uint8Array(request)).segments).getRoot(CodeGeneratorRequest_Reader),
  );
  const cpp = capnp(
    ["decode", "schemas/capnp/schema.capnp", "CodeGeneratorRequest"],
    request,
    ROOT,
  ).toString();
  const flat = (s: string) =>
    s
      .trim()
      .replace(/\s+/g, " ")
      .replaceAll("( ", "(")
      .replaceAll(" )", ")")
      .replaceAll("[ ", "[")
      .replaceAll(" ]", "]");
  // capnp decodes with the same schema.capnp as ours (the project's 1.x copy).
  assert.equal(flat(ours), flat(cpp));
  assert.match(ours, /defaultValue = \(text = ""\)/);
});
