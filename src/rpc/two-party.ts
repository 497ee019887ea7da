/**
 * The two-party network (C++ rpc-twoparty.h): one connection between a client and a server vat,
 * over a byte stream (framed with the standard stream framing, src/rpc/byte-stream.ts) or over
 * any message stream (a WebSocket, a MessagePort: C++ `TwoPartyVatNetwork(MessageStream&)`);
 * `TwoPartyClient` and `TwoPartyServer` convenience classes.
 */

import { VatId_Reader } from "../gen/rpc-twoparty.capnp.js";
import { MessageBuilder as MB, type MessageBuilder } from "../wire/index.js";
import { type ByteMessageStreamOptions, type ByteStream, ByteStreamMessageStream } from "./byte-stream.js";
import { Client, type ClientCtor } from "./capability.js";
import { RpcError, toRpcError } from "./errors.js";
import { DEFAULT_WINDOW_SIZE, defaultNewStream, type RpcFlowController } from "./flow-control.js";
import { Side, VatIdB, type VatIdR } from "./protocol.js";
import { type BootstrapSource, RpcSystem, type RpcSystemOptions, type VatNetwork } from "./rpc-system.js";
import type { Server } from "./server.js";
import type { MessageStream, RpcTransport, TransportReceiver } from "./transport.js";

export type { ByteStream } from "./byte-stream.js";

export type SideName = "server" | "client";

/**
 * Options of a two-party connection. Over a `ByteStream` they configure its framing; a
 * `MessageStream` (capnts/websocket, capnts/messageport) takes its reader limits and window in
 * its own constructor, and these are ignored but for `streamWindow`.
 */
export interface TwoPartyOptions extends ByteMessageStreamOptions {
  /**
   * Makes the flow controller of each capability's streaming calls (C++ `newStream()`), given
   * the stream window (`streamWindow`, or the socket's send buffer) and the clock. Pass
   * `newAdaptiveController` for the adaptive controller. Default: the one
   * `useAdaptiveFlowControl()` set, else a window controller that reads the window before each
   * send (C++ `newVariableWindowController`).
   */
  newStream?: (window: number, clock?: () => number) => RpcFlowController;
}

/** A byte stream writes; a message stream sends messages. */
function isMessageStream(s: ByteStream | MessageStream): s is MessageStream {
  return typeof (s as Partial<MessageStream>).send === "function";
}

function vatId(side: SideName): VatIdR {
  const m = new MB({ firstSegmentWords: 2 });
  m.initRoot(VatIdB).side = side === "server" ? Side.server : Side.client;
  return m.asReader().getRoot(VatId_Reader);
}

function sideOf(v: unknown): SideName | null {
  if (v === "server" || v === "client") return v;
  if (v instanceof VatId_Reader || v instanceof VatIdB) return v.side === Side.server ? "server" : "client";
  if (typeof v === "object" && v !== null && "side" in v) {
    const s = (v as { side: unknown }).side;
    if (s === "server" || s === Side.server) return "server";
    if (s === "client" || s === Side.client) return "client";
  }
  return null;
}

/**
 * C++ `TwoPartyVatNetwork`: the VatNetwork of a two-party connection, and that connection's
 * transport. `connect(VatId{side})` returns the connection unless `side` is our own side;
 * `accept()` yields it once on the server side.
 */
export class TwoPartyVatNetwork implements VatNetwork, RpcTransport {
  readonly side: SideName;
  readonly peerVatId: VatIdR;
  /** What the messages go over: the framed byte stream, or the message stream given. */
  readonly stream: MessageStream;
  private readonly fixedWindow: number | undefined;
  private readonly streamFactory: TwoPartyOptions["newStream"];
  private readonly clock: (() => number) | undefined;
  private readonly disconnected: Promise<void>;
  private resolveDisconnected!: () => void;
  private accepted = false;

  constructor(stream: ByteStream | MessageStream, side: SideName, options: TwoPartyOptions = {}) {
    this.stream = isMessageStream(stream) ? stream : new ByteStreamMessageStream(stream, options);
    this.side = side;
    this.peerVatId = vatId(side === "server" ? "client" : "server");
    this.fixedWindow = options.streamWindow;
    this.streamFactory = options.newStream;
    this.clock = options.clock;
    this.disconnected = new Promise((r) => (this.resolveDisconnected = r));
  }

