/**
 * The user guide's code is real: every TypeScript block of README.md and docs/*.md typechecks
 * under the project's strict settings, and the blocks marked `run` run (and print what their
 * `text output` block says). Conventions: test/docs/blocks.ts.
 *
 * Each block becomes its own module in test/docs/.blocks/ (git-ignored, inside the repository so
 * that `capnts/...` imports resolve by self-reference, to src/ through the "capnts-source"
 * condition). The schemas the blocks import are generated there by the real `capnts compile`:
 * the calculator of examples/calculator and every ```capnp file=NAME.capnp block of the docs,
 * as ./gen/NAME.capnp.ts.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { type Block, docFiles, extractBlocks, markerProblems, moduleName, preludeFor } from "./blocks.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const DIR = join(ROOT, "test/docs/.blocks");
/** A runnable block that has not exited after this long fails. */
const RUN_TIMEOUT_MS = 60_000;

/**
 * Files whose TypeScript blocks are not compiled, and why. Keep this list short: a user-facing
 * block that cannot compile is a bug in the docs.
 */
const NOT_COMPILED: ReadonlyMap<string, string> = new Map([
  [
    "docs/generated-code-contract.md",
    "implementer reference: its blocks sketch the shapes of generated declarations, with `...` elisions",
  ],
]);

const blocks = docFiles(ROOT).flatMap((f) => extractBlocks(ROOT, f));
const tsBlocks = blocks.filter((b) => b.lang === "ts" && !NOT_COMPILED.has(b.file));
const schemaBlocks = blocks.filter((b) => b.lang === "capnp" && b.attrs.has("file"));
const where = (b: Block) => `${b.file}:${b.line - 1}`;

function haveCapnp(): boolean {
  const r = spawnSync("capnp", ["--version"]);
  return r.error === undefined && r.status === 0;
}

const capnpMissing = haveCapnp() ? null : "capnp is not installed (Debian package `capnproto`)";
if (capnpMissing !== null && process.env.CI) throw new Error(`${capnpMissing}; required in CI`);
const skip = capnpMissing ?? false;

test("doc code blocks use known markers", () => {
  assert.ok(tsBlocks.length > 0, "no TypeScript blocks found");
  assert.deepEqual(markerProblems(blocks), []);
  const names = schemaBlocks.map((b) => b.attrs.get("file"));
  assert.equal(new Set(names).size, names.length, "two schema blocks write the same file");
});

