#!/usr/bin/env node
// Regenerates the TypeScript bindings checked in beside their schemas, with our own plugin
// (bin/capnpc-capnts, run from source), importing the runtime by package name (capnts/codegenv1,
// which resolves to src/ inside this repository through the exports map), as users' bindings do:
//   test/interop/gen/test.capnp.ts            from test/interop/schema/test.capnp
//   examples/calculator/calculator.capnp.ts   from examples/calculator/calculator.capnp
//
// Usage: node test/interop/ts/regen.mjs [--out DIR] [--quiet]
//   --out DIR  write under DIR as if it were the repository root (the freshness test uses this)
//
// The schemas import "/capnp/c++.capnp" from the standard include path (the system's 0.9.2 copy,
// the same one the C++ fixtures are built against). The exact commands are printed.
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../..", import.meta.url));
const args = process.argv.slice(2);
const outIndex = args.indexOf("--out");
const outRoot = resolve(outIndex >= 0 ? args[outIndex + 1] : root);
const plugin = join(root, "bin/capnpc-capnts");
const quiet = args.includes("--quiet");

/** The generated directories, each with its schema files (named relative to it). */
export const TARGETS = [
  ["test/interop/schema", "test/interop/gen", ["test.capnp"]],
  ["examples/calculator", "examples/calculator", ["calculator.capnp"]],
];

const env = { ...process.env, CAPNTS_RUNTIME: "capnts", CAPNTS_FROM_SOURCE: "1" };
for (const [schemaDir, dest, files] of TARGETS) {
  const out = join(outRoot, dest);
  mkdirSync(out, { recursive: true });
  const argv = ["compile", `--src-prefix=${join(root, schemaDir)}`, `-o${plugin}:${out}`];
  argv.push(...files.map((f) => join(root, schemaDir, f)));
  if (!quiet) console.log(`capnp ${argv.join(" ")}`);
  execFileSync("capnp", argv, { env, stdio: ["ignore", "inherit", "inherit"] });
}
