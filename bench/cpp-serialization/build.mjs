#!/usr/bin/env node
// Builds the serialization benchmark against C++ (bench/cpp-serialization):
//
//   node bench/cpp-serialization/build.mjs         the TS driver, with tsc (into the serialization
//                                                  group's node_modules/.cache/capnts-bench/:
//                                                  timing never runs through tsx, BENCHMARKS.md
//                                                  finding 4); prints the entry point (main.js)
//   node bench/cpp-serialization/build.mjs --cpp   the C++ program bench/cpp/serialization-read.c++
//                                                  (when stale); prints its path. Exit status 3
//                                                  and the reason on stderr when g++, capnp or
//                                                  libcapnp-dev is missing.
//
// The C++ program: `capnp compile -oc++` of bench/schema/{carsales,catrank,eval}.capnp and g++
// -O2 against the system's libcapnp (`pkg-config capnp`), in node_modules/.cache/capnts-bench-cpp/.
// It is rebuilt when a hash of its inputs (sources, schemas, this script, flags, compiler and
// capnp versions) changes. Concurrent builds (the smoke test and a bench run) each build in a
// directory of their own and rename the result into place, so neither sees a half-written file.
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build as buildSerialization, OUT as TS_OUT } from "../serialization/build.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const self = fileURLToPath(import.meta.url);

export const CPP_OUT = join(root, "node_modules", ".cache", "capnts-bench-cpp");
export const INSTALL_HINT = "apt-get install -y capnproto libcapnp-dev g++ pkg-config";

const SOURCE = join(root, "bench", "cpp", "serialization-read.c++");
const SCHEMAS = ["carsales", "catrank", "eval"].map((s) => join(root, "bench", "schema", `${s}.capnp`));
const CXXFLAGS = ["-std=c++17", "-O2", "-Wall"];

/** Compiles the driver (and the serialization benchmark it imports); returns main.js's path. */
export function buildTs() {
  // The serialization group's build also copies the plain-JS files tsc does not emit (capnp-es),
  // which cases.ts imports; then the driver is compiled into the same tree.
  buildSerialization();
  const tsc = createRequire(join(root, "package.json")).resolve("typescript/bin/tsc");
  const r = spawnSync(process.execPath, [tsc, "-p", join(here, "tsconfig.build.json")], {
    cwd: root,
    stdio: ["ignore", "inherit", "inherit"],
  });
  if (r.status !== 0) throw new Error(`tsc failed (${r.status ?? r.signal})`);
  return join(TS_OUT, "bench", "cpp-serialization", "main.js");
}

export class ToolchainError extends Error {
  constructor(message) {
    super(message);
    this.name = "ToolchainError";
  }
}

function tool(cmd, args) {
  return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** The compiler, flags and versions; throws a ToolchainError naming what is missing. */
function toolchain() {
  const cxx = process.env.CXX || "g++";
  const missing = [];
  let cxxVersion = "";
  let capnpVersion = "";
  let cflags = "";
  let libs = "";
  try {
    cxxVersion = tool(cxx, ["--version"]).split("\n")[0];
  } catch {
    missing.push(cxx);
  }
  try {
    capnpVersion = tool("capnp", ["--version"]).trim();
  } catch {
    missing.push("capnp (package capnproto)");
  }
  try {
    cflags = tool("pkg-config", ["--cflags", "capnp"]);
    libs = tool("pkg-config", ["--libs", "capnp"]);
  } catch (e) {
    missing.push(
      e?.code === "ENOENT"
        ? "pkg-config"
        : "the Cap'n Proto C++ library (pkg-config capnp; package libcapnp-dev)",
    );
  }
  if (missing.length > 0) {
    throw new ToolchainError(
      `The C++ serialization benchmark needs g++, capnp and the Cap'n Proto C++ library; missing: ${missing.join(", ")}.\n` +
        `Install them with: ${INSTALL_HINT}`,
    );
  }
  const split = (s) => s.trim().split(/\s+/).filter(Boolean);
  return { cxx, cxxVersion, capnpVersion, cflags: split(cflags), libs: split(libs) };
}

/** Null when the toolchain is there; otherwise what is missing and how to install it. */
export function toolchainProblem() {
  try {
    toolchain();
    return null;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

/** Builds the C++ program when stale; returns its path. Throws a ToolchainError without g++ etc. */
export function buildCpp({ force = false } = {}) {
  const tc = toolchain();
  const hash = createHash("sha256");
  for (const f of [SOURCE, ...SCHEMAS, self]) hash.update(readFileSync(f));
  hash.update(JSON.stringify([CXXFLAGS, tc.cxx, tc.cxxVersion, tc.capnpVersion, tc.cflags, tc.libs]));
  const stamp = hash.digest("hex");
  const binary = join(CPP_OUT, "serialization-read");
  const stampFile = join(CPP_OUT, "serialization-read.stamp");
  if (!force && existsSync(binary) && existsSync(stampFile) && readFileSync(stampFile, "utf8") === stamp) {
    return binary;
  }
  const work = join(CPP_OUT, `build-${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(join(work, "gen"), { recursive: true });
  try {
    const run = (cmd, args) => {
      const r = spawnSync(cmd, args, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
      if (r.status !== 0)
        throw new Error(`${cmd} ${args.join(" ")} failed:\n${r.stderr || r.error?.message}`);
    };
    process.stderr.write("[cpp-serialization build] capnp compile -oc++, g++ -O2 serialization-read\n");
    run("capnp", [
      "compile",
      `-oc++:${join(work, "gen")}`,
      `--src-prefix=${join(root, "bench", "schema")}`,
      ...SCHEMAS,
    ]);
    const generated = SCHEMAS.map((s) => join(work, "gen", `${s.slice(dirname(s).length + 1)}.c++`));
    // Libraries after the sources, or the linker drops them.
    run(tc.cxx, [
      ...CXXFLAGS,
      "-I",
      join(work, "gen"),
      ...tc.cflags,
      SOURCE,
      ...generated,
      "-o",
      join(work, "bin"),
      ...tc.libs,
    ]);
    writeFileSync(join(work, "stamp"), stamp);
    renameSync(join(work, "bin"), binary);
    renameSync(join(work, "stamp"), stampFile);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return binary;
}

if (process.argv[1] === self) {
  if (process.argv.includes("--cpp")) {
    try {
      console.log(buildCpp({ force: process.argv.includes("--force") }));
    } catch (e) {
      process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(e instanceof ToolchainError ? 3 : 1);
    }
  } else {
    console.log(buildTs());
  }
}
