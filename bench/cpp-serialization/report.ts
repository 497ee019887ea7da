/**
 * The table of the C++ comparison: per workload and mode, capnts and C++ ops/s (medians over
 * rounds, spread in parentheses above 5%), and capnts's ratio to C++; read-only against the
 * issue 7 target, "read-only within 5x of C++" (capnts/C++ ≥ 0.2). Bytes mode has no target.
 */
import type { WorkloadName } from "../serialization/cases.js";
import type { CppMode } from "./cpp.js";

export interface Timing {
  /** Median ops/s over the rounds. */
  opsPerSec: number;
  /** Median absolute deviation over the median, as a fraction. */
  spread: number;
  samples: number[];
}

export interface PairReport {
  workload: WorkloadName;
  mode: CppMode;
  /** What one op's request holds (cases.ts's readSize or roundTripSize). */
  size: string;
  /** Mean size of the framed messages (bytes mode: of the requests), in bytes. */
  meanBytes: number;
  messages: number;
  capnts: Timing;
  cpp: Timing;
}

/** Issue 7: capnts read-only within 5x of C++. */
export const TARGET = 1 / 5;

const MODE_LABEL: Record<CppMode, string> = {
  read: "read-only (parse + read)",
  bytes: "bytes (build, serialize, parse, read; both ways)",
};

function fmtOps(x: number): string {
  if (x >= 100) return Math.round(x).toLocaleString("en-US");
  if (x >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

function fmtTiming(t: Timing): string {
  return `${fmtOps(t.opsPerSec)}${t.spread > 0.05 ? ` (±${Math.round(t.spread * 100)}%)` : ""}`;
}

export function formatReport(reports: readonly PairReport[]): string {
  const out: string[] = [];
  out.push(
    "| workload | mode | request | capnts ops/s | C++ ops/s | capnts/C++ | C++/capnts |",
    "|---|---|---|---:|---:|---:|---:|",
  );
  for (const r of reports) {
    const ratio = r.capnts.opsPerSec / r.cpp.opsPerSec;
    const kb = (r.meanBytes / 1024).toFixed(1);
    const mark = r.mode === "read" ? ` ${ratio >= TARGET ? "✓" : "✗"}` : "";
    out.push(
      `| ${r.workload} | ${MODE_LABEL[r.mode]} | ${r.size}, ${kb} KiB (mean of ${r.messages}) | ${fmtTiming(r.capnts)} | ${fmtTiming(r.cpp)} | ${ratio.toFixed(2)}x${mark} | ${(1 / ratio).toFixed(1)}x |`,
    );
  }
  out.push(
    "",
    "Both sides work on the same framed messages (capnts encodeFrame output; C++ FlatArrayMessageReader over a word-aligned copy; bytes mode: the same round-trip inputs), and their answers are checked equal. Target (issue 7): capnts read-only within 5x of C++, i.e. capnts/C++ ≥ 0.20x. ✓ met, ✗ missed.",
  );
  return out.join("\n");
}
