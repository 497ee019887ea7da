#!/usr/bin/env node
// `npm run demo`: the calculator example (examples/calculator) — a server on loopback and a client
// that shows promise pipelining saving round trips. Exits 0 when every result is right.
// Run by `npm run demo` as `node --conditions=capnts-source --import tsx scripts/demo.mjs`: the
// example imports capnts by package name, which resolves to src/ in this checkout.
const { demo } = await import("../examples/calculator/demo.ts");
process.exit((await demo()) ? 0 : 1);
