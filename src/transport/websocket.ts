/**
 * capnts/websocket: Cap'n Proto RPC over a standard WebSocket, one message per binary frame (the
 * convention of C++ `capnp/compat/websocket-rpc.h`, `WebSocketMessageStream`: each frame holds
 * the segment table and the segments, so a capnts peer talks to a C++ one).
 *
 * `WebSocketTransport` is a `MessageStream`: give it to `Runtime.connectStream()`,
 * `TwoPartyServer.accept()` or `new TwoPartyClient()`. It drives any object shaped like the
 * standard `WebSocket`: the browser's, Deno's and Bun's clients, Node 22's global one, the
 * server-side sockets Deno (`Deno.upgradeWebSocket`) and workerd (`WebSocketPair`) hand a request
 * handler, and the `ws` package's (capnts/ws builds a Node server on it).
 *
 * No `node:` and no npm imports: this module runs wherever a WebSocket does.
 */
import { RpcError } from "../rpc/errors.js";
import type { MessageStream, TransportReceiver } from "../rpc/transport.js";
import type { MessageBuilder } from "../wire/index.js";
import {
  binaryBytes,
  decodeMessage,
  encodeFrames,
  type MessageLimits,
  maxFrameBytes,
  outgoingSegments,
  type ResolvedLimits,
  resolveLimits,
} from "./message-frames.js";

/**
 * What the transport needs of a WebSocket: the standard API's members (methods, so that the
 * DOM's, Deno's, workerd's and `ws`'s sockets all fit). `pause`/`resume` (the `ws` package has
 * them) let flow control stop reading from the socket itself.
 */
export interface WebSocketLike {
  readonly readyState: number;
  readonly bufferedAmount: number;
  binaryType?: string;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  // biome-ignore lint/suspicious/noExplicitAny: each platform types its events differently.
  addEventListener(type: string, listener: (event: any) => void): void;
  // biome-ignore lint/suspicious/noExplicitAny: as above.
  removeEventListener(type: string, listener: (event: any) => void): void;
  pause?(): void;
  resume?(): void;
}

/** A WebSocket constructor: the global one, or the `ws` package's on Node 20. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

/** Close codes (RFC 6455 §7.4.1) the transport sends. */
export const WebSocketCloseCode = {
  /** The connection was shut down. */
  normal: 1000,
  /** The peer closed without a code (what C++ `WebSocketMessageStream::end()` sends). */
  noStatus: 1005,
  /** A text frame: Cap'n Proto messages are binary. */
  unsupportedData: 1003,
  /** A binary frame that is not one framed Cap'n Proto message. */
  invalidPayload: 1007,
  /** A frame over the traversal limit. */
  messageTooBig: 1009,
} as const;

export interface WebSocketTransportOptions extends MessageLimits {
  /** Flow-control window of streaming calls, bytes (default 64 KiB, C++ DEFAULT_WINDOW_SIZE). */
  streamWindow?: number;
  /**
   * Bytes the socket may buffer for sending (`bufferedAmount`) before the transport stops
   * reading incoming messages, until the peer has taken them (default 1 MiB). A peer that sends
   * calls faster than it reads their results is slowed down instead of growing our buffer.
   */
  highWaterMark?: number;
}

/** A Blob, as a socket left with binaryType "blob" delivers binary messages. */
interface BlobLike {
  arrayBuffer(): Promise<ArrayBuffer>;
}

const OPEN = 1;
const CONNECTING = 0;
/** How often a socket over its high-water mark is checked: the API has no "drain" event. */
const DRAIN_POLL_MS = 10;
const DEFAULT_HIGH_WATER_MARK = 1024 * 1024;

/** A close reason fits in a control frame: at most 123 bytes of UTF-8. */
function closeReason(text: string): string {
  let r = text;
  while (new TextEncoder().encode(r).length > 123) r = r.slice(0, -1);
  return r;
}

export class WebSocketTransport implements MessageStream {
  readonly socket: WebSocketLike;
  readonly streamWindow: number | undefined;
  private readonly limits: ResolvedLimits;
  private readonly maxBytes: number;
  private readonly highWaterMark: number;
  private receiver: TransportReceiver | null = null;
  /** Frames sent before the socket opened. */
  private early: Uint8Array[] = [];
  /** Messages received while reading is paused (a socket without pause()). */
  private held: Uint8Array[] = [];
  /** Blobs being read, in order (a platform that ignores binaryType = "arraybuffer"). */
  private blobs: Promise<void> = Promise.resolve();
  private pausedByFlow = false;
  private pausedByBuffer = false;
  private drainTimer: ReturnType<typeof setTimeout> | null = null;
  private ended = false;
  private endReported = false;
  /** The code and reason we close with (a refused frame sets them). */
  private closeCode: number = WebSocketCloseCode.normal;
  private closeText = "Capnp connection closed";
  private readonly closedPromise: Promise<void>;
  private resolveClosed!: () => void;

