/**
 * The receiving half the message transports share (capnts/websocket, capnts/messageport): what
 * arrived before `start()` or while reading is paused waits here in order, and the end of the
 * stream is reported once, after the messages that came before it. No `node:` imports.
 */
import type { RpcError } from "../rpc/errors.js";
import type { TransportReceiver } from "../rpc/transport.js";

export class Inbox<T> {
  private receiver: TransportReceiver | null = null;
  private held: T[] = [];
  private paused = false;
  /** The end, once known, until the messages before it are delivered. */
  private pendingEnd: RpcError | null | undefined = undefined;
  /** The end was reported: nothing more is delivered. */
  ended = false;

  /**
   * `deliver` hands one item to the receiver (it may call `abort` for an item it cannot read);
   * `onEnded` runs after the end was reported.
   */
  constructor(
    private readonly deliver: (item: T, receiver: TransportReceiver) => void,
    private readonly onEnded: () => void = () => {},
  ) {}

  start(receiver: TransportReceiver): void {
    this.receiver = receiver;
    this.drain();
  }

  push(item: T): void {
    if (this.ended) return;
    if (this.receiver === null || this.paused || this.held.length > 0) this.held.push(item);
    else this.deliver(item, this.receiver);
  }

  setPaused(paused: boolean): void {
    this.paused = paused;
    if (!paused) this.drain();
  }

  /** The peer ended the stream: reported after what arrived before. */
  end(error: RpcError | null): void {
    if (this.held.length > 0 || this.receiver === null) this.pendingEnd ??= error;
    else this.report(error);
  }

  /** Unreadable input: the stream fails now, and what is held is dropped. */
  abort(error: RpcError): void {
    this.held = [];
    this.report(error);
  }

  private report(end: RpcError | null): void {
    if (this.ended) return;
    if (this.receiver === null) {
      this.pendingEnd = end;
      return;
    }
    this.ended = true;
    this.held = [];
    this.receiver.closed(end);
    this.onEnded();
  }

  private drain(): void {
    while (this.held.length > 0 && this.receiver !== null && !this.paused && !this.ended) {
      this.deliver(this.held.shift()!, this.receiver);
    }
    if (this.held.length === 0 && this.pendingEnd !== undefined) this.report(this.pendingEnd);
  }
}
