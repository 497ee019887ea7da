/**
 * The two-party network (C++ rpc-twoparty.h): one connection between a client and a server vat,
 * over a byte stream (framed with the standard stream framing, src/rpc/byte-stream.ts) or over
 * any message stream (a WebSocket, a MessagePort: C++ `TwoPartyVatNetwork(MessageStream&)`,
 * two-party-messages.ts); `TwoPartyClient` and `TwoPartyServer` convenience classes.
 */

import { type ByteMessageStreamOptions, type ByteStream, ByteStreamMessageStream } from "./byte-stream.js";
import type { Client } from "./capability.js";
import { type RpcError, toRpcError } from "./errors.js";
import type { BootstrapSource, RpcSystemOptions } from "./rpc-system.js";
import type { Server } from "./server.js";
import type { MessageStream } from "./transport.js";
import {
  MessageStreamClient,
  type MessageStreamOptions,
  MessageStreamVatNetwork,
  type SideName,
} from "./two-party-messages.js";

export type { ByteStream } from "./byte-stream.js";
export {
  MessageStreamClient,
  type MessageStreamOptions,
  MessageStreamVatNetwork,
  type SideName,
} from "./two-party-messages.js";

/**
 * Options of a two-party connection. Over a `ByteStream` they configure its framing; a
 * `MessageStream` (capnts/websocket, capnts/messageport) takes its reader limits and window in
 * its own constructor, and these are ignored but for `streamWindow`.
 */
export interface TwoPartyOptions extends ByteMessageStreamOptions, MessageStreamOptions {}

/** A byte stream writes; a message stream sends messages. */
function isMessageStream(s: ByteStream | MessageStream): s is MessageStream {
  return typeof (s as Partial<MessageStream>).send === "function";
}

/**
 * C++ `TwoPartyVatNetwork`: the VatNetwork of a two-party connection, and that connection's
 * transport, over a byte stream (framed with the standard stream framing, byte-stream.ts) or a
 * message stream. `connect(VatId{side})` returns the connection unless `side` is our own side;
 * `accept()` yields it once on the server side.
 */
export class TwoPartyVatNetwork extends MessageStreamVatNetwork {
  constructor(stream: ByteStream | MessageStream, side: SideName, options: TwoPartyOptions = {}) {
    super(isMessageStream(stream) ? stream : new ByteStreamMessageStream(stream, options), side, options);
  }
}

/** C++ `TwoPartyClient`: a two-party network plus an RpcSystem over one byte or message stream. */
export class TwoPartyClient extends MessageStreamClient {
  declare readonly network: TwoPartyVatNetwork;

  constructor(
    stream: ByteStream | MessageStream,
    bootstrap?: BootstrapSource,
    side: SideName = "client",
    options: TwoPartyOptions & RpcSystemOptions = {},
  ) {
    super(new TwoPartyVatNetwork(stream, side, options), bootstrap, side, options);
  }
}

/** C++ `TwoPartyServer`: serves a bootstrap capability on every accepted stream. */
export class TwoPartyServer {
  private readonly bootstrap: BootstrapSource;
  private readonly options: TwoPartyOptions & RpcSystemOptions;
  private readonly live = new Set<TwoPartyClient>();
  private drainWaiters: (() => void)[] = [];
  /** Called with each new connection (runtimes use it). */
  onConnection: ((c: TwoPartyClient) => void) | null = null;

  constructor(
    bootstrap: Client | Server | import("./rpc-system.js").BootstrapFactory,
    options: TwoPartyOptions & RpcSystemOptions = {},
  ) {
    this.bootstrap = bootstrap;
    this.options = options;
  }

  /** Serve one byte or message stream; resolves when it disconnects. */
  accept(stream: ByteStream | MessageStream): Promise<void> {
    const c = new TwoPartyClient(stream, this.bootstrap, "server", this.options);
    this.live.add(c);
    this.onConnection?.(c);
    return c.onDisconnect().then(async () => {
      // The connection's RpcSystem goes with it (C++ TwoPartyServer destroys the connection's
      // state when it ends): its reference to the bootstrap is released even when the peer,
      // not this server, ended the connection.
      await c.close("Peer disconnected.");
      this.live.delete(c);
      if (this.live.size === 0) for (const w of this.drainWaiters.splice(0)) w();
    });
  }

  /** Accept every stream a listener yields (returns when it stops). */
  async listen(listener: AsyncIterable<ByteStream>): Promise<undefined> {
    for await (const s of listener) void this.accept(s);
    return undefined;
  }

  /** Resolves when all accepted connections have closed (C++ `drain()`). */
  drain(): Promise<void> {
    if (this.live.size === 0) return Promise.resolve();
    return new Promise((r) => this.drainWaiters.push(r));
  }

  /** Live connections. */
  get connections(): readonly TwoPartyClient[] {
    return [...this.live];
  }

  setTraceEncoder(f: ((error: RpcError) => string) | null): void {
    this.options.traceEncoder = f;
    for (const c of this.live) c.setTraceEncoder(f);
  }

  /** Close every connection. */
  async close(): Promise<void> {
    await Promise.all([...this.live].map((c) => c.close("Server closed the connection.")));
  }
}

/**
 * Two connected in-memory byte streams (real framing, no sockets): what a test uses to run the
 * two-party network in one process. Writes arrive on the other side on a later turn.
 */
export function newByteStreamPair(): [ByteStream, ByteStream] {
  const a = new MemoryByteStream();
  const b = new MemoryByteStream();
  a.peer = b;
  b.peer = a;
  return [a, b];
}

class MemoryByteStream implements ByteStream {
  peer!: MemoryByteStream;
  private onData: ((c: Uint8Array) => void) | null = null;
  private onEnd: ((e: Error | null) => void) | null = null;
  private backlog: (Uint8Array | null)[] = [];
  private closed = false;

  start(onData: (chunk: Uint8Array) => void, onEnd: (error: Error | null) => void): void {
    this.onData = onData;
    this.onEnd = onEnd;
    const b = this.backlog;
    this.backlog = [];
    for (const c of b) this.deliver(c);
  }
  write(data: Uint8Array): void {
    if (this.closed) throw new Error("Stream is closed.");
    const p = this.peer;
    const copy = data.slice();
    setTimeout(() => p.deliver(copy), 0);
  }
  private deliver(c: Uint8Array | null): void {
    if (this.onData === null) {
      this.backlog.push(c);
      return;
    }
    if (c === null) {
      const e = this.onEnd;
      this.onEnd = null;
      e?.(null);
    } else this.onData(c);
  }
  async end(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const p = this.peer;
    setTimeout(() => p.deliver(null), 0);
    // Our own reading side ends too.
    setTimeout(() => this.deliver(null), 0);
  }
}

export { toRpcError };
