/**
 * Running capnts in other JavaScript runtimes (Deno, Bun, workerd) from a Node test.
 *
 * The runtimes come from their npm packages (devDependencies `deno`, `bun`, `workerd`, which carry
 * the binaries), so `npm ci` installs them and they are found in node_modules/.bin. How capnts'
 * TypeScript sources get into each one:
 *   - Deno runs src/*.ts directly: `--conditions=capnts-source` makes `capnts/...` resolve through
 *     package.json's exports to src/ (Deno reads the package.json it runs in), and
 *     `--sloppy-imports` lets the sources' `./x.js` specifiers find `./x.ts` (as tsc's Node16
 *     resolution does).
 *   - Bun runs TypeScript and maps `.js` to `.ts` itself; `--conditions=capnts-source` does the rest.
 *   - workerd runs one ES module: esbuild bundles the Worker with the same condition (see
 *     bundleWorker), and a generated workerd config (its Cap'n Proto text format) serves it on a
 *     loopback port.
 *
 * A program started here prints `LISTENING <port>` when it serves, and `RESULT <json>` with what it
 * saw; the Node test asserts on that. Every process is bounded in time (killed at its deadline)
 * and tracked, so `stopAll()` in an after() hook leaves nothing running.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { fileURLToPath } from "node:url";

/** The repository root. */
export const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export type RuntimeName = "deno" | "bun" | "workerd";

const versions = new Map<RuntimeName, string | null>();

/** The runtime's version line, or null if its binary is not installed or does not run here. */
export function runtimeVersion(name: RuntimeName): string | null {
  if (versions.has(name)) return versions.get(name)!;
  const bin = runtimeBinary(name);
  let v: string | null = null;
  if (existsSync(bin)) {
    const r = spawnSync(bin, ["--version"], { encoding: "utf8", timeout: 20_000, env: runtimeEnv() });
    if (r.status === 0) v = r.stdout.trim().split("\n")[0] ?? "";
  }
  versions.set(name, v);
  return v;
}

/** Where npm puts the runtime's binary (its package's bin entry). */
export function runtimeBinary(name: RuntimeName): string {
  return join(ROOT, "node_modules", ".bin", name);
}

/**
 * Call first in a test that needs `name`: returns false (and skips the test, saying why) when the
 * runtime is missing; under CI=true a missing runtime fails the test instead, since CI installs
 * them all (`npm ci`).
 */
export function haveRuntime(t: TestContext, name: RuntimeName): boolean {
  if (runtimeVersion(name) !== null) return true;
  const why = `${name} is not installed (${runtimeBinary(name)} missing or not runnable): run npm ci`;
  if (process.env["CI"]) throw new Error(`${why} (CI must run every runtime test)`);
  console.log(`# skipped: ${why}`);
  t.skip(why);
  return false;
}

/** The environment for runtime processes: no update checks, prompts or colours. */
function runtimeEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DENO_NO_UPDATE_CHECK: "1",
    DENO_NO_PROMPT: "1",
    NO_COLOR: "1",
    ...extra,
  };
  // The test runner's Node options (tsx, conditions) are for Node; Bun reads NODE_OPTIONS too.
  delete env["NODE_OPTIONS"];
  return env;
}

/** The command line that runs the TypeScript program `file` (relative to ROOT) in Deno or Bun. */
export function programCommand(name: "deno" | "bun", file: string, args: string[] = []): string[] {
  const bin = runtimeBinary(name);
  const path = join(ROOT, file);
  if (name === "deno") {
    return [bin, "run", "--conditions=capnts-source", "--sloppy-imports", "--allow-all", path, ...args];
  }
  return [bin, "--conditions=capnts-source", path, ...args];
}

