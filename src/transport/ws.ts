/**
 * capnts/ws: a Node WebSocket server for capnts, over the `ws` package (an optional peer
 * dependency: only this subpath loads it). Each accepted socket becomes a `WebSocketTransport`
 * (capnts/websocket) served by a `TwoPartyServer` — one Cap'n Proto message per binary frame, as
 * C++ `capnp/compat/websocket-rpc.h`.
 */
import type { WebSocketServer } from "ws";
import type { TwoPartyServer } from "../rpc/two-party.js";
import { maxFrameBytes, resolveLimits } from "./message-frames.js";
import { type WebSocketLike, WebSocketTransport, type WebSocketTransportOptions } from "./websocket.js";

export interface WebSocketListenOptions extends WebSocketTransportOptions {
  /** Interface to listen on (default "127.0.0.1"). */
  host?: string;
  /** Port (default 0: a free one, see `WebSocketListener.port`). */
  port?: number;
  /** Accept upgrades only on this path (default: any path). */
  path?: string;
}

export interface WebSocketListener {
  /** The port listened on. */
  readonly port: number;
  /** The URL a client connects to: "ws://127.0.0.1:40123/path". */
  readonly url: string;
  /** Stop accepting, close every socket still open; resolves when the server is closed. */
  close(): Promise<void>;
}

/** The part of a `ws` WebSocketServer that `acceptWebSocketServer` uses. */
export interface WsServerLike {
  on(event: "connection", listener: (socket: WebSocketLike) => void): unknown;
  off(event: "connection", listener: (socket: WebSocketLike) => void): unknown;
}

/** Going away (RFC 6455): the server no longer takes connections. */
const GOING_AWAY = 1001;

/**
 * Serve every socket `wss` accepts with `server` (your own `ws` WebSocketServer: a shared HTTP
 * server, TLS, an upgrade handler of yours). Returns a function that stops accepting.
 */
export function acceptWebSocketServer(
  server: TwoPartyServer,
  wss: WsServerLike,
  options: WebSocketTransportOptions = {},
): () => void {
  const onConnection = (socket: WebSocketLike): void => {
    let t: WebSocketTransport;
    try {
      t = new WebSocketTransport(socket, options);
      void server.accept(t);
    } catch (e) {
      // A runtime already shut down refuses new connections (ShutdownError).
      socket.close(GOING_AWAY, e instanceof Error ? e.message.slice(0, 100) : "Server is closed.");
    }
  };
  wss.on("connection", onConnection);
  return () => {
    wss.off("connection", onConnection);
  };
}

/**
 * Listen for WebSocket connections (Node, `ws` package) and serve each with `server`.
 * Frames over the traversal limit are refused by `ws` itself (close 1009) before they are read.
 */
export async function listenWebSocket(
  server: TwoPartyServer,
  options: WebSocketListenOptions = {},
): Promise<WebSocketListener> {
  const { WebSocketServer: Wss } = await import("ws");
  const host = options.host ?? "127.0.0.1";
  const wss: WebSocketServer = await new Promise((resolve, reject) => {
    const s = new Wss({
      host,
      port: options.port ?? 0,
      ...(options.path !== undefined ? { path: options.path } : {}),
      maxPayload: maxFrameBytes(resolveLimits(options).traversalLimitInWords),
    });
    s.once("listening", () => {
      s.off("error", reject);
      resolve(s);
    });
    s.once("error", reject);
  });
  const detach = acceptWebSocketServer(server, wss as unknown as WsServerLike, options);
  const addr = wss.address();
  const port = typeof addr === "object" && addr !== null ? addr.port : (options.port ?? 0);
  const hostInUrl = host.includes(":") ? `[${host}]` : host;
  let closing: Promise<void> | null = null;
  return {
    port,
    url: `ws://${hostInUrl}:${port}${options.path ?? ""}`,
    close() {
      closing ??= new Promise<void>((resolve) => {
        detach();
        // ws 8 leaves accepted sockets open when the server closes: end the ones still there.
        for (const c of wss.clients) c.terminate();
        wss.close(() => resolve());
      });
      return closing;
    },
  };
}
