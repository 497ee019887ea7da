// C++ clients against the TypeScript servers (issue 5, direction C++ → TS): the C++ test-client
// runs each of its scenarios (test/interop/README.md) against test/interop/ts/server.ts over TCP
// loopback and over a Unix socket, and every check must PASS; calculator-client must print the same
// values and round trips against the TS calculator as against the C++ one. Also checks the TS
// server's process conventions (LISTENING line, exit 0 on stdin EOF, 124 on --timeout-ms).
//
// Run: node scripts/run-tests.mjs interop/cpp-client
// Needs g++, capnp and libcapnp-dev: fails when CI is set and they are missing, skips otherwise.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { CALCULATOR_RESULTS } from "./ts/calculator.js";
import { fdSkip, fixtures, judge, requireToolchainInCi, skip } from "./ts/harness.js";
import { openFdCount } from "./ts/net.js";
import { killAll, type RunningServer, runProgram, startTsServer, tsServerCommand } from "./ts/process.js";
import { CPP_SCENARIO_NAMES, FD_SCENARIOS } from "./ts/scenarios.js";

let binDir = "";
let tmp = "";

before(
  async () => {
    if (skip !== false) return;
    binDir = await fixtures();
    tmp = mkdtempSync(join(tmpdir(), "capnts-interop-"));
  },
  { timeout: 300_000 },
);

after(() => {
  killAll();
  if (tmp !== "") rmSync(tmp, { recursive: true, force: true });
});

test("CI must have the C++ toolchain", () => {
  requireToolchainInCi();
});

/** Scenario names, from `test-client --list`. */
async function scenarioNames(): Promise<string[]> {
  const r = await runProgram(join(binDir, "test-client"), ["--list"], 10_000);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout
    .trim()
    .split("\n")
    .map((l) => l.split(/\s+/)[0]!);
}

for (const transport of ["TCP", "Unix socket"] as const) {
  describe(`C++ test-client against the TS test server over ${transport}`, { skip }, () => {
    let server: RunningServer | null = null;
    before(
      async () => {
        const listen = transport === "TCP" ? "tcp:127.0.0.1:0" : `unix:${join(tmp, "ts-test.sock")}`;
        server = await startTsServer(["--listen", listen, "--timeout-ms", "240000"]);
      },
      { timeout: 60_000 },
    );
    after(async () => {
      if (server !== null) {
        const code = await server.stop();
        assert.equal(code, 0, `TS server did not exit cleanly on stdin EOF\n${server.stderr()}`);
      }
    });

    test("test-client --list names the scenarios run here", async () => {
      assert.deepEqual(await scenarioNames(), [...CPP_SCENARIO_NAMES, ...FD_SCENARIOS.map((s) => s.name)]);
    });

    // Each scenario on its own connection (its own bootstrap and counters on the server).
    for (const name of CPP_SCENARIO_NAMES) {
      test(name, { timeout: 70_000 }, async (t) => {
        const r = await runProgram(
          join(binDir, "test-client"),
          ["--connect", server!.address, "--scenario", name, "--wait-ms", "10000", "--timeout-ms", "60000"],
          65_000,
        );
        const lines = r.stdout.split("\n").filter((l) => l !== "");
        judge(
          t,
          "cpp-client/ts-server",
          lines,
          () =>
            `test-client exit ${r.code ?? r.signal}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}\nTS server stderr:\n${server!.stderr()}`,
        );
        assert.ok(r.code === 0 || r.code === 1, `test-client exited with ${r.code ?? r.signal}\n${r.stderr}`);
      });
    }
  });
}

/** Polls until `count()` is `expected` or 5 s passed; returns the last count. */
async function settleFdCount(count: () => number | null, expected: number | null): Promise<number | null> {
  let now = count();
  for (let i = 0; i < 250 && now !== expected; i++) {
    await new Promise((r) => setTimeout(r, 20));
    now = count();
  }
  return now;
}

