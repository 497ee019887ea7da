/**
 * Child processes for the interop tests: run a program to completion, or start a server and wait
 * for its `LISTENING <address>` line (test/interop/README.md conventions). Every process started
 * here is bounded in time and tracked, so `killAll()` in an after() hook leaves nothing behind.
 * (Shared by every interop test, the C++ selftest included.)
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const live = new Set<ChildProcess>();

/** The repository root. */
export const ROOT = fileURLToPath(new URL("../../..", import.meta.url));

/** Kills every process started here that is still running. */
export function killAll(): void {
  for (const p of live) p.kill("SIGKILL");
  live.clear();
}

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a program to completion; kills it after `timeoutMs`. */
export function runProgram(file: string, args: string[], timeoutMs: number): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const proc = spawn(file, args, { stdio: ["ignore", "pipe", "pipe"], cwd: ROOT });
    live.add(proc);
    let stdout = "";
    let stderr = "";
    proc.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
    });
    proc.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
    proc.on("error", (e) => {
      clearTimeout(timer);
      live.delete(proc);
      reject(e);
    });
    proc.on("close", (code, signal) => {
      clearTimeout(timer);
      live.delete(proc);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

export interface RunningServer {
  /** The address from the LISTENING line (`tcp:HOST:PORT` or `unix:PATH`). */
  address: string;
  proc: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves to the exit status once the process has exited. */
  exited: Promise<number | null>;
  /** Closes the server's stdin and resolves to its exit status (kills it after 5 s). */
  stop: () => Promise<number | null>;
}

/** Starts a server and waits (at most `timeoutMs`) for its "LISTENING <address>" line. */
export function startServer(file: string, args: string[], timeoutMs = 20_000): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    const proc = spawn(file, args, { stdio: ["pipe", "pipe", "pipe"], cwd: ROOT });
    live.add(proc);
    let stdout = "";
    let stderr = "";
    let settled = false;
    const exited = new Promise<number | null>((r) => {
      proc.on("close", (code) => {
        live.delete(proc);
        r(code);
      });
    });
    const fail = (message: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      proc.kill("SIGKILL");
      reject(new Error(`${message}\nstdout: ${stdout}\nstderr: ${stderr}`));
    };
    const timer = setTimeout(() => fail(`${file}: no LISTENING line within ${timeoutMs} ms`), timeoutMs);
    proc.on("error", (e) => fail(`${file}: ${e.message}`));
    proc.on("exit", (code, signal) => fail(`${file} exited (${code ?? signal}) before listening`));
    proc.stdin.on("error", () => {}); // EPIPE when it exits first
    proc.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    proc.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
      const newline = stdout.indexOf("\n");
      if (settled || newline < 0) return;
      const line = stdout.slice(0, newline);
      const m = /^LISTENING (\S+)$/.exec(line);
      if (m === null) {
        fail(`${file}: unexpected first line ${JSON.stringify(line)}`);
        return;
      }
      settled = true;
      clearTimeout(timer);
      const stop = async () => {
        proc.stdin.end();
        const killer = setTimeout(() => proc.kill("SIGKILL"), 5000);
        const code = await exited;
        clearTimeout(killer);
        return code;
      };
      resolve({ address: m[1]!, proc, stdout: () => stdout, stderr: () => stderr, exited, stop });
    });
  });
}

/** The command that runs the TypeScript interop server (test/interop/ts/server.ts). */
export function tsServerCommand(args: string[]): [string, string[]] {
  return [process.execPath, ["--import", "tsx", `${ROOT}test/interop/ts/server.ts`, ...args]];
}

/** Starts the TypeScript interop server. */
export function startTsServer(args: string[], timeoutMs = 30_000): Promise<RunningServer> {
  const [file, argv] = tsServerCommand(args);
  return startServer(file, argv, timeoutMs);
}
