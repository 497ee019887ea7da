/**
 * The Runtime: owns the connections and listeners it creates, with an explicit lifecycle
 * (`Runtime.init()` … `shutdown()`, `await using`, or the scoped `Runtime.run(async rt => …)`).
 * After shutdown every connection it made is closed (calls on its capabilities fail as
 * `disconnected`) and every method refuses work with a ShutdownError.
 *
 * Sockets come from a NetProvider: the Node one (capnts/node) does TCP and Unix sockets
 * ("127.0.0.1:0", "[::1]:4000", "unix:/path"); the core has none, so that it runs anywhere.
 */
import type { Client, ClientCtor } from "./capability.js";
import { RpcError, ShutdownError } from "./errors.js";
import type { BootstrapFactory, RpcSystemOptions } from "./rpc-system.js";
import type { Server } from "./server.js";
import { enableTracking, type LiveCapability, liveCapabilities } from "./tracking.js";
import { tracking } from "./tracking-state.js";
import type { MessageStream } from "./transport.js";
import { type ByteStream, TwoPartyClient, type TwoPartyOptions, TwoPartyServer } from "./two-party.js";

export interface ListenInfo {
  /** The address as KJ writes it: "127.0.0.1:4000" or "unix:/path". */
  address: string;
  /** TCP port (for port 0, the one chosen). */
  port?: number;
  /** Unix socket path. */
  path?: string;
}

export interface NetListener extends ListenInfo {
  close(): Promise<void>;
}

/** Sockets for the runtime. */
export interface NetProvider {
  listen(address: string, onStream: (stream: ByteStream) => void): Promise<NetListener>;
  connect(address: string): Promise<ByteStream>;
}

export type ConnectionOptions = TwoPartyOptions & RpcSystemOptions;

export interface RuntimeOptions {
  net?: NetProvider;
  /**
   * The leak finder (docs/ownership.md): record where every capability reference is made, list
   * the open ones with `liveCapabilities()`, and warn when the garbage collector releases one
   * nobody closed. Process-wide once on; also `CAPNTS_TRACK_CAPABILITIES=1`. Off by default.
   */
  trackCapabilities?: boolean;
  /** With tracking on: called instead of the default warning (console.warn) for each leak. */
  onCapabilityLeak?: (leak: LiveCapability) => void;
}

/** A TwoPartyServer that can listen on addresses and belongs to a runtime. */
export class RuntimeServer extends TwoPartyServer {
  private readonly rt: Runtime;
  private readonly listeners = new Set<NetListener>();

  constructor(rt: Runtime, bootstrap: Client | Server | BootstrapFactory, options: ConnectionOptions) {
    super(bootstrap, options);
    this.rt = rt;
  }

  /** Listen on `address` ("127.0.0.1:0", "unix:/run/app.sock") or accept from a stream iterable. */
  override listen(listener: AsyncIterable<ByteStream>): Promise<undefined>;
  override listen(address: string): Promise<ListenInfo>;
  override listen(where: string | AsyncIterable<ByteStream>): Promise<ListenInfo | undefined> {
    this.rt._check("listen()");
    if (typeof where !== "string") return super.listen(where).then(() => undefined);
    return this.rt
      ._net()
      .listen(where, (s) => {
        if (this.rt.isShutDown) {
          void s.end();
          return;
        }
        void this.accept(s);
      })
      .then((l) => {
        if (this.rt.isShutDown) {
          void l.close();
          throw new ShutdownError("listen()");
        }
        this.listeners.add(l);
        const info: ListenInfo = { address: l.address };
        if (l.port !== undefined) info.port = l.port;
        if (l.path !== undefined) info.path = l.path;
        return info;
      });
  }

  override accept(stream: ByteStream | MessageStream): Promise<void> {
    this.rt._check("accept()");
    return super.accept(stream);
  }

  /** Stop listening and close every connection. */
  override async close(): Promise<void> {
    const ls = [...this.listeners];
    this.listeners.clear();
    // A listener's close completes once its connections are gone: start it, close them, wait.
    const closing = Promise.all(ls.map((l) => l.close().catch(() => {})));
    await super.close();
    await closing;
  }
}

export class Runtime implements AsyncDisposable {
  private readonly net: NetProvider | null;
  private readonly servers = new Set<RuntimeServer>();
  private readonly clients = new Set<TwoPartyClient>();
  private shutdownPromise: Promise<void> | null = null;

  constructor(options: RuntimeOptions = {}) {
    this.net = options.net ?? null;
    if (options.trackCapabilities === true || options.onCapabilityLeak !== undefined) {
      enableTracking(options.onCapabilityLeak);
    }
  }

