/**
 * Calls between objects of this vat (C++ capability.c++ LocalRequest / LocalCallContext /
 * LocalResponse). The params message the caller built becomes the callee's params (no copy);
 * the callee's results message becomes the caller's response (no copy).
 *
 * Also promise capabilities that resolve locally (C++ capability.c++ QueuedClient /
 * QueuedPipeline), which live here because a call made on one before it resolves is a local
 * request (C++ QueuedClient::newCall makes a LocalRequest), while the call contexts' pending
 * pipelined capabilities are QueuedClients: keeping both in one module keeps the module graph
 * acyclic (test/package/import-cycles.test.ts); call-context.ts asks its subclasses for those.
 *
 * Calls made on a QueuedClient before resolution are queued in order and forwarded, in that
 * order, the moment the resolution is known; calls made after go straight to the resolution.
 * Forwarding happens inside `resolve()` itself, before any `whenMoreResolved()` listener runs
 * (those run from the run queue), so "previously-queued calls are delivered before any new calls
 * made in response to the resolution" (capability.c++).
 */
import { type AnyPointerBuilder, type AnyPointerReader, MessageBuilder } from "../wire/index.js";
import { BrokenClient, CapTableRelease, releaseCapTable } from "./broken.js";
import { CallContextBase } from "./call-context.js";
import { canceledError, promiseCycleError, RpcError, toRpcError } from "./errors.js";
import { Future } from "./future.js";
import { forget, releaseWhenCollected } from "./gc.js";
import {
  type CallContextHook,
  type CallHints,
  ClientHook,
  type PipelineHook,
  type RequestHook,
  type ResponseHook,
  type ResponseSink,
  resolvesTo,
} from "./hooks.js";
import { OwnedTargetRequest } from "./owned-target-request.js";

export class LocalRequest extends OwnedTargetRequest<ClientHook> {
  message: MessageBuilder;
  readonly params: AnyPointerBuilder;
  private hints: CallHints;

  /** `target`: a reference this request owns. */
  constructor(interfaceId: bigint, methodId: number, hints: CallHints, target: ClientHook) {
    super(interfaceId, methodId, target);
    this.message = new MessageBuilder();
    this.params = this.message.getRootAnyPointer();
    this.hints = hints;
  }

  send(sink: ResponseSink): PipelineHook {
    const target = this.takeTarget();
    const ctx = new LocalCallContext(this.message, sink, target, this.hints);
    ctx.addRef(); // one for the caller (returned), one for the execution
    target.call(this.interfaceId, this.methodId, ctx, this.hints);
    return ctx;
  }

  /**
   * C++ LocalRequest::sendStreaming(): no flow control locally (settles when the call has
   * completed), but the call stays a streaming call if it is forwarded over RPC, where it
   * completes as soon as the window allows ("Streaming over a chain of local and remote RPC
   * calls").
   */
  sendStreaming(sink: ResponseSink): Future<void> {
    const target = this.takeTarget();
    const done = new Future<void>();
    const ctx = new LocalCallContext(
      this.message,
      {
        onReturn(r) {
          sink.onReturn(r);
          done.resolve();
        },
        onError(e) {
          sink.onError(e);
          done.reject(e);
        },
      },
      target,
      this.hints,
    );
    ctx.isStreaming = true;
    target.call(this.interfaceId, this.methodId, ctx, this.hints);
    return done;
  }

  sendForPipeline(): PipelineHook {
    const target = this.takeTarget();
    const hints: CallHints = { ...this.hints, onlyPromisePipeline: true };
    const ctx = new LocalCallContext(this.message, null, target, hints);
    ctx.addRef();
    target.call(this.interfaceId, this.methodId, ctx, hints);
    return ctx;
  }
}

/** The results of a local call, owned by whoever received them. */
export class LocalResponse implements ResponseHook {
  readonly results: AnyPointerReader;
  private message: MessageBuilder | null;

  constructor(message: MessageBuilder) {
    this.message = message;
    this.results = message.getRootAnyPointer().asReader();
    if (message.capTable.length > 0) {
      releaseWhenCollected(message.arena, new CapTableRelease(message.capTable), this);
    }
  }

  release(): void {
    const m = this.message;
    if (m === null) return;
    this.message = null;
    forget(this);
    releaseCapTable(m.capTable);
  }
}

const EMPTY_RESULTS = new MessageBuilder({ firstSegmentWords: 1 });

/**
 * A local call's context. References: the caller's pipeline reference, one held by the
 * execution until the outcome is known, and one per pending pipelined capability.
 */
export class LocalCallContext extends CallContextBase {
  private params: MessageBuilder | null;
  private results: MessageBuilder | null = null;
  private tailResponse: ResponseHook | null = null;
  private sink: ResponseSink | null;
  private target: ClientHook | null;

  constructor(params: MessageBuilder, sink: ResponseSink | null, target: ClientHook, hints: CallHints) {
    super(hints);
    // The callee's params now: capabilities read from them are the callee's (taken.ts).
    params.arena.capsMovable = true;
    this.params = params;
    this.sink = sink;
    this.target = target;
  }

  getParams(): AnyPointerReader {
    const p = this.params;
    if (p === null) throw RpcError.failed("Can't call getParams() after releaseParams().");
    return p.getRootAnyPointer().asReader();
  }

  releaseParams(): void {
    const p = this.params;
    if (p === null) return;
    this.params = null;
    releaseCapTable(p.capTable);
  }

  getResults(): AnyPointerBuilder {
    if (this.tailCalled) throw RpcError.failed("Can't initialize results after tailCall().");
    return (this.results ??= new MessageBuilder()).getRootAnyPointer();
  }

