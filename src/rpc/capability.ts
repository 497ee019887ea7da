/**
 * The typed handles users and generated code hold (C++ capability.h `Capability::Client`,
 * `RemotePromise`, `Request`, `Pipeline`): thin wrappers over the hooks.
 *
 * Lifetime (docs/ownership.md). A `Client` owns one reference to its capability: `dup()` takes
 * another, `close()` (or `using`, `Symbol.dispose`) drops it. A capability read from a message
 * (`getClient`) or taken from a pipeline is the taker's: from a response or params, the first
 * taker gets the message's own reference (taken.ts), so a call keeps nothing anyone took. A
 * `RemotePromise` owns the call's pipeline and, once it arrived, the response with whatever nobody
 * took from it: disposing it (or `cancel()`) before the response arrives tells the callee the
 * caller no longer cares (Finish); after, it releases what is left.
 */

// The leak finder's switch, turned on from the environment where there is one (tracking-env.ts).
import { tracking } from "#tracking-env";
import type {
  StructBuilder,
  StructBuilderCtor,
  StructCtor,
  StructReader,
  StructView,
} from "../wire/index.js";
import { BrokenClient, BrokenPipeline, newNullCap } from "./broken.js";
import {
  type CallName,
  ClosedHandleError,
  callSite,
  forCall,
  formatCallName,
  isFromCallee,
  RpcError,
  toRpcError,
  withCallSite,
} from "./errors.js";
import { Future } from "./future.js";
import { forget, releaseWhenCollected } from "./gc.js";
import {
  type CallHints,
  ClientHook,
  innermost,
  makeCapsTakeable,
  NO_HINTS,
  type PipelineHook,
  type PipelineOps,
  type RequestHook,
  type ResponseHook,
  type ResponseSink,
} from "./hooks.js";
import { newLocalPromiseClient } from "./local-request.js";
import { callName, type InterfaceInfo, Server } from "./server.js";
import { takeCapability } from "./taken.js";

/**
 * A client class, as the runtime constructs it (from a hook it takes over): `Foo.Client`. Generated
 * client classes accept more (`ClientSource<Foo_Client>`), the runtime passes only hooks.
 */
export type ClientCtor<C extends Client = Client> = new (source: ClientHook) => C;
export type PipelineCtor<P extends Pipeline = Pipeline> = new (hook: PipelineHook, ops: PipelineOps) => P;

/**
 * What a Client of class `C` can be made from (C++ `Capability::Client` constructors): a hook
 * (taken over), a server of C's interface or of a subinterface (`Foo.server(impl)`), another client
 * of it (a new reference), a promise of one, an Error (a broken capability), or null. Generated
 * client classes take `ClientSource<Foo_Client>`; the untyped `Client` takes any.
 */
export type ClientSource<C extends Client = Client> =
  | ClientHook
  | Server<C>
  | C
  | PromiseLike<C>
  | Error
  | null
  | undefined;

/** The hook of a closed handle (its error is only seen by code that reads `_hook` directly). */
const CLOSED: ClientHook = new BrokenClient(new ClosedHandleError("it was used after close()"));

export class Client implements Disposable {
  /** Interface of this client class (generated subclasses override it). */
  static readonly _interface: InterfaceInfo | undefined = undefined;
  /** @internal The capability; one reference owned by this handle. */
  _hook: ClientHook;

  /**
   * From a hook (taken over), a Server (a new reference to its capability), another Client
   * (a new reference: like `dup()`), a promise of a Client (a promise capability; the client it
   * resolves to is taken over), an Error (a broken capability) or null (the null capability).
   */
  constructor(source?: ClientSource) {
    const h = toHook(source);
    this._hook = h;
    // Released by the garbage collector if never closed (see gc.ts), reported if tracked.
    releaseWhenCollected(
      this,
      tracking.on ? tracking.track(this, h, (this.constructor as typeof Client)._interface?.name) : h,
      this,
    );
  }