  /**
   * The leak finder: every capability reference of this process still open (not closed, not yet
   * released by the garbage collector), with the stack that made it. Needs tracking on
   * (`trackCapabilities`, or `CAPNTS_TRACK_CAPABILITIES=1`) from before the references were made.
   */
  liveCapabilities(): LiveCapability[] {
    if (!tracking.on) {
      throw new RpcError(
        "failed",
        "Capability tracking is off: use Runtime.init({ trackCapabilities: true }) or set CAPNTS_TRACK_CAPABILITIES=1.",
      );
    }
    return liveCapabilities();
  }

  static init<R extends Runtime>(this: new (o?: RuntimeOptions) => R, options?: RuntimeOptions): R {
    return new this(options);
  }

  /** Run `fn` with a fresh runtime, shut down afterwards whatever happens. */
  static async run<T, R extends Runtime>(
    this: new (
      o?: RuntimeOptions,
    ) => R,
    fn: (rt: R) => Promise<T> | T,
    options?: RuntimeOptions,
  ): Promise<T> {
    const rt = new this(options);
    try {
      return await fn(rt);
    } finally {
      await rt.shutdown();
    }
  }

  get isShutDown(): boolean {
    return this.shutdownPromise !== null;
  }

  /** @internal */
  _check(what: string): void {
    if (this.shutdownPromise !== null) throw new ShutdownError(what);
  }

  /** @internal */
  _net(): NetProvider {
    if (this.net === null) {
      throw new RpcError(
        "failed",
        "This runtime has no socket provider: use Runtime from capnts/node, or pass { net } to Runtime.init().",
      );
    }
    return this.net;
  }

  /** A server for `bootstrap` (a capability, a Server, or a BootstrapFactory seeing the peer's VatId). */
  newServer(bootstrap: Client | Server | BootstrapFactory, options: ConnectionOptions = {}): RuntimeServer {
    this._check("newServer()");
    const s = new RuntimeServer(this, bootstrap, options);
    this.servers.add(s);
    return s;
  }

  /** Connect to `address` ("127.0.0.1:4000", "unix:/path"); optionally export `bootstrap` to the peer. */
  async connect(
    address: string,
    options: ConnectionOptions & { bootstrap?: Client | Server } = {},
  ): Promise<TwoPartyClient> {
    this._check("connect()");
    let stream: ByteStream;
    try {
      stream = await this._net().connect(address);
    } catch (e) {
      // A provider's own error becomes what a lost connection is (C++: DISCONNECTED), naming the
      // address; its errors that are already RpcErrors (a bad address, …) pass as they are.
      if (e instanceof RpcError) throw e;
      const why = e instanceof Error ? e.message : String(e);
      throw new RpcError("disconnected", `Cannot connect to ${JSON.stringify(address)}: ${why}`, {
        cause: e,
      });
    }
    if (this.isShutDown) {
      await stream.end();
      throw new ShutdownError("connect()");
    }
    return this.connectStream(stream, options);
  }

  /**
   * Run the client side of a two-party connection over any byte stream, or over a message stream
   * (a `WebSocketTransport` from capnts/websocket, a `MessagePortTransport` from
   * capnts/messageport).
   */
  connectStream(
    stream: ByteStream | MessageStream,
    options: ConnectionOptions & { bootstrap?: Client | Server } = {},
  ): TwoPartyClient {
    this._check("connectStream()");
    const c = new TwoPartyClient(stream, options.bootstrap, "client", options);
    this.clients.add(c);
    void c.onDisconnect().then(() => this.clients.delete(c));
    return c;
  }

  /** Convenience: connect and return the typed bootstrap capability. */
  async bootstrap<C extends Client>(
    address: string,
    ctor: ClientCtor<C>,
    options?: ConnectionOptions,
  ): Promise<C> {
    const c = await this.connect(address, options);
    return c.bootstrap(ctor);
  }

  /**
   * Close every listener and connection of this runtime; resolves when they are gone.
   * Idempotent: later calls return the same promise.
   */
  shutdown(): Promise<void> {
    if (this.shutdownPromise !== null) return this.shutdownPromise;
    const err = new ShutdownError("Runtime");
    this.shutdownPromise = (async () => {
      const servers = [...this.servers];
      const clients = [...this.clients];
      this.servers.clear();
      this.clients.clear();
      await Promise.all([
        ...servers.map((s) => s.close().catch(() => {})),
        ...clients.map((c) => c.rpcSystem.shutdown(err).catch(() => {})),
      ]);
    })();
    return this.shutdownPromise;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
  }
}
