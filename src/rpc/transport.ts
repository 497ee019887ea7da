/**
 * What a connection runs over: a message-level duplex (C++ `VatNetwork::Connection`). The RPC
 * core pushes whole `MessageBuilder`s in and is handed whole `MessageReader`s; framing, byte
 * streams and sockets are the transport's business.
 */
import type { MessageBuilder, MessageReader } from "../wire/index.js";
import type { RpcError } from "./errors.js";

export interface TransportReceiver {
  /** One incoming message. The reader may view the transport's buffers (no copy). */
  message(message: MessageReader): void;
  /** The transport ended: `null` for a clean end of stream, else the error. */
  closed(error: RpcError | null): void;
  /**
   * Output was handed on (written, or the stream drained): the receiver may check
   * `getCurrentQueueSize()` again. Transports call it after each write they make.
   */
  drained?(): void;
}

/**
 * A message-level duplex without a peer identity: C++ `capnp::MessageStream` (what
 * `TwoPartyVatNetwork` runs over; C++ `WebSocketMessageStream` is one). A `TwoPartyVatNetwork`,
 * `TwoPartyClient`, `TwoPartyServer.accept()` or `Runtime.connectStream()` given one of these
 * (instead of a `ByteStream`) runs the connection over it: capnts/websocket and
 * capnts/messageport are such streams.
 */
export interface MessageStream {
  /**
   * Queue one message for sending. Transports coalesce what is sent in one turn into one write.
   * Throws (and sends nothing) when the message cannot be sent, e.g. it is at or over the
   * peer's traversal limit (C++ "larger than our single-message size limit").
   * `streaming`: the message is a streaming call (`-> stream`), whose sender is likely to send
   * the next one a few microtasks later; a stream may hold it back to write them together.
   */
  send(message: MessageBuilder, streaming?: boolean): void;
  /** Start delivering incoming messages to `receiver`. */
  start(receiver: TransportReceiver): void;
  /** Flush what was queued, end our side, release resources. Resolves when done. */
  shutdown(): Promise<void>;
  /**
   * Flow-control window of streaming calls in bytes, read before every streaming send (C++
   * `Connection::newStream()` with a variable window); undefined: 64 KiB, C++ DEFAULT_WINDOW_SIZE.
   */
  readonly streamWindow?: number | undefined;
  /**
   * C++ `Connection::newStream()`: the flow controller of one capability's streaming calls.
   * Without it, or when it returns undefined: a window controller over `streamWindow`.
   */
  newStream?(): import("./flow-control.js").RpcFlowController | undefined;
  /**
   * C++ `Connection::setIdle()`: told when the connection becomes idle (nothing in any of its four
   * tables: no call or capability in either direction) and when it stops being idle (a message
   * arrives, or we bootstrap). Nothing is sent while idle, so a network may end an idle connection
   * it opened (both sides then end it without an Abort).
   */
  setIdle?(idle: boolean): void;
  /**
   * Optional back-pressure: stop / resume reading (the flow limit, the backlog bound). While
   * paused, a transport delivers no more messages (at most the one being delivered).
   */
  pauseReading?(): void;
  resumeReading?(): void;
  /**
   * Bytes of our output the peer has not taken yet (C++ TwoPartyVatNetwork
   * `getCurrentQueueSize()`); with it, a peer that does not read cannot grow our output without
   * bound (ConnectionOptions.maxUnsentBytes).
   */
  getCurrentQueueSize?(): number;
  /** Optional queue metrics (C++ `TwoPartyVatNetwork::getCurrentQueueCount()` and friends). */
  getCurrentQueueCount?(): number;
  getOutgoingMessageWaitTime?(): number;
}

/** What a connection runs over: a message stream plus the peer's identity. */
export interface RpcTransport extends MessageStream {
  /** The peer's identity, for a BootstrapFactory (two-party: rpc-twoparty.capnp VatId). */
  readonly peerVatId: unknown;
}

/** Default single-message size limit: C++ ReaderOptions.traversalLimitInWords (8 Mi words). */
export const DEFAULT_MAX_MESSAGE_WORDS = 8 * 1024 * 1024;

/** The error C++ raises for an outgoing message of `words` words at or over `limit`. */
export function messageTooLarge(words: number, limit: number): Error {
  return new Error(
    `Trying to send Cap'n Proto message larger than our single-message size limit. The other side probably won't accept it (would hit its traversal limit) and would abort the connection, so I won't send it. size = ${words} words, limit = ${limit} words`,
  );
}
