#!/usr/bin/env node
// Builds the C++ fixture programs of the interop suite (test/interop/cpp -> test/interop/build/)
// and of the RPC benchmarks (bench/cpp -> bench/build/) against the system's Cap'n Proto C++
// library (Debian: capnproto + libcapnp-dev 0.9.2).
//
//   node test/interop/build.mjs            build everything (interop fixtures and benchmarks)
//   node test/interop/build.mjs --interop  only the interop fixtures
//   node test/interop/build.mjs --bench    only the benchmark programs
//   node test/interop/build.mjs --force    rebuild even what is up to date
//
// From code:  import { buildInterop } from "./build.mjs";  const { binDir } = await buildInterop();
//
// Generated code comes from `capnp compile -oc++`; it is compiled once and linked into every
// program that needs it. A step runs only when an input is newer than its output (inputs of a
// compile step are read from the dependency file g++ writes with -MMD, plus this script). At most
// two compilers run at once. Outputs are written under temporary names and renamed, and a lock
// directory serialises concurrent builds (several test files may ask for the build at once).
// No dependencies beyond Node >= 20.

import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "..", "..");
const self = fileURLToPath(import.meta.url);

export const INSTALL_HINT = "apt-get install -y capnproto libcapnp-dev g++ pkg-config";

const interopBuild = join(root, "test", "interop", "build");
const benchBuild = join(root, "bench", "build");
const cppDir = join(root, "test", "interop", "cpp");
const benchCppDir = join(root, "bench", "cpp");

/** Schemas whose C++ code is generated: [schema file, directory for the generated code]. */
const SCHEMAS = {
  test: { schema: join(root, "test", "interop", "schema", "test.capnp"), out: join(interopBuild, "gen") },
  calculator: {
    schema: join(root, "examples", "calculator", "calculator.capnp"),
    out: join(interopBuild, "gen"),
  },
  bench: { schema: join(root, "bench", "schema", "bench.capnp"), out: join(benchBuild, "gen") },
};

/** Objects shared by several programs: name -> { source, objDir, schemas it includes }. */
const OBJECTS = {
  common: { source: join(cppDir, "common.c++"), objDir: join(interopBuild, "obj"), schemas: [] },
  "test-impls": {
    source: join(cppDir, "test-impls.c++"),
    objDir: join(interopBuild, "obj"),
    schemas: ["test"],
  },
};

/** The programs: name -> { source, binDir, schemas (generated code linked in), objects }. */
const PROGRAMS = {
  "test-server": {
    group: "interop",
    source: join(cppDir, "test-server.c++"),
    schemas: ["test"],
    objects: ["common", "test-impls"],
  },
  "test-client": {
    group: "interop",
    source: join(cppDir, "test-client.c++"),
    schemas: ["test"],
    objects: ["common", "test-impls"],
  },
  "calculator-server": {
    group: "interop",
    source: join(cppDir, "calculator-server.c++"),
    schemas: ["calculator"],
    objects: ["common"],
  },
  "calculator-client": {
    group: "interop",
    source: join(cppDir, "calculator-client.c++"),
    schemas: ["calculator"],
    objects: ["common"],
  },
  "bench-echo-server": {
    group: "bench",
    source: join(benchCppDir, "bench-echo-server.c++"),
    schemas: ["bench"],
    objects: ["common"],
  },
  "bench-echo-client": {
    group: "bench",
    source: join(benchCppDir, "bench-echo-client.c++"),
    schemas: ["bench"],
    objects: ["common"],
  },
};

export const interopPrograms = Object.keys(PROGRAMS).filter((p) => PROGRAMS[p].group === "interop");
export const benchPrograms = Object.keys(PROGRAMS).filter((p) => PROGRAMS[p].group === "bench");

const CXXFLAGS = ["-std=c++17", "-O2", "-Wall"];
const MAX_JOBS = Math.max(1, Math.min(2, availableParallelism()));

// ---------------------------------------------------------------------------------------------
// Tools

function run(cmd, args, options = {}) {
  return new Promise((resolvePromise, reject) => {
    execFile(cmd, args, { maxBuffer: 64 * 1024 * 1024, ...options }, (error, stdout, stderr) => {
      if (error) {
        const e = new Error(
          `${cmd} ${args.join(" ")} failed${error.code === "ENOENT" ? " (not found)" : ""}:\n${stderr || error.message}`,
        );
        e.code = error.code;
        reject(e);
      } else {
        resolvePromise({ stdout, stderr });
      }
    });
  });
}

let toolchainPromise;

