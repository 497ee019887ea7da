/**
 * The browser example's page: the calculator client over a WebSocket to the Node server, then
 * the same client against a calculator running in a Web Worker, over its MessagePort.
 */
import { MessagePortTransport } from "capnts/messageport";
import { Runtime } from "capnts/rpc";
import { connectWebSocket } from "capnts/websocket";
import { Calculator_Client } from "../calculator/calculator.capnp.js";
import { runClient } from "../calculator/client.js";
import { countingWebSocket } from "./round-trips.js";

declare const document: {
  getElementById(id: string): { textContent: string | null } | null;
  title: string;
};
declare const location: { host: string };
declare const Worker: new (
  url: string,
  options: { type: "module" },
) => import("capnts/messageport").MessagePortLike & {
  terminate(): void;
};
declare const WebSocket: import("capnts/websocket").WebSocketConstructor;

const out = document.getElementById("log")!;
function log(line: string): void {
  out.textContent += `${line}\n`;
}

async function main(): Promise<boolean> {
  await using rt = Runtime.init();

  log(`WebSocket: ws://${location.host}/rpc`);
  const counter = { roundTrips: 0 };
  const socket = await connectWebSocket(`ws://${location.host}/rpc`, {
    WebSocket: countingWebSocket(WebSocket, counter),
  });
  const conn = rt.connectStream(socket);
  using calc = conn.bootstrap(Calculator_Client);
  const steps = await runClient(calc, counter, log);
  let ok = steps.every((s) => Math.abs(s.value - s.expected) < 1e-9);

  log("\nWeb Worker over MessagePort:");
  const worker = new Worker("worker.js", { type: "module" });
  const wconn = rt.connectStream(new MessagePortTransport(worker));
  using wcalc = wconn.bootstrap(Calculator_Client);
  const wsteps = await runClient(wcalc, { roundTrips: 0 }, (s) => log(s.replace(/\d+ round trips?/, "")));
  ok &&= wsteps.every((s) => Math.abs(s.value - s.expected) < 1e-9);
  await wconn.close();
  worker.terminate();
  return ok;
}

main().then(
  (ok) => {
    log(ok ? "\nAll results correct." : "\nSOME RESULTS WRONG.");
    document.title = ok ? "done: ok" : "done: wrong";
  },
  (e: unknown) => {
    log(`\nError: ${e instanceof Error ? e.message : String(e)}`);
    document.title = "done: error";
  },
);
