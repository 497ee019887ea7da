// The TypeScript client against the C++ servers (issue 5, direction TS → C++): the TS client runs
// the scenarios of test-client.c++ (test/interop/ts/scenarios.ts: same names, same checks) against
// the C++ test-server over TCP loopback and over a Unix socket, and the calculator list against
// the C++ calculator-server (same values, same round trips as the C++ client). The same scenarios
// also run against the TS test server (test/interop/ts/server.ts, its own process), so every
// scenario is seen TS↔TS over a socket too.
//
// Run: node scripts/run-tests.mjs interop/ts-client
// Needs g++, capnp and libcapnp-dev: fails when CI is set and they are missing, skips otherwise.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Runtime } from "capnts/node";
import { Calculator } from "../../examples/calculator/calculator.capnp.js";
import { TestBootstrap } from "./gen/test.capnp.js";
import { CALCULATOR_RESULTS, runCalculatorClient } from "./ts/calculator.js";
import {
  type Direction,
  fdSkip,
  fdUnavailable,
  fixtures,
  judge,
  requireToolchainInCi,
  skip,
} from "./ts/harness.js";
import { type CountedStream, connectSocket, countingNet, openFdCount, toRuntimeAddress } from "./ts/net.js";
import { killAll, type RunningServer, startServer, startTsServer } from "./ts/process.js";
import { type Env, FD_SCENARIOS, runScenario, SCENARIOS, TS_CLIENT_SCENARIOS } from "./ts/scenarios.js";

let binDir = "";
let tmp = "";

before(
  async () => {
    tmp = mkdtempSync(join(tmpdir(), "capnts-interop-"));
    if (skip !== false) return;
    binDir = await fixtures();
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

/**
 * A client runtime whose connections report their stream (write counts, half-close). With
 * `maxFds`, it connects over FD-passing Unix sockets with that `maxFdsPerMessage`.
 */
function clientEnv(address: () => string, maxFds?: number): { env: Env; rt: Runtime } {
  let last: CountedStream | null = null;
  const rt = Runtime.init({ net: countingNet((s) => (last = s), maxFds !== undefined) });
  const env: Env = {
    waitMs: 10_000,
    async connect() {
      last = null;
      const options = maxFds !== undefined ? { maxFdsPerMessage: maxFds } : {};
      const client = await rt.connect(toRuntimeAddress(address()), options);
      const stream = last as CountedStream | null;
      assert.ok(stream !== null);
      return {
        client,
        stream,
        bootstrap: client.bootstrap(TestBootstrap.Client),
        close: () => client.close(),
      };
    },
    rawConnect: () => connectSocket(address()),
  };
  return { env, rt };
}

const targets: { server: "C++" | "TS"; transport: "TCP" | "Unix socket" }[] = [
  { server: "C++", transport: "TCP" },
  { server: "C++", transport: "Unix socket" },
  { server: "TS", transport: "TCP" },
  { server: "TS", transport: "Unix socket" },
];

for (const { server: kind, transport } of targets) {
  const direction: Direction = kind === "C++" ? "ts-client/cpp-server" : "ts-client/ts-server";
  describe(`TS client against the ${kind} test server over ${transport}`, {
    skip: kind === "C++" ? skip : false,
  }, () => {
    let server: RunningServer | null = null;
    let rt: Runtime | null = null;
    let env: Env;
    before(
      async () => {
        const listen = transport === "TCP" ? "tcp:127.0.0.1:0" : `unix:${join(tmp, `${kind}-test.sock`)}`;
        const args = ["--listen", listen, "--timeout-ms", "240000"];
        server =
          kind === "C++" ? await startServer(join(binDir, "test-server"), args) : await startTsServer(args);
        ({ env, rt } = clientEnv(() => server!.address));
      },
      { timeout: 60_000 },
    );
    after(async () => {
      await rt?.shutdown();
      if (server !== null)
        assert.equal(await server.stop(), 0, `server did not exit cleanly\n${server.stderr()}`);
    });

    // Each scenario on its own connection (its own bootstrap and counters on the server).
    for (const scenario of [...SCENARIOS, ...TS_CLIENT_SCENARIOS]) {
      test(scenario.name, { timeout: 70_000 }, async (t) => {
        const lines = await runScenario(scenario, env);
        judge(t, direction, lines, () => `${lines.join("\n")}\nserver stderr:\n${server!.stderr()}`);
      });
    }
  });
}

// FD passing (issue 6): each FD scenario against a server started with --max-fds equal to the
// limit the scenario connects with, as the C++ tests give both ends the same limit.
for (const kind of ["C++", "TS"] as const) {
  const direction: Direction = kind === "C++" ? "ts-client/cpp-server" : "ts-client/ts-server";
  describe(`TS client against the ${kind} test server over a Unix socket passing FDs`, {
    skip: kind === "C++" ? fdSkip : fdUnavailable,
  }, () => {
    for (const scenario of FD_SCENARIOS) {
      test(`${scenario.name} (${scenario.mirrors}; --max-fds ${scenario.maxFds})`, {
        timeout: 70_000,
      }, async (t) => {
        const listen = `unix:${join(tmp, `${kind}-fd-${scenario.maxFds}.sock`)}`;
        const args = ["--listen", listen, "--max-fds", String(scenario.maxFds), "--timeout-ms", "60000"];
        const server =
          kind === "C++" ? await startServer(join(binDir, "test-server"), args) : await startTsServer(args);
        const { env, rt } = clientEnv(() => server.address, scenario.maxFds);
        env.serverFdCount = () => (server.proc.pid === undefined ? null : openFdCount(server.proc.pid));
        try {
          const lines = await runScenario(scenario, env);
          judge(t, direction, lines, () => `${lines.join("\n")}\nserver stderr:\n${server.stderr()}`);
        } finally {
          await rt.shutdown();
          assert.equal(await server.stop(), 0, `server did not exit cleanly\n${server.stderr()}`);
        }
      });
    }
  });
}

for (const { server: kind, transport } of targets) {
  test(`TS calculator client against the ${kind} calculator server over ${transport}: same values and round trips as the C++ client`, {
    skip: kind === "C++" ? skip : false,
    timeout: 90_000,
  }, async () => {
    const listen = transport === "TCP" ? "tcp:127.0.0.1:0" : `unix:${join(tmp, `${kind}-calc.sock`)}`;
    const server =
      kind === "C++"
        ? await startServer(join(binDir, "calculator-server"), ["--listen", listen, "--timeout-ms", "80000"])
        : await startTsServer(["--listen", listen, "--serve", "calculator", "--timeout-ms", "80000"]);
    const rt = Runtime.init();
    try {
      const client = await rt.connect(toRuntimeAddress(server.address));
      const calc = client.bootstrap(Calculator.Client);
      const lines = await runCalculatorClient(calc);
      calc.close();
      assert.deepEqual(lines, CALCULATOR_RESULTS, `server stderr:\n${server.stderr()}`);
    } finally {
      await rt.shutdown();
      assert.equal(await server.stop(), 0, server.stderr());
    }
  });
}
