/**
 * The two-party network over a message stream (C++ rpc-twoparty.h, `TwoPartyVatNetwork` given a
 * `MessageStream`): one connection between a client and a server vat. two-party.ts extends it to
 * byte streams; a program that only has message streams (capnts/websocket, capnts/messageport)
 * uses these classes and carries none of the byte-stream framing.
 */

import { VatId_Reader } from "../gen/rpc-twoparty.capnp.js";
import { MessageBuilder as MB, type MessageBuilder } from "../wire/index.js";
import { Client, type ClientCtor } from "./capability.js";
import { RpcError } from "./errors.js";
import { DEFAULT_WINDOW_SIZE, defaultNewStream, type RpcFlowController } from "./flow-control.js";
import { Side, VatIdB, type VatIdR } from "./protocol.js";
import { type BootstrapSource, RpcSystem, type RpcSystemOptions, type VatNetwork } from "./rpc-system.js";
import type { MessageStream, RpcTransport, TransportReceiver } from "./transport.js";

export type SideName = "server" | "client";

/**
 * Options of a two-party connection over a `MessageStream` (which takes its reader limits in its
 * own constructor): the flow-control window of streaming calls, else the stream's.
 */
export interface MessageStreamOptions {
  streamWindow?: number;
  /**
   * Makes the flow controller of each capability's streaming calls (C++ `newStream()`), given
   * the stream window (`streamWindow`, or the stream's) and the clock. Pass
   * `newAdaptiveController` for the adaptive controller. Default: the one
   * `useAdaptiveFlowControl()` set, else a window controller that reads the window before each
   * send (C++ `newVariableWindowController`).
   */
  newStream?: (window: number, clock?: () => number) => RpcFlowController;
  /** Monotonic clock in milliseconds, for the flow controller (default `performance.now()`). */
  clock?: () => number;
}

/**
 * The VatId of `side`, a message of its own per connection: a BootstrapFactory may key what it
 * keeps per connection by the peer's VatId object (the interop test server does).
 */
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
 * C++ `TwoPartyVatNetwork(MessageStream&, side)`: the VatNetwork of a two-party connection over a
 * message stream, and that connection's transport. `connect(VatId{side})` returns the connection
 * unless `side` is our own side; `accept()` yields it once on the server side.
 * `TwoPartyVatNetwork` (two-party.ts) extends it to byte streams.
 */
export class MessageStreamVatNetwork implements VatNetwork, RpcTransport {
  readonly side: SideName;
  readonly peerVatId: VatIdR;
  /** What the messages go over. */
  readonly stream: MessageStream;
  private readonly fixedWindow: number | undefined;
  private readonly streamFactory: MessageStreamOptions["newStream"];
  private readonly clock: (() => number) | undefined;
  private readonly disconnected: Promise<void>;
  private resolveDisconnected!: () => void;
  private accepted = false;

  constructor(stream: MessageStream, side: SideName, options: MessageStreamOptions = {}) {
    this.stream = stream;
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
  send(message: MessageBuilder, streaming?: boolean): void {
    this.stream.send(message, streaming);
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

/**
 * C++ `TwoPartyClient` over a message stream only (a WebSocket, a MessagePort): a two-party
 * network plus an RpcSystem. `TwoPartyClient` (two-party.ts) takes byte streams too; this one
 * leaves the byte-stream framing out of a bundle (BENCHMARKS.md, "Bundle sizes").
 */
export class MessageStreamClient {
  readonly network: MessageStreamVatNetwork;
  readonly rpcSystem: RpcSystem;

  /** `stream` may be a network already made (how `TwoPartyClient` passes its own). */
  constructor(
    stream: MessageStream | MessageStreamVatNetwork,
    bootstrap?: BootstrapSource,
    side: SideName = "client",
    options: MessageStreamOptions & RpcSystemOptions = {},
  ) {
    this.network =
      stream instanceof MessageStreamVatNetwork ? stream : new MessageStreamVatNetwork(stream, side, options);
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
