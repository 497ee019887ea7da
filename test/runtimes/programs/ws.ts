/**
 * The calculator over WebSocket, client and server, with no `node:` imports: what Deno, Bun and
 * workerd run (main.ts, worker.ts) and what the Node side of their tests runs.
 */
import { Runtime } from "capnts/rpc";
import { connectWebSocket, type WebSocketLike, WebSocketTransport } from "capnts/websocket";
import { Calculator_Client } from "../../../examples/calculator/calculator.capnp.js";
import { calculatorServer } from "../../../examples/calculator/server.js";
import { countingMessageStream } from "./counting.js";
import { type ClientReport, liveServers, runScenario, type ServerReport, serverReport } from "./scenario.js";

type WebSocketCtor = new (url: string, protocols?: string | string[]) => WebSocketLike;

/** Connects to `url` (the platform's WebSocket unless one is given), runs the scenario, closes. */
export function webSocketClient(url: string, WebSocket?: WebSocketCtor): Promise<ClientReport> {
  return Runtime.run(async (rt) => {
    const transport = await connectWebSocket(url, WebSocket === undefined ? {} : { WebSocket });
    const stream = countingMessageStream(transport);
    const client = rt.connectStream(stream);
    using calc = client.bootstrap(Calculator_Client);
    return await runScenario(calc, stream);
  });
}

/**
 * The calculator served to WebSocket clients. The bootstrap capability is made before any client
 * comes and lives on after them, so `report()` can require everything made for a client to be
 * gone once that client is.
 */
export class CalculatorHost {
  readonly rt = Runtime.init();
  private readonly calculator = new Calculator_Client(calculatorServer());
  private readonly baseline = liveServers();
  readonly server = this.rt.newServer(this.calculator);

  /** Serves one connection; resolves when it has ended. */
  accept(socket: WebSocketLike): Promise<void> {
    return this.server.accept(new WebSocketTransport(socket));
  }

  /** What is left once the clients have gone (waits up to 2 s for releases to arrive). */
  report(): Promise<ServerReport> {
    return serverReport(this.baseline, () => this.server.connections.length);
  }

  async close(): Promise<void> {
    await this.rt.shutdown();
    this.calculator.close();
  }
}
