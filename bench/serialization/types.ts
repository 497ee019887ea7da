/**
 * What every contender implements, per workload. Each function is one complete unit of work,
 * the way the C++ benchmark suite counts it:
 *
 * - `object`: build the request from the input, let the server read it and build the response,
 *   let the client read the response (all in memory, no serialization).
 * - `bytes`: the same, with request and response serialized to bytes and parsed back.
 * - `packed`: the same with Cap'n Proto packing (Cap'n Proto contenders only).
 * - `encode` + `read`: the read-only case; `encode` runs once before timing, `read` parses the
 *   encoded request and does the server's reads (no response).
 *
 * Each returns the answer the client computed (see data.ts for the reference answers), so the
 * benchmark loop and the smoke test can check that the work was really done.
 */
import type { ExpressionIn, ParkingLotIn, SearchResultListIn } from "./data.js";

export type Mode = "object" | "bytes" | "packed";
export const MODES: readonly Mode[] = ["object", "bytes", "packed"];

export interface WorkloadOps<In> {
  object(input: In): number;
  bytes(input: In): number;
  /** Absent for formats without a packed encoding. */
  packed?: ((input: In) => number) | undefined;
  encode(input: In): unknown;
  read(encoded: unknown): number;
}

export interface CatrankOps extends WorkloadOps<SearchResultListIn> {
  /**
   * A round trip in `mode` whose client, instead of the C++ check, returns
   * `catrankResponseDigest` of the whole response (every result's url and snippet, in order):
   * the smoke test uses it to check that the server really scored, sorted and copied.
   */
  digest(input: SearchResultListIn, mode: Mode): number;
}

export interface Contender {
  readonly name: string;
  readonly carsales: WorkloadOps<ParkingLotIn>;
  readonly catrank: CatrankOps;
  readonly eval: WorkloadOps<ExpressionIn>;
}
