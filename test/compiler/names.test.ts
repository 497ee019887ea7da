/**
 * The generator's reserved member names (src/compiler/names.ts) are the real members of the
 * runtime classes generated code extends: a member added to (or removed from) `StructReader`,
 * `StructBuilder`, `GroupReader`, `Client`, `Pipeline` or `Object.prototype` fails here until
 * names.ts says so, so generated names and the runtime cannot drift apart. (ServerHooks is an
 * interface: its keys are checked in types.test.ts.)
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Client, Pipeline } from "capnts/rpc";
import { GroupReader, StructBuilder, StructReader } from "capnts/wire";
import {
  CLIENT_MEMBERS,
  OBJECT_MEMBERS,
  PIPELINE_MEMBERS,
  RUNTIME_MEMBERS,
  STRUCT_MEMBERS,
} from "../../src/compiler/names.js";
import { Clash, Clash_Client, PipelineNames_Pipeline } from "./gen/codegen-test.capnp.js";

/** Public members of a class's instances: names not starting with `_`, up to Object.prototype. */
function publicMembers(cls: { prototype: object }): string[] {
  const out = new Set<string>();
  for (
    let p: object | null = cls.prototype;
    p !== null && p !== Object.prototype;
    p = Object.getPrototypeOf(p)
  ) {
    for (const k of Object.getOwnPropertyNames(p)) if (!k.startsWith("_") && k !== "constructor") out.add(k);
  }
  return [...out].sort();
}

test("RUNTIME_MEMBERS lists the public members of the runtime base classes", () => {
  assert.deepEqual(publicMembers(StructReader), [...RUNTIME_MEMBERS.StructReader].sort());
  assert.deepEqual(publicMembers(GroupReader), [...RUNTIME_MEMBERS.StructReader].sort());
  assert.deepEqual(publicMembers(StructBuilder), [...RUNTIME_MEMBERS.StructBuilder].sort());
  assert.deepEqual(publicMembers(Client), [...RUNTIME_MEMBERS.Client].sort());
  assert.deepEqual(publicMembers(Pipeline), [...RUNTIME_MEMBERS.Pipeline].sort());
});

test("OBJECT_MEMBERS lists Object.prototype's members", () => {
  assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), [...OBJECT_MEMBERS].sort());
});

test("reserved sets: the bases' members, Object's, and only the generator's own additions", () => {
  const object = new Set(OBJECT_MEMBERS);
  const extra = (set: ReadonlySet<string>, ...bases: (readonly string[])[]) =>
    [...set].filter((n) => !object.has(n) && !bases.some((b) => b.includes(n))).sort();
  // Struct classes: `which` (unions) and `asReader` (builders) are generated members.
  assert.deepEqual(extra(STRUCT_MEMBERS, RUNTIME_MEMBERS.StructReader, RUNTIME_MEMBERS.StructBuilder), [
    "asReader",
    "which",
  ]);
  assert.deepEqual(extra(PIPELINE_MEMBERS, RUNTIME_MEMBERS.Pipeline), ["asReader", "which"]);
  // Clients: `then` (a thenable client would be called by `await`), and the server hooks.
  assert.deepEqual(extra(CLIENT_MEMBERS, RUNTIME_MEMBERS.Client, RUNTIME_MEMBERS.ServerHooks), ["then"]);
});

test("generated methods: a `$` suffix exactly where a member of the class or its base is hit", () => {
  const methods = publicMembers(Clash_Client).filter((n) => !n.endsWith("Request"));
  const base = new Set(publicMembers(Client));
  assert.deepEqual(
    methods.filter((n) => !base.has(n)),
    [
      "cancel",
      "close$",
      "closed$",
      "getFd$",
      "isNull$",
      "names",
      "pipeline",
      "shortenPath$",
      "toJSON",
      "which",
    ],
  );
  assert.deepEqual(Object.keys(Clash.methods), [
    "getFd",
    "shortenPath",
    "isNull",
    "closed",
    "cancel",
    "pipeline",
    "which",
    "toJSON",
    "close",
    "names",
  ]);
  // The pipeline renames `close` (Pipeline.close releases it), and nothing else.
  assert.deepEqual(publicMembers(PipelineNames_Pipeline), ["cancel", "close", "close$"]);
});