// FD passing (issue 6): the C++ client's FD scenarios against a TS server started with --max-fds
// equal to the limit the scenario connects with (test-client.c++ runFdScenario). The C++ client
// reads its pipes to EOF, which comes only once the TS server closed the write ends it received;
// here we also check that the TS server has no more FDs open than before the client came.
describe("C++ test-client against the TS test server over a Unix socket passing FDs", {
  skip: fdSkip,
}, () => {
  for (const scenario of FD_SCENARIOS) {
    test(`${scenario.name} (${scenario.mirrors}; --max-fds ${scenario.maxFds})`, {
      timeout: 70_000,
    }, async (t) => {
      const listen = `unix:${join(tmp, `ts-fd-${scenario.maxFds}.sock`)}`;
      const server = await startTsServer(["--listen", listen, "--max-fds", String(scenario.maxFds)]);
      try {
        const fds = () => (server.proc.pid === undefined ? null : openFdCount(server.proc.pid));
        const before = fds();
        const r = await runProgram(
          join(binDir, "test-client"),
          ["--connect", server.address, "--scenario", scenario.name, "--wait-ms", "10000"],
          65_000,
        );
        const lines = r.stdout.split("\n").filter((l) => l !== "");
        const context = () =>
          `test-client exit ${r.code ?? r.signal}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}\nTS server stderr:\n${server.stderr()}`;
        judge(t, "cpp-client/ts-server", lines, context);
        assert.equal(r.code, 0, context());
        assert.equal(
          await settleFdCount(fds, before),
          before,
          "the TS server closed every FD it got or made",
        );
      } finally {
        assert.equal(await server.stop(), 0, server.stderr());
      }
    });
  }
});

for (const transport of ["TCP", "Unix socket"] as const) {
  test(`C++ calculator-client against the TS calculator over ${transport}: same values and round trips`, {
    skip,
    timeout: 90_000,
  }, async () => {
    const listen = transport === "TCP" ? "tcp:127.0.0.1:0" : `unix:${join(tmp, "ts-calc.sock")}`;
    const server = await startTsServer([
      "--listen",
      listen,
      "--serve",
      "calculator",
      "--timeout-ms",
      "80000",
    ]);
    try {
      const r = await runProgram(join(binDir, "calculator-client"), ["--connect", server.address], 30_000);
      assert.deepEqual(
        r.stdout.split("\n").filter((l) => l !== ""),
        CALCULATOR_RESULTS,
        `${r.stderr}\nTS server stderr:\n${server.stderr()}`,
      );
      assert.equal(r.code, 0, r.stderr);
    } finally {
      assert.equal(await server.stop(), 0, server.stderr());
    }
  });
}

test("C++ calculator-client against the demo's calculator server (examples/calculator/server.ts) over TCP: same values and round trips", {
  skip,
  timeout: 90_000,
}, async () => {
  const server = await startTsServer([
    "--listen",
    "tcp:127.0.0.1:0",
    "--serve",
    "demo-calculator",
    "--timeout-ms",
    "80000",
  ]);
  try {
    const r = await runProgram(join(binDir, "calculator-client"), ["--connect", server.address], 30_000);
    assert.deepEqual(
      r.stdout.split("\n").filter((l) => l !== ""),
      CALCULATOR_RESULTS,
      `${r.stderr}\nTS server stderr:\n${server.stderr()}`,
    );
    assert.equal(r.code, 0, r.stderr);
  } finally {
    assert.equal(await server.stop(), 0, server.stderr());
  }
});

test("TS server conventions: real port in LISTENING, nothing else on stdout, exit 0 on stdin EOF, 124 on --timeout-ms", {
  timeout: 60_000,
}, async () => {
  // Needs no C++ toolchain.
  const server = await startTsServer(["--listen", "tcp:127.0.0.1:0"]);
  const m = /^tcp:127\.0\.0\.1:(\d+)$/.exec(server.address);
  assert.ok(m !== null && Number(m[1]) > 0, server.address);
  assert.equal(await server.stop(), 0, server.stderr());
  assert.equal(server.stdout(), `LISTENING ${server.address}\n`);

  const started = Date.now();
  const timedOut = await startTsServer(["--listen", "tcp:127.0.0.1:0", "--timeout-ms", "1500"]);
  assert.equal(await timedOut.exited, 124, timedOut.stderr());
  assert.match(timedOut.stderr(), /TIMEOUT after 1500 ms/);
  assert.ok(Date.now() - started < 30_000);

  // --max-fds: Unix sockets only, 0..253 (as the C++ servers); a usage error otherwise.
  for (const extra of [
    ["--listen", "tcp:127.0.0.1:0", "--max-fds", "2"],
    ["--listen", "unix:capnts-unused.sock", "--max-fds", "254"],
    ["--listen", "unix:capnts-unused.sock", "--max-fds", "x"],
  ]) {
    const [file, argv] = tsServerCommand(extra);
    const r = await runProgram(file, argv, 30_000);
    assert.equal(r.code, 2, `${extra.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, /--max-fds/);
  }
});
