#!/usr/bin/env node
// Summarises a V8 .cpuprofile (from `node --cpu-prof`) of an RPC benchmark process: self time per
// function (top N, with file:line), self time per source file, and inclusive ("total") time of the
// functions under src/, so the costs of a round trip can be read without a browser.
//   node bench/rpc/prof-summary.mjs prof/x.cpuprofile [N=30]
// "(idle)" is time the event loop waited (for the peer); percentages of the non-idle time are
// given too.
import { readFileSync } from "node:fs";

const [file, topArg = "30"] = process.argv.slice(2);
if (file === undefined) {
  console.error("usage: prof-summary.mjs FILE.cpuprofile [N]");
  process.exit(2);
}
const top = Number(topArg);
const prof = JSON.parse(readFileSync(file, "utf8"));
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const selfTicks = new Map();
for (const id of prof.samples) selfTicks.set(id, (selfTicks.get(id) ?? 0) + 1);
const total = prof.samples.length;
const shortUrl = (u) => u.replace(/^file:\/\//, "").replace(/^.*\/(src|bench|node_modules)\//, "$1/");
const keyOf = (n) => {
  const f = n.callFrame;
  const url = shortUrl(f.url);
  return `${f.functionName || "(anonymous)"}  ${url}${url ? `:${f.lineNumber + 1}` : ""}`;
};
let idle = 0;
const self = new Map();
const perFile = new Map();
const inclusive = new Map();
for (const [id, ticks] of selfTicks) {
  const n = byId.get(id);
  const k = keyOf(n);
  if (n.callFrame.functionName === "(idle)") idle += ticks;
  self.set(k, (self.get(k) ?? 0) + ticks);
  const url = shortUrl(n.callFrame.url) || `(${n.callFrame.functionName || "native"})`;
  perFile.set(url, (perFile.get(url) ?? 0) + ticks);
  // Inclusive: every distinct function on the stack gets the ticks once.
  const seen = new Set();
  for (let x = id; x !== undefined; x = parent.get(x)) {
    const kk = keyOf(byId.get(x));
    if (seen.has(kk)) continue;
    seen.add(kk);
    inclusive.set(kk, (inclusive.get(kk) ?? 0) + ticks);
  }
}
const busy = total - idle;
const pct = (t) =>
  `${((100 * t) / total).toFixed(1).padStart(5)}% ${((100 * t) / Math.max(1, busy)).toFixed(1).padStart(5)}%`;
const ms = (prof.endTime - prof.startTime) / 1000;
console.log(`${file}: ${total} samples over ${ms.toFixed(0)} ms; idle ${((100 * idle) / total).toFixed(1)}%`);
console.log("\nself time (of all, of busy):");
for (const [k, t] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(t)}  ${k}`);
console.log("\nself time per file:");
for (const [k, t] of [...perFile].sort((a, b) => b[1] - a[1]).slice(0, 20)) console.log(`${pct(t)}  ${k}`);
console.log("\ninclusive time of functions in src/ (of all, of busy):");
for (const [k, t] of [...inclusive]
  .filter(([k]) => k.includes(" src/"))
  .sort((a, b) => b[1] - a[1])
  .slice(0, top))
  console.log(`${pct(t)}  ${k}`);
