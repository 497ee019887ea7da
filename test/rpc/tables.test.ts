/**
 * The tables' containers (src/rpc/tables.ts): IDs the peer chooses (ImportTable: answers and
 * imports) and IDs we choose (ExportTable: questions, exports, embargoes, lowest free first as
 * rpc.capnp asks, "like Unix file descriptors").
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ExportTable, ImportTable } from "../../src/rpc/tables.js";

test("ImportTable: set, find, erase, size and forEach, dense and sparse IDs", () => {
  const t = new ImportTable<string>();
  t.set(0, "a");
  t.set(5, "b");
  t.set(0x7fff_ffff, "c"); // a hostile peer may pick any ID: kept in the map
  t.set(5, "b2"); // replacing an entry does not count it twice
  assert.equal(t.size, 3);
  assert.equal(t.find(5), "b2");
  assert.equal(t.find(0x7fff_ffff), "c");
  assert.equal(t.find(4), undefined);
  assert.equal(t.erase(4), undefined);
  assert.equal(t.erase(5), "b2");
  assert.equal(t.erase(5), undefined);
  assert.equal(t.erase(0x7fff_ffff), "c");
  assert.equal(t.size, 1);
  const seen: [number, string][] = [];
  t.forEach((id, e) => {
    seen.push([id, e]);
  });
  assert.deepEqual(seen, [[0, "a"]]);
  assert.deepEqual(t.clear(), ["a"]);
  assert.equal(t.size, 0);
  assert.equal(t.denseLength, 0);
});

test("ImportTable: clear() returns every entry, however many the peer put above the array's range", () => {
  // A peer that sends calls with IDs past the dense range and never finishes them leaves this
  // many answers for the disconnect to clear (the hostile bench's flood without Finish made
  // 350k); spreading them into one push() overflowed the stack and took the server down.
  const t = new ImportTable<number>();
  const n = 500_000;
  for (let i = 0; i < n; i++) t.set(0x1_0000 + i, i);
  t.set(1, -1);
  const out = t.clear();
  assert.equal(out.length, n + 1);
  assert.equal(t.size, 0);
  assert.equal(t.find(0x1_0000), undefined);
});

test("ImportTable: a burst of high IDs does not pin a large array once they are gone", () => {
  for (const order of ["ascending", "descending"] as const) {
    const t = new ImportTable<number>();
    for (let i = 0; i < 10_000; i++) t.set(i, i);
    assert.equal(t.denseLength, 10_000);
    for (let j = 0; j < 10_000; j++) {
      const i = order === "ascending" ? j : 9_999 - j;
      if (i !== 3) t.erase(i);
    }
    assert.equal(t.find(3), 3);
    assert.equal(t.size, 1);
    assert.ok(t.denseLength <= 8, `${order}: ${t.denseLength} slots left for one entry at ID 3`);
  }
});

test("ImportTable: a stream of calls whose answers leave at once costs a constant per call", () => {
  // The peer's question IDs climb while its calls are in flight (lowest free first on its side),
  // and each answer here leaves at its Return: the table holds one entry at a time. Trimming at
  // every erase of the top slot emptied the array after each call, and the next call pushed every
  // slot below its ID back: O(ID) per call, a third of a streaming server's time.
  const t = new ImportTable<number>();
  const calls = 4 * 4096;
  let added = 0;
  for (let n = 0; n < calls; n++) {
    const id = n % 4096;
    const before = t.denseLength;
    t.set(id, id);
    added += t.denseLength - before;
    t.erase(id);
  }
  assert.equal(t.size, 0);
  assert.ok(added <= 4 * calls, `${added} slots added for ${calls} calls`);
  assert.equal(t.sparseSize, 0, "climbing IDs stay in the array");
});

test("ImportTable: one high ID does not grow the array (a peer's one message cost 512 KiB of slots)", () => {
  const t = new ImportTable<string>();
  t.set(65_535, "high");
  assert.ok(t.denseLength <= 64, `${t.denseLength} slots for one entry`);
  assert.equal(t.find(65_535), "high");
  // IDs climbing from 0 take the array; an ID they reach later that lives in the Map stays
  // there: found, replaced, erased and listed once.
  t.set(100, "jumped");
  assert.equal(t.sparseSize, 2);
  for (let i = 0; i < 200; i++) if (i !== 100) t.set(i, `#${i}`);
  assert.ok(t.denseLength >= 200);
  assert.equal(t.find(100), "jumped");
  t.set(100, "replaced");
  assert.equal(t.find(100), "replaced");
  assert.equal(t.size, 201);
  const seen = new Map<number, string>();
  t.forEach((id, e) => {
    assert.ok(!seen.has(id), `ID ${id} listed twice`);
    seen.set(id, e);
  });
  assert.equal(seen.size, 201);
  assert.equal(t.erase(100), "replaced");
  assert.equal(t.find(100), undefined);
  assert.equal(t.erase(100), undefined);
  assert.equal(t.erase(65_535), "high");
  assert.equal(t.size, 199);
  assert.equal(t.sparseSize, 0);
});

test("ImportTable: IDs jumping 64 at a time do not walk the array up to 65,536 slots", () => {
  // Each answer leaving at once (nothing live, no trim): growth must cost a message per slot.
  const t = new ImportTable<number>();
  let messages = 0;
  for (let id = 63; id < 65_536; id += 64, messages++) {
    t.set(id, id);
    t.erase(id);
  }
  assert.equal(t.size, 0);
  assert.ok(t.denseLength <= 64 + 64, `${t.denseLength} slots after ${messages} messages`);
});

test("ExportTable: lowest free ID first, and the IDs given back", () => {
  const t = new ExportTable<string>();
  assert.deepEqual(
    ["a", "b", "c", "d"].map((e) => t.add(e)),
    [0, 1, 2, 3],
  );
  t.erase(2);
  t.erase(0);
  assert.equal(t.nextId(), 0);
  assert.equal(t.add("e"), 0);
  assert.equal(t.add("f"), 2);
  assert.equal(t.add("g"), 4);
  t.erase(4); // the top slot goes
  assert.equal(t.nextId(), 4);
  assert.equal(t.size, 4);
  assert.equal(t.find(1), "b");
  t.replace(1, "b2");
  assert.equal(t.find(1), "b2");
  assert.deepEqual(t.clear(), ["e", "b2", "f", "d"]);
  assert.equal(t.add("h"), 0);
});
