#!/usr/bin/env node
// Builds the capnts server the hostile bench measures as users run it: the library as the package
// ships it (dist/, `npm run build`) and the server program (test/hostile/server.ts, with the
// calculator it serves) compiled to plain JavaScript by tsc, into
// node_modules/.cache/capnts-bench-hostile/. Through tsx, esbuild's keepNames gives every named
// function a `name` property of its own (a 256-byte property dictionary per closure), which made
// a connection and an answer look larger than they are; tsx also loads a compiler into the
// server. The program's `capnts/*` imports resolve to dist/ through a link to the repository.
import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
export const OUT = join(root, "node_modules", ".cache", "capnts-bench-hostile");

function tsc(project) {
  const bin = createRequire(join(root, "package.json")).resolve("typescript/bin/tsc");
  const r = spawnSync(process.execPath, [bin, "-p", project], {
    cwd: root,
    stdio: ["ignore", "inherit", "inherit"],
  });
  if (r.status !== 0) throw new Error(`tsc -p ${project} failed (${r.status ?? r.signal})`);
}

/** Compiles; returns the path of the compiled server program. */
export function buildHostileServer() {
  tsc(join(root, "tsconfig.build.json"));
  tsc(join(here, "tsconfig.build.json"));
  writeFileSync(join(OUT, "package.json"), '{ "type": "module", "private": true }\n');
  const link = join(OUT, "node_modules", "capnts");
  mkdirSync(dirname(link), { recursive: true });
  rmSync(link, { force: true });
  symlinkSync(root, link, "dir");
  return join(OUT, "test", "hostile", "server.js");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(buildHostileServer());
