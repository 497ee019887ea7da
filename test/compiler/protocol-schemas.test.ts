/**
 * schemas/capnp holds capnts's own copies of the 1.x protocol schemas (same IDs, names, fields,
 * ordinals and defaults as upstream's; comments in the project's words). This test checks them
 * against the schemas of the installed capnp (0.9.2 with Debian's capnproto), which are upstream's
 * own files: every node, field, enumerant and method of 0.9.2 is in ours with the same wire facts
 * (docs and source order aside), and what ours add is exactly the list of 1.x additions below. So
 * an edit of a comment that slipped into a declaration, or a field copied wrong, fails here.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { decodeFrame } from "capnts/serialize";
import { loadRequest } from "../../src/schema/load.js";
import type { Field, Node, Type } from "../../src/schema/model.js";
import {
  capnp,
  needStandardSchemas,
  PROTOCOL_SET,
  type SchemaSet,
  STANDARD_SCHEMA_FILES,
  schemaSetArgs,
} from "./helpers.js";

/** Every node of the six standard schemas of `set`, by ID. */
function nodesOf(set: SchemaSet): Map<bigint, Node> {
  const args = schemaSetArgs(set);
  // c++.capnp on its own: requested next to files importing it, capnp would load it twice.
  const others = STANDARD_SCHEMA_FILES.filter((f) => f !== "c++.capnp").map((f) => join(set.dir, f));
  const nodes = new Map<bigint, Node>();
  for (const files of [others, [join(set.dir, "c++.capnp")]]) {
    const bytes = new Uint8Array(capnp(["compile", "-o-", ...args, ...files]));
    const opts = { traversalLimitInWords: 1 << 30 };
    for (const [id, n] of loadRequest(decodeFrame(bytes, 0, opts).segments, opts).nodes) nodes.set(id, n);
  }
  return nodes;
}

/** A value with every `doc` and `codeOrder` removed (not wire facts), for deepEqual. */
function wire(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(wire);
  if (v instanceof Uint8Array || v === null || typeof v !== "object") return v;
  return Object.fromEntries(
    Object.entries(v)
      .filter(([k]) => k !== "doc" && k !== "codeOrder")
      .map(([k, x]) => [k, wire(x)]),
  );
}

const key = (v: unknown): string => JSON.stringify(wire(v), (_, x) => (typeof x === "bigint" ? `${x}n` : x));

/** `ours` may narrow an AnyPointer to Capability (1.x rpc-twoparty `JoinResult.cap`): same encoding. */
function sameType(old: Type, ours: Type): boolean {
  if (old.kind === "anyPointer" && ours.kind === "anyPointer") {
    return (
      old.constraint === ours.constraint || (old.constraint === "anyKind" && ours.constraint === "capability")
    );
  }
  return key(old) === key(ours);
}

/** What the 1.x schemas add to 0.9.2, as reported below (node display names and members). */
const ADDITIONS_1X = [
  "c++.capnp: nested allowCancellation",
  "c++.capnp:allowCancellation: new node",
  "rpc-twoparty.capnp:JoinResult.cap: AnyPointer narrowed to Capability",
  "rpc.capnp:Call: field noPromisePipelining",
  "rpc.capnp:Call: field onlyPromisePipeline",
  "rpc.capnp:Exception: field details",
  "rpc.capnp:Exception: nested Detail",
  "rpc.capnp:Exception.Detail: new node",
  "rpc.capnp:Finish: field requireEarlyCancellationWorkaround",
  "rpc.capnp:Return: field noFinishNeeded",
  "schema.capnp:CodeGeneratorRequest.RequestedFile: field fileSourceInfo",
  "schema.capnp:CodeGeneratorRequest.RequestedFile: nested FileSourceInfo",
  "schema.capnp:CodeGeneratorRequest.RequestedFile.FileSourceInfo: new node",
  "schema.capnp:CodeGeneratorRequest.RequestedFile.FileSourceInfo.Identifier: new node",
  "schema.capnp:CodeGeneratorRequest.RequestedFile.FileSourceInfo.Identifier.member: new node",
  "schema.capnp:Node: field endByte",
  "schema.capnp:Node: field startByte",
  "schema.capnp:Node.SourceInfo: field endByte",
  "schema.capnp:Node.SourceInfo: field startByte",
].sort();

