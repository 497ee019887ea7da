/**
 * RpcSystem over a VatNetwork (C++ rpc.h `RpcSystem<VatId>` / `makeRpcServer` / `makeRpcClient`):
 * one RpcConnection per network connection, the bootstrap capability (or a BootstrapFactory that
 * sees the peer's VatId), the trace encoder and the flow limit.
 */
import type { AnyPointerBuilder, AnyPointerReader } from "../wire/index.js";
import { BrokenClient, newBrokenCap } from "./broken.js";
import { Client, type ClientCtor, toHook } from "./capability.js";
import { type ConnectionOptions, RpcConnection } from "./connection.js";
import { RpcError, ShutdownError, toRpcError } from "./errors.js";
import type { ClientHook } from "./hooks.js";
import { Server } from "./server.js";
import type { RpcTransport } from "./transport.js";

/** C++ `VatNetwork`: connections to other vats. */
export interface VatNetwork {
  /** The connection to `vatId`, or null when `vatId` is this vat. */
  connect(vatId: unknown): RpcTransport | null;
  /** Call `handler` for each incoming connection (C++ `accept()` loop). */
  accept(handler: (transport: RpcTransport) => void): void;
}

/** C++ `BootstrapFactory<VatId>`: a bootstrap capability chosen per authenticated peer. */
export interface BootstrapFactory {
  createFor(peerVatId: unknown): Client | Server;
}

export type BootstrapSource = Client | Server | BootstrapFactory | null | undefined;

export interface RpcSystemOptions {
  /** C++ setTraceEncoder: its result goes into Exception.trace of exceptions we send. */
  traceEncoder?: ((error: RpcError) => string) | null;
  /** C++ setFlowLimit (words of incoming calls in flight before reading pauses). */
  flowLimit?: number;
  /** Received messages not yet handled at which a connection stops reading (ConnectionOptions). */
  maxBacklogMessages?: number;
  /** Bytes of received, unhandled messages at which a connection stops reading. */
  maxBacklogBytes?: number;
  /** Bytes of output the peer has not taken past which its new calls wait. */
  maxUnsentBytes?: number;
  /** For Bootstrap.deprecatedObjectId (C++ SturdyRefRestorer). */
  restorer?: (objectId: AnyPointerReader) => Client | Server;
  /** Errors no caller can see, e.g. a failing transport shutdown (ConnectionOptions.onError). */
  onError?: (error: unknown) => void;
}

export class RpcSystem {
  readonly network: VatNetwork;
  private readonly bootstrapHook: ClientHook | null;
  private readonly factory: BootstrapFactory | null;
  private readonly options: RpcSystemOptions;
  private traceEncoder: ((error: RpcError) => string) | null;
  private flowLimit: number;
  private readonly connections = new Map<RpcTransport, RpcConnection>();
  private shutDown: RpcError | null = null;
  /** @internal Called for each new connection (runtimes track them). */
  onConnection: ((c: RpcConnection) => void) | null = null;

  constructor(network: VatNetwork, bootstrap?: BootstrapSource, options: RpcSystemOptions = {}) {
    this.network = network;
    this.options = options;
    this.traceEncoder = options.traceEncoder ?? null;
    this.flowLimit = options.flowLimit ?? Number.POSITIVE_INFINITY;
    if (bootstrap instanceof Client || bootstrap instanceof Server) {
      this.bootstrapHook = toHook(bootstrap);
      this.factory = null;
    } else {
      this.bootstrapHook = null;
      this.factory = bootstrap ?? null;
    }
    network.accept((t) => {
      this.connectionFor(t);
    });
  }

  private createFor(peerVatId: unknown): ClientHook {
    if (this.bootstrapHook !== null) return this.bootstrapHook.addRef();
    if (this.factory !== null) return toHook(this.factory.createFor(peerVatId));
    return newBrokenCap("This vat does not expose any public/bootstrap interfaces.");
  }

  /** @internal The RpcConnection of a transport (made on first use). */
  connectionFor(t: RpcTransport): RpcConnection {
    let c = this.connections.get(t);
    if (c !== undefined) return c;
    if (this.shutDown !== null) throw this.shutDown;
    const opts: ConnectionOptions = {
      bootstrap: (vatId) => this.createFor(vatId),
      traceEncoder: this.traceEncoder,
      flowLimit: this.flowLimit,
      onDisconnect: () => {
        this.connections.delete(t);
      },
    };
    const o = this.options;
    if (o.maxBacklogMessages !== undefined) opts.maxBacklogMessages = o.maxBacklogMessages;
    if (o.maxBacklogBytes !== undefined) opts.maxBacklogBytes = o.maxBacklogBytes;
    if (o.maxUnsentBytes !== undefined) opts.maxUnsentBytes = o.maxUnsentBytes;
    if (o.onError !== undefined) opts.onError = o.onError;
    const r = this.options.restorer;
    if (r !== undefined) opts.restorer = (objectId) => toHook(r(objectId));
    c = new RpcConnection(t, opts);
    this.connections.set(t, c);
    c.start();
    this.onConnection?.(c);
    return c;
  }

  /**
   * The bootstrap capability of the vat `vatId` (C++ `bootstrap()`); this vat's own bootstrap
   * when `vatId` names it (rpc-test.c++ "loopback bootstrap()").
   */
  bootstrap<C extends Client = Client>(vatId: unknown, ctor?: ClientCtor<C>): C {
    const C = (ctor ?? Client) as ClientCtor<C>;
    if (this.shutDown !== null) return new C(new BrokenClient(this.shutDown));
    const t = this.network.connect(vatId);
    if (t === null) return new C(this.createFor(vatId));
    return new C(this.connectionFor(t).bootstrap());
  }

  /** C++'s deprecated `restore()`: Bootstrap with `deprecatedObjectId`. */
  restore<C extends Client = Client>(
    vatId: unknown,
    objectId: (b: AnyPointerBuilder) => void,
    ctor?: ClientCtor<C>,
  ): C {
    const C = (ctor ?? Client) as ClientCtor<C>;
    if (this.shutDown !== null) return new C(new BrokenClient(this.shutDown));
    const t = this.network.connect(vatId);
    if (t === null) {
      return new C(
        newBrokenCap(
          "This vat only supports a bootstrap interface, not the old Cap'n-Proto-0.4-style named exports.",
        ),
      );
    }
    return new C(this.connectionFor(t).bootstrap(objectId));
  }

  setFlowLimit(words: number): void {
    this.flowLimit = words;
    for (const c of this.connections.values()) c.setFlowLimit(words);
  }

  setTraceEncoder(f: ((error: RpcError) => string) | null): void {
    this.traceEncoder = f;
    for (const c of this.connections.values()) c.traceEncoder = f;
  }

  /** @internal Live connections (tests inspect their tables). */
  get liveConnections(): RpcConnection[] {
    return [...this.connections.values()];
  }

  /** Disconnect every connection and release the bootstrap capability. Idempotent. */
  async shutdown(error?: unknown): Promise<void> {
    if (this.shutDown === null) {
      this.shutDown = error === undefined ? new ShutdownError("RpcSystem") : toRpcError(error);
      this.bootstrapHook?.release();
    }
    const conns = [...this.connections.values()];
    for (const c of conns) c.disconnect(this.shutDown);
    await Promise.all(conns.map((c) => c.whenShutDown()));
  }
}

export { RpcError };