  /**
   * C++ `TwoPartyVatNetwork::newStream()`: a flow controller for one capability's stream, or
   * undefined for the connection's default (a window controller over `streamWindow`).
   */
  newStream(): RpcFlowController | undefined {
    return (this.streamFactory ?? defaultNewStream())?.(this.streamWindow ?? DEFAULT_WINDOW_SIZE, this.clock);
  }

  /**
   * The window of streaming calls, asked again for every send like C++'s variable window
   * controller (a socket's kernel buffer may grow while the connection runs).
   */
  get streamWindow(): number | undefined {
    return this.fixedWindow ?? this.stream.streamWindow;
  }

  // ---- VatNetwork ----
  connect(vat: unknown): RpcTransport | null {
    const s = sideOf(vat);
    if (s === this.side) return null;
    return this;
  }

  accept(handler: (t: RpcTransport) => void): void {
    if (this.side === "server" && !this.accepted) {
      this.accepted = true;
      handler(this);
    }
  }

  /** Resolves when the connection has ended (C++ `onDisconnect()`). */
  onDisconnect(): Promise<void> {
    return this.disconnected;
  }

  /**
   * C++ `getCurrentQueueSize()`: bytes of outgoing messages not yet taken by the kernel (queued
   * here, or held by a socket whose peer reads slower than we write). Useful for backpressure.
   */
  getCurrentQueueSize(): number {
    return this.stream.getCurrentQueueSize?.() ?? 0;
  }

  /** C++ `getCurrentQueueCount()`: outgoing messages not yet taken by the kernel. */
  getCurrentQueueCount(): number {
    return this.stream.getCurrentQueueCount?.() ?? 0;
  }

  /**
   * C++ `getOutgoingMessageWaitTime()`: how long (milliseconds) the oldest queued message has
   * waited; 0 when nothing is queued.
   */
  getOutgoingMessageWaitTime(): number {
    return this.stream.getOutgoingMessageWaitTime?.() ?? 0;
  }

  // ---- RpcTransport ----
  send(message: MessageBuilder): void {
    this.stream.send(message);
  }

  start(receiver: TransportReceiver): void {
    this.stream.start({
      message: (m) => receiver.message(m),
      closed: (e) => {
        receiver.closed(e);
        this.resolveDisconnected();
      },
      // Output went to the peer: the connection may handle what it held back (maxUnsentBytes).
      drained: () => receiver.drained?.(),
    });
  }

  pauseReading(): void {
    this.stream.pauseReading?.();
  }
  resumeReading(): void {
    this.stream.resumeReading?.();
  }

  async shutdown(): Promise<void> {
    await this.stream.shutdown();
    this.resolveDisconnected();
  }
}

/** C++ `TwoPartyClient`: a two-party network plus an RpcSystem over one stream. */
export class TwoPartyClient {
  readonly network: TwoPartyVatNetwork;
  readonly rpcSystem: RpcSystem;

  constructor(
    stream: ByteStream | MessageStream,
    bootstrap?: BootstrapSource,
    side: SideName = "client",
    options: TwoPartyOptions & RpcSystemOptions = {},
  ) {
    this.network = new TwoPartyVatNetwork(stream, side, options);
    this.rpcSystem = new RpcSystem(this.network, bootstrap, options);
  }

  /** The other side's bootstrap capability. */
  bootstrap<C extends Client = Client>(ctor?: ClientCtor<C>): C {
    const other = this.network.side === "client" ? "server" : "client";
    return this.rpcSystem.bootstrap(other, ctor ?? (Client as unknown as ClientCtor<C>));
  }

  onDisconnect(): Promise<void> {
    return this.network.onDisconnect();
  }

  setTraceEncoder(f: ((error: RpcError) => string) | null): void {
    this.rpcSystem.setTraceEncoder(f);
  }

  /** C++ `TwoPartyClient::getCurrentQueueSize()` (the network's). */
  getCurrentQueueSize(): number {
    return this.network.getCurrentQueueSize();
  }
  /** C++ `TwoPartyClient::getCurrentQueueCount()`. */
  getCurrentQueueCount(): number {
    return this.network.getCurrentQueueCount();
  }
  /** C++ `TwoPartyClient::getOutgoingMessageWaitTime()` (milliseconds). */
  getOutgoingMessageWaitTime(): number {
    return this.network.getOutgoingMessageWaitTime();
  }

  /** Close the connection (pending calls fail with `disconnected`). */
  close(reason = "Connection closed."): Promise<void> {
    return this.rpcSystem.shutdown(RpcError.disconnected(reason));
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
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
