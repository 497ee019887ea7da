/**
 * The package as users get it: the tarball `npm pack` makes, installed offline into a fresh ESM
 * app in the system's temporary directory (outside this repository, so nothing resolves to the
 * checkout by accident), and the runtimes and compilers users have (scripts/toolchains.mjs).
 */
import { type SpawnSyncReturns, spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { TestContext } from "node:test";
import { fileURLToPath } from "node:url";
import { toolchainPaths } from "../../scripts/toolchains.mjs";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/**
 * The environment of every process the package tests start: without the "capnts-source"
 * condition the test runner sets (an installed package must resolve to its built files), and
 * without CI-runner noise that npm would act on.
 */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  delete env.NODE_OPTIONS;
  delete env.npm_config_prefix;
  for (const k of Object.keys(env)) if (k.startsWith("npm_")) delete env[k];
  return env;
}

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Run a command; throw with its output when it fails (unless `allowFail`). */
export function run(
  cmd: string,
  args: readonly string[],
  opts: { cwd: string; env?: Record<string, string>; allowFail?: boolean; input?: string; timeout?: number },
): Run {
  const r: SpawnSyncReturns<string> = spawnSync(cmd, args, {
    cwd: opts.cwd,
    env: cleanEnv(opts.env),
    encoding: "utf8",
    input: opts.input,
    timeout: opts.timeout ?? 180_000,
    maxBuffer: 1 << 26,
  });
  if (r.error !== undefined) throw r.error;
  const out = { status: r.status, stdout: r.stdout, stderr: r.stderr };
  if (!opts.allowFail && r.status !== 0) {
    throw new Error(
      `${cmd} ${args.join(" ")} (in ${opts.cwd}) exited ${r.status ?? r.signal}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`,
    );
  }
  return out;
}

let tarball: string | undefined;

/**
 * `npm pack` of this checkout, once per test process. It is built and packed in a staging copy
 * (package.json's "files" decide what goes in, as for a publish): building into the checkout's
 * dist/ would change what bin/capnts runs for tests running beside this one.
 */
export function packTarball(): string {
  if (tarball !== undefined) return tarball;
  const dir = mkdtempSync(join(tmpdir(), "capnts-pack-"));
  process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
  const stage = join(dir, "stage");
  mkdirSync(stage);
  for (const f of ["package.json", "README.md", "LICENSE", "bin", "src", "docs", "examples", "schemas"]) {
    if (existsSync(join(ROOT, f))) cpSync(join(ROOT, f), join(stage, f), { recursive: true });
  }
  run(
    process.execPath,
    [
      join(ROOT, "node_modules/typescript/bin/tsc"),
      "-p",
      join(ROOT, "tsconfig.build.json"),
      "--outDir",
      join(stage, "dist"),
    ],
    { cwd: ROOT },
  );
  run("npm", ["pack", "--silent", "--ignore-scripts", "--pack-destination", dir], { cwd: stage });
  const name = readdirSync(dir).find((f) => f.endsWith(".tgz"));
  if (name === undefined) throw new Error(`npm pack wrote no tarball into ${dir}`);
  tarball = join(dir, name);
  return tarball;
}

export interface App {
  dir: string;
  /** Write a file (parent folders created). */
  write(path: string, content: string): void;
  run(
    cmd: string,
    args: readonly string[],
    opts?: { env?: Record<string, string>; allowFail?: boolean },
  ): Run;
  /** Run a program with a given Node binary (default: the one running the tests). */
  node(args: readonly string[], node?: string): Run;
  remove(): void;
}

/**
 * A fresh ESM app (`"type": "module"`) with the packed capnts installed offline, as `npm install`
 * installs it (bins linked into node_modules/.bin), and the repository's `@types/node` linked in
 * for typechecking. The optional `usocket` (FD passing) is left out: it needs the registry.
 */
export function newApp(name: string, scripts: Record<string, string> = {}): App {
  const dir = mkdtempSync(join(tmpdir(), `capnts-app-${name}-`));
  writeFileSync(
    join(dir, "package.json"),
    `${JSON.stringify({ name: `app-${name}`, private: true, type: "module", scripts }, null, 2)}\n`,
  );
  run(
    "npm",
    ["install", "--offline", "--omit=optional", "--no-audit", "--no-fund", "--loglevel=error", packTarball()],
    { cwd: dir },
  );
  mkdirSync(join(dir, "node_modules/@types"), { recursive: true });
  symlinkSync(join(ROOT, "node_modules/@types/node"), join(dir, "node_modules/@types/node"), "dir");
  const app: App = {
    dir,
    write(path, content) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), content);
    },
    run: (cmd, args, opts = {}) => run(cmd, args, { cwd: dir, ...opts }),
    node: (args, node = process.execPath) => run(node, args, { cwd: dir }),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
  return app;
}

export interface Toolchains {
  /** Node binaries by name: node20 (this process), node24, node26. */
  nodes: [string, string][];
  /** TypeScript compilers by name: ts5 (the repository's 5.9), ts7. */
  compilers: [string, string[]][];
}

/**
 * The Nodes and TypeScripts to test with. A missing one fails the test in CI (`.ci/run` installs
 * them) and skips it elsewhere with the command that installs it.
 */
export function toolchains(t: TestContext): Toolchains | null {
  const paths = toolchainPaths();
  const missing = Object.entries(paths)
    .filter(([, p]) => p === null)
    .map(([n]) => n);
  if (missing.length > 0) {
    const msg = `${missing.join(", ")} not installed: run \`npm run toolchains\``;
    if (process.env.CI) throw new Error(`${msg} (required in CI)`);
    t.skip(msg);
    return null;
  }
  return {
    nodes: [
      [`node${process.versions.node.split(".")[0]}`, process.execPath],
      ["node24", paths.node24!],
      ["node26", paths.node26!],
    ],
    compilers: [
      ["typescript 5.9", [process.execPath, join(ROOT, "node_modules/typescript/bin/tsc")]],
      ["typescript 7", [process.execPath, paths.typescript7!]],
    ],
  };
}

/** capnp's standard import directory (`.../include`, holding `capnp/*.capnp`), or null. */
export function capnpIncludeDir(): string | null {
  const r = spawnSync("sh", ["-c", "command -v capnp"], { encoding: "utf8" });
  if (r.status !== 0) return null;
  const prefix = dirname(dirname(r.stdout.trim()));
  for (const inc of [join(prefix, "include"), "/usr/local/include", "/usr/include"]) {
    try {
      if (readdirSync(join(inc, "capnp")).includes("schema.capnp")) return inc;
    } catch {}
  }
  return null;
}