  protected resultsReader(): AnyPointerReader | null {
    if (this.keptResponse !== null) return this.keptResponse.results;
    // Read as the call completes, to resolve pipelined capabilities: when the results go to a
    // caller, those capabilities take the results' own references, like every reader of a response
    // (taken.ts).
    const r = this.results;
    if (r !== null && this.sink?.takesCaps === true && this.isDone) r.arena.capsMovable = true;
    if (this.tailResponse !== null) return this.tailResponse.results;
    return this.results === null ? null : this.results.getRootAnyPointer().asReader();
  }

  protected adoptTailResponse(response: ResponseHook): void {
    this.tailResponse = response;
  }

  protected newPendingCap(): QueuedClient {
    return new QueuedClient();
  }

  protected onDone(error: RpcError | null): void {
    // "The call is done so params can definitely be dropped", and the target too.
    this.releaseParams();
    const t = this.target;
    if (t !== null) {
      this.target = null;
      t.release();
    }
    const sink = this.sink;
    this.sink = null;
    if (error !== null) {
      this.dropResults();
      sink?.onError(error);
    } else if (sink !== null) {
      const resp = this.tailResponse ?? new LocalResponse(this.results ?? EMPTY_RESULTS);
      this.tailResponse = null;
      // The sink owns the response now; our pipeline keeps reading it (it stays readable).
      this.keptResponse = resp;
      sink.onReturn(resp);
    } else if (this.tailResponse !== null) {
      // sendForPipeline: we own the tail's response until we are dropped.
      this.keptResponse = null;
    }
    this.release(); // the execution's reference
  }

  /** The response handed to the sink; pipelined caps are read from it until the sink drops it. */
  private keptResponse: ResponseHook | null = null;

  private dropResults(): void {
    const r = this.results;
    if (r !== null) {
      this.results = null;
      releaseCapTable(r.capTable);
    }
    const t = this.tailResponse;
    if (t !== null) {
      this.tailResponse = null;
      t.release();
    }
  }

  protected override destroy(): void {
    super.destroy();
    // Without a sink (sendForPipeline), nobody else owns the results.
    if (this.keptResponse === null) this.dropResults();
  }
}

interface QueuedCall {
  interfaceId: bigint;
  methodId: number;
  ctx: CallContextHook;
  hints: CallHints;
  canceled: boolean;
}

export const QUEUED_BRAND: unique symbol = Symbol("queued");

export class QueuedClient extends ClientHook {
  readonly brand: unknown = QUEUED_BRAND;
  private redirect: ClientHook | null = null;
  private queue: QueuedCall[] = [];
  private resolution: Future<ClientHook> | null = null;

  /** Resolve to `hook` (borrowed: a reference is taken). Later resolutions are ignored. */
  resolve(hook: ClientHook): void {
    if (this.redirect !== null) return;
    if (resolvesTo(hook, this)) {
      this.reject(promiseCycleError());
      return;
    }
    const target = hook.addRef();
    this.redirect = target;
    const q = this.queue;
    this.queue = [];
    for (const c of q) {
      if (c.canceled) continue;
      c.ctx.setCancelHandler(null);
      target.call(c.interfaceId, c.methodId, c.ctx, c.hints);
      this.release(); // the reference the queued call held
    }
    this.resolution?.resolve(target);
  }

  /** Resolve to a broken capability. */
  reject(error: unknown): void {
    if (this.redirect !== null) return;
    const b = new BrokenClient(toRpcError(error));
    this.resolve(b);
    b.release();
  }

  get isResolved(): boolean {
    return this.redirect !== null;
  }

  newCall(interfaceId: bigint, methodId: number, hints: CallHints): RequestHook {
    const r = this.redirect;
    if (r !== null) return r.newCall(interfaceId, methodId, hints);
    return new LocalRequest(interfaceId, methodId, hints, this.addRef());
  }

  call(interfaceId: bigint, methodId: number, ctx: CallContextHook, hints: CallHints): void {
    const r = this.redirect;
    if (r !== null) {
      r.call(interfaceId, methodId, ctx, hints);
      return;
    }
    const entry: QueuedCall = { interfaceId, methodId, ctx, hints, canceled: false };
    this.queue.push(entry);
    this.addRef();
    // Not delivered yet, so cancellable (C++ 1.x: "a call that has not been delivered yet can
    // always be canceled").
    ctx.setCancelHandler(() => {
      if (entry.canceled || this.redirect !== null) return;
      entry.canceled = true;
      const i = this.queue.indexOf(entry);
      if (i >= 0) this.queue.splice(i, 1);
      ctx.setCancelHandler(null);
      ctx.done(canceledError());
      this.release();
    });
  }

  override getResolved(): ClientHook | null {
    return this.redirect;
  }

  override whenMoreResolved(): Future<ClientHook> | null {
    if (this.redirect !== null) return Future.resolved(this.redirect);
    return (this.resolution ??= new Future<ClientHook>());
  }

  override getFd(): number | null {
    return this.redirect?.getFd() ?? null;
  }

  protected override destroy(): void {
    const r = this.redirect;
    if (r !== null) {
      // Keep `redirect` readable for borrowers that run later in this turn; drop our reference.
      r.release();
    }
  }
}

/** A QueuedClient fed by a future (value borrowed) or a host promise of a hook. */
export function newLocalPromiseClient(source: Future<ClientHook>): QueuedClient {
  const q = new QueuedClient();
  q.addRef(); // held until the future settles
  source.listenNow((ok, v) => {
    if (ok) q.resolve(v as ClientHook);
    else q.reject(v);
    q.release();
  });
  return q;
}