test("shell blocks name commands that exist", () => {
  const scripts = Object.keys(JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).scripts);
  const problems: string[] = [];
  for (const b of blocks.filter((x) => x.lang === "sh" || x.lang === "bash" || x.lang === "shell")) {
    for (const raw of b.code.split("\n")) {
      const line = raw.replace(/#.*$/, "");
      for (const m of line.matchAll(/(?:^|[\s;&|(])(?:npx\s+)?capnts\s+([a-z-]+)/g)) {
        if (!["call", "compile", "decode", "encode", "id", "help", "--help"].includes(m[1]!)) {
          problems.push(`${where(b)}: unknown capnts command "${m[1]}"`);
        }
      }
      for (const m of line.matchAll(/npm run ([a-z:-]+)/g)) {
        if (!scripts.includes(m[1]!)) problems.push(`${where(b)}: no npm script "${m[1]}"`);
      }
    }
  }
  assert.deepEqual(problems, []);
});

test("JSON blocks (tsconfig.json, package.json excerpts) parse", () => {
  const problems: string[] = [];
  for (const b of blocks.filter((x) => x.lang === "json")) {
    try {
      JSON.parse(b.code);
    } catch (e) {
      problems.push(`${where(b)}: ${(e as Error).message}`);
    }
  }
  assert.deepEqual(problems, []);
});

/** Writes the blocks and generated bindings into DIR (once). */
let prepared = false;
function prepare(): void {
  if (prepared) return;
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(join(DIR, "gen"), { recursive: true });
  copyFileSync(join(ROOT, "examples/calculator/calculator.capnp"), join(DIR, "calculator.capnp"));
  const schemas = ["calculator.capnp"];
  for (const b of schemaBlocks) {
    const name = b.attrs.get("file")!;
    writeFileSync(join(DIR, name), b.code);
    schemas.push(name);
  }
  const r = spawnSync(
    process.execPath,
    [join(ROOT, "bin/capnts"), "compile", "-o", "gen", `--src-prefix=.`, ...schemas],
    { cwd: DIR, encoding: "utf8" },
  );
  assert.equal(r.status, 0, `capnts compile failed:\n${r.stdout}${r.stderr}`);
  for (const b of tsBlocks) {
    const prelude = b.flags.has("fragment") ? preludeFor(b.code) : "";
    // `export {}` makes a block without imports a module (blocks never share a scope).
    writeFileSync(join(DIR, moduleName(b)), `${prelude}${b.code}export {};\n`);
  }
  writeFileSync(
    join(DIR, "tsconfig.json"),
    JSON.stringify({
      extends: "../../../tsconfig.base.json",
      compilerOptions: { noEmit: true, types: ["node"], skipLibCheck: true },
      include: ["*.ts", "gen/*.ts"],
    }),
  );
  prepared = true;
}

test("every TypeScript block typechecks (strict)", { skip, timeout: 300_000 }, () => {
  prepare();
  const r = spawnSync(
    process.execPath,
    [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", DIR, "--pretty", "false"],
    { cwd: DIR, encoding: "utf8", maxBuffer: 1 << 26 },
  );
  const byModule = new Map(tsBlocks.map((b) => [moduleName(b), b]));
  const problems: string[] = [];
  for (const line of r.stdout.split("\n")) {
    if (line.trim() === "" || /^\s/.test(line)) {
      if (line.trim() !== "" && problems.length > 0) problems[problems.length - 1] += `\n${line}`;
      continue;
    }
    // "file.ts(12,5): error TS2322: ..." → the Markdown file and line of the block.
    const m = /^(.*?)\((\d+),(\d+)\): (.*)$/.exec(line);
    const b = m === null ? undefined : byModule.get(m[1]!);
    if (m !== null && b !== undefined) {
      const preludeLines = b.flags.has("fragment") ? preludeFor(b.code).split("\n").length - 1 : 0;
      const l = Number(m[2]) - preludeLines;
      problems.push(`${b.file}:${b.line + l - 1}:${m[3]}: ${m[4]}`);
    } else problems.push(line);
  }
  assert.deepEqual(problems, [], `tsc exited ${r.status}\n${problems.join("\n")}`);
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

function runBlock(
  b: Block,
): Promise<{ code: number | null; stdout: string; stderr: string; timedOut: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "--conditions=capnts-source", join(DIR, moduleName(b))],
      { cwd: DIR, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, RUN_TIMEOUT_MS);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut });
    });
  });
}

const runnable = tsBlocks.filter((b) => b.flags.has("run"));
for (const b of runnable) {
  test(`runs: ${where(b)}`, { skip, timeout: RUN_TIMEOUT_MS + 30_000 }, async () => {
    prepare();
    const r = await runBlock(b);
    assert.equal(r.timedOut, false, `${where(b)} did not exit within ${RUN_TIMEOUT_MS} ms\n${r.stderr}`);
    assert.equal(r.code, 0, `${where(b)} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
    if (b.output !== undefined) {
      assert.equal(r.stdout, b.output.code, `${where(b)}: output differs from ${where(b.output)}`);
    }
  });
}

test("the doc test sees the guide's chapters", () => {
  for (const f of [
    "docs/README.md",
    "docs/getting-started.md",
    "docs/schemas.md",
    "docs/serialization.md",
    "docs/rpc.md",
    "docs/ownership.md",
    "docs/transports.md",
    "docs/cpp-interop.md",
    "docs/cli.md",
  ]) {
    assert.ok(existsSync(join(ROOT, f)), `${f} is missing`);
  }
  assert.ok(runnable.length >= 10, `only ${runnable.length} runnable blocks`);
});