test("schemas/capnp are the installed (0.9.2) standard schemas plus exactly the 1.x additions", (t) => {
  const installed = needStandardSchemas(t);
  if (installed === null) return;
  const old = nodesOf(installed);
  const ours = nodesOf(PROTOCOL_SET);
  const added: string[] = [];
  for (const [id, n] of ours) if (!old.has(id)) added.push(`${n.displayName}: new node`);
  for (const [id, o] of old) {
    const n = ours.get(id);
    const where = o.displayName;
    assert.ok(n !== undefined, `${where} (${id.toString(16)}) is missing`);
    assert.equal(n.kind, o.kind, where);
    for (const k of [
      "displayName",
      "displayNamePrefixLength",
      "scopeId",
      "parameters",
      "isGeneric",
      "annotations",
    ]) {
      assert.deepEqual(wire(n[k as keyof Node]), wire(o[k as keyof Node]), `${where}: ${k}`);
    }
    for (const nn of o.nestedNodes)
      assert.ok(
        n.nestedNodes.some((x) => x.name === nn.name && x.id === nn.id),
        where,
      );
    for (const nn of n.nestedNodes)
      if (!o.nestedNodes.some((x) => x.id === nn.id)) added.push(`${where}: nested ${nn.name}`);
    if (o.kind === "struct" && n.kind === "struct") {
      assert.ok(n.dataWordCount >= o.dataWordCount && n.pointerCount >= o.pointerCount, `${where}: size`);
      if (n.dataWordCount === o.dataWordCount && n.pointerCount === o.pointerCount)
        assert.equal(n.preferredListEncoding, o.preferredListEncoding, `${where}: preferredListEncoding`);
      assert.equal(n.isGroup, o.isGroup, `${where}: isGroup`);
      assert.equal(n.discriminantCount, o.discriminantCount, `${where}: discriminantCount`);
      assert.equal(n.discriminantOffset, o.discriminantOffset, `${where}: discriminantOffset`);
      const byName = new Map(n.fields.map((f) => [f.name, f]));
      for (const of of o.fields) {
        const f = byName.get(of.name);
        const at = `${where}.${of.name}`;
        assert.ok(f !== undefined, `${at} is missing`);
        const { type: ot, ...orest } = of as Field & { type?: Type };
        const { type: nt, ...nrest } = f as Field & { type?: Type };
        assert.deepEqual(wire(nrest), wire(orest), at);
        if (ot !== undefined && nt !== undefined && !sameType(ot, nt)) assert.fail(`${at}: type differs`);
        if (ot !== undefined && nt !== undefined && key(ot) !== key(nt))
          added.push(`${at}: AnyPointer narrowed to Capability`);
      }
      for (const f of n.fields)
        if (!o.fields.some((x) => x.name === f.name)) added.push(`${where}: field ${f.name}`);
    } else if (o.kind === "enum" && n.kind === "enum") {
      assert.deepEqual(wire(n.enumerants.slice(0, o.enumerants.length)), wire(o.enumerants), where);
      for (const e of n.enumerants.slice(o.enumerants.length)) added.push(`${where}: enumerant ${e.name}`);
    } else if (o.kind === "interface" && n.kind === "interface") {
      assert.deepEqual(wire(n.methods.slice(0, o.methods.length)), wire(o.methods), where);
      assert.deepEqual(wire(n.superclasses), wire(o.superclasses), where);
      for (const m of n.methods.slice(o.methods.length)) added.push(`${where}: method ${m.name}`);
    } else {
      assert.deepEqual(wire({ ...n, nestedNodes: [] }), wire({ ...o, nestedNodes: [] }), where);
    }
  }
  assert.deepEqual(added.sort(), ADDITIONS_1X);
});