  /** C++ `castAs<T>()`: the same capability, typed as another interface. A new reference. */
  castAs<C extends Client>(ctor: ClientCtor<C>): C {
    return new ctor(this._live("castAs()").addRef());
  }

  /** Another reference to the same capability. */
  dup(): this {
    const C = this.constructor as new (s: ClientSource) => this;
    return new C(this._live("dup()").addRef());
  }

  /** Drop this reference (idempotent). */
  close(): void {
    const h = this._hook;
    if (h === CLOSED) return;
    this._hook = CLOSED;
    forget(this);
    if (tracking.on) tracking.untrack(this);
    h.release();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this._hook === CLOSED;
  }

  /** True for the null capability (a null pointer read from a message). */
  get isNull(): boolean {
    return this._hook.isNull;
  }

  /** Settles when this capability is no longer a promise (rejects if it broke). */
  whenResolved(): Promise<void> {
    if (this._hook === CLOSED) return Promise.reject(this._closedError("whenResolved()"));
    const start = this._hook.addRef();
    return new Promise<void>((resolve, reject) => {
      const step = (h: ClientHook): void => {
        const inner = innermost(h);
        const more = inner.whenMoreResolved();
        if (more === null) {
          const err = inner.brokenError;
          start.release();
          if (err !== null && !inner.isNull) reject(err);
          else resolve();
          return;
        }
        more.listen((ok, v) => {
          if (ok) step(v as ClientHook);
          else {
            start.release();
            reject(v);
          }
        });
      };
      step(start);
    });
  }

  /**
   * C++ `Capability::Client::getFd()`: the file descriptor the capability's server exposes (a
   * local server's `getFd()`, or an FD that arrived attached to an imported capability over a
   * Unix socket), after waiting for a promise to resolve; null when there is none. The FD stays
   * owned by the capability: do not close it, and do not use it after the last reference goes.
   */
  getFd(): Promise<number | null> {
    if (this._hook === CLOSED) return Promise.reject(this._closedError("getFd()"));
    const start = this._hook.addRef();
    return new Promise<number | null>((resolve, reject) => {
      const step = (h: ClientHook): void => {
        const inner = innermost(h);
        const fd = inner.getFd();
        const more = fd === null ? inner.whenMoreResolved() : null;
        if (more === null) {
          start.release();
          resolve(fd);
          return;
        }
        more.listen((ok, v) => {
          if (ok) step(v as ClientHook);
          else {
            start.release();
            reject(v);
          }
        });
      };
      step(start);
    });
  }

  /**
   * @internal The hook, refusing a closed handle: throws ClosedHandleError naming `op` (what was
   * attempted, e.g. "dup()"). For what makes a new handle, not for calls (they reject instead).
   */
  _live(op?: string): ClientHook {
    const h = this._hook;
    if (h === CLOSED) throw this._closedError(op ?? "use");
    return h;
  }

  /** @internal */
  _closedError(op: string): ClosedHandleError {
    const name = (this.constructor as typeof Client)._interface?.name;
    return new ClosedHandleError(`cannot ${op} this ${name ?? "capability"}`);
  }

  /**
   * @internal A new call on this capability; on a closed handle, a call whose promise rejects
   * with a ClosedHandleError naming the method (calls never throw for it).
   */
  _newCall(interfaceId: bigint, methodId: number, hints: CallHints): RequestHook {
    const h = this._hook;
    if (h !== CLOSED) return h.newCall(interfaceId, methodId, hints);
    const name = callName((this.constructor as typeof Client)._interface, interfaceId, methodId);
    const error = new ClosedHandleError(`cannot call ${formatCallName(name)}()`);
    return new BrokenClient(error).newCall(interfaceId, methodId, hints);
  }

