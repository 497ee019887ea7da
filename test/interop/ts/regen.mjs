#!/usr/bin/env node
// Regenerates the TypeScript bindings of the interop test schema with our own plugin
// (bin/capnpc-capnts, run from source):
//   test/interop/gen/test.capnp.ts        from test/interop/schema/test.capnp
// (The calculator's bindings are the demo's, examples/calculator/calculator.capnp.ts.)
//
// Usage: node test/interop/ts/regen.mjs [--out DIR]
//   --out DIR  write there instead of test/interop/gen (the freshness test uses this); the
//              runtime imports still point at the repository's src/.
//
// The schemas import "/capnp/c++.capnp" from the standard include path (the system's 0.9.2 copy,
// the same one the C++ fixtures are built against). The exact commands are printed.
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../..", import.meta.url));
const args = process.argv.slice(2);
const outIndex = args.indexOf("--out");
const out = resolve(outIndex >= 0 ? args[outIndex + 1] : join(root, "test/interop/gen"));
const plugin = join(root, "bin/capnpc-capnts");
const quiet = args.includes("--quiet");

/** [schema file, directory it is named relative to] */
const schemas = [[join(root, "test/interop/schema/test.capnp"), join(root, "test/interop/schema")]];

mkdirSync(out, { recursive: true });
// A relative runtime path keeps the generated files independent of where the checkout lives.
const runtime = relative(out, join(root, "src")).replaceAll("\\", "/");
const env = {
  ...process.env,
  CAPNTS_RUNTIME: runtime.startsWith(".") ? runtime : `./${runtime}`,
  CAPNTS_FROM_SOURCE: "1",
};
for (const [file, prefix] of schemas) {
  const argv = ["compile", `--src-prefix=${prefix}`, `-o${plugin}:${out}`, file];
  if (!quiet) console.log(`CAPNTS_RUNTIME=${env.CAPNTS_RUNTIME} capnp ${argv.join(" ")}`);
  execFileSync("capnp", argv, {
    env: { ...env, PWD: dirname(file) },
    stdio: ["ignore", "inherit", "inherit"],
    cwd: dirname(file),
  });
}
