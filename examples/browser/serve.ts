/**
 * Node side of the browser example and tests: bundles TypeScript entry points for the browser
 * with esbuild (in memory) and serves them, with an HTML page, over HTTP on loopback.
 */
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

export type Files = Map<string, { type: string; body: string | Uint8Array }>;

/**
 * Bundles each entry (name → path of a .ts file) into `name.js`: ESM for the browser. The
 * "capnts-source" condition makes `capnts/...` resolve to the TypeScript sources of this
 * repository; an application that installed capnts from npm leaves it out.
 */
export async function bundle(entries: Record<string, string>, files: Files = new Map()): Promise<Files> {
  const r = await build({
    entryPoints: Object.fromEntries(Object.entries(entries).map(([n, p]) => [n, fileURLToPath(p)])),
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    conditions: ["capnts-source"],
    write: false,
    outdir: "/",
    logLevel: "silent",
  });
  for (const f of r.outputFiles) {
    files.set(f.path, { type: "text/javascript; charset=utf-8", body: f.contents });
  }
  return files;
}

/** An HTTP server on loopback answering GET for `files` ("/" is "/index.html"). */
export async function serveFiles(
  files: Files,
  options: { host?: string; port?: number } = {},
): Promise<{ server: HttpServer; url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    const f = files.get(path === "/" ? "/index.html" : path);
    if (req.method !== "GET" || f === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": f.type, "cache-control": "no-store" }).end(f.body);
  });
  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://${host}:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
