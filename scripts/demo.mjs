#!/usr/bin/env node
// `npm run demo`: the calculator example (examples/calculator) — a server on loopback and a client
// that shows promise pipelining saving round trips. Exits 0 when every result is right.
import { register } from "tsx/esm/api";

register();
const { demo } = await import("../examples/calculator/demo.ts");
process.exit((await demo()) ? 0 : 1);