export interface RuntimeProcess {
  readonly proc: ChildProcess;
  /** Everything printed so far, both streams, for assertion messages. */
  output(): string;
  /** Resolves with the first line matching `re` (its match), rejects on exit or after `ms`. */
  line(re: RegExp, ms?: number): Promise<RegExpMatchArray>;
  /** The exit: code and signal. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then SIGKILL after 2 s; resolves once the process is gone. */
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();

/** Kills every process started here that is still running. */
export function stopAll(): void {
  for (const p of live) p.kill("SIGKILL");
  live.clear();
}

/** Starts `cmd`; it is killed after `deadlineMs` whatever happens. */
export function start(cmd: string[], deadlineMs: number, env: Record<string, string> = {}): RuntimeProcess {
  const [file, ...args] = cmd;
  const proc = spawn(file!, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], env: runtimeEnv(env) });
  live.add(proc);
  let out = "";
  const waiters = new Set<() => void>();
  const onData = (d: string) => {
    out += d;
    for (const w of waiters) w();
  };
  proc.stdout!.setEncoding("utf8").on("data", onData);
  proc.stderr!.setEncoding("utf8").on("data", onData);
  const deadline = setTimeout(() => proc.kill("SIGKILL"), deadlineMs);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    proc.on("close", (code, signal) => {
      clearTimeout(deadline);
      live.delete(proc);
      for (const w of waiters) w();
      resolve({ code, signal });
    });
    proc.on("error", (e) => {
      out += `\n[spawn error] ${e.message}`;
    });
  });
  let gone = false;
  void exited.then(() => (gone = true));
  return {
    proc,
    output: () => out,
    exited,
    line(re, ms = 20_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => finish(new Error(`no line matching ${re} within ${ms} ms:\n${out}`)),
          ms,
        );
        const check = () => {
          for (const l of out.split("\n")) {
            const m = re.exec(l);
            if (m !== null) return finish(null, m);
          }
          if (gone) finish(new Error(`exited before printing a line matching ${re}:\n${out}`));
        };
        const finish = (e: Error | null, m?: RegExpMatchArray) => {
          clearTimeout(timer);
          waiters.delete(check);
          if (e !== null) reject(e);
          else resolve(m!);
        };
        waiters.add(check);
        check();
      });
    },
    async stop() {
      if (gone) return;
      proc.kill("SIGTERM");
      const kill = setTimeout(() => proc.kill("SIGKILL"), 2000);
      await exited;
      clearTimeout(kill);
    },
  };
}

/** The JSON a program printed as `RESULT <json>`. */
export async function result<T>(p: RuntimeProcess, ms = 20_000): Promise<T> {
  const m = await p.line(/^RESULT (.*)$/, ms);
  return JSON.parse(m[1]!) as T;
}

/** A fresh temporary directory, removed by the returned function. */
export function tempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Bundles the Worker module `entry` (relative to ROOT) into `dir`/worker.js as workerd loads it:
 * one ES module, browser platform (no Node built-ins), `capnts/...` through the capnts-source
 * condition like every test here.
 */
export async function bundleWorker(entry: string, dir: string): Promise<string> {
  const esbuild = await import("esbuild");
  const outfile = join(dir, "worker.js");
  await esbuild.build({
    entryPoints: [join(ROOT, entry)],
    outfile,
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    conditions: ["capnts-source", "workerd", "worker", "browser"],
    logLevel: "error",
  });
  return outfile;
}

/**
 * workerd's config (its native Cap'n Proto text format): the Worker on a loopback port that
 * workerd picks, and outgoing connections (a Worker's `new WebSocket(url)`, fetch) allowed to
 * loopback only: workerd's default outbound network allows public addresses only, and the Node
 * peers of these tests are on 127.0.0.1 ("local" in workerd's terms).
 */
const WORKERD_CONFIG = `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    (name = "loopback", network = (allow = ["local"])),
  ],
  sockets = [(name = "http", address = "127.0.0.1:0", http = (), service = "main")],
);
const worker :Workerd.Worker = (
  modules = [(name = "worker.js", esModule = embed "worker.js")],
  compatibilityDate = "2026-11-01",
  globalOutbound = "loopback",
);
`;

export interface Workerd {
  process: RuntimeProcess;
  port: number;
  /** http://127.0.0.1:PORT */
  url: string;
  /** Removes the bundle and config (after the process has stopped). */
  remove(): void;
}

/** Starts workerd serving the bundled Worker `entry` and waits until it listens. */
export async function startWorkerd(entry: string, deadlineMs: number): Promise<Workerd> {
  const tmp = tempDir("capnts-workerd-");
  let p: RuntimeProcess | null = null;
  try {
    await bundleWorker(entry, tmp.dir);
    writeFileSync(join(tmp.dir, "config.capnp"), WORKERD_CONFIG);
    p = start([runtimeBinary("workerd"), "serve", join(tmp.dir, "config.capnp")], deadlineMs);
    // workerd prints the port it bound: "Listening on http://127.0.0.1:PORT".
    const port = Number((await p.line(/Listening on http:\/\/127\.0\.0\.1:(\d+)/, 15_000))[1]);
    return { process: p, port, url: `http://127.0.0.1:${port}`, remove: tmp.remove };
  } catch (e) {
    await p?.stop();
    tmp.remove();
    throw e;
  }
}
