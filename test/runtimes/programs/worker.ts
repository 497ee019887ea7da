/**
 * The Worker the workerd tests serve (bundled by harness.ts bundleWorker; no `node:` imports):
 *   GET /serialize        serializeRoundTrip() as JSON
 *   GET /rpc (WebSocket)  the calculator served over the WebSocket (a WebSocketPair's server end)
 *   GET /report           what the calculator host has left once its clients have gone (JSON)
 *   GET /client?url=URL   the scenario run from here against a capnts server at URL (JSON report)
 *   GET /drop?url=URL     a call to URL pending when that server goes away (logs PENDING: now)
 */
import { Runtime } from "capnts/rpc";
import { type WebSocketLike, WebSocketTransport } from "capnts/websocket";
import { CalculatorHost, callWhileServerGoes, overWebSocket, webSocketClient } from "./scenario.js";
import { serializeRoundTrip } from "./serialize.js";

/** workerd's WebSocketPair (no workers types in this repo). */
declare const WebSocketPair: new () => { 0: WebSocketLike; 1: WebSocketLike & { accept(): void } };

// One host per isolate, made on first use (a Worker's global scope may not start work).
let host: CalculatorHost | null = null;

function json(x: unknown): Response {
  return new Response(JSON.stringify(x), { headers: { "content-type": "application/json" } });
}

export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    switch (url.pathname) {
      case "/serialize":
        return json(serializeRoundTrip());
      case "/rpc": {
        if (request.headers.get("upgrade") !== "websocket")
          return new Response("WebSocket only", { status: 426 });
        const pair = new WebSocketPair();
        const server = pair[1];
        server.accept();
        host ??= new CalculatorHost(Runtime.init());
        host.accept(new WebSocketTransport(server));
        return new Response(null, { status: 101, webSocket: pair[0] } as ResponseInit);
      }
      case "/report":
        host ??= new CalculatorHost(Runtime.init());
        return json(await host.report());
      case "/client":
        try {
          return json(await webSocketClient(url.searchParams.get("url")!));
        } catch (e) {
          return new Response(e instanceof Error ? (e.stack ?? e.message) : String(e), { status: 500 });
        }
      case "/drop":
        return json(
          await overWebSocket(url.searchParams.get("url")!, undefined, (conn) =>
            callWhileServerGoes(conn, () => console.log("PENDING")),
          ),
        );
      default:
        return new Response("not found", { status: 404 });
    }
  },
};
