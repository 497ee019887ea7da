/**
 * An in-memory connected pair of transports (C++ rpc-test.c++ TestNetwork): every message is
 * copied into fresh segments and delivered to the other side on a later turn of the run queue,
 * in order. Tests can watch each message (`onSend`), make sends fail (`failNextSends`), hold
 * delivery and release it message by message, and play one side by hand (scripted peers).
 */
import { type MessageBuilder, MessageReader } from "../wire/index.js";
import { RpcError } from "./errors.js";
import { eventLoop } from "./event-loop.js";
import {
  DEFAULT_MAX_MESSAGE_WORDS,
  messageTooLarge,
  type RpcTransport,
  type TransportReceiver,
} from "./transport.js";

export interface MemoryTransportOptions {
  /** Refuse to send messages of this many words or more (default 8 Mi words, like C++). */
  maxMessageWords?: number;
  /** The VatId the other side sees for this one. */
  vatId?: unknown;
  /** Flow-control window for streaming calls sent over this transport (default 64 KiB). */
  streamWindow?: number;
}

export class MemoryTransport implements RpcTransport {
  peer!: MemoryTransport;
  private receiver: TransportReceiver | null = null;
  private backlog: (MessageReader | null)[] = [];
  private ended = false;
  private peerEnded = false;
  /** Messages sent by this side (a reader over a copy), in order. */
  readonly sent: MessageReader[] = [];
  /** Called with each message this side sends; throwing makes the send fail (C++ onSend). */
  onSend: ((message: MessageReader) => void) | null = null;
  /** When true, incoming messages wait in `held` until `release()`. */
  hold = false;
  readonly held: MessageReader[] = [];
  readonly vatId: unknown;
  readonly streamWindow: number | undefined;
  private readonly maxWords: number;
  /** Count of messages sent (C++ TestNetworkAdapter::getSentCount). */
  sentCount = 0;
  receivedCount = 0;
  /** Set by the test to record every message for later inspection (off by default). */
  record = false;

  constructor(options: MemoryTransportOptions = {}) {
    this.vatId = options.vatId;
    this.streamWindow = options.streamWindow;
    this.maxWords = options.maxMessageWords ?? DEFAULT_MAX_MESSAGE_WORDS;
  }

  get peerVatId(): unknown {
    return this.peer.vatId;
  }

  send(message: MessageBuilder): void {
    if (this.ended) throw RpcError.disconnected("Transport is shut down.");
    const words = message.sizeInWords;
    if (words >= this.maxWords) throw RpcError.failed(messageTooLarge(words, this.maxWords).message);
    // Copy: the peer must see bytes, not our objects (and not our cap table).
    const segs = message.getSegmentsForOutput().map((s) => s.slice());
    const reader = new MessageReader(segs);
    if (this.onSend !== null) this.onSend(reader);
    if (this.record) this.sent.push(new MessageReader(segs));
    this.sentCount++;
    if (this.isIdle) this.sentWhileIdle++;
    eventLoop().evalLater(deliver, { to: this.peer, m: reader });
  }

  start(receiver: TransportReceiver): void {
    this.receiver = receiver;
    const b = this.backlog;
    this.backlog = [];
    for (const m of b) {
      if (m === null) receiver.closed(null);
      else receiver.message(m);
    }
  }

  /** @internal */
  _deliver(m: MessageReader | null): void {
    if (m === null) {
      if (this.peerEnded) return;
      this.peerEnded = true;
    } else if (this.peerEnded) return;
    if (m !== null && this.hold) {
      this.held.push(m);
      return;
    }
    const r = this.receiver;
    if (r === null) {
      this.backlog.push(m);
      return;
    }
    if (m === null) r.closed(null);
    else {
      this.receivedCount++;
      r.message(m);
    }
  }

  /** Deliver `n` held messages (all by default). */
  release(n = Number.POSITIVE_INFINITY): void {
    const r = this.receiver;
    while (n-- > 0 && this.held.length > 0) {
      const m = this.held.shift()!;
      this.receivedCount++;
      r?.message(m);
    }
  }

  shutdown(): Promise<void> {
    if (!this.ended) {
      this.ended = true;
      eventLoop().evalLater(deliver, { to: this.peer, m: null });
    }
    return Promise.resolve();
  }

  /** What the connection last told us through setIdle() (C++ TestNetwork `isIdle()`). */
  isIdle = true;
  /** Messages sent while the connection said it was idle (C++'s test network fails on one). */
  sentWhileIdle = 0;
  setIdle(idle: boolean): void {
    this.isIdle = idle;
  }

  /**
   * C++ TestNetwork `initiateIdleShutdown()`: the network ends an idle connection: this side's
   * input ends, and so does the peer's.
   */
  initiateIdleShutdown(): void {
    eventLoop().evalLater(deliver, { to: this, m: null });
    void this.shutdown();
  }

  /** Simulate the peer vanishing with an error (a broken socket). */
  fail(error: RpcError): void {
    this.ended = true;
    this.receiver?.closed(error);
  }
}

function deliver(a: { to: MemoryTransport; m: MessageReader | null }): void {
  a.to._deliver(a.m);
}

/** Two connected in-memory transports. */
export function newMemoryTransportPair(
  a: MemoryTransportOptions = {},
  b: MemoryTransportOptions = {},
): [MemoryTransport, MemoryTransport] {
  const x = new MemoryTransport(a);
  const y = new MemoryTransport(b);
  x.peer = y;
  y.peer = x;
  return [x, y];
}
