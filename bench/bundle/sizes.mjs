#!/usr/bin/env node
// Where a browser bundle's bytes go: the two programs of the size check in test/package (the
// calculator client over capnts/websocket, and a one-struct serialization round trip), bundled
// from this checkout's src/ (the `capnts-source` condition) as the test bundles the installed
// package: esbuild, browser, ESM, ES2022, minified, gzip -9. With --table, each module's share:
// the bundle's gzip size minus the gzip size of the bundle without that module's characters
// (esbuild's source map says which characters are whose). BENCHMARKS.md, "Bundle sizes".
// With --package, from this checkout compiled by tsc as the package ships it (dist/, no
// `capnts-source` condition), as test/package bundles the installed package: tsc output
// differs from esbuild's own compilation of src/ (enums, class fields), so the two differ.
//
//   node bench/bundle/sizes.mjs [client] [serialize] [--table] [--package]
//
// The programs (bench/bundle/programs.mjs) and the bindings they use are written into
// .tmp/bundle/ (the bindings by the generator from src); --package builds into
// .tmp/bundle-package/.
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import * as esbuild from "esbuild";
import { CLIENT_PROGRAM, READING_SCHEMA, SERIALIZE_PROGRAM } from "./programs.mjs";

const root = fileURLToPath(new URL("../..", import.meta.url));
const args = process.argv.slice(2);
const fromPackage = args.includes("--package");
const dir = join(root, fromPackage ? ".tmp/bundle-package" : ".tmp/bundle");

const ENTRIES = { client: CLIENT_PROGRAM, serialize: SERIALIZE_PROGRAM };

/** Source map `mappings` → for each generated line, [column, source index or -1] segments. */
function decodeMappings(mappings) {
  const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  let src = 0;
  return mappings.split(";").map((line) => {
    let col = 0;
    const segs = [];
    for (const seg of line === "" ? [] : line.split(",")) {
      const vals = [];
      let v = 0;
      let shift = 0;
      for (const ch of seg) {
        const d = B64.indexOf(ch);
        v += (d & 31) << shift;
        if (d & 32) shift += 5;
        else {
          vals.push(v & 1 ? -(v >>> 1) : v >>> 1);
          v = 0;
          shift = 0;
        }
      }
      col += vals[0];
      if (vals.length > 1) src += vals[1];
      segs.push([col, vals.length > 1 ? src : -1]);
    }
    return segs;
  });
}

/** Each source's gzip share of `js`, largest first. */
function shares(js, map, total) {
  const lines = js.split("\n");
  const dec = decodeMappings(map.mappings);
  const owners = lines.map((line, li) => {
    const segs = dec[li] ?? [];
    const own = new Int32Array(line.length).fill(-1);
    for (let i = 0; i < segs.length; i++) {
      const [c, s] = segs[i];
      own.fill(s, c, i + 1 < segs.length ? segs[i + 1][0] : line.length);
    }
    return own;
  });
  const chars = new Map();
  for (const own of owners) for (const s of own) chars.set(s, (chars.get(s) ?? 0) + 1);
  const rows = [];
  for (const [s, n] of chars) {
    const rest = lines.map((line, li) => [...line].filter((_, i) => owners[li][i] !== s).join("")).join("\n");
    const name = s < 0 ? "(esbuild's own)" : map.sources[s].replace(/^(\.\.\/)+/, "");
    rows.push([name, total - gzipSync(rest, { level: 9 }).length, n]);
  }
  return rows.sort((a, b) => b[1] - a[1]);
}

const names = args.filter((a) => !a.startsWith("--"));
mkdirSync(dir, { recursive: true });
if (fromPackage) {
  // The package as installed: package.json and dist/ (tsc, tsconfig.build.json) in
  // node_modules/capnts, which the programs and the generated bindings resolve to (their own
  // package.json keeps esbuild from resolving "capnts" to this checkout as a self-reference).
  writeFileSync(join(dir, "package.json"), '{ "name": "bundle-size", "private": true, "type": "module" }\n');
  const pkg = join(dir, "node_modules/capnts");
  rmSync(pkg, { recursive: true, force: true });
  mkdirSync(pkg, { recursive: true });
  copyFileSync(join(root, "package.json"), join(pkg, "package.json"));
  const tsc = join(root, "node_modules/typescript/bin/tsc");
  execFileSync(process.execPath, [tsc, "-p", "tsconfig.build.json", "--outDir", join(pkg, "dist")], {
    cwd: root,
  });
}
writeFileSync(join(dir, "reading.capnp"), READING_SCHEMA);
const env = { ...process.env, CAPNTS_FROM_SOURCE: "1" };
const gen = join(dir, "gen");
const compile = (prefix, schema) =>
  execFileSync(process.execPath, ["bin/capnts", "compile", "-o", gen, "--src-prefix", prefix, schema], {
    cwd: root,
    env,
  });
compile(dir, join(dir, "reading.capnp"));
compile("examples/calculator", "examples/calculator/calculator.capnp");
for (const name of names.length > 0 ? names : Object.keys(ENTRIES)) {
  writeFileSync(join(dir, `${name}.ts`), ENTRIES[name]);
  const r = await esbuild.build({
    entryPoints: [join(dir, `${name}.ts`)],
    bundle: true,
    platform: "browser",
    format: "esm",
    target: "es2022",
    minify: true,
    write: false,
    logLevel: "silent",
    conditions: fromPackage ? [] : ["capnts-source"],
    sourcemap: "external",
    outdir: join(dir, "out"),
  });
  const js = r.outputFiles.find((f) => f.path.endsWith(".js")).text;
  const map = JSON.parse(r.outputFiles.find((f) => f.path.endsWith(".map")).text);
  const total = gzipSync(js, { level: 9 }).length;
  console.log(`${name}: ${Buffer.byteLength(js)} bytes minified, ${total} gzip`);
  if (!args.includes("--table")) continue;
  console.log("\n| module | gzip share | minified |\n|---|---:|---:|");
  for (const [m, gz, n] of shares(js, map, total)) console.log(`| ${m} | ${gz} | ${n} |`);
  console.log();
}
