/** The calculator example runs (what `npm run demo` does) and pipelining saves round trips. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { demo } from "../../examples/calculator/demo.js";

test("examples/calculator demo: correct results, pipelined steps take one round trip", async () => {
  const lines: string[] = [];
  assert.equal(await demo((s) => lines.push(s)), true, lines.join("\n"));
  assert.ok(lines.some((l) => /5 calls, 1 round trip/.test(l)));
});