  /** Generated methods call this. */
  _call<PB, R, P extends Pipeline>(
    interfaceId: bigint,
    methodId: number,
    paramsType: StructBuilderCtor<PB>,
    resultsType: StructCtor<R>,
    pipelineType: PipelineCtor<P>,
    init?: (params: PB) => void,
  ): RemotePromise<R, P> {
    const req = this._newCall(interfaceId, methodId, NO_HINTS);
    const rp = new RemotePromise<R, P>(resultsType, pipelineType);
    rp._callOf(
      (this.constructor as typeof Client)._interface,
      interfaceId,
      methodId,
      RpcError.captureCallSites ? callSite(Client.prototype._call) : null,
    );
    let params: PB;
    try {
      params = req.params.initAs(paramsType);
      if (init !== undefined) init(params);
    } catch (e) {
      // Filling in the params failed (a closed capability passed in, a bad value, ...): the
      // call is not sent, and its promise rejects with that error.
      req.abandon();
      rp._fail(e);
      return rp;
    }
    rp._setPipeline(req.send(rp));
    return rp;
  }

  /** Generated `fooRequest()` methods call this. */
  _request<PB, R, P extends Pipeline>(
    interfaceId: bigint,
    methodId: number,
    paramsType: StructBuilderCtor<PB>,
    resultsType: StructCtor<R>,
    pipelineType: PipelineCtor<P>,
    hints?: CallHints,
  ): Request<PB, R, P> {
    const req = this._newCall(interfaceId, methodId, hints ?? NO_HINTS);
    const r = new Request<PB, R, P>(req, req.params.initAs(paramsType), resultsType, pipelineType);
    r._iface = (this.constructor as typeof Client)._interface;
    return r;
  }

  /**
   * Generated `-> stream` methods call this: sends the call and settles when flow control lets
   * the next one go (locally: when the call has completed). A failed streaming call rejects.
   */
  _callStreaming<PB>(
    interfaceId: bigint,
    methodId: number,
    paramsType: StructBuilderCtor<PB>,
    init?: (params: PB) => void,
  ): Promise<void> {
    const req = this._newCall(interfaceId, methodId, NO_HINTS);
    let params: PB;
    try {
      params = req.params.initAs(paramsType);
      if (init !== undefined) init(params);
    } catch (e) {
      req.abandon();
      return Promise.reject(e);
    }
    const site = RpcError.captureCallSites ? callSite(Client.prototype._callStreaming) : null;
    return sendStreaming(req, (this.constructor as typeof Client)._interface, site);
  }
}

function sendStreaming(
  req: RequestHook,
  iface: InterfaceInfo | undefined,
  site: Error | null,
): Promise<void> {
  return new Promise<void>((resolve, rejectPromise) => {
    const reject = (e: unknown): void =>
      rejectPromise(forCall(e, callName(iface, req.interfaceId, req.methodId), site));
    const s = (req as RequestHook & { sendStreaming?: (sink: ResponseSink) => Future<void> }).sendStreaming;
    if (typeof s === "function") {
      // Over RPC: settles when flow control allows; a failure of this call poisons later ones.
      const flow = s.call(req, STREAM_SINK);
      flow.listenNow((ok, v) => (ok ? resolve() : reject(v)));
      return;
    }
    // Locally: settles when the call has completed (C++ LocalRequest::sendStreaming).
    let pipeline: PipelineHook | null = null;
    let finished = false;
    pipeline = req.send({
      onReturn(response) {
        response.release();
        finished = true;
        pipeline?.release();
        resolve();
      },
      onError(e) {
        finished = true;
        pipeline?.release();
        reject(e);
      },
    });
    if (finished) pipeline.release();
  });
}

const STREAM_SINK: ResponseSink = {
  onReturn(r) {
    r.release();
  },
  onError() {},
};

/**
 * @internal The hook a client made from `source` holds (a new reference; `source` keeps its
 * own, except a ClientHook, which is taken, and a promise's client, taken when it resolves).
 */
