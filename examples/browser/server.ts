/**
 * The browser example: serves a page that runs the calculator client in the browser against
 * this Node capnts server over WebSocket (and against a calculator in a Web Worker).
 *
 *   npm run example:browser          then open the URL it prints
 *
 * The page and the worker are TypeScript, bundled for the browser by esbuild at start.
 */
import { readFileSync } from "node:fs";
import { Runtime } from "capnts/rpc";
import { acceptWebSocketServer } from "capnts/ws";
import { WebSocketServer } from "ws";
import { calculatorServer } from "../calculator/impl.js";
import { bundle, serveFiles } from "./serve.js";

export interface BrowserExample {
  /** The page's URL. */
  url: string;
  close(): Promise<void>;
}

export async function startBrowserExample(port = 0): Promise<BrowserExample> {
  const files = await bundle({
    page: new URL("./page.ts", import.meta.url).href,
    worker: new URL("./worker.ts", import.meta.url).href,
  });
  files.set("/index.html", {
    type: "text/html; charset=utf-8",
    body: readFileSync(new URL("./index.html", import.meta.url)),
  });
  const http = await serveFiles(files, { port });
  const rt = Runtime.init();
  const server = rt.newServer(calculatorServer());
  // The WebSocket endpoint shares the page's HTTP server: ws://host:port/rpc.
  const wss = new WebSocketServer({ server: http.server, path: "/rpc" });
  const stop = acceptWebSocketServer(server, wss);
  return {
    url: http.url,
    async close() {
      stop();
      await rt.shutdown();
      for (const c of wss.clients) c.terminate();
      await new Promise((r) => wss.close(r));
      await http.close();
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const ex = await startBrowserExample(Number(process.argv[2] ?? 8080));
  console.log(`Open ${ex.url} in a browser (Ctrl-C to stop).`);
  const stop = () => void ex.close().then(() => process.exit(0));
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}
