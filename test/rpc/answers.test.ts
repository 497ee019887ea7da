/**
 * What an answer keeps of its results after the Return (src/rpc/answers.ts PostReturnPipeline,
 * rpc.c++ `PostReturnRpcPipeline`): pipelined calls still arriving must reach exactly what they
 * would have reached in the Return's results, whichever form the results are kept in (their
 * shape, a copy of the words, the message itself), errors included.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { PostReturnPipeline } from "../../src/rpc/answers.js";
import { BrokenClient, newBrokenCap } from "../../src/rpc/broken.js";
import type { ClientHook } from "../../src/rpc/hooks.js";
import { capAtPath } from "../../src/rpc/taken.js";
import { MessageBuilder } from "../../src/wire/index.js";
import { StructBuilder } from "../../src/wire/struct.js";

/** A struct builder of `dw` data words and `pc` pointers (as generated code declares them). */
function shape(dw: number, pc: number) {
  return class extends StructBuilder {
    static readonly _dataWords = dw;
    static readonly _ptrCount = pc;
  };
}

const PATHS: number[][] = [[], [0], [1], [2], [3], [4], [0, 0], [0, 1], [1, 0], [1, 1], [2, 0], [0, 0, 0]];

/** What a pipelined call at `ops` would reach: a capability by name, or the error it fails with. */
function describe(hook: ClientHook, names: Map<ClientHook, string>): string {
  const name = names.get(hook);
  if (name !== undefined) return name;
  if (hook instanceof BrokenClient) return `${hook.isNull ? "null" : "broken"}: ${hook.error.message}`;
  return hook.constructor.name;
}

/**
 * Results laid out by `fill` (given fresh capabilities A and B): every path reaches the same
 * thing through the kept results as through the Return's own, and the kept capabilities are
 * released with the pipeline.
 */
function check(label: string, fill: (m: MessageBuilder, a: ClientHook, b: ClientHook) => void): void {
  const a = newBrokenCap("A");
  const b = newBrokenCap("B");
  const names = new Map<ClientHook, string>([
    [a, "A"],
    [b, "B"],
  ]);
  const m = new MessageBuilder();
  fill(m, a, b);
  // The message's table holds one reference per entry, which the pipeline takes over.
  for (const h of m.capTable) (h as ClientHook).addRef();
  const results = m.getRootAnyPointer().asReader();
  const expected = PATHS.map((ops) => {
    const h = capAtPath(results, ops, false);
    const d = describe(h, names);
    h.release();
    return d;
  });
  const table = m.capTable.slice() as ClientHook[];
  const kept = new PostReturnPipeline(null, m, results, null);
  // The Return's message is gone once the answer has returned: clobber it (up to its capacity:
  // past it, the slab may have given the bytes to a later message).
  const seg = m.arena.segments[0]!;
  seg.bytes.fill(0xff, 0, seg.capacity);
  for (const [i, ops] of PATHS.entries()) {
    for (const h of [kept.getPipelinedCap(ops), kept.getPipelinedCapForDisembargo(ops)]) {
      assert.equal(describe(h, names), expected[i], `${label}: path [${ops.join(",")}]`);
      h.release();
    }
  }
  // One reference per table entry (an entry may repeat a capability).
  const refs = new Map(table.map((h) => [h, h._refs - table.filter((x) => x === h).length]));
  kept.release();
  for (const [h, n] of refs) assert.equal(h._refs, n, `${label}: ${names.get(h)}'s references`);
}

test("kept results: every pipelined path reaches what the Return's results held (shape, copy, message)", () => {
  // Kept as their shape: a struct whose one pointer is a capability or null.
  check("one capability", (m, a) => m.getRootAnyPointer().initAs(shape(1, 1))._setCapability(0, a));
  check("a null pointer (a capability in the table none points to)", (m, a) => {
    m.getRootAnyPointer().initAs(shape(1, 1));
    m.capTable.push(a);
  });
  // Kept as a copy of the words: other pointers, or more of them.
  check("data, null, two capabilities", (m, a, b) => {
    const s = m.getRootAnyPointer().initAs(shape(2, 3));
    s._setInt16(0, 7);
    s._setCapability(1, b);
    s._setCapability(2, a);
  });
  check("the same capability twice", (m, a) => {
    const s = m.getRootAnyPointer().initAs(shape(0, 2));
    s._setCapability(0, a);
    s._setCapability(1, a);
  });
  check("a capability inside a struct", (m, a, b) => {
    const s = m.getRootAnyPointer().initAs(shape(0, 2));
    s._initStruct(0, shape(0, 1))._setCapability(0, a);
    s._setCapability(1, b);
  });
  check("text and a capability", (m, a) => {
    const s = m.getRootAnyPointer().initAs(shape(0, 2));
    s._setText(0, "x");
    s._setCapability(1, a);
  });
  check("four capabilities", (m, a, b) => {
    const s = m.getRootAnyPointer().initAs(shape(0, 4));
    for (let i = 0; i < 4; i++) s._setCapability(i, i % 2 === 0 ? a : b);
  });
  check("a capability as the root", (m, a) => m.getRootAnyPointer().setCapability(a));
});
