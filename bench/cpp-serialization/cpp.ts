/**
 * The C++ program of the comparison (bench/cpp/serialization-read.c++) as a child process: it is
 * given the messages as files (read mode: the messages to read; bytes mode: the round-trip
 * inputs), answers with each one's answer, then times batches on request ("batch N" on stdin, "TIME <wall ns> <cpu ns>" on stdout). The program times itself,
 * so the pipe's latency is not in its figures.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import type { Clock } from "../serialization/harness.js";

/** The modes the C++ program has (the serialization group's read-only and bytes modes). */
export type CppMode = "read" | "bytes";
export const CPP_MODES: readonly CppMode[] = ["read", "bytes"];

export class CppReader {
  private readonly child: ChildProcessWithoutNullStreams;
  private buf = "";
  private readonly lines: string[] = [];
  private waiter: ((line: string | undefined) => void) | undefined;
  private stderr = "";
  private closed = false;

  constructor(binary: string, workload: string, mode: CppMode, files: readonly string[]) {
    this.child = spawn(binary, [workload, mode, ...files], { stdio: ["pipe", "pipe", "pipe"] });
    this.child.stdout.setEncoding("utf8").on("data", (d: string) => {
      this.buf += d;
      for (let i = this.buf.indexOf("\n"); i >= 0; i = this.buf.indexOf("\n")) {
        this.push(this.buf.slice(0, i));
        this.buf = this.buf.slice(i + 1);
      }
    });
    this.child.stderr.setEncoding("utf8").on("data", (d: string) => {
      this.stderr = (this.stderr + d).slice(-4000);
    });
    // A program that exits early makes the next write fail; the read then reports why.
    this.child.stdin.on("error", () => {});
    const end = () => {
      this.closed = true;
      this.push(undefined);
    };
    this.child.on("error", (e) => {
      this.stderr += `\n${e.message}`;
      end();
    });
    this.child.on("close", end);
  }

  private push(line: string | undefined): void {
    const w = this.waiter;
    if (w !== undefined) {
      this.waiter = undefined;
      w(line);
    } else if (line !== undefined) this.lines.push(line);
  }

  private async line(): Promise<string> {
    const l =
      this.lines.shift() ??
      (this.closed ? undefined : await new Promise<string | undefined>((r) => (this.waiter = r)));
    if (l === undefined) throw new Error(`serialization-read exited; stderr:\n${this.stderr}`);
    return l;
  }

  /** Each item's answer, as the program computed it (once, before any timing). */
  async answers(): Promise<bigint[]> {
    const l = await this.line();
    if (!l.startsWith("ANSWERS")) throw new Error(`serialization-read: expected ANSWERS, got ${l}`);
    return l
      .split(" ")
      .slice(1)
      .map((x) => BigInt(x));
  }

  /** Runs `n` ops in the program; resolves to their duration in ms on `clock`. */
  async batch(n: number, clock: Clock): Promise<number> {
    this.child.stdin.write(`batch ${n}\n`);
    const l = await this.line();
    const m = /^TIME (\d+) (\d+)$/.exec(l);
    if (m === null) throw new Error(`serialization-read: ${l}`);
    return Number(clock === "cpu" ? m[2] : m[1]) / 1e6;
  }

  /** Closes stdin (the program exits then); resolves to its exit status. */
  close(): Promise<number | null> {
    return new Promise((resolve) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        resolve(this.child.exitCode);
        return;
      }
      this.child.on("close", (code) => resolve(code));
      this.child.stdin.end();
    });
  }
}
