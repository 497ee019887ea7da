/**
 * Shared by the interop test files: the toolchain guard (fail in CI, skip elsewhere), the known
 * failures (checks that fail because of a runtime bug or a missing runtime piece, each with its
 * reason; docs/PARITY.md lists the same), and the judging of PASS/FAIL lines.
 */
import assert from "node:assert/strict";
import type { TestContext } from "node:test";
import { fdPassingUnavailableReason } from "capnts/node";
import { buildInterop, INSTALL_HINT, toolchainProblem } from "../build.mjs";

export const problem = await toolchainProblem();

/** `skip` option of the tests that need the C++ fixtures. */
export const skip: string | false =
  problem === null
    ? false
    : `C++ toolchain missing: ${problem}${problem.includes(INSTALL_HINT) ? "" : ` (install with: ${INSTALL_HINT})`}`;

const fdProblem = await fdPassingUnavailableReason();

/**
 * `skip` option of FD passing between TS programs: FD passing needs Linux and the optional
 * `usocket` package; without them the tests skip, unless CAPNTS_REQUIRE_FD_PASSING=1 (then they
 * run and fail), as test/rpc/fd-passing.test.ts does.
 */
export const fdUnavailable: string | false =
  fdProblem !== null && process.env["CAPNTS_REQUIRE_FD_PASSING"] !== "1"
    ? `FD passing unavailable: ${fdProblem}`
    : false;

/** `skip` option of FD passing with a C++ fixture: the toolchain and FD passing. */
export const fdSkip: string | false = skip !== false ? skip : fdUnavailable;

/** Fails when CI is set and the toolchain is missing (a test of its own in every file). */
export function requireToolchainInCi(): void {
  if (problem !== null && process.env["CI"]) assert.fail(problem);
}

let built: Promise<string> | null = null;
/** Builds the fixtures once per process; resolves to their directory. */
export function fixtures(): Promise<string> {
  built ??= buildInterop().then((r) => r.binDir);
  return built;
}

export type Direction = "cpp-client/ts-server" | "ts-client/cpp-server" | "ts-client/ts-server";

/**
 * Checks known to fail, per direction: `"<scenario> <check>"` → why. Set
 * CAPNTS_INTEROP_STRICT=1 to make them fail the run too.
 */
export const KNOWN_FAILURES: Readonly<Record<Direction, Readonly<Record<string, string>>>> = {
  // Fixed by 130253a (embargo-error, stream-drop, client-side stream window); none known now.
  "cpp-client/ts-server": {},
  "ts-client/cpp-server": {},
  "ts-client/ts-server": {},
};

const strict = process.env["CAPNTS_INTEROP_STRICT"] === "1";

/**
 * Asserts that every line is a PASS, except known failures of `direction` (reported as
 * diagnostics). `context` goes into the failure message.
 */
export function judge(
  t: TestContext,
  direction: Direction,
  lines: readonly string[],
  context: () => string,
): void {
  assert.ok(lines.length > 0, `no PASS/FAIL lines\n${context()}`);
  const known = KNOWN_FAILURES[direction];
  const unexpected: string[] = [];
  for (const line of lines) {
    const m = /^(PASS|FAIL) (\S+) (\S+)(?: (.*))?$/.exec(line);
    if (m === null) {
      unexpected.push(`malformed line: ${line}`);
      continue;
    }
    const key = `${m[2]} ${m[3]}`;
    if (m[1] === "PASS") {
      if (known[key] !== undefined)
        t.diagnostic(`known failure now passes (remove it from KNOWN_FAILURES): ${key}`);
      continue;
    }
    if (known[key] !== undefined && !strict) t.diagnostic(`known failure: ${line} -- ${known[key]}`);
    else unexpected.push(line);
  }
  assert.deepEqual(unexpected, [], context());
}