/** Checks for g++, capnp and pkg-config's capnp-rpc; resolves to the flags, or throws. */
function toolchain() {
  toolchainPromise ??= (async () => {
    const missing = [];
    const cxx = process.env.CXX || "g++";
    await run(cxx, ["--version"]).catch(() => missing.push(cxx));
    await run("capnp", ["--version"]).catch(() => missing.push("capnp (package capnproto)"));
    let cflags = [];
    let libs = [];
    try {
      cflags = splitFlags((await run("pkg-config", ["--cflags", "capnp-rpc"])).stdout);
      libs = splitFlags((await run("pkg-config", ["--libs", "capnp-rpc"])).stdout);
    } catch (e) {
      missing.push(
        e.code === "ENOENT"
          ? "pkg-config"
          : "the Cap'n Proto C++ library (pkg-config capnp-rpc; package libcapnp-dev)",
      );
    }
    if (missing.length > 0) {
      throw new ToolchainError(
        `The C++ interop fixtures need g++, capnp and the Cap'n Proto C++ library; missing: ${missing.join(", ")}.\n` +
          `Install them with: ${INSTALL_HINT}`,
      );
    }
    return { cxx, cflags, libs };
  })();
  return toolchainPromise;
}

export class ToolchainError extends Error {
  constructor(message) {
    super(message);
    this.name = "ToolchainError";
  }
}

