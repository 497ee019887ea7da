/**
 * The tests Deno and Bun both pass (deno.test.ts, bun.test.ts): the same capnts code runs there
 * and interoperates with Node, as client and as server, over each transport.
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { nodeNet, Runtime } from "capnts/node";
import { listenWebSocket } from "capnts/ws";
import { WebSocket } from "ws";
import { Calculator_Client } from "../../examples/calculator/calculator.capnp.js";
import { countingStream } from "../../examples/calculator/demo.js";
import { calculatorServer } from "../../examples/calculator/server.js";
import { haveRuntime, programCommand, result, runtimeVersion, start, stopAll } from "./harness.js";
import {
  type ClientReport,
  liveServers,
  runScenario,
  type ServerReport,
  serverReport,
} from "./programs/scenario.js";
import { serializeRoundTrip } from "./programs/serialize.js";
import { CalculatorHost, webSocketClient } from "./programs/ws.js";

const PROGRAM = "test/runtimes/programs/main.ts";
/** Each test's bound; a runtime process never outlives it. */
const LIMIT = 30_000;

/** What the calculator client must have seen, wherever it ran. */
export function checkClientReport(r: ClientReport): void {
  assert.equal(r.steps.length, 7, "every step of the calculator client ran");
  for (const s of r.steps) assert.ok(Math.abs(s.value - s.expected) < 1e-9, `${s.name}: ${s.value}`);
  // Pipelining: a step whose calls build on results not yet returned takes one round trip; the
  // same computation awaiting every call takes one per call.
  for (const s of r.steps) {
    if (s.name.startsWith("the same")) assert.equal(s.roundTrips, 5, s.name);
    else assert.equal(s.roundTrips, 1, `${s.name} is pipelined: one round trip`);
  }
  assert.ok(
    r.steps.some((s) => s.name.startsWith("client-side pow") && s.value === 512),
    "the callback ran",
  );
  assert.deepEqual(
    { ...r.error, message: undefined },
    { rpcError: true, type: "failed", message: undefined },
    "a server-side exception arrives as RpcError(failed)",
  );
  assert.match(r.error!.message, /Wrong number of parameters/);
}

/** What a server must have left once its client went: nothing. */
export function checkServerReport(r: ServerReport): void {
  assert.deepEqual(r, { leaked: 0, connections: 0 }, "the server released everything made for the client");
}

export function runtimeSuite(name: "deno" | "bun"): void {
  describe(`${name} (${runtimeVersion(name) ?? "not installed"})`, () => {
    after(stopAll);

    test("serialization: the same bytes as Node, read back in both encodings", {
      timeout: LIMIT,
    }, async (t) => {
      if (!haveRuntime(t, name)) return;
      const p = start(programCommand(name, PROGRAM, ["serialize"]), LIMIT);
      const got = await result<ReturnType<typeof serializeRoundTrip>>(p);
      const want = serializeRoundTrip();
      assert.deepEqual(got, want);
      assert.equal(want.fromFrame, want.fromPacked);
      assert.equal((await p.exited).code, 0, p.output());
    });

    test(`TCP (node:net): ${name} client → Node server`, { timeout: LIMIT }, async (t) => {
      if (!haveRuntime(t, name)) return;
      await using rt = Runtime.init();
      // The bootstrap capability is ours (alive before and after): what the client makes must go.
      using calculator = new Calculator_Client(calculatorServer());
      const baseline = liveServers();
      const server = rt.newServer(calculator);
      const { address } = await server.listen("127.0.0.1:0");
      const p = start(programCommand(name, PROGRAM, ["tcp-client", address]), LIMIT);
      checkClientReport(await result<ClientReport>(p));
      assert.equal((await p.exited).code, 0, p.output());
      checkServerReport(await serverReport(baseline, () => server.connections.length));
    });

    test(`TCP (node:net): Node client → ${name} server`, { timeout: LIMIT }, async (t) => {
      if (!haveRuntime(t, name)) return;
      const p = start(programCommand(name, PROGRAM, ["tcp-server"]), LIMIT);
      const port = (await p.line(/^LISTENING (\d+)$/))[1]!;
      await Runtime.run(async (rt) => {
        const stream = countingStream(await nodeNet.connect(`127.0.0.1:${port}`));
        const client = rt.connectStream(stream);
        using calc = client.bootstrap(Calculator_Client);
        checkClientReport(await runScenario(calc, stream));
      });
      checkServerReport(await result<ServerReport>(p));
      assert.equal((await p.exited).code, 0, `the server exits by itself:\n${p.output()}`);
    });

    test(`WebSocket: ${name} client → Node server (capnts/ws)`, { timeout: LIMIT }, async (t) => {
      if (!haveRuntime(t, name)) return;
      const host = new CalculatorHost();
      const listener = await listenWebSocket(host.server, { host: "127.0.0.1", port: 0 });
      try {
        const p = start(programCommand(name, PROGRAM, ["ws-client", listener.url]), LIMIT);
        checkClientReport(await result<ClientReport>(p));
        assert.equal((await p.exited).code, 0, p.output());
        checkServerReport(await host.report());
      } finally {
        await listener.close();
        await host.close();
      }
    });

    test(`WebSocket: Node client → ${name} server (${name === "deno" ? "Deno.serve" : "Bun.serve"})`, {
      timeout: LIMIT,
    }, async (t) => {
      if (!haveRuntime(t, name)) return;
      const p = start(programCommand(name, PROGRAM, ["ws-server"]), LIMIT);
      const port = (await p.line(/^LISTENING (\d+)$/))[1]!;
      // Node 20 has no global WebSocket: the ws package's client, which capnts/websocket takes.
      checkClientReport(await webSocketClient(`ws://127.0.0.1:${port}/`, WebSocket));
      checkServerReport(await result<ServerReport>(p));
      assert.equal((await p.exited).code, 0, `the server exits by itself:\n${p.output()}`);
    });
  });
}
