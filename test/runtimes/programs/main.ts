/**
 * The program the Deno and Bun tests run (test/runtimes/harness.ts programCommand):
 *
 *   main.ts serialize              print RESULT with serializeRoundTrip()
 *   main.ts tcp-client HOST:PORT   run the calculator scenario against a server, print RESULT
 *   main.ts tcp-server             serve the calculator on a loopback port (LISTENING PORT) to one
 *                                  client; when it has gone print RESULT (what is left) and exit
 *
 *   main.ts ws-client URL          the scenario over WebSocket (the runtime's WebSocket)
 *   main.ts ws-drop URL            a call pending when the server goes away (PENDING: now), RESULT
 *   main.ts ws-server              the calculator over WebSocket from the runtime's own HTTP server
 *                                  (Deno.serve, Bun.serve), one client, then RESULT, as tcp-server
 *
 * The TCP commands use capnts/node, that is the runtime's node:net compatibility; the WebSocket
 * ones capnts/websocket only.
 */
import { nodeNet, Runtime } from "capnts/node";
import { type WebSocketLike, WebSocketTransport } from "capnts/websocket";
import { Calculator_Client } from "../../../examples/calculator/calculator.capnp.js";
import { countingStream } from "../../../examples/calculator/demo.js";
import { type BunServerWebSocket, BunWebSocket } from "./bun-websocket.js";
import {
  CalculatorHost,
  callWhileServerGoes,
  overWebSocket,
  runScenario,
  webSocketClient,
} from "./scenario.js";
import { serializeRoundTrip } from "./serialize.js";

/** The parts of Deno's and Bun's own APIs used here (no type packages for them in this repo). */
interface DenoApi {
  args: string[];
  serve(
    options: { hostname: string; port: number; onListen(a: { port: number }): void },
    handler: (req: Request) => Response,
  ): { shutdown(): Promise<void> };
  upgradeWebSocket(req: Request): { socket: WebSocketLike; response: Response };
}
interface BunApi {
  serve(options: {
    hostname: string;
    port: number;
    fetch(
      req: Request,
      server: { upgrade(req: Request, o: { data: unknown }): boolean },
    ): Response | undefined;
    websocket: {
      open(ws: BunServerWebSocket & { data: { socket: BunWebSocket | null } }): void;
      message(ws: { data: { socket: BunWebSocket | null } }, data: string | ArrayBuffer): void;
      close(ws: { data: { socket: BunWebSocket | null } }, code: number, reason: string): void;
    };
  }): { port: number; stop(force?: boolean): Promise<void> | void };
}
const deno = (globalThis as { Deno?: DenoApi }).Deno;
const bun = (globalThis as { Bun?: BunApi }).Bun;
const [command, ...args] = deno?.args ?? process.argv.slice(2);

async function tcpClient(address: string): Promise<void> {
  await Runtime.run(async (rt) => {
    const stream = countingStream(await nodeNet.connect(address));
    const client = rt.connectStream(stream);
    using calc = client.bootstrap(Calculator_Client);
    console.log(`RESULT ${JSON.stringify(await runScenario(calc, stream))}`);
  });
}

/** Once the first client has gone: print what the server has left, then stop serving. */
async function reportAndClose(
  host: CalculatorHost,
  stop: () => Promise<void> | void = () => {},
): Promise<void> {
  await host.clientGone;
  console.log(`RESULT ${JSON.stringify(await host.report())}`);
  await host.close();
  await stop();
}

async function tcpServer(): Promise<void> {
  const host = new CalculatorHost(Runtime.init());
  const { port } = await host.server.listen("127.0.0.1:0");
  console.log(`LISTENING ${port}`);
  await reportAndClose(host);
}

/** Serves the calculator over WebSocket from the runtime's own HTTP server. */
async function wsServer(): Promise<void> {
  const host = new CalculatorHost(Runtime.init());
  const serve = (socket: WebSocketLike) => host.accept(new WebSocketTransport(socket));
  if (deno !== undefined) {
    const server = deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: ({ port }) => console.log(`LISTENING ${port}`) },
      (req) => {
        const { socket, response } = deno.upgradeWebSocket(req);
        serve(socket);
        return response;
      },
    );
    await reportAndClose(host, () => server.shutdown());
  } else if (bun !== undefined) {
    const server = bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch(req, s) {
        const upgraded = s.upgrade(req, { data: { socket: null } });
        return upgraded ? undefined : new Response("WebSocket only", { status: 426 });
      },
      websocket: {
        open(ws) {
          ws.data.socket = new BunWebSocket(ws);
          serve(ws.data.socket);
        },
        message: (ws, data) => ws.data.socket?.message(data),
        close: (ws, code, reason) => ws.data.socket?.closed(code, reason),
      },
    });
    console.log(`LISTENING ${server.port}`);
    await reportAndClose(host, () => server.stop(true));
  } else {
    throw new Error("ws-server runs in Deno or Bun");
  }
}

switch (command) {
  case "serialize":
    console.log(`RESULT ${JSON.stringify(serializeRoundTrip())}`);
    break;
  case "tcp-client":
    await tcpClient(args[0]!);
    break;
  case "tcp-server":
    await tcpServer();
    break;
  case "ws-client":
    console.log(`RESULT ${JSON.stringify(await webSocketClient(args[0]!))}`);
    break;
  case "ws-drop": {
    const pending = () => console.log("PENDING");
    const report = await overWebSocket(args[0]!, undefined, (conn) => callWhileServerGoes(conn, pending));
    console.log(`RESULT ${JSON.stringify(report)}`);
    break;
  }
  case "ws-server":
    await wsServer();
    break;
  default:
    throw new Error(`unknown command ${command}`);
}
