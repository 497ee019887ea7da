/**
 * Bun's server-side WebSocket as a standard one. `Bun.serve` hands its `websocket` handlers a
 * `ServerWebSocket`, which has no events of its own (the handlers get them) and reports its
 * buffered bytes through a method: this adapter gives capnts' WebSocketTransport the
 * `WebSocketLike` it takes (what Deno's and workerd's server sockets already are).
 */
import type { WebSocketLike } from "capnts/websocket";

/** The part of Bun's ServerWebSocket used here. */
export interface BunServerWebSocket {
  readonly readyState: number;
  binaryType: string;
  send(data: Uint8Array): number;
  close(code?: number, reason?: string): void;
  getBufferedAmount(): number;
}

type Listener = (ev: unknown) => void;

export class BunWebSocket implements WebSocketLike {
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly ws: BunServerWebSocket;

  constructor(ws: BunServerWebSocket) {
    this.ws = ws;
    ws.binaryType = "arraybuffer";
  }

  get readyState(): number {
    return this.ws.readyState;
  }
  get bufferedAmount(): number {
    return this.ws.getBufferedAmount();
  }
  get binaryType(): string {
    return this.ws.binaryType;
  }
  set binaryType(t: string) {
    this.ws.binaryType = t;
  }
  send(data: Uint8Array): void {
    this.ws.send(data);
  }
  close(code?: number, reason?: string): void {
    this.ws.close(code, reason);
  }
  addEventListener(type: string, listener: Listener): void {
    let set = this.listeners.get(type);
    if (set === undefined) this.listeners.set(type, (set = new Set()));
    set.add(listener);
  }
  removeEventListener(type: string, listener: Listener): void {
    this.listeners.get(type)?.delete(listener);
  }

  /** The `websocket` handlers of Bun.serve call these. */
  message(data: string | ArrayBuffer | Uint8Array): void {
    this.emit("message", { data });
  }
  closed(code: number, reason: string): void {
    this.emit("close", { code, reason, wasClean: true });
  }

  private emit(type: string, ev: unknown): void {
    for (const l of [...(this.listeners.get(type) ?? [])]) l(ev);
  }
}