export function toHook(source: ClientSource): ClientHook {
  if (source === null || source === undefined) return newNullCap();
  if (source instanceof ClientHook) return source;
  if (source instanceof Server) return source._client();
  if (source instanceof Client) return source._live().addRef();
  if (source instanceof Error) return new BrokenClient(toRpcError(source));
  if (typeof (source as PromiseLike<Client>).then === "function") {
    const f = new Future<ClientHook>();
    (source as PromiseLike<Client>).then(
      (c) => {
        if (!(c instanceof Client)) {
          f.reject(RpcError.failed("Promise for a capability resolved to something else."));
          return;
        }
        if (c.closed) {
          f.reject(c._closedError("resolve a promised capability to"));
          return;
        }
        const h = c._live().addRef();
        c.close();
        f.resolve(h);
        h.release();
      },
      (e: unknown) => f.reject(toRpcError(e)),
    );
    return newLocalPromiseClient(f);
  }
  throw new TypeError("Not a capability source.");
}

/**
 * Promise pipelining handle for a call's results (C++ `Results::Pipeline`). Generated subclasses
 * have one getter per capability or struct field.
 */
export class Pipeline implements Disposable {
  /** The call's pipeline (generated group pipelines pass it on: part of capnts/codegenv1). */
  readonly _hook: PipelineHook;
  /** Pointer path from the results root to this struct (passed on like `_hook`). */
  readonly _ops: PipelineOps;
  /** @internal Set when this pipeline owns its hook (`Request.sendForPipeline()`). */
  _owned = false;

  constructor(hook: PipelineHook, ops: PipelineOps) {
    this._hook = hook;
    this._ops = ops;
  }

  /**
   * Release a pipeline you own (from `sendForPipeline()`): capabilities taken from it stay
   * valid. Pipelines of a RemotePromise are released with the promise. Idempotent.
   */
  close(): void {
    if (!this._owned) return;
    this._owned = false;
    forget(this);
    this._hook.release();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /**
   * The (promised) capability in pointer field `i`: a new reference; close it when done. From a
   * pipeline already released (closed, or its RemotePromise disposed), a capability whose calls
   * reject saying so.
   */
  _getCap<C extends Client>(i: number, ctor: ClientCtor<C>): C {
    if (this._hook._refs <= 0) {
      return new ctor(
        new BrokenClient(
          RpcError.failed("This pipeline was used after it was released (closed or disposed)."),
        ),
      );
    }
    const ops = this._ops.length === 0 ? [i] : [...this._ops, i];
    return new ctor(this._hook.getPipelinedCap(ops));
  }

  /** The (promised) struct in pointer field `i`. */
  _getPipeline<P extends Pipeline>(i: number, ctor: PipelineCtor<P>): P {
    const ops = this._ops.length === 0 ? [i] : [...this._ops, i];
    return new ctor(this._hook, ops);
  }
}

const PENDING = 0;
const FULFILLED = 1;
const REJECTED = 2;

/**
 * The result of a call (C++ `RemotePromise<T>`): a promise of the results reader, plus
 * `pipeline` for calls on capabilities in the results before they arrive.
 */
export class RemotePromise<R, P extends Pipeline = Pipeline> implements Promise<R>, ResponseSink, Disposable {
  /** @internal */
  _pipelineHook: PipelineHook | null = null;
  private response: ResponseHook | null = null;
  private state: 0 | 1 | 2 = PENDING;
  private value: unknown = undefined;
  private promise: Promise<R> | null = null;
  private resolveFn: ((v: R) => void) | null = null;
  private rejectFn: ((e: unknown) => void) | null = null;
  private disposed = false;
  private pipe: P | null = null;
  private readonly resultsType: StructCtor<R>;
  private readonly pipelineType: PipelineCtor<P>;
  // The call, named in errors from the callee's side (forCall); looked up only on error.
  private iface: InterfaceInfo | undefined = undefined;
  private interfaceId = 0n;
  private methodId = -1;
  private site: Error | null = null;

  constructor(resultsType: StructCtor<R>, pipelineType: PipelineCtor<P>) {
    this.resultsType = resultsType;
    this.pipelineType = pipelineType;
  }

  /** @internal */
  _setPipeline(hook: PipelineHook): void {
    this._pipelineHook = hook;
  }

