// The TypeScript servers of the RPC benchmarks as a library: server.ts runs one as a program,
// the smoke test (test/bench/rpc-smoke.test.ts) runs them in-process.
//   capnts   Echo (bench/schema/bench.capnp) through capnts's Runtime; a new Echo per connection
//   grpc     @grpc/grpc-js unary echo of raw bytes (impls.ts)
//   capnweb  capnweb's CapnwebEcho over WebSockets (`ws`), a new target per connection
//   net      a bare node:net server that accepts and holds sockets, never replies (the memory
//            baseline)
//   raw-echo a bare node:net server echoing length-framed messages, no RPC (raw.ts: the
//            "Node raw" baseline of the echo benchmarks)
//   raw-sink a bare node:net server counting length-framed messages (raw.ts sinkFrames: the
//            floor of the bulk-transfer benchmark, bulk.ts)
import { existsSync, unlinkSync } from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as grpc from "@grpc/grpc-js";
import { newWebSocketRpcSession } from "capnweb";
import { WebSocket, WebSocketServer } from "ws";
import { Runtime } from "../../src/transport/index.js";
import { type Address, capntsAddress } from "./common.js";
import { CapnwebEcho, capntsEcho, grpcImpl, grpcService } from "./impls.js";
import { echoFrames, sinkFrames } from "./raw.js";

// capnweb looks for a global WebSocket (Node 20 has none).
(globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;

export const SERVER_KINDS = ["capnts", "grpc", "capnweb", "net", "raw-echo", "raw-sink"] as const;
export type ServerKind = (typeof SERVER_KINDS)[number];

export interface RunningServer {
  /** The addresses listened on (TCP ports filled in). */
  addresses: Address[];
  /** Connections currently open (-1 when the kind cannot tell: grpc). */
  connections(): number;
  close(): Promise<void>;
}

function removeStale(a: Address): void {
  if (a.transport === "unix" && existsSync(a.path)) unlinkSync(a.path);
}

async function listenNode(server: net.Server | http.Server, a: Address): Promise<Address> {
  removeStale(a);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    const done = (): void => {
      server.off("error", reject);
      resolve();
    };
    if (a.transport === "unix") server.listen(a.path, 4096, done);
    else server.listen(a.port, a.host, 4096, done);
  });
  if (a.transport === "unix") return a;
  const info = server.address() as net.AddressInfo;
  return { ...a, port: info.port };
}

export async function serve(kind: ServerKind, addresses: readonly Address[]): Promise<RunningServer> {
  const out: Address[] = [];
  const closers: (() => Promise<void>)[] = [];
  let connections: () => number = () => -1;
  const done = (): RunningServer => ({
    addresses: out,
    connections: () => connections(),
    async close() {
      await Promise.all(closers.map((c) => c().catch(() => {})));
      for (const a of addresses) {
        try {
          removeStale(a);
        } catch {
          // ignore
        }
      }
    },
  });
  switch (kind) {
    case "capnts": {
      const rt = Runtime.init();
      const server = rt.newServer({ createFor: () => capntsEcho() });
      connections = () => server.connections.length;
      closers.push(() => rt.shutdown());
      for (const a of addresses) {
        removeStale(a);
        const info = await server.listen(capntsAddress(a));
        out.push(a.transport === "unix" ? a : { ...a, port: info.port! });
      }
      return done();
    }
    case "grpc": {
      const server = new grpc.Server();
      server.addService(grpcService, grpcImpl);
      closers.push(
        () =>
          new Promise((r) => {
            server.tryShutdown(() => r());
            // Clients may hold their channels open: do not wait for them.
            setTimeout(() => {
              server.forceShutdown();
              r();
            }, 1000).unref();
          }),
      );
      for (const a of addresses) {
        removeStale(a);
        const target = a.transport === "unix" ? `unix:${a.path}` : `${a.host}:${a.port}`;
        const port = await new Promise<number>((resolve, reject) =>
          server.bindAsync(target, grpc.ServerCredentials.createInsecure(), (e, p) =>
            e ? reject(e) : resolve(p),
          ),
        );
        out.push(a.transport === "unix" ? a : { ...a, port });
      }
      return done();
    }
    case "capnweb": {
      const sockets = new Set<WebSocket>();
      connections = () => sockets.size;
      for (const a of addresses) {
        const httpServer = http.createServer((_req, res) => {
          res.writeHead(404);
          res.end();
        });
        const wss = new WebSocketServer({ server: httpServer });
        wss.on("connection", (ws) => {
          sockets.add(ws);
          ws.on("close", () => sockets.delete(ws));
          newWebSocketRpcSession(ws as never, new CapnwebEcho());
        });
        closers.push(
          () =>
            new Promise((r) => {
              for (const s of sockets) s.terminate();
              wss.close();
              httpServer.close(() => r());
            }),
        );
        out.push(await listenNode(httpServer, a));
      }
      return done();
    }
    case "net":
    case "raw-echo":
    case "raw-sink": {
      const sockets = new Set<net.Socket>();
      connections = () => sockets.size;
      // "net" only drains what it is sent; "raw-echo" answers every frame; "raw-sink" counts.
      const handle =
        kind === "net"
          ? (s: net.Socket) => s.on("data", () => {})
          : kind === "raw-sink"
            ? sinkFrames
            : echoFrames;
      for (const a of addresses) {
        const server = net.createServer((s) => {
          sockets.add(s);
          s.on("close", () => sockets.delete(s));
          s.on("error", () => {});
          handle(s);
        });
        closers.push(
          () =>
            new Promise((r) => {
              for (const s of sockets) s.destroy();
              server.close(() => r());
            }),
        );
        out.push(await listenNode(server, a));
      }
      return done();
    }
    default:
      throw new Error(`unknown server kind ${kind as string} (${SERVER_KINDS.join(", ")})`);
  }
}
