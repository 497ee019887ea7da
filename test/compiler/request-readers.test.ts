/**
 * The hand-written bootstrap reader and the loader over the generated schema.capnp bindings must
 * read every request into the same model (this also exercises the generated bindings).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { decodeFrame } from "capnts/serialize";
import { readRequestBootstrap } from "../../src/compiler/bootstrap-reader.js";
import { loadRequest } from "../../src/schema/load.js";
import {
  CODEGEN_TEST,
  capnp,
  needCapnp,
  needStandardSchemas,
  PROTOCOL_SET,
  schemaSetArgs,
} from "./helpers.js";

test("bootstrap reader and generated-bindings loader agree", (t) => {
  if (!needCapnp(t)) return;
  const installed = needStandardSchemas(t);
  if (installed === null) return;
  const protocolFiles = ["schema", "rpc", "rpc-twoparty", "stream", "persistent"];
  const requests = [
    // The project's 1.x protocol schemas and the installed (0.9.2) ones.
    ...[PROTOCOL_SET, installed].map((set) =>
      capnp([
        "compile",
        "-o-",
        ...schemaSetArgs(set),
        ...protocolFiles.map((f) => join(set.dir, `${f}.capnp`)),
      ]),
    ),
    capnp(["compile", "-o-", CODEGEN_TEST]),
  ];
  for (const bytes of requests) {
    const segs = decodeFrame(new Uint8Array(bytes), 0, { traversalLimitInWords: 1 << 30 }).segments;
    const opts = { traversalLimitInWords: 1 << 30 };
    const a = readRequestBootstrap(segs, opts);
    const b = loadRequest(segs, opts);
    assert.deepEqual(b, a);
    assert.ok(a.nodes.size > 10);
  }
});