  /**
   * @internal Which call this is (for error messages), and where it was made when
   * `RpcError.captureCallSites` is on.
   */
  _callOf(iface: InterfaceInfo | undefined, interfaceId: bigint, methodId: number, site: Error | null): void {
    this.iface = iface;
    this.interfaceId = interfaceId;
    this.methodId = methodId;
    this.site = site;
  }

  /** @internal The call was never sent (its params could not be built): reject with `e`. */
  _fail(e: unknown): void {
    this._pipelineHook = new BrokenPipeline(toRpcError(e));
    this.settle(REJECTED, e);
  }

  /** @internal This call's name, for errors. */
  _callName(): CallName {
    return callName(this.iface, this.interfaceId, this.methodId);
  }

  /**
   * Pipelined access to the results' capabilities. After `cancel()` (or dispose), a pipeline
   * whose calls all reject.
   */
  get pipeline(): P {
    if (this.pipe !== null) return this.pipe;
    const h = this._pipelineHook;
    if (h === null) {
      const what = this.methodId >= 0 ? `the call to ${formatCallName(this._callName())}` : "this call";
      const error = RpcError.failed(`The pipeline of ${what} was used after the call was disposed.`);
      return new this.pipelineType(new BrokenPipeline(error), []);
    }
    // Pipelined capabilities now hang off the pipeline: if this promise is never disposed, drop
    // the pipeline when it is collected (the response has its own net; gc.ts). Registered only
    // here, so calls that never pipeline pay nothing.
    releaseWhenCollected(this, h, this);
    this.registered = true;
    return (this.pipe = new this.pipelineType(h, []));
  }
  private registered = false;

  // ---- ResponseSink ----
  /** The results' capabilities go to whoever takes them (taken.ts). On the prototype: free. */
  get takesCaps(): boolean {
    return true;
  }

  onReturn(response: ResponseHook): void {
    if (this.disposed || this.state !== PENDING) {
      response.release();
      return;
    }
    let v: R;
    try {
      makeCapsTakeable(response.results);
      v = response.results.getAs(this.resultsType);
    } catch (e) {
      response.release();
      this.settle(REJECTED, toRpcError(e));
      return;
    }
    this.response = response;
    this.settle(FULFILLED, v);
  }
  onError(error: RpcError): void {
    if (this.state !== PENDING) return;
    this.settle(REJECTED, isFromCallee(error) ? forCall(error, this._callName(), this.site) : error);
  }

  private settle(state: 1 | 2, value: unknown): void {
    this.state = state;
    this.value = value;
    if (state === FULFILLED) this.resolveFn?.(value as R);
    else this.rejectFn?.(value);
    this.resolveFn = this.rejectFn = null;
  }

  private native(): Promise<R> {
    if (this.promise !== null) return this.promise;
    if (this.state === FULFILLED) this.promise = Promise.resolve(this.value as R);
    else if (this.state === REJECTED) this.promise = Promise.reject(this.value);
    else
      this.promise = new Promise<R>((resolve, reject) => {
        this.resolveFn = resolve;
        this.rejectFn = reject;
      });
    return this.promise;
  }

  // ---- Promise ----
  // biome-ignore lint/suspicious/noThenProperty: a RemotePromise is a Promise (C++ RemotePromise).
  then<T1 = R, T2 = never>(
    onfulfilled?: ((value: R) => T1 | PromiseLike<T1>) | null,
    // biome-ignore lint/suspicious/noExplicitAny: the same signature as Promise.then.
    onrejected?: ((reason: any) => T2 | PromiseLike<T2>) | null,
  ): Promise<T1 | T2> {
    return this.native().then(onfulfilled, onrejected);
  }
  // biome-ignore lint/suspicious/noExplicitAny: the same signature as Promise.catch.
  catch<T = never>(onrejected?: ((reason: any) => T | PromiseLike<T>) | null): Promise<R | T> {
    return this.native().catch(onrejected);
  }
  finally(onfinally?: (() => void) | null): Promise<R> {
    return this.native().finally(onfinally);
  }
  get [Symbol.toStringTag](): string {
    return "RemotePromise";
  }

