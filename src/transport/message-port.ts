/**
 * capnts/messageport: Cap'n Proto RPC between threads over a `MessagePort` (a `MessageChannel`'s
 * ports, a Web Worker and its `self`, Node's `worker_threads` ports and Workers).
 *
 * The messages sent in one turn go as one ArrayBuffer (consecutive standard frames) that is
 * transferred, not copied, to the other side, which reads the messages in place. `null` says the
 * sender shut down (a port has no end-of-stream of its own).
 *
 * No `node:` and no npm imports: this module runs in browsers, Workers and Node.
 */
import { RpcError } from "../rpc/errors.js";
import type { MessageStream, TransportReceiver } from "../rpc/transport.js";
import type { MessageBuilder } from "../wire/index.js";
import {
  binaryBytes,
  decodeMessages,
  encodeFrames,
  type MessageLimits,
  outgoingSegments,
  type ResolvedLimits,
  resolveLimits,
} from "./message-frames.js";

/**
 * What the transport needs of a port: `postMessage` with a transfer list, and events either as
 * an EventTarget (the DOM's ports, Workers and worker scopes; Node's MessagePort) or as an
 * EventEmitter (Node's `Worker`).
 */
export interface MessagePortLike {
  postMessage(message: unknown, transfer: ArrayBuffer[]): void;
  // biome-ignore lint/suspicious/noExplicitAny: each platform types its events differently.
  addEventListener?(type: string, listener: (event: any) => void): void;
  // biome-ignore lint/suspicious/noExplicitAny: as above.
  removeEventListener?(type: string, listener: (event: any) => void): void;
  // biome-ignore lint/suspicious/noExplicitAny: as above.
  on?(type: string, listener: (data: any) => void): unknown;
  // biome-ignore lint/suspicious/noExplicitAny: as above.
  off?(type: string, listener: (data: any) => void): unknown;
  start?(): void;
  close?(): void;
}

export interface MessagePortTransportOptions extends MessageLimits {
  /** Flow-control window of streaming calls, bytes (default 64 KiB, C++ DEFAULT_WINDOW_SIZE). */
  streamWindow?: number;
}

export class MessagePortTransport implements MessageStream {
  readonly port: MessagePortLike;
  readonly streamWindow: number | undefined;
  private readonly limits: ResolvedLimits;
  /** A real MessagePort (start and close): ours to close. A Worker or worker scope is not. */
  private readonly isPort: boolean;
  private readonly emitter: boolean;
  private receiver: TransportReceiver | null = null;
  private out: Uint8Array[][] = [];
  private flushScheduled = false;
  private held: unknown[] = [];
  private paused = false;
  private ended = false;
  private endReported = false;
  private pendingEnd: RpcError | null | undefined = undefined;

  constructor(port: MessagePortLike, options: MessagePortTransportOptions = {}) {
    this.port = port;
    this.limits = resolveLimits(options);
    this.streamWindow = options.streamWindow;
    this.isPort = typeof port.start === "function" && typeof port.close === "function";
    this.emitter = typeof port.addEventListener !== "function";
    if (this.emitter) {
      if (typeof port.on !== "function") throw new TypeError("MessagePortTransport: not a port");
      port.on("message", this.onData);
      port.on("messageerror", this.onMessageError);
      port.on("close", this.onPortClose);
    } else {
      port.addEventListener!("message", this.onEvent);
      port.addEventListener!("messageerror", this.onMessageError);
      // Node's MessagePort says when the other end is gone; the DOM's ports never do.
      port.addEventListener!("close", this.onPortClose);
      // An EventTarget port queues messages until started (HTML: "port message queue").
      port.start?.();
    }
  }

  // ---- MessageStream ----

  send(message: MessageBuilder): void {
    if (this.ended) throw RpcError.disconnected("MessagePort transport is closed.");
    const segs = outgoingSegments(message, this.limits.traversalLimitInWords);
    this.out.push(segs);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(this.flush);
    }
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    if (this.out.length === 0) return;
    const buf = encodeFrames(this.out);
    this.out = [];
    try {
      // Transferred: the other side gets this memory, we keep nothing of it.
      this.port.postMessage(buf.buffer, [buf.buffer as ArrayBuffer]);
    } catch (e) {
      this.report(new RpcError("disconnected", `MessagePort: ${String(e)}`, { cause: e }));
    }
  };

  start(receiver: TransportReceiver): void {
    this.receiver = receiver;
    this.deliverHeld();
  }

  async shutdown(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    this.flush();
    try {
      this.port.postMessage(null, []);
    } catch {
      // The other side may be gone already.
    }
    this.detach();
  }

  pauseReading(): void {
    this.paused = true;
  }

  resumeReading(): void {
    this.paused = false;
    this.deliverHeld();
  }

  /** Bytes queued for this turn's post (the port itself does not say what it holds). */
  getCurrentQueueSize(): number {
    let n = 0;
    for (const segs of this.out) for (const s of segs) n += s.byteLength;
    return n;
  }

  getCurrentQueueCount(): number {
    return this.out.length;
  }

  // ---- port events ----

  private readonly onEvent = (event: { data: unknown }): void => {
    this.onData(event.data);
  };

  private readonly onData = (data: unknown): void => {
    if (this.endReported) return;
    if (this.receiver === null || this.paused || this.held.length > 0) {
      this.held.push(data);
      return;
    }
    this.deliver(data);
  };

  private deliver(data: unknown): void {
    if (data === null) {
      this.report(null);
      return;
    }
    const bytes = binaryBytes(data);
    if (bytes === null || bytes.byteLength === 0) {
      this.report(RpcError.failed("MessagePort carried something other than Cap'n Proto messages."));
      return;
    }
    try {
      decodeMessages(bytes, this.limits, (m) => this.receiver!.message(m));
    } catch (e) {
      this.report(RpcError.failed(e instanceof Error ? e.message : String(e)));
    }
  }

  private deliverHeld(): void {
    while (this.held.length > 0 && this.receiver !== null && !this.paused && !this.endReported) {
      this.deliver(this.held.shift());
    }
    if (this.held.length === 0 && this.pendingEnd !== undefined) this.report(this.pendingEnd);
  }

  private readonly onMessageError = (): void => {
    this.report(RpcError.failed("MessagePort: a message could not be deserialized."));
  };

  private readonly onPortClose = (): void => {
    if (this.held.length > 0 || this.receiver === null) {
      this.pendingEnd ??= RpcError.disconnected("MessagePort closed.");
      return;
    }
    this.report(RpcError.disconnected("MessagePort closed."));
  };

  private report(end: RpcError | null): void {
    if (this.endReported) return;
    if (this.receiver === null) {
      this.pendingEnd = end;
      return;
    }
    this.endReported = true;
    this.held = [];
    this.receiver.closed(end);
    if (this.ended) this.detach();
  }

  private detached = false;
  private detach(): void {
    if (this.detached) return;
    this.detached = true;
    const p = this.port;
    if (this.emitter) {
      p.off?.("message", this.onData);
      p.off?.("messageerror", this.onMessageError);
      p.off?.("close", this.onPortClose);
    } else {
      p.removeEventListener?.("message", this.onEvent);
      p.removeEventListener?.("messageerror", this.onMessageError);
      p.removeEventListener?.("close", this.onPortClose);
    }
    if (this.isPort) p.close!();
  }
}
