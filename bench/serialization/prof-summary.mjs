#!/usr/bin/env node
// Summarises a V8 .cpuprofile (from `node --cpu-prof`): self time per function, top N, with
// file:line, so the hot spots of a benchmark case can be read without a browser.
//   node bench/serialization/prof-summary.mjs prof/x.cpuprofile [N=25]
import { readFileSync } from "node:fs";

const [file, topArg = "25"] = process.argv.slice(2);
if (file === undefined) {
  console.error("usage: prof-summary.mjs FILE.cpuprofile [N]");
  process.exit(2);
}
const prof = JSON.parse(readFileSync(file, "utf8"));
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const selfTicks = new Map();
for (const id of prof.samples) selfTicks.set(id, (selfTicks.get(id) ?? 0) + 1);
const total = prof.samples.length;
const agg = new Map();
for (const [id, ticks] of selfTicks) {
  const n = byId.get(id);
  const f = n.callFrame;
  const url = f.url.replace(/^file:\/\//, "").replace(/^.*\/(src|bench|node_modules)\//, "$1/");
  const key = `${f.functionName || "(anonymous)"}  ${url}${url ? `:${f.lineNumber + 1}` : ""}`;
  agg.set(key, (agg.get(key) ?? 0) + ticks);
}
const rows = [...agg].sort((a, b) => b[1] - a[1]).slice(0, Number(topArg));
for (const [k, t] of rows) console.log(`${((100 * t) / total).toFixed(1).padStart(5)}%  ${k}`);
