/**
 * The tests Deno and Bun both pass (deno.test.ts, bun.test.ts): the same capnts code runs there
 * and interoperates with Node, as client and as server, over TCP (the runtime's node:net) and
 * over WebSocket (the runtime's own WebSocket and HTTP server).
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { nodeNet, Runtime } from "capnts/node";
import { WebSocket } from "ws";
import { Calculator_Client } from "../../examples/calculator/calculator.capnp.js";
import { countingStream } from "../../examples/calculator/demo.js";
import { checkClientReport, checkDropReport, checkServerReport, withNodeWebSocketServer } from "./checks.js";
import { haveRuntime, programCommand, result, runtimeVersion, start, stopAll } from "./harness.js";
import {
  CalculatorHost,
  type ClientReport,
  callWhileServerGoes,
  type DropReport,
  overWebSocket,
  runScenario,
  type ServerReport,
  webSocketClient,
} from "./programs/scenario.js";
import { serializeRoundTrip } from "./programs/serialize.js";

const PROGRAM = "test/runtimes/programs/main.ts";
/** Each test's bound; a runtime process never outlives it. */
const LIMIT = 30_000;

export function runtimeSuite(name: "deno" | "bun"): void {
  describe(`${name} (${runtimeVersion(name) ?? "not installed"})`, () => {
    after(stopAll);

    test("serialization: the same bytes as Node, read back in both encodings", {
      timeout: LIMIT,
    }, async (t) => {
      if (!haveRuntime(t, name)) return;
      const p = start(programCommand(name, PROGRAM, ["serialize"]), LIMIT);
      const want = serializeRoundTrip();
      assert.deepEqual(await result(p), want);
      assert.equal(want.fromFrame, want.fromPacked);
      assert.equal((await p.exited).code, 0, p.output());
    });

    test(`TCP (node:net): ${name} client → Node server`, { timeout: LIMIT }, async (t) => {
      if (!haveRuntime(t, name)) return;
      const host = new CalculatorHost(Runtime.init());
      try {
        const { address } = await host.server.listen("127.0.0.1:0");
        const p = start(programCommand(name, PROGRAM, ["tcp-client", address]), LIMIT);
        checkClientReport(await result<ClientReport>(p));
        assert.equal((await p.exited).code, 0, p.output());
        checkServerReport(await host.report());
      } finally {
        await host.close();
      }
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
      await withNodeWebSocketServer(async (url) => {
        const p = start(programCommand(name, PROGRAM, ["ws-client", url]), LIMIT);
        checkClientReport(await result<ClientReport>(p));
        assert.equal((await p.exited).code, 0, p.output());
      });
    });

    const own = name === "deno" ? "Deno.serve" : "Bun.serve";
    test(`WebSocket: Node client → ${name} server (${own})`, { timeout: LIMIT }, async (t) => {
      if (!haveRuntime(t, name)) return;
      const p = start(programCommand(name, PROGRAM, ["ws-server"]), LIMIT);
      const port = (await p.line(/^LISTENING (\d+)$/))[1]!;
      // Node 20 has no global WebSocket: the ws package's client, which capnts/websocket takes.
      checkClientReport(await webSocketClient(`ws://127.0.0.1:${port}/`, WebSocket));
      checkServerReport(await result<ServerReport>(p));
      assert.equal((await p.exited).code, 0, `the server exits by itself:\n${p.output()}`);
    });

    test(`WebSocket: the Node server goes away mid-call → the ${name} client's call fails disconnected`, {
      timeout: LIMIT,
    }, async (t) => {
      if (!haveRuntime(t, name)) return;
      await withNodeWebSocketServer(async (url, drop) => {
        const p = start(programCommand(name, PROGRAM, ["ws-drop", url]), LIMIT);
        await p.line(/^PENDING$/);
        await drop();
        checkDropReport(await result<DropReport>(p));
        assert.equal((await p.exited).code, 0, p.output());
      });
    });

    test(`WebSocket: the ${name} server is killed mid-call → the Node client's call fails disconnected`, {
      timeout: LIMIT,
    }, async (t) => {
      if (!haveRuntime(t, name)) return;
      const p = start(programCommand(name, PROGRAM, ["ws-server"]), LIMIT);
      const port = (await p.line(/^LISTENING (\d+)$/))[1]!;
      const report = await overWebSocket(`ws://127.0.0.1:${port}/`, WebSocket, (conn) =>
        callWhileServerGoes(conn, () => p.proc.kill("SIGKILL")),
      );
      checkDropReport(report);
      assert.equal((await p.exited).signal, "SIGKILL");
    });
  });
}
