/**
 * Tables: one per workload, a row per mode, ops/s per contender (median over rounds, spread in
 * parentheses when it exceeds 5%), then capnts's ratio to each other contender, each against the
 * issue 7 target where there is one (✓ met, ✗ missed).
 */
import { cpus } from "node:os";
import type { CaseMode, WorkloadName } from "./cases.js";
import type { Result } from "./harness.js";

export interface WorkloadReport {
  workload: WorkloadName;
  roundTripSize: string;
  readSize: string;
  results: Result[];
}

/** Issue 7 targets: capnts / contender, per mode (undefined: no target). */
function target(workload: WorkloadName, mode: CaseMode, contender: string): number | undefined {
  if (contender === "capnp-es") return 10;
  if (contender === "protobuf-es") return 1;
  if (contender === "JSON" && mode === "read" && workload !== "eval") return 2;
  return undefined;
}

const MODE_LABEL: Record<CaseMode, string> = {
  object: "object (build + read in memory)",
  bytes: "bytes (+ serialize, parse)",
  packed: "packed (+ packing)",
  read: "read-only (parse + read)",
};

function fmtOps(x: number): string {
  if (x >= 100) return Math.round(x).toLocaleString("en-US");
  if (x >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

function fmtRatio(x: number): string {
  return x >= 10 ? `${x.toFixed(0)}x` : `${x.toFixed(2)}x`;
}

export function machineLine(): string {
  const c = cpus();
  return `${c.length} cores, ${c[0]?.model ?? "unknown CPU"}, node ${process.version}`;
}

export function formatReport(
  reports: readonly WorkloadReport[],
  contenders: readonly string[],
  ref: string,
): string {
  const out: string[] = [];
  const others = contenders.filter((c) => c !== ref);
  for (const w of reports) {
    const get = (mode: string, c: string) => w.results.find((r) => r.mode === mode && r.contender === c);
    out.push(`### ${w.workload}`, "");
    out.push(`Round trips: ${w.roundTripSize} per request. Read-only: ${w.readSize}.`, "");
    const head = ["mode", ...contenders.map((c) => `${c} ops/s`), ...others.map((c) => `${ref}/${c}`)];
    out.push(`| ${head.join(" | ")} |`);
    out.push(`|${head.map((_, i) => (i === 0 ? "---" : "---:")).join("|")}|`);
    let footnote = false;
    for (const mode of ["object", "bytes", "packed", "read"] as const) {
      const refR = get(mode, ref);
      if (refR === undefined) continue;
      const cells: string[] = [MODE_LABEL[mode]];
      for (const c of contenders) {
        let r = get(mode, c);
        let mark = "";
        if (r === undefined && mode === "packed") {
          r = get("bytes", c);
          mark = " \\*";
          footnote = true;
        }
        if (r === undefined) cells.push("—");
        else
          cells.push(
            `${fmtOps(r.opsPerSec)}${r.spread > 0.05 ? ` (±${Math.round(r.spread * 100)}%)` : ""}${mark}`,
          );
      }
      for (const c of others) {
        const r = get(mode, c) ?? (mode === "packed" ? get("bytes", c) : undefined);
        if (r === undefined) {
          cells.push("—");
          continue;
        }
        const ratio = refR.opsPerSec / r.opsPerSec;
        const t = target(w.workload, mode, c);
        cells.push(t === undefined ? fmtRatio(ratio) : `${fmtRatio(ratio)} ${ratio >= t ? "✓" : "✗"}`);
      }
      out.push(`| ${cells.join(" | ")} |`);
    }
    if (footnote) out.push("", "\\* no packed encoding: its bytes-mode figure, compared with capnts packed.");
    out.push("");
  }
  out.push(
    "Targets (issue 7): ≥10x capnp-es and ≥1.0x protobuf-es in every mode; read-only ≥2x JSON on carsales and catrank. ✓ met, ✗ missed.",
  );
  return out.join("\n");
}
