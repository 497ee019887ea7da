// Child processes of the RPC benchmark driver (main.ts): spawn with a stdin pipe (closing it
// stops our servers and clients, and the C++ ones), read stdout line by line, wait for a line.
import { type ChildProcess, spawn } from "node:child_process";

export class Proc {
  readonly child: ChildProcess;
  readonly name: string;
  private buf = "";
  private lines: string[] = [];
  private waiters: {
    pred: (l: string) => boolean;
    resolve: (l: string) => void;
    reject: (e: Error) => void;
    timer: NodeJS.Timeout;
  }[] = [];
  private stderrText = "";
  private exited: Promise<number | null>;
  exitCode: number | null | undefined = undefined;

  constructor(name: string, file: string, args: readonly string[], env?: NodeJS.ProcessEnv) {
    this.name = name;
    this.child = spawn(file, args, { stdio: ["pipe", "pipe", "pipe"], env: env ?? process.env });
    this.child.stdout!.setEncoding("utf8").on("data", (d: string) => this.onData(d));
    this.child.stderr!.setEncoding("utf8").on("data", (d: string) => {
      this.stderrText += d;
      if (this.stderrText.length > 20000) this.stderrText = this.stderrText.slice(-10000);
    });
    this.child.stdin!.on("error", () => {});
    this.exited = new Promise((resolve) => {
      this.child.on("error", (e) => {
        this.stderrText += `\n${e.message}`;
        this.exitCode = null;
        this.failWaiters(new Error(`${name}: ${e.message}`));
        resolve(null);
      });
      this.child.on("close", (code) => {
        this.exitCode = code;
        this.failWaiters(
          new Error(
            `${name} exited (${code}) while we waited for a line; stderr:\n${this.stderr.slice(-2000)}`,
          ),
        );
        resolve(code);
      });
    });
  }

  get stderr(): string {
    return this.stderrText;
  }

  private onData(d: string): void {
    this.buf += d;
    for (let i = this.buf.indexOf("\n"); i >= 0; i = this.buf.indexOf("\n")) {
      const line = this.buf.slice(0, i);
      this.buf = this.buf.slice(i + 1);
      const w = this.waiters.findIndex((x) => x.pred(line));
      if (w >= 0) {
        const x = this.waiters.splice(w, 1)[0]!;
        clearTimeout(x.timer);
        x.resolve(line);
      } else this.lines.push(line);
    }
  }

  private failWaiters(e: Error): void {
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(e);
    }
  }

  /** The next line (already received or to come) for which `pred` holds; lines before it are kept. */
  waitLine(pred: (l: string) => boolean, timeoutMs = 60000): Promise<string> {
    const i = this.lines.findIndex(pred);
    if (i >= 0) return Promise.resolve(this.lines.splice(i, 1)[0]!);
    if (this.exitCode !== undefined)
      return Promise.reject(
        new Error(`${this.name} has exited (${this.exitCode}); stderr:\n${this.stderr.slice(-2000)}`),
      );
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.timer !== timer);
        reject(
          new Error(
            `${this.name}: no expected line within ${timeoutMs} ms; stderr:\n${this.stderr.slice(-2000)}`,
          ),
        );
      }, timeoutMs);
      this.waiters.push({ pred, resolve, reject, timer });
    });
  }

  /** Every line received so far and not taken by waitLine. */
  takeLines(): string[] {
    const l = this.lines;
    this.lines = [];
    return l;
  }

  send(line: string): void {
    this.child.stdin!.write(`${line}\n`);
  }

  /** Close stdin (our programs and the C++ ones exit then) and wait; SIGKILL after `ms`. */
  async stop(ms = 5000): Promise<number | null> {
    if (this.exitCode === undefined) this.child.stdin!.end();
    const t = setTimeout(() => this.child.kill("SIGKILL"), ms);
    const code = await this.exited;
    clearTimeout(t);
    return code;
  }

  /** Resolves with the exit status. */
  wait(): Promise<number | null> {
    return this.exited;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }
}