  constructor(socket: WebSocketLike, options: WebSocketTransportOptions = {}) {
    this.socket = socket;
    this.limits = resolveLimits(options);
    this.maxBytes = maxFrameBytes(this.limits.traversalLimitInWords);
    this.highWaterMark = options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
    this.streamWindow = options.streamWindow;
    this.closedPromise = new Promise((r) => (this.resolveClosed = r));
    try {
      socket.binaryType = "arraybuffer";
    } catch {
      // workerd and Bun's sockets deliver ArrayBuffers anyway; Blobs are handled below.
    }
    socket.addEventListener("open", this.onOpen);
    socket.addEventListener("message", this.onMessage);
    socket.addEventListener("close", this.onClose);
    socket.addEventListener("error", this.onError);
    if (socket.readyState > OPEN) this.onClose({ code: 1006, reason: "The WebSocket was already closed." });
  }

  // ---- MessageStream ----

  send(message: MessageBuilder): void {
    if (this.ended || this.socket.readyState > OPEN) {
      throw RpcError.disconnected("WebSocket is closed.");
    }
    // One frame per message (C++ WebSocketMessageStream::writeMessage); the copy is what the
    // platform holds until the bytes are on the wire.
    const frame = encodeFrames([outgoingSegments(message, this.limits.traversalLimitInWords)]);
    if (this.socket.readyState === CONNECTING) this.early.push(frame);
    else {
      this.socket.send(frame);
      this.checkBuffered();
    }
  }

  start(receiver: TransportReceiver): void {
    this.receiver = receiver;
    this.deliverHeld();
  }

  async shutdown(): Promise<void> {
    if (!this.ended) {
      this.ended = true;
      this.stopDrainTimer();
      const s = this.socket;
      if (s.readyState === OPEN) this.flushEarly();
      if (s.readyState <= OPEN) {
        try {
          s.close(this.closeCode, closeReason(this.closeText));
        } catch {
          s.close();
        }
      } else this.resolveClosed();
    }
    await this.closedPromise;
  }

  pauseReading(): void {
    this.pausedByFlow = true;
    this.updatePause();
  }

  resumeReading(): void {
    this.pausedByFlow = false;
    this.updatePause();
  }

  /** Bytes the socket has not yet sent (`bufferedAmount`) plus frames waiting for it to open. */
  getCurrentQueueSize(): number {
    let n = this.socket.readyState === OPEN ? this.socket.bufferedAmount : 0;
    for (const f of this.early) n += f.byteLength;
    return n;
  }

  // ---- socket events ----

  private readonly onOpen = (): void => {
    if (this.ended) return;
    this.flushEarly();
  };

  private flushEarly(): void {
    const e = this.early;
    this.early = [];
    for (const f of e) this.socket.send(f);
    this.checkBuffered();
  }

  private readonly onMessage = (event: { data: unknown }): void => {
    if (this.endReported) return;
    const data = event.data;
    if (typeof data === "string") {
      this.refuse(
        WebSocketCloseCode.unsupportedData,
        "Unexpected WebSocket text message; expected only binary messages.",
      );
      return;
    }
    const bytes = binaryBytes(data);
    if (bytes !== null) {
      this.received(bytes);
      return;
    }
    if (typeof (data as BlobLike | null)?.arrayBuffer === "function") {
      // Keep the order: each Blob's bytes are taken after the previous one's.
      const b = data as BlobLike;
      this.blobs = this.blobs.then(async () => this.received(new Uint8Array(await b.arrayBuffer())));
      return;
    }
    this.refuse(WebSocketCloseCode.unsupportedData, "Unexpected WebSocket message of unknown type.");
  };

  private received(bytes: Uint8Array): void {
    if (this.endReported) return;
    if (bytes.byteLength > this.maxBytes) {
      this.refuse(
        WebSocketCloseCode.messageTooBig,
        `Message is too large: ${bytes.byteLength} bytes, limit ${this.limits.traversalLimitInWords} words.`,
      );
      return;
    }
    if (this.receiver === null || this.pausedByFlow || this.pausedByBuffer || this.held.length > 0) {
      this.held.push(bytes);
      return;
    }
    this.deliver(bytes);
  }

  private deliver(bytes: Uint8Array): void {
    let m: ReturnType<typeof decodeMessage>;
    try {
      m = decodeMessage(bytes, this.limits);
    } catch (e) {
      this.refuse(WebSocketCloseCode.invalidPayload, e instanceof Error ? e.message : String(e));
      return;
    }
    this.receiver!.message(m);
  }

  private deliverHeld(): void {
    while (
      this.held.length > 0 &&
      this.receiver !== null &&
      !this.pausedByFlow &&
      !this.pausedByBuffer &&
      !this.endReported
    ) {
      this.deliver(this.held.shift()!);
    }
    if (this.held.length === 0 && this.pendingEnd !== undefined && !this.endReported) {
      this.report(this.pendingEnd);
    }
  }

  /** A bad frame: the connection fails with `why` and the socket is closed with `code`. */
  private refuse(code: number, why: string): void {
    this.closeCode = code;
    this.closeText = why;
    this.held = [];
    this.report(RpcError.failed(why));
  }

