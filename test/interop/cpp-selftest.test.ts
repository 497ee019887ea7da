// The C++ interop fixtures tested against each other (C++ client <-> C++ server), so that the
// fixtures are known good before they judge the TypeScript implementation: test-client runs every
// scenario against test-server over TCP and over a Unix socket, and calculator-client gets the
// expected values from calculator-server. Also checks the process conventions (LISTENING line,
// exit on stdin EOF, hard timeout).
//
// Run: node scripts/run-tests.mjs cpp-selftest
// Needs g++, capnp and libcapnp-dev: fails when CI is set and they are missing, skips otherwise.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { buildInterop, toolchainProblem } from "./build.mjs";
import { killAll, runProgram, startServer } from "./ts/process.js";
import { FD_SCENARIOS } from "./ts/scenarios.js";

const problem = await toolchainProblem();
const skip = problem === null ? false : `C++ toolchain missing: ${problem}`;

/** The lines calculator-client prints against a correct Calculator (see calculator-client.c++). */
const CALCULATOR_RESULTS = [
  "RESULT literal 123 1",
  "RESULT add 168 1",
  "RESULT nested 101 1",
  "RESULT previous-result-plus 27 1",
  "RESULT previous-result-times 120 1",
  "RESULT def-function-f 1234 1",
  "RESULT def-function-g 4244 1",
  "RESULT client-function 128 1",
  "RESULT nested-awaited 101 5",
];

let binDir = "";
let tmp = "";

function bin(name: string): string {
  return join(binDir, name);
}

before(
  async () => {
    if (problem !== null) return;
    ({ binDir } = await buildInterop());
    tmp = mkdtempSync(join(tmpdir(), "capnts-interop-"));
  },
  { timeout: 300_000 },
);

after(() => {
  killAll();
  if (tmp !== "") rmSync(tmp, { recursive: true, force: true });
});

test("CI must have the C++ toolchain", () => {
  // On a user's machine these tests skip; in CI a missing toolchain is a failure.
  if (problem !== null && process.env["CI"]) assert.fail(problem);
});

/** Scenario names, from `test-client --list`. */
async function scenarioNames(): Promise<string[]> {
  const r = await runProgram(bin("test-client"), ["--list"], 10_000);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout
    .trim()
    .split("\n")
    .map((l) => l.split(/\s+/)[0]!);
}

async function runAllScenarios(listen: string): Promise<void> {
  const server = await startServer(bin("test-server"), ["--listen", listen, "--timeout-ms", "120000"]);
  try {
    const r = await runProgram(
      bin("test-client"),
      ["--connect", server.address, "--scenario", "all", "--timeout-ms", "100000"],
      110_000,
    );
    const lines = r.stdout.split("\n").filter((l) => l !== "");
    const notPass = lines.filter((l) => !/^PASS \S+ \S+$/.test(l));
    assert.deepEqual(
      notPass,
      [],
      `test-client stderr:\n${r.stderr}\ntest-server stderr:\n${server.stderr()}`,
    );
    assert.equal(r.code, 0, `test-client exited with ${r.code ?? r.signal}\n${r.stderr}`);
    const seen = new Set(lines.map((l) => l.split(" ")[1]));
    for (const name of await scenarioNames())
      if (!FD_NAMES.has(name)) assert.ok(seen.has(name), `scenario ${name} reported nothing`);
  } finally {
    assert.equal(await server.stop(), 0, `test-server did not exit cleanly on stdin EOF\n${server.stderr()}`);
  }
}

test("C++ test-client against C++ test-server over TCP: every check passes", {
  skip,
  timeout: 150_000,
}, async () => {
  await runAllScenarios("tcp:127.0.0.1:0");
});

test("C++ test-client against C++ test-server over a Unix socket: every check passes", {
  skip,
  timeout: 150_000,
}, async () => {
  await runAllScenarios(`unix:${join(tmp, "test.sock")}`);
});

/** The FD scenarios (not in `all`): each needs a server started with its --max-fds. */
const FD_NAMES = new Set(FD_SCENARIOS.map((s) => s.name));

for (const { name, maxFds } of FD_SCENARIOS) {
  test(`C++ test-client ${name} against C++ test-server --max-fds ${maxFds} over a Unix socket: every check passes`, {
    skip,
    timeout: 60_000,
  }, async () => {
    const listen = `unix:${join(tmp, `fd-${maxFds}.sock`)}`;
    const server = await startServer(bin("test-server"), ["--listen", listen, "--max-fds", String(maxFds)]);
    try {
      const r = await runProgram(
        bin("test-client"),
        ["--connect", server.address, "--scenario", name],
        30_000,
      );
      const lines = r.stdout.split("\n").filter((l) => l !== "");
      assert.ok(lines.length >= 5, r.stdout);
      const context = `${r.stdout}\ntest-client stderr:\n${r.stderr}\ntest-server stderr:\n${server.stderr()}`;
      assert.deepEqual(
        lines.filter((l) => !/^PASS \S+ \S+$/.test(l)),
        [],
        context,
      );
      assert.equal(r.code, 0, context);
    } finally {
      assert.equal(await server.stop(), 0, server.stderr());
    }
  });
}

test("test-server --max-fds: refused for TCP and out of range (usage error, status 2)", {
  skip,
}, async () => {
  for (const args of [
    ["--listen", "tcp:127.0.0.1:0", "--max-fds", "2"],
    ["--listen", `unix:${join(tmp, "bad.sock")}`, "--max-fds", "254"],
    ["--listen", `unix:${join(tmp, "bad.sock")}`, "--max-fds", "x"],
  ]) {
    const r = await runProgram(bin("test-server"), args, 10_000);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, /--max-fds/);
  }
});

for (const [transport, listen] of [
  ["TCP", "tcp:127.0.0.1:0"],
  ["a Unix socket", "unix"],
] as const) {
  test(`C++ calculator-client against C++ calculator-server over ${transport}: values and round trips`, {
    skip,
    timeout: 60_000,
  }, async () => {
    const address = listen === "unix" ? `unix:${join(tmp, "calculator.sock")}` : listen;
    const server = await startServer(bin("calculator-server"), ["--listen", address]);
    try {
      const r = await runProgram(bin("calculator-client"), ["--connect", server.address], 30_000);
      assert.deepEqual(
        r.stdout.split("\n").filter((l) => l !== ""),
        CALCULATOR_RESULTS,
        r.stderr,
      );
      assert.equal(r.code, 0, r.stderr);
    } finally {
      assert.equal(await server.stop(), 0, server.stderr());
    }
  });
}

test("fixture servers: real port in LISTENING, exit 0 on stdin EOF, 124 on --timeout-ms", {
  skip,
  timeout: 30_000,
}, async () => {
  const server = await startServer(bin("test-server"), ["--listen", "tcp:127.0.0.1:0"]);
  const m = /^tcp:127\.0\.0\.1:(\d+)$/.exec(server.address);
  assert.ok(m !== null && Number(m[1]) > 0, server.address);
  assert.equal(await server.stop(), 0);

  const started = Date.now();
  const timedOut = await startServer(bin("calculator-server"), [
    "--listen",
    "tcp:127.0.0.1:0",
    "--timeout-ms",
    "300",
  ]);
  const code = await new Promise<number | null>((resolve) => {
    if (timedOut.proc.exitCode !== null) resolve(timedOut.proc.exitCode);
    else timedOut.proc.on("close", (c) => resolve(c));
  });
  assert.equal(code, 124);
  assert.ok(Date.now() - started < 10_000);
  timedOut.proc.stdin?.end();
});