/** Resolves to null when the C++ toolchain is present, otherwise to a message saying what is missing. */
export async function toolchainProblem() {
  try {
    await toolchain();
    return null;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

function splitFlags(text) {
  return text.trim().split(/\s+/).filter(Boolean);
}

// ---------------------------------------------------------------------------------------------
// Staleness

function mtime(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

/** True if any output is missing or older than any input (a missing input counts as new). */
function stale(outputs, inputs, force) {
  if (force) return true;
  let oldest = Number.POSITIVE_INFINITY;
  for (const o of outputs) {
    const t = mtime(o);
    if (t === undefined) return true;
    oldest = Math.min(oldest, t);
  }
  for (const i of inputs) {
    const t = mtime(i);
    if (t === undefined || t > oldest) return true;
  }
  return false;
}

/** Inputs recorded in a make-style dependency file written by g++ -MMD. */
function depsOf(depFile) {
  if (!existsSync(depFile)) return undefined;
  const text = readFileSync(depFile, "utf8").replace(/\\\n/g, " ");
  const colon = text.indexOf(": ");
  if (colon < 0) return undefined;
  return text
    .slice(colon + 2)
    .split(/\s+/)
    .filter(Boolean)
    .map((p) => resolve(root, p.replace(/\\ /g, " ")));
}

// ---------------------------------------------------------------------------------------------
// Steps

function log(message) {
  process.stderr.write(`[interop build] ${message}\n`);
}

function tmpName(path) {
  return `${path}.tmp-${process.pid}`;
}

async function generate(name, force) {
  const { schema, out } = SCHEMAS[name];
  const base = schema.slice(dirname(schema).length + 1);
  const outputs = [join(out, `${base}.h`), join(out, `${base}.c++`)];
  if (!stale(outputs, [schema, self], force)) return;
  log(`capnp compile -oc++ ${relative(root, schema)}`);
  const tmp = tmpName(out);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  mkdirSync(out, { recursive: true });
  try {
    await run("capnp", ["compile", `-oc++:${tmp}`, `--src-prefix=${dirname(schema)}`, schema]);
    for (const o of outputs) renameSync(join(tmp, o.slice(out.length + 1)), o);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

function includeFlags() {
  return ["-I", SCHEMAS.test.out, "-I", SCHEMAS.bench.out, "-I", cppDir];
}

/** A compile step: source -> object, skipped when up to date. */
function compileStep(source, object, extraInputs, force) {
  const depFile = object.replace(/\.o$/, ".d");
  const inputs = depsOf(depFile) ?? [source, ...extraInputs];
  inputs.push(self);
  if (!stale([object, depFile], inputs, force)) return undefined;
  return async () => {
    const { cxx, cflags } = await toolchain();
    mkdirSync(dirname(object), { recursive: true });
    const tmpObj = tmpName(object);
    const tmpDep = tmpName(depFile);
    log(`compiling ${relative(root, source)}`);
    await run(
      cxx,
      [
        ...CXXFLAGS,
        ...includeFlags(),
        ...cflags,
        "-MMD",
        "-MF",
        tmpDep,
        "-MT",
        object,
        "-c",
        source,
        "-o",
        tmpObj,
      ],
      {
        cwd: root,
      },
    );
    renameSync(tmpDep, depFile);
    renameSync(tmpObj, object);
  };
}

function linkStep(binary, objects, force) {
  if (!stale([binary], [...objects, self], force)) return undefined;
  return async () => {
    const { cxx, libs } = await toolchain();
    mkdirSync(dirname(binary), { recursive: true });
    const tmp = tmpName(binary);
    log(`linking ${relative(root, binary)}`);
    // Libraries after the objects, or the linker drops them.
    await run(cxx, ["-o", tmp, ...objects, ...libs]);
    renameSync(tmp, binary);
  };
}

async function runPool(tasks) {
  let next = 0;
  let failure;
  const worker = async () => {
    while (next < tasks.length && failure === undefined) {
      const task = tasks[next++];
      try {
        await task();
      } catch (e) {
        failure ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(MAX_JOBS, tasks.length) }, worker));
  if (failure !== undefined) throw failure;
}

function genObject(name) {
  const { schema, out } = SCHEMAS[name];
  const base = schema.slice(dirname(schema).length + 1);
  const objDir = out === SCHEMAS.bench.out ? join(benchBuild, "obj") : join(interopBuild, "obj");
  return {
    source: join(out, `${base}.c++`),
    header: join(out, `${base}.h`),
    object: join(objDir, `${base}.o`),
  };
}

async function buildPrograms(names, force) {
  await toolchain();
  const schemas = [...new Set(names.flatMap((p) => PROGRAMS[p].schemas))];
  for (const s of schemas) await generate(s, force);

  const compile = new Map(); // object path -> step (or undefined when up to date)
  const addCompile = (source, object, extraInputs) => {
    if (!compile.has(object)) compile.set(object, compileStep(source, object, extraInputs, force));
  };
  const headersOf = (schemaNames) => schemaNames.map((s) => genObject(s).header);
  const links = [];
  for (const p of names) {
    const prog = PROGRAMS[p];
    const binDir = prog.group === "bench" ? benchBuild : interopBuild;
    const objDir = prog.group === "bench" ? join(benchBuild, "obj") : join(interopBuild, "obj");
    const objects = [];
    const mainObj = join(objDir, `${p}.o`);
    addCompile(prog.source, mainObj, [join(cppDir, "common.h"), ...headersOf(prog.schemas)]);
    objects.push(mainObj);
    for (const o of prog.objects) {
      const obj = OBJECTS[o];
      const objPath = join(obj.objDir, `${o}.o`);
      addCompile(obj.source, objPath, [obj.source.replace(/\.c\+\+$/, ".h"), ...headersOf(obj.schemas)]);
      objects.push(objPath);
    }
    for (const s of prog.schemas) {
      const g = genObject(s);
      addCompile(g.source, g.object, [g.header]);
      objects.push(g.object);
    }
    links.push({ binary: join(binDir, p), objects });
  }
  const compileTasks = [...compile.values()].filter((t) => t !== undefined);
  await runPool(compileTasks);
  const linkTasks = links.map((l) => linkStep(l.binary, l.objects, force)).filter((t) => t !== undefined);
  await runPool(linkTasks);
}

// ---------------------------------------------------------------------------------------------
// Lock: one build at a time across processes (a directory created atomically by mkdir)

const LOCK = join(interopBuild, ".lock");
const LOCK_WAIT_MS = 10 * 60 * 1000;

function lockHolderAlive() {
  try {
    const pid = Number(readFileSync(join(LOCK, "pid"), "utf8"));
    if (!Number.isInteger(pid) || pid <= 0) return false;
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but is not ours; anything else (ENOENT, ESRCH): gone or unknown.
    return e?.code === "EPERM";
  }
}

async function withLock(fn) {
  mkdirSync(interopBuild, { recursive: true });
  const start = Date.now();
  for (;;) {
    try {
      mkdirSync(LOCK);
      writeFileSync(join(LOCK, "pid"), String(process.pid));
      break;
    } catch (e) {
      if (e?.code !== "EEXIST") throw e;
      const age = Date.now() - (mtime(LOCK) ?? Date.now());
      // A lock without a live holder (or without a pid file after a while) is stale.
      if (!lockHolderAlive() && (existsSync(join(LOCK, "pid")) || age > 5000)) {
        rmSync(LOCK, { recursive: true, force: true });
        continue;
      }
      if (Date.now() - start > LOCK_WAIT_MS) throw new Error(`timed out waiting for the build lock ${LOCK}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Entry points

const inProcess = new Map(); // one build per group per process at a time

function buildGroup(key, names, binDir, force) {
  let p = inProcess.get(key);
  if (p === undefined || force) {
    p = withLock(() => buildPrograms(names, force)).then(() => ({ binDir }));
    inProcess.set(key, p);
    p.catch(() => inProcess.delete(key));
  }
  return p;
}

/**
 * Builds (when stale) the interop fixture programs: test-server, test-client, calculator-server,
 * calculator-client. Resolves to the directory that holds them. Rejects with a ToolchainError
 * (message names the apt-get command) when g++, capnp or libcapnp-dev is missing.
 */
export function buildInterop(options = {}) {
  return buildGroup("interop", interopPrograms, interopBuild, options.force === true);
}

/** Builds (when stale) bench-echo-server and bench-echo-client into bench/build/. */
export function buildBench(options = {}) {
  return buildGroup("bench", benchPrograms, benchBuild, options.force === true);
}

async function main(argv) {
  const force = argv.includes("--force");
  const onlyInterop = argv.includes("--interop");
  const onlyBench = argv.includes("--bench");
  const unknown = argv.filter((a) => !["--force", "--interop", "--bench"].includes(a));
  if (unknown.length > 0) {
    process.stderr.write(`usage: node test/interop/build.mjs [--interop | --bench] [--force]\n`);
    return 2;
  }
  try {
    const started = Date.now();
    if (!onlyBench) {
      const { binDir } = await buildInterop({ force });
      log(`interop programs up to date in ${relative(root, binDir)}/`);
    }
    if (!onlyInterop) {
      const { binDir } = await buildBench({ force });
      log(`bench programs up to date in ${relative(root, binDir)}/`);
    }
    log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return 0;
  } catch (e) {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === self) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