  /** The peer's close, kept until the messages held before it are delivered. */
  private pendingEnd: RpcError | null | undefined = undefined;
  private errorSeen: unknown = null;

  private readonly onError = (event: { error?: unknown; message?: unknown }): void => {
    this.errorSeen = event.error ?? event.message ?? "WebSocket error";
  };

  private readonly onClose = (event: { code?: number; reason?: string }): void => {
    this.stopDrainTimer();
    this.early = [];
    this.detach();
    this.resolveClosed();
    if (this.endReported) return;
    const code = event.code ?? 1006;
    let end: RpcError | null = null;
    if (code !== WebSocketCloseCode.normal && code !== WebSocketCloseCode.noStatus) {
      const reason = event.reason ? `: ${event.reason}` : "";
      const err = this.errorSeen;
      end = new RpcError(
        "disconnected",
        `WebSocket closed (code ${code})${reason}`,
        err !== null ? { cause: err } : undefined,
      );
    }
    if (this.held.length > 0 || this.receiver === null) {
      this.pendingEnd = end;
      return;
    }
    this.report(end);
  };

  private report(end: RpcError | null): void {
    if (this.endReported) return;
    if (this.receiver === null) {
      this.pendingEnd = end;
      return;
    }
    this.endReported = true;
    this.receiver.closed(end);
  }

  private detach(): void {
    const s = this.socket;
    s.removeEventListener("open", this.onOpen);
    s.removeEventListener("message", this.onMessage);
    s.removeEventListener("close", this.onClose);
    s.removeEventListener("error", this.onError);
  }

  // ---- back-pressure ----

  /** Over the high-water mark, stop reading until the socket has sent what it holds. */
  private checkBuffered(): void {
    if (this.pausedByBuffer || this.socket.bufferedAmount <= this.highWaterMark) return;
    this.pausedByBuffer = true;
    this.updatePause();
    this.drainTimer = setTimeout(this.pollDrain, DRAIN_POLL_MS);
  }

  private readonly pollDrain = (): void => {
    this.drainTimer = null;
    if (this.socket.readyState !== OPEN) return;
    if (this.socket.bufferedAmount > this.highWaterMark / 2) {
      this.drainTimer = setTimeout(this.pollDrain, DRAIN_POLL_MS);
      return;
    }
    this.pausedByBuffer = false;
    this.updatePause();
  };

  private stopDrainTimer(): void {
    if (this.drainTimer !== null) clearTimeout(this.drainTimer);
    this.drainTimer = null;
  }

  private socketPaused = false;
  private updatePause(): void {
    const paused = this.pausedByFlow || this.pausedByBuffer;
    const s = this.socket;
    if (paused !== this.socketPaused && s.pause !== undefined && s.resume !== undefined) {
      this.socketPaused = paused;
      if (paused) s.pause();
      else s.resume();
    }
    if (!paused) this.deliverHeld();
  }
}

export interface ConnectWebSocketOptions extends WebSocketTransportOptions {
  /** Subprotocols to offer. */
  protocols?: string | string[];
  /** The WebSocket class; default `globalThis.WebSocket` (on Node 20, pass `ws`'s). */
  WebSocket?: WebSocketConstructor;
}

/**
 * Opens a WebSocket to `url` and resolves to its transport once open; fails with a
 * `disconnected` RpcError naming the URL when the connection cannot be made.
 */
export function connectWebSocket(
  url: string | { readonly href: string },
  options: ConnectWebSocketOptions = {},
): Promise<WebSocketTransport> {
  const href = typeof url === "string" ? url : url.href;
  const Ctor = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (Ctor === undefined) {
    return Promise.reject(
      new RpcError(
        "failed",
        "This platform has no global WebSocket: pass { WebSocket } (e.g. the ws package's) to connectWebSocket().",
      ),
    );
  }
  return new Promise((resolve, reject) => {
    let socket: WebSocketLike;
    try {
      socket = options.protocols !== undefined ? new Ctor(href, options.protocols) : new Ctor(href);
    } catch (e) {
      reject(new RpcError("failed", `Cannot connect to ${JSON.stringify(href)}: ${String(e)}`, { cause: e }));
      return;
    }
    let error: unknown = null;
    const onError = (e: { error?: unknown; message?: unknown }) => {
      error = e.error ?? e.message ?? null;
    };
    const done = () => {
      socket.removeEventListener("open", onOpen);
      socket.removeEventListener("close", onClose);
      socket.removeEventListener("error", onError);
    };
    const onOpen = () => {
      done();
      resolve(new WebSocketTransport(socket, options));
    };
    const onClose = (e: { code?: number; reason?: string }) => {
      done();
      const why = e.reason || (error instanceof Error ? error.message : "") || `code ${e.code ?? 1006}`;
      reject(
        new RpcError("disconnected", `Cannot connect to ${JSON.stringify(href)}: ${why}`, {
          ...(error !== null ? { cause: error } : {}),
        }),
      );
    };
    socket.addEventListener("open", onOpen);
    socket.addEventListener("close", onClose);
    socket.addEventListener("error", onError);
  });
}
