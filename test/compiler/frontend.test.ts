/**
 * The TypeScript schema compiler (capnts/compiler `compileSchemas`, src/compiler/frontend)
 * against `capnp compile -o-` (Debian's capnp 0.9.2): the same nodes, source info and requested
 * files for the standard schemas, the project's schemas, the calculator and a test schema with
 * every construct (test/schemas/frontend/all.capnp); the same error lines for a corpus of
 * invalid schemas; and `capnts compile` without capnp writes the files `--capnp` writes.
 *
 * Nodes are compared one by one in canonical form (capnp lists them in hash-map order, so the
 * request as a whole cannot be equal byte for byte); canonical form still tells a null pointer
 * from an empty list, as the generated bindings' embedded schemas do.
 *
 * One documented difference from 0.9.2: capnp 0.9.2 leaves the source info of method param and
 * result structs with id 0 (they collide and one survives); capnts gives them their struct's id
 * as capnp 1.x does. Those entries are left out of the comparison.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { test } from "node:test";
import {
  compileSchemas,
  generateChildId,
  generateGroupId,
  generateMethodParamsId,
  md5,
  SchemaCompileError,
} from "capnts/compiler";
import { CodeGeneratorRequest_Reader } from "capnts/schema";
import { canonicalizeStruct, decodeFrame } from "capnts/serialize";
import { MessageReader, type StructReader } from "capnts/wire";
import {
  haveCapnp,
  needCapnp,
  ROOT,
  STANDARD_SCHEMA_FILES,
  standardSchemaDir,
  TEST_SCHEMAS,
  tempDir,
} from "./helpers.js";

const CAPNTS = join(ROOT, "bin/capnts");
const FRONTEND = join(TEST_SCHEMAS, "frontend");
const LIMITS = { traversalLimitInWords: 1 << 30 };

function readFile(path: string): Uint8Array | undefined {
  try {
    return new Uint8Array(readFileSync(path));
  } catch {
    return undefined;
  }
}

/** Our request for `files` (paths relative to `cwd`, named as capnp names them). */
function ours(
  files: readonly string[],
  cwd: string,
  importPaths: readonly string[],
): CodeGeneratorRequest_Reader {
  const { request } = compileSchemas(
    files.map((f) => ({ path: join(cwd, f), name: f })),
    { source: { readFile }, importPaths },
  );
  return new MessageReader(request.getSegmentsForOutput(), LIMITS).getRoot(CodeGeneratorRequest_Reader);
}

function theirs(files: readonly string[], cwd: string, args: readonly string[]): CodeGeneratorRequest_Reader {
  const r = spawnSync("capnp", ["compile", "-o-", ...args, ...files], { cwd, maxBuffer: 1 << 28 });
  assert.equal(r.status, 0, r.stderr.toString());
  return new MessageReader(decodeFrame(new Uint8Array(r.stdout)).segments, LIMITS).getRoot(
    CodeGeneratorRequest_Reader,
  );
}

const hex = (s: StructReader) => Buffer.from(canonicalizeStruct(s)).toString("hex");

/** Every difference between the two requests, by node (empty when they agree). */
function differences(
  a: CodeGeneratorRequest_Reader,
  b: CodeGeneratorRequest_Reader,
  bothCapnts = false,
): string[] {
  const out: string[] = [];
  const byId = <T extends { id: bigint }>(l: Iterable<T>) => new Map([...l].map((x) => [x.id, x]));
  const an = byId(a.nodes);
  const bn = byId(b.nodes);
  for (const [id, n] of an) {
    const o = bn.get(id);
    if (o === undefined) out.push(`missing node ${n.displayName}`);
    else if (hex(n) !== hex(o)) out.push(`node ${n.displayName} differs:\n  capnp:  ${n}\n  capnts: ${o}`);
  }
  for (const [id, n] of bn) if (!an.has(id)) out.push(`extra node ${n.displayName}`);
  const paramStructs = new Set(
    [...b.nodes].filter((n) => /\$(Params|Results)$/.test(n.displayName)).map((n) => n.id),
  );
  const as = byId(a.sourceInfo);
  const bs = byId(b.sourceInfo);
  if (!bothCapnts) {
    as.delete(0n);
    for (const id of paramStructs) bs.delete(id);
  }
  for (const [id, s] of as) {
    const o = bs.get(id);
    if (o === undefined || hex(s) !== hex(o))
      out.push(`source info @0x${id.toString(16)} differs:\n  capnp:  ${s}\n  capnts: ${o}`);
  }
  for (const id of bs.keys()) if (!as.has(id)) out.push(`extra source info @0x${id.toString(16)}`);
  const files = (r: CodeGeneratorRequest_Reader) => [...r.requestedFiles].map(hex);
  if (files(a).join() !== files(b).join())
    out.push(
      `requested files differ:\n  capnp:  ${[...a.requestedFiles]}\n  capnts: ${[...b.requestedFiles]}`,
    );
  if (a.nodes.length === 0) out.push("capnp wrote no nodes");
  return out;
}