  /**
   * Drop the call: before it returned, the callee learns the caller no longer cares (Finish;
   * pipelined calls already made still complete); after, the response and the capabilities in
   * it are released. Idempotent.
   */
  cancel(): void {
    if (this.disposed) return;
    this.disposed = true;
    const h = this._pipelineHook;
    this._pipelineHook = null;
    this.pipe = null;
    const r = this.response;
    this.response = null;
    if (this.registered) forget(this);
    h?.release();
    r?.release();
    // Whoever still awaits a call canceled before it returned hears so, instead of waiting
    // forever (C++ destroys the promise, so nobody can wait on it there).
    if (this.state === PENDING) this.settle(REJECTED, canceledCall(this._callName(), this.site));
  }

  [Symbol.dispose](): void {
    this.cancel();
  }
}

function canceledCall(name: CallName, site: Error | null): RpcError {
  return withCallSite(
    RpcError.failed(`Call was canceled by the caller (in call to ${formatCallName(name)}).`),
    site,
  );
}

/** A call whose params are being built (C++ `Request<Params, Results>`). */
export class Request<PB, R, P extends Pipeline = Pipeline> {
  /** The params to fill in before `send()`. */
  readonly params: PB;
  private hook: RequestHook | null;
  private readonly resultsType: StructCtor<R>;
  private readonly pipelineType: PipelineCtor<P>;

  /** @internal The interface of the client that made this request (names the call in errors). */
  _iface: InterfaceInfo | undefined = undefined;

  constructor(hook: RequestHook, params: PB, resultsType: StructCtor<R>, pipelineType: PipelineCtor<P>) {
    this.hook = hook;
    this.params = params;
    this.resultsType = resultsType;
    this.pipelineType = pipelineType;
  }

  /** @internal Take the hook (send, tail call). */
  _take(): RequestHook {
    const h = this.hook;
    if (h === null) throw RpcError.failed("Already called send() on this request.");
    this.hook = null;
    return h;
  }

  send(): RemotePromise<R, P> {
    const req = this._take();
    const rp = new RemotePromise<R, P>(this.resultsType, this.pipelineType);
    rp._callOf(
      this._iface,
      req.interfaceId,
      req.methodId,
      RpcError.captureCallSites ? callSite(Request.prototype.send) : null,
    );
    rp._setPipeline(req.send(rp));
    return rp;
  }

  /** C++ 1.x `sendForPipeline()`: only the pipeline is wanted (Call.onlyPromisePipeline). */
  sendForPipeline(): P {
    const req = this._take();
    const hook = req.sendForPipeline();
    const p = new this.pipelineType(hook, []);
    p._owned = true;
    releaseWhenCollected(p, hook, p);
    return p;
  }

  /** Abandon the request without sending it (releases capabilities in the params). */
  abandon(): void {
    const h = this.hook;
    this.hook = null;
    h?.abandon();
  }
}

/**
 * Generated capability getters: a reference to the capability in pointer field `i`, owned by the
 * caller. From a response or a call's params, the first taker gets the message's own reference
 * (taken.ts), so closing what you took releases the capability; otherwise a new reference.
 */
export function getClient<C extends Client>(struct: StructView, i: number, ctor: ClientCtor<C>): C {
  const cap = struct._getCapability(i);
  if (cap === null) return new ctor(newNullCap());
  if (!(cap instanceof ClientHook)) {
    return new ctor(new BrokenClient(RpcError.failed("Capability table entry is not a capability.")));
  }
  return new ctor(takeCapability(struct._arena, struct._getCapabilityIndex(i), cap));
}

/** Generated capability setters: the message takes its own reference (the caller keeps theirs). */
export function setClient(struct: StructBuilder, i: number, client: Client | Server | null): void {
  if (client === null) {
    struct._setCapability(i, null);
    return;
  }
  const h = client instanceof Server ? client._client() : client._live().addRef();
  struct._setCapability(i, h);
}

export type { StructReader };
