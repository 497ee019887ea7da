/**
 * `capnts decode` / `capnts encode` (bin/capnts) against `capnp decode` / `capnp encode` 0.9.2 on
 * the inputs where they used to differ: a stream with a bad or truncated message, input in
 * another format than the flags say, and `--flat` of a message that needs several segments.
 *
 * Where capnts differs from capnp 0.9.2 on purpose:
 * - capnp prints a truncated message's readable prefix (missing bytes read as zeros) before its
 *   error, and prints a message with a bad pointer with the field at its default, then reports
 *   the error after the messages that follow; capnts prints only data that is there: the
 *   messages before the bad one, then the error (exit status 1 in both).
 * - capnp encode writes a message with a bad value too (the field left at its default) before
 *   its error; capnts writes the messages before it, and names the line and column of the value.
 * - capnp's error block names a C++ source location ("Code location: kj/io.c++:53"); capnts's
 *   names the message number and byte offset instead.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { needCapnp, ROOT, tempDir } from "./helpers.js";

const CAPNTS = join(ROOT, "bin/capnts");
let dir = "";
let schema = "";

before(() => {
  dir = tempDir("cli-codec");
  schema = join(dir, "codec.capnp");
  writeFileSync(
    schema,
    "@0xd5e1a1e1a1e1a1e4;\nstruct Foo {\n  a @0 :UInt32;\n  s @1 :Text;\n  l @2 :List(Text);\n  sub @3 :Foo;\n}\n",
  );
});
after(() => rmSync(dir, { recursive: true, force: true }));

function tool(cmd: string, args: string[], input: Uint8Array | string) {
  const r = spawnSync(cmd, args, {
    input,
    cwd: dir,
    env: { ...process.env, CAPNTS_FROM_SOURCE: "1", PWD: dir },
    maxBuffer: 1 << 26,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}
const capnp = (args: string[], input: Uint8Array | string) => tool("capnp", args, input);
const capnts = (args: string[], input: Uint8Array | string) => tool(CAPNTS, args, input);

const THREE = '(a = 1, s = "x")\n(a = 2, s = "y", l = ["p", "q"])\n(a = 3, sub = (a = 4))\n';

test("decode of a truncated stream prints the complete messages, then an error, exit 1", (t) => {
  if (!needCapnp(t)) return;
  const bytes = new Uint8Array(capnp(["encode", schema, "Foo"], THREE).stdout);
  const first = new Uint8Array(capnp(["encode", schema, "Foo"], '(a = 1, s = "x")\n').stdout);
  const firstText = capnp(["decode", schema, "Foo"], first).stdout.toString();
  // Cut inside the second message's segment, and inside its segment table.
  for (const cut of [first.length + 20, first.length + 3]) {
    const input = bytes.subarray(0, cut);
    const ours = capnts(["decode", schema, "Foo"], input);
    const theirs = capnp(["decode", schema, "Foo"], input);
    assert.equal(theirs.status, 1);
    assert.equal(ours.status, 1, ours.stderr);
    // capnp prints the first message as capnts does (and then a partial second one).
    assert.ok(theirs.stdout.toString().startsWith(firstText));
    assert.equal(ours.stdout.toString(), firstText);
    assert.match(theirs.stderr, /^\*\*\* ERROR CONVERTING PREVIOUS MESSAGE \*\*\*\n/);
    assert.match(
      ours.stderr,
      new RegExp(
        "^\\*\\*\\* ERROR CONVERTING MESSAGE 2 \\*\\*\\*\\n" +
          `.*message 2, after the 1 printed above \\(it starts at byte ${first.length} of the input\\)\\.\\n` +
          "This probably means the input data is invalid/corrupted\\.\\n" +
          "Exception description: .*(prematurely|truncated|ends).*\\n" +
          "\\*\\*\\* END ERROR \\*\\*\\*\\n$",
        "i",
      ),
    );
  }
  // Packed: the same.
  const packed = new Uint8Array(capnp(["encode", "--packed", schema, "Foo"], THREE).stdout);
  const ours = capnts(["decode", "--packed", schema, "Foo"], packed.subarray(0, packed.length - 3));
  assert.equal(ours.status, 1);
  const good = capnp(["decode", "--packed", schema, "Foo"], packed).stdout.toString().split("\n");
  assert.equal(ours.stdout.toString(), `${good.slice(0, 2).join("\n")}\n`);
  assert.match(ours.stderr, /ERROR CONVERTING MESSAGE 3/);
});

test("decode of a stream with a bad pointer prints the messages before it, then an error", (t) => {
  if (!needCapnp(t)) return;
  const first = new Uint8Array(capnp(["encode", schema, "Foo"], '(a = 1, s = "x")\n').stdout);
  const bytes = new Uint8Array(capnp(["encode", schema, "Foo"], THREE).stdout);
  // Message 2's text pointer (segment word 2: root pointer, one data word, then pointers)
  // becomes a struct pointer: "text expected" in both tools.
  const p = first.length + 8 + 16;
  bytes.set([0xfc, 0xff, 0, 0, 0x12, 0, 0, 0], p);
  const theirs = capnp(["decode", schema, "Foo"], bytes);
  const ours = capnts(["decode", schema, "Foo"], bytes);
  assert.equal(theirs.status, 1);
  assert.equal(ours.status, 1);
  const firstText = capnp(["decode", schema, "Foo"], first).stdout.toString();
  assert.equal(ours.stdout.toString(), firstText);
  assert.match(theirs.stderr, /Exception description: .*text was expected/);
  assert.match(
    ours.stderr,
    /ERROR CONVERTING MESSAGE 2 \*\*\*\n[\s\S]*Exception description: .+\n\*\*\* END ERROR/,
  );
});

test("decode of empty input is an error, as in capnp", (t) => {
  if (!needCapnp(t)) return;
  assert.equal(capnp(["decode", schema, "Foo"], "").status, 1);
  const ours = capnts(["decode", schema, "Foo"], "");
  assert.equal(ours.status, 1);
  assert.equal(ours.stdout.length, 0);
  assert.match(ours.stderr, /Premature EOF/);
});

test("decode hints at the format when the input is packed/binary against the flags, as capnp", (t) => {
  if (!needCapnp(t)) return;
  const binary = new Uint8Array(capnp(["encode", schema, "Foo"], THREE).stdout);
  const packed = new Uint8Array(capnp(["encode", "--packed", schema, "Foo"], THREE).stdout);
  for (const [flags, input, given, likely] of [
    [[], packed, "binary", "packed"],
    [["--packed"], binary, "packed", "binary"],
  ] as const) {
    const theirs = capnp(["decode", ...flags, schema, "Foo"], input);
    const ours = capnts(["decode", ...flags, schema, "Foo"], input);
    const hint = `The input is not in "${given}" format. It looks like it is in "${likely}" format. Try that instead.`;
    assert.equal(theirs.status, 1);
    assert.ok(theirs.stderr.includes(hint), theirs.stderr);
    assert.equal(ours.status, 1);
    assert.equal(ours.stdout.length, 0);
    assert.equal(ours.stderr, `capnts decode: ${hint}\nTry 'capnts decode --help' for more information.\n`);
  }
  // --flat on a framed stream: capnp's warning (the same words), then the decode goes on.
  const theirs = capnp(["decode", "--flat", schema, "Foo"], binary);
  const ours = capnts(["decode", "--flat", schema, "Foo"], binary);
  assert.match(theirs.stderr, /^\*\*\* WARNING \*\*\*\n/);
  assert.equal(ours.stderr, theirs.stderr);
  assert.equal(ours.status, theirs.status);
  assert.equal(ours.stdout.toString(), theirs.stdout.toString());
  assert.equal(capnts(["decode", "--flat", "--quiet", schema, "Foo"], binary).stderr, "");
});

test("encode --flat of a message that needs several segments equals capnp's, byte for byte", (t) => {
  if (!needCapnp(t)) return;
  const items = Array.from({ length: 1500 }, (_, i) => `"item${i}${"q".repeat(i % 40)}"`).join(", ");
  const text = `(a = 7, s = "${"z".repeat(3000)}", l = [${items}], sub = (a = 8, l = [${items}]))\n`;
  // The message spans several segments in capnp's (and our) framed encoding.
  const framed = new Uint8Array(capnp(["encode", schema, "Foo"], text).stdout);
  const segments = new DataView(framed.buffer, framed.byteOffset).getUint32(0, true) + 1;
  assert.ok(segments >= 3, `${segments} segments`);
  assert.deepEqual(new Uint8Array(capnts(["encode", schema, "Foo"], text).stdout), framed);
  for (const flags of [["--flat"], ["--flat", "--packed"]]) {
    const theirs = capnp(["encode", ...flags, schema, "Foo"], text);
    const ours = capnts(["encode", ...flags, schema, "Foo"], text);
    assert.equal(theirs.status, 0);
    assert.equal(ours.status, 0, ours.stderr);
    assert.ok(ours.stdout.length > 50_000);
    assert.deepEqual(new Uint8Array(ours.stdout), new Uint8Array(theirs.stdout), flags.join(" "));
    // And it reads back.
    assert.equal(
      capnts(["decode", ...flags, schema, "Foo"], ours.stdout).stdout.toString(),
      capnp(["decode", ...flags, schema, "Foo"], theirs.stdout).stdout.toString(),
    );
  }
});

test("encode writes the messages before a bad one, then names its line and column", (t) => {
  if (!needCapnp(t)) return;
  const text = '(a = 1, s = "x")\n# a comment (with a paren\n(a = 2, s = ")")\n(a = "notanumber")\n';
  const theirs = capnp(["encode", schema, "Foo"], text);
  const ours = capnts(["encode", schema, "Foo"], text);
  assert.equal(theirs.status, 1);
  assert.equal(ours.status, 1);
  // capnp also writes the bad message, with the bad field left at its default; capnts stops
  // before it. The two good messages are the same bytes.
  const good = capnp(["encode", schema, "Foo"], text.slice(0, text.indexOf('(a = "not')));
  assert.equal(good.status, 0);
  assert.deepEqual(new Uint8Array(ours.stdout), new Uint8Array(good.stdout));
  assert.deepEqual(
    new Uint8Array(theirs.stdout.subarray(0, good.stdout.length)),
    new Uint8Array(good.stdout),
  );
  // capnp names the line within the message and the column range ("5-17", line 1); capnts the
  // line and column in the input.
  assert.match(theirs.stderr, /Exception description: 5-17: Type mismatch; expected UInt32\./);
  assert.equal(ours.stderr, "capnts: stdin:4:6: expected uint32\n");
  // Several messages with --flat: each one flat, one after the other, as capnp writes them.
  const two = '(a = 1)\n(a = 2, s = "(")\n';
  const flat = capnts(["encode", "--flat", schema, "Foo"], two);
  assert.equal(flat.status, 0, flat.stderr);
  assert.deepEqual(
    new Uint8Array(flat.stdout),
    new Uint8Array(capnp(["encode", "--flat", schema, "Foo"], two).stdout),
  );
});
