#!/usr/bin/env node
// Regenerates every checked-in binding made by our own plugin (`npm run bootstrap`):
//   src/schema/schema.capnp.ts                       from schema.capnp
//   src/gen/{rpc,rpc-twoparty,stream,persistent,c++}.capnp.ts
//   src/rpc/gen/rpc.capnp.ts                         the RPC core's own: only the members it uses
// from the project's protocol schemas in schemas/capnp (1.x level, wire-identical to upstream's,
// with capnts's own comments; they compile with capnp 0.9.2), and
// test/compiler/gen/codegen-*.capnp.ts from test/schemas/codegen-*.capnp.
//
// Usage: node scripts/bootstrap.mjs [--bootstrap] [--out DIR] [--schemas DIR]
//   --bootstrap  read the request with the hand-written reader (when schema.capnp.ts is broken)
//   --out DIR    write into DIR as if it were the repository root (DIR/src/schema/…,
//                DIR/src/gen/…, DIR/test/compiler/gen/…); the freshness test uses this
//   --schemas DIR  where the protocol schemas are (default schemas/capnp)
//
// The schemas are copied to a temporary `capnp/` directory so that their imports of
// "/capnp/c++.capnp" resolve to these (not the installed 0.9.2 ones). The exact commands are
// printed. c++.capnp is compiled on its own: requested together with files that import it, capnp
// would load it under two names.
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
const outRoot = resolve(opt("--out", root));
const out = join(outRoot, "src");
const schemas = resolve(opt("--schemas", join(root, "schemas/capnp")));
const plugin = join(root, "bin/capnpc-capnts");

const tmp = mkdtempSync(join(tmpdir(), "capnts-bootstrap-"));
try {
  const inc = join(tmp, "capnp");
  mkdirSync(inc);
  for (const f of readdirSync(schemas))
    if (f.endsWith(".capnp")) copyFileSync(join(schemas, f), join(inc, f));
  const env = {
    ...process.env,
    CAPNTS_RUNTIME: out,
    CAPNTS_FROM_SOURCE: "1",
    ...(args.includes("--bootstrap") ? { CAPNTS_BOOTSTRAP: "1" } : {}),
  };
  // runtime: the src directory (src/gen, src/schema: relative imports) or the package name (the
  // test bindings import capnts/codegenv1 as users' bindings do).
  const run = (dir, files, from = inc, runtime = out, extraEnv = {}) => {
    mkdirSync(join(out, dir), { recursive: true });
    const argv = [
      "compile",
      "--no-standard-import",
      `-I${tmp}`,
      `--src-prefix=${from}`,
      `-o${plugin}:${join(out, dir)}`,
      ...files.map((f) => join(from, f)),
    ];
    console.log(`capnp ${argv.join(" ")}`);
    execFileSync("capnp", argv, { env: { ...env, CAPNTS_RUNTIME: runtime, ...extraEnv }, stdio: "inherit" });
  };
  run("schema", ["schema.capnp"]);
  run("gen", ["rpc.capnp", "rpc-twoparty.capnp", "stream.capnp", "persistent.capnp"]);
  run("gen", ["c++.capnp"]);
  // The RPC core's bindings of rpc.capnp (src/rpc/protocol.ts): only the members it reads and
  // writes, listed in scripts/rpc-core-members.json, so that a bundle carries no accessor (and no
  // Level 3 class) the core never calls; capnts/gen/rpc.capnp.js stays complete for users. A
  // member the core starts using fails the typecheck until it is listed there.
  run("rpc/gen", ["rpc.capnp"], inc, out, { CAPNTS_MEMBERS: join(root, "scripts/rpc-core-members.json") });
  // The generator's own test schemas (checked in so that tests and type tests can import them).
  run(
    "../test/compiler/gen",
    ["codegen-test.capnp", "codegen-import.capnp"],
    join(root, "test/schemas"),
    "capnts",
  );
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