function agree(
  files: readonly string[],
  cwd: string,
  importPaths: readonly string[],
  capnpArgs: readonly string[],
) {
  const d = differences(theirs(files, cwd, capnpArgs), ours(files, cwd, importPaths));
  assert.deepEqual(d, [], d.join("\n"));
}

test("MD5 is RFC 1321's (checked against node:crypto)", () => {
  let seed = 1;
  for (let len = 0; len < 300; len += 7) {
    const data = new Uint8Array(len);
    for (let i = 0; i < len; i++) data[i] = (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
    assert.equal(
      Buffer.from(md5(data)).toString("hex"),
      createHash("md5").update(data).digest("hex"),
      `length ${len}`,
    );
  }
});

test("IDs are derived as capnp derives them (known IDs of schema.capnp)", () => {
  const file = 0xa93fc509624c72d9n;
  const node = generateChildId(file, "Node");
  assert.equal(node, 0xe682ab4cf923a417n);
  // Node.struct is the group at field index 7 of Node (schema.capnp).
  assert.equal(generateGroupId(node, 7), 0x9ea0b19b37fb4435n);
  // Every derived ID has its top bit set; params and results differ.
  const p = generateMethodParamsId(node, 0, false);
  assert.ok(p >= 1n << 63n);
  assert.notEqual(p, generateMethodParamsId(node, 0, true));
});

test("compiles without capnp: the test schema's layout, IDs and doc comments", () => {
  const r = ours(["all.capnp"], FRONTEND, ["/usr/include", join(ROOT, "schemas")]);
  const byName = new Map([...r.nodes].map((n) => [n.displayName, n]));
  const holes = byName.get("all.capnp:Holes")!;
  if (holes.which !== "struct") throw new Error("Holes is not a struct");
  // Bool @0 at bit 0, UInt64 @1 in word 1, then UInt8/UInt16/Bool/UInt32 fill word 0's holes,
  // and Int8 @6 opens word 2 (capnp's StructLayout).
  const offsets = Object.fromEntries(
    [...holes.struct.fields].map((f) => [f.name, f.which === "slot" ? f.slot.offset : -1]),
  );
  assert.deepEqual(
    { a: offsets.a, b: offsets.b, c: offsets.c, d: offsets.d, e: offsets.e, f: offsets.f, g: offsets.g },
    { a: 0, b: 1, c: 1, d: 1, e: 1, f: 1, g: 16 },
  );
  assert.equal(byName.get("all.capnp:Explicit")!.id, 0xd1a2b3c4d5e6f708n);
  const file = byName.get("all.capnp")!;
  assert.equal(file.id, 0xc3a5b7d9e1f20304n);
  const color = byName.get("all.capnp:Color")!;
  assert.equal(color.id, generateChildId(file.id, "Color"));
  const info = [...r.sourceInfo].find((s) => s.id === color.id)!;
  assert.equal(info.docComment, "Colors, with doc comments on enumerants.\n");
  assert.deepEqual(
    [...info.members].map((m) => m.docComment),
    ["Red.\n", "Green.\n", "", "", ""],
  );
});

test("the standard schemas compile as capnp compiles them (installed 0.9.2 set)", (t) => {
  if (!needCapnp(t)) return;
  const dir = standardSchemaDir();
  if (dir === null) return t.skip("no installed standard schemas");
  const inc = join(dir, "..");
  for (const f of [...STANDARD_SCHEMA_FILES, "compat/json.capnp"]) agree([`capnp/${f}`], inc, [inc], []);
});

test("the project's schemas compile as capnp compiles them", (t) => {
  if (!needCapnp(t)) return;
  const std = ["/usr/local/include", "/usr/include"];
  for (const f of readdirSync(join(ROOT, "schemas/capnp")).filter((x) => x.endsWith(".capnp")))
    agree([`schemas/capnp/${f}`], ROOT, std, []);
  agree(["examples/calculator/calculator.capnp"], ROOT, std, []);
  agree(["test/interop/schema/test.capnp"], ROOT, std, []);
  for (const f of readdirSync(TEST_SCHEMAS).filter((x) => x.endsWith(".capnp")))
    agree([relative(ROOT, join(TEST_SCHEMAS, f))], ROOT, std, []);
  // Several files in one request, one importing another.
  agree(["codegen-test.capnp", "codegen-import.capnp", "wire-test.capnp"], TEST_SCHEMAS, std, []);
});

test("the test schema with every construct compiles as capnp compiles it", (t) => {
  if (!needCapnp(t)) return;
  agree(["all.capnp"], FRONTEND, ["/usr/local/include", "/usr/include"], []);
  agree(["all.capnp", "other.capnp"], FRONTEND, ["/usr/local/include", "/usr/include"], []);
});

/** Invalid schemas: capnts must print exactly capnp's lines (file, line, columns, words). */
const INVALID: Record<string, string> = {
  syntax: "struct Foo { a @0 :UInt32 }\n",
  syntax2: "struct Foo { a @0 UInt32; }\n",
  unknown: "struct Foo { a @0 :Bar; }\n",
  duplicateOrdinal: "struct Foo { a @0 :UInt32; b @0 :Text; }\n",
  skippedOrdinal: "struct Foo { a @0 :UInt32; b @2 :Text; }\n",
  badDefault: 'struct Foo { a @0 :UInt32 = "x"; }\n',
  range: "struct Foo { a @0 :UInt8 = 256; b @1 :Int8 = -129; }\n",
  duplicateName: "struct Foo { a @0 :UInt32; a @1 :Text; }\n",
  lowerCaseType: "struct foo { a @0 :UInt32; }\n",
  underscore: "struct Foo { a_b @0 :UInt32; }\n",
  unionOfOne: "struct Foo { union { a @0 :UInt32; } }\n",
  importFailed: 'using X = import "nonexistent.capnp";\n',
  recursiveConst: "const a :Int32 = .b;\nconst b :Int32 = .a;\n",
  annotationTarget: "annotation onlyField(field) :Void;\nstruct Foo $onlyField { a @0 :UInt32; }\n",
  annotationValue: "annotation needs(struct) :Text;\nstruct Foo $needs { a @0 :UInt32; }\n",
  streamParams: "interface I { m @0 stream -> (); }\n",
  listAnyPointer: "struct Foo { a @0 :List(AnyPointer); }\n",
  listOfFirstParameter: "struct Box(A, B, C) { a @0 :List(A); b @1 :List(B); c @2 :List(C); }\n",
  genericCount:
    "struct Box(T) { v @0 :T; }\nstruct Foo { a @0 :Box(Text, Text); b @1 :Box(Text); c @2 :Foo(Text); }\n",
  emptyGroup: "struct Foo { g :group {} }\n",
  unqualifiedConst: "const a :Int32 = 5;\nconst b :Int32 = a;\n",
  notAType: "const a :Int32 = 5;\nstruct Foo { x @0 :a; }\n",
  nonPointerParameter: "struct Box(T) { v @0 :T; }\nstruct Foo { a @0 :Box(UInt32); }\n",
  twoIds: "@0xd5e1a1e1a1e1a1e4;\n",
  unterminatedString: 'const a :Text = "abc;\n',
  blockExpected: "struct Foo;\n",
  semicolonExpected: "const a :Int32 = 1 { }\n",
  notAConstant: "struct Bar {}\nconst a :Int32 = .Bar;\n",
  noMember: "struct Bar {}\nstruct Foo { a @0 :Bar.Baz; }\n",
  noField: "struct S { x @0 :Int32; }\nconst a :S = (y = 1);\n",
  listItemType: 'const a :List(Int32) = [1, "x"];\n',
  emptyListItem: "const a :List(Int32) = [1, , 2];\n",
  badEnumerant: "enum E { a @0; }\nstruct Foo { e @0 :E = b; }\n",
  duplicateId: "struct A @0xd5e1a1e1a1e1a1e9 {}\nstruct B @0xd5e1a1e1a1e1a1e9 {}\n",
  wrongPlace: "enum E { a @0; struct S {} }\n",
  tooNegative: "const a :Int64 = -9223372036854775809;\n",
  unionOrdinal: "struct Foo { u @0 :union { a @1 :Int8; b @2 :Int8; } }\n",
  genericAsParams: "interface I { m @0 [T] T -> (); }\n",
  nullNonPointer: "interface I { m @0 (a :Int32 = null) -> (); }\n",
  object: "struct Foo { a @0 :Object; }\n",
  notAnInterface: "struct S {}\ninterface I extends(S) {}\n",
  notAStruct: "interface J {}\ninterface I { m @0 J -> (); }\n",
  badTarget: "annotation a(frob) :Void;\n",
  ordinalTooBig: "struct Foo { a @70000 :Int8; }\n",
  shortHexEscape: 'const a :Text = "ab\\x4";\n',
  hexEscapeNoDigits: 'const a :Text = "\\xg0";\n',
  unknownEscape: 'const a :Text = "\\u0041";\n',
};

test("invalid schemas: the same errors at the same places as capnp", (t) => {
  if (!needCapnp(t)) return;
  const dir = tempDir("frontend-errors");
  try {
    const cases: [string, string][] = Object.entries(INVALID).map(([name, body]) => [
      `${name}.capnp`,
      `@0xd5e1a1e1a1e1a1e3;\n${body}`,
    ]);
    cases.push(["badId.capnp", "@0x1234;\n"], ["noId.capnp", "struct Foo { a @0 :UInt32; }\n"]);
    cases.push(["bom.capnp", "\ufeff@0xd5e1a1e1a1e1a1e3;\nstruct Foo { a @0 :Bar; }\n"]);
    for (const [file, text] of cases) {
      writeFileSync(join(dir, file), text);
      const r = spawnSync("capnp", ["compile", "-o-", file], {
        cwd: dir,
        env: { ...process.env, PWD: dir },
        encoding: "utf8",
      });
      assert.notEqual(r.status, 0, `capnp accepted ${file}`);
      let message = "";
      try {
        ours([file], dir, ["/usr/include"]);
      } catch (e) {
        assert.ok(e instanceof SchemaCompileError, String(e));
        message = e.message;
      }
      // A missing file ID: capnp proposes a random one.
      const norm = (s: string) => s.trim().replace(/@0x[0-9a-f]{16};$/, "@0x…;");
      assert.equal(norm(message), norm(r.stderr), file);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A PATH with node and nothing else (no `capnp`): a directory holding a link to this node. */
function pathWithoutCapnp(dir: string): string {
  const bin = join(dir, "bin");
  mkdirSync(bin, { recursive: true });
  symlinkSync(process.execPath, join(bin, "node"));
  assert.notEqual(spawnSync("sh", ["-c", "command -v capnp"], { env: { PATH: bin } }).status, 0);
  return bin;
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else out.push(relative(dir, join(d, e.name)));
    }
  };
  walk(dir);
  return out.sort();
}

test("capnts compile without capnp on PATH writes what capnts compile --capnp writes", (t) => {
  const dir = tempDir("frontend-cli");
  try {
    const files = ["examples/calculator/calculator.capnp", "test/schemas/frontend/all.capnp"];
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      CAPNTS_FROM_SOURCE: "1",
      PWD: ROOT,
      PATH: pathWithoutCapnp(dir),
    };
    delete env.CAPNP;
    const ts = spawnSync(CAPNTS, ["compile", "-o", join(dir, "ts"), ...files], {
      cwd: ROOT,
      env,
      encoding: "utf8",
    });
    assert.equal(ts.status, 0, ts.stderr);
    const written = listFiles(join(dir, "ts"));
    assert.deepEqual(written, [
      "examples/calculator/calculator.capnp.ts",
      "test/schemas/frontend/all.capnp.ts",
    ]);
    if (!haveCapnp()) {
      if (process.env.CI) throw new Error("capnp is not installed; required in CI");
      return t.skip("capnp is not installed: only the capnp-free route was run");
    }
    const cc = spawnSync(CAPNTS, ["compile", "--capnp", "-o", join(dir, "cc"), ...files], {
      cwd: ROOT,
      env: { ...process.env, CAPNTS_FROM_SOURCE: "1", PWD: ROOT },
      encoding: "utf8",
    });
    assert.equal(cc.status, 0, cc.stderr);
    assert.deepEqual(listFiles(join(dir, "cc")), written);
    for (const f of written)
      assert.equal(readFileSync(join(dir, "ts", f), "utf8"), readFileSync(join(dir, "cc", f), "utf8"), f);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("capnts compile reports schema errors as capnp does, with exit status 1", () => {
  const dir = tempDir("frontend-cli-err");
  try {
    writeFileSync(join(dir, "bad.capnp"), "@0xd5e1a1e1a1e1a1e3;\nstruct Foo { a @0 :Bar; }\n");
    const r = spawnSync(CAPNTS, ["compile", "-o", dir, "bad.capnp"], {
      cwd: dir,
      env: { ...process.env, CAPNTS_FROM_SOURCE: "1", PWD: dir, PATH: pathWithoutCapnp(dir) },
      encoding: "utf8",
    });
    assert.equal(r.status, 1);
    assert.equal(r.stderr, "bad.capnp:2:20-23: error: Not defined: Bar\n");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("capnts id prints a new file ID (top bit set), like capnp id", () => {
  const ids = [0, 1].map(() => {
    const r = spawnSync(CAPNTS, ["id"], {
      env: { ...process.env, CAPNTS_FROM_SOURCE: "1" },
      encoding: "utf8",
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^@0x[89a-f][0-9a-f]{15}\n$/);
    return r.stdout;
  });
  assert.notEqual(ids[0], ids[1]);
});

test("capnts compile --plugin gives another generator the request, without capnp", () => {
  const dir = tempDir("frontend-plugin");
  try {
    const path = pathWithoutCapnp(dir);
    // A stand-in for capnpc-NAME: it saves the request it is given in its working directory.
    const plugin = join(path, "capnpc-dump");
    writeFileSync(
      plugin,
      '#!/usr/bin/env node\nrequire("fs").writeFileSync("request.bin", require("fs").readFileSync(0));\n',
      { mode: 0o755 },
    );
    mkdirSync(join(dir, "out"));
    const schema = "examples/calculator/calculator.capnp";
    const r = spawnSync(CAPNTS, ["compile", "--plugin", `dump:${join(dir, "out")}`, schema], {
      cwd: ROOT,
      env: { ...process.env, CAPNTS_FROM_SOURCE: "1", PWD: ROOT, PATH: path },
      encoding: "utf8",
    });
    assert.equal(r.status, 0, r.stderr);
    const got = new MessageReader(
      decodeFrame(new Uint8Array(readFileSync(join(dir, "out", "request.bin")))).segments,
      LIMITS,
    ).getRoot(CodeGeneratorRequest_Reader);
    const want = ours([schema], ROOT, ["/usr/local/include", "/usr/include", join(ROOT, "schemas")]);
    assert.deepEqual(differences(want, got, true), []);
    assert.deepEqual(
      [...got.requestedFiles].map((f) => f.filename),
      [schema],
    );
    // A plugin that fails makes the command fail.
    writeFileSync(plugin, "#!/usr/bin/env node\nprocess.exit(3);\n", { mode: 0o755 });
    const bad = spawnSync(CAPNTS, ["compile", "--plugin", "dump", schema], {
      cwd: ROOT,
      env: { ...process.env, CAPNTS_FROM_SOURCE: "1", PWD: ROOT, PATH: path },
      encoding: "utf8",
    });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /capnpc-dump failed \(status 3\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
