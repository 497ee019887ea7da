/**
 * The shared part of a call being served (C++ CallContextHook + the pipeline side of
 * LocalClient::call): lazily created results, the once-only resolution of the call's pipeline
 * (results ready, `setPipeline`, or a tail call — whichever comes first, like C++'s
 * `exclusiveJoin` of the two pipeline promises), cancellation, and tail calls.
 *
 * A context is also the PipelineHook its caller holds. Pipelined capabilities requested before
 * the pipeline resolves are QueuedClients (`newPendingCap()`) memoised per transform (C++ QueuedPipeline::clientMap:
 * two queues for one path would reorder calls). Each holds a reference on the context, so
 * dropping the caller's promise does not cancel the call while pipelined calls still depend on
 * it (rpc-test.c++ TEST(Rpc, Pipelining)).
 */
import type { AnyPointerBuilder, AnyPointerReader } from "../wire/index.js";
import { BrokenClient, BrokenPipeline, newNullCap } from "./broken.js";
import { canceledError, RpcError, toRpcError } from "./errors.js";
import type { TaskOwner } from "./event-loop.js";
import type { Future } from "./future.js";
import {
  type CallContextHook,
  type CallHints,
  type ClientHook,
  opsKey,
  PipelineHook,
  type PipelineOps,
  type RequestHook,
  type ResponseHook,
  type ResponseSink,
} from "./hooks.js";
import { capAtPath } from "./taken.js";

/**
 * A pipelined capability handed out before the call's pipeline resolved: a promise capability
 * that queues calls until `resolve()` (a QueuedClient, made by the subclass: see
 * local-request.ts for why this module does not import it).
 */
export interface PendingCap extends ClientHook {
  resolve(hook: ClientHook): void;
}

const P_PENDING = 0;
const P_RESULTS = 1; // pipeline reads the results
const P_REDIRECT = 2; // pipeline forwards to `redirect`
const P_BROKEN = 3;

export abstract class CallContextBase extends PipelineHook implements CallContextHook {
  readonly hints: CallHints;
  allowCancellation = false;
  delivered = false;
  cancelRequested = false;
  /** True once the outcome is known. */
  isDone = false;
  /** Executor bookkeeping (LocalClient): the method being called and a reference on the callee
   * held until the outcome is known (C++ attaches `kj::addRef(*this)` to the call's promise). */
  _iid = 0n;
  _mid = 0;
  _execRef: ClientHook | null = null;
  /** The error the call ended with, if it failed. */
  doneError: RpcError | null = null;
  /**
   * A streaming call (C++ LocalCallContext::isStreaming): if it ends up forwarded over RPC, it
   * is sent as a streaming call and completes as soon as flow control allows.
   */
  isStreaming = false;

  /**
   * Who answers for the tasks that run this call (event-loop.ts `TaskOwner`): the connection a
   * peer's call came in on (RpcCallContext); null for a local call. Delivering it is that peer's
   * work even when another connection's message releases it, such as a promise it waited on
   * resolving.
   */
  get taskOwner(): TaskOwner | null {
    return null;
  }

  private pstate: 0 | 1 | 2 | 3 = P_PENDING;
  private redirect: PipelineHook | null = null;
  /** Pending pipelined capabilities by transform, with the transform they resolve at. */
  private pendingCaps: Map<string, { cap: PendingCap; ops: PipelineOps }> | null = null;
  private cancelHandler: (() => void) | null = null;
  private abort: AbortController | null = null;
  /** A tail call was started: its outcome, not the executor's, completes the call. */
  protected tailCalled = false;

  constructor(hints: CallHints) {
    super();
    this.hints = hints;
  }

  abstract getParams(): AnyPointerReader;
  abstract releaseParams(): void;
  abstract getResults(): AnyPointerBuilder;
  /** The results as a reader, or null if none were initialised. */
  protected abstract resultsReader(): AnyPointerReader | null;
  /** Subclass hook: the outcome is final. */
  protected abstract onDone(error: RpcError | null): void;
  /** Subclass hook: a tail call returned `response`; adopt it (or copy it) as our results. */
  protected abstract adoptTailResponse(response: ResponseHook): void;
  /** Subclass hook: a new unresolved QueuedClient (the caller owns its one reference). */
  protected abstract newPendingCap(): PendingCap;

  // ---- completion ------------------------------------------------------------------------------

  done(error?: unknown): void {
    if (this.isDone) return;
    this.isDone = true;
    this.cancelHandler = null;
    const err = error === undefined ? null : toRpcError(error);
    this.doneError = err;
    if (err === null) this.resolvePipelineToResults();
    else this.breakPipeline(err);
    const x = this._execRef;
    if (x !== null) {
      this._execRef = null;
      x.release();
    }
    const tp = this.tailPipeline;
    if (tp !== null) {
      this.tailPipeline = null;
      tp.release();
    }
    this.onDone(err);
    const w = this.doneWaiters;
    if (w !== null) {
      this.doneWaiters = null;
      for (const f of w) f();
    }
  }

  private doneWaiters: (() => void)[] | null = null;
  /** Run `f` when the outcome is known (synchronously if it is). */
  whenDone(f: () => void): void {
    if (this.isDone) f();
    else (this.doneWaiters ??= []).push(f);
  }

  /** Executors call this with the callee's outcome; ignored once a tail call owns the outcome. */
  executorDone(error?: unknown): void {
    if (this.tailCalled && !this.isDone) {
      // The tail call completes us. A callee that failed after starting a tail call still wins.
      if (error !== undefined) this.done(error);
      return;
    }
    this.done(error);
  }

  // ---- cancellation ----------------------------------------------------------------------------

  setCancelHandler(handler: (() => void) | null): void {
    this.cancelHandler = handler;
  }

  /** The caller no longer wants the outcome (C++: the call's promise was dropped). */
  requestCancel(): void {
    if (this.isDone || this.cancelRequested) return;
    this.cancelRequested = true;
    const h = this.cancelHandler;
    if (h !== null) h();
  }

  /** The callee allows cancellation from now on (C++ 0.9.2 `allowCancellation()`). */
  permitCancellation(): void {
    if (this.allowCancellation) return;
    this.allowCancellation = true;
    if (this.cancelRequested && !this.isDone) this.cancelDelivered();
  }

  /** Cancel a call already delivered to a local server: abort its signal, answer "canceled". */
  cancelDelivered(): void {
    if (this.isDone) return;
    this.abort?.abort(canceledError());
    this.done(canceledError());
  }

  get signal(): AbortSignal {
    return (this.abort ??= new AbortController()).signal;
  }

  // ---- pipeline --------------------------------------------------------------------------------

  getPipelinedCap(ops: PipelineOps): ClientHook {
    switch (this.pstate) {
      case P_REDIRECT:
        return this.redirect!.getPipelinedCap(ops);
      case P_RESULTS: {
        const r = this.resultsReader();
        if (r === null) return capAtPathOfEmpty();
        return capAtPath(r, ops);
      }
      case P_BROKEN:
        return new BrokenClient(this.doneError ?? canceledError());
      default: {
        const key = opsKey(ops);
        const map = (this.pendingCaps ??= new Map());
        let entry = map.get(key);
        if (entry === undefined) {
          entry = { cap: this.newPendingCap(), ops: ops.slice() };
          map.set(key, entry);
          this.addRef(); // released when the queued cap resolves
        }
        return entry.cap.addRef();
      }
    }
  }

  /** The pipeline pipelined calls are forwarded to (setPipeline, a tail call), if any. */
  get pipelineRedirect(): PipelineHook | null {
    return this.pstate === P_REDIRECT ? this.redirect : null;
  }

  /** The call failed before its pipeline went anywhere: pipelined calls get `doneError`. */
  get pipelineBroken(): boolean {
    return this.pstate === P_BROKEN;
  }

  setPipeline(pipeline: PipelineHook): void {
    if (this.pstate !== P_PENDING) return;
    this.pstate = P_REDIRECT;
    this.redirect = pipeline.addRef();
    this.flushPending((ops) => pipeline.getPipelinedCap(ops));
  }

  private resolvePipelineToResults(): void {
    if (this.pstate !== P_PENDING) return;
    this.pstate = P_RESULTS;
    if (this.pendingCaps === null) return;
    const r = this.resultsReader();
    this.flushPending((ops) => (r === null ? capAtPathOfEmpty() : capAtPath(r, ops)));
  }

  private breakPipeline(err: RpcError): void {
    if (this.pstate !== P_PENDING) return;
    this.pstate = P_BROKEN;
    this.flushPending(() => new BrokenClient(err));
  }

  private flushPending(capFor: (ops: PipelineOps) => ClientHook): void {
    const map = this.pendingCaps;
    if (map === null) return;
    this.pendingCaps = null;
    for (const { cap, ops } of map.values()) {
      const hook = capFor(ops);
      cap.resolve(hook);
      hook.release();
      cap.release(); // the map's reference
    }
    for (let i = 0; i < map.size; i++) this.release();
  }

  protected override destroy(): void {
    // Nobody holds the pipeline or waits for the outcome any more.
    if (!this.isDone) this.requestCancel();
    const r = this.redirect;
    if (r !== null) {
      this.redirect = null;
      r.release();
    }
  }

  // ---- tail calls ------------------------------------------------------------------------------

  /** Send `request` as a tail call: its pipeline becomes ours and its outcome our outcome. */
  directTailCall(request: RequestHook): void {
    if (this.tailCalled) throw RpcError.failed("tailCall() was already called.");
    this.tailCalled = true;
    const streaming = this.isStreaming
      ? (request as RequestHook & { sendStreaming?: (sink: ResponseSink) => Future<void> }).sendStreaming
      : undefined;
    if (typeof streaming === "function") {
      // C++: `request->sendStreaming()` with a disabled pipeline; we are done when flow control
      // lets the next streaming call go (a local caller then sends it, in order).
      const flow = streaming.call(request, DROP_SINK);
      this.setPipeline(NO_PIPELINE);
      flow.listenNow((ok, v) => (ok ? this.done() : this.done(v)));
      return;
    }
    const sink: ResponseSink = {
      onReturn: (response) => {
        if (this.isDone) {
          response.release();
          return;
        }
        this.adoptTailResponse(response);
        this.done();
      },
      onError: (e) => this.done(e),
    };
    const pipeline = request.send(sink);
    this.tailPipeline = pipeline;
    this.setPipeline(pipeline);
    // Canceling us cancels the tail call (C++: dropping the tail call's promise); done()
    // releases `tailPipeline`, which the callee side sees as the caller losing interest.
    this.setCancelHandler(() => this.done(canceledError()));
  }
  /** The tail call's pipeline (our reference), released when we are done with it. */
  protected tailPipeline: PipelineHook | null = null;
}

const DROP_SINK: ResponseSink = {
  onReturn(r) {
    r.release();
  },
  onError() {},
};

/** C++ getDisabledPipeline(): a streaming call has no results to pipeline on. */
const NO_PIPELINE = new BrokenPipeline(RpcError.failed("Streaming calls have no results to pipeline on."));

/** Pipelined caps of a call that returned no results: null capabilities. */
function capAtPathOfEmpty(): ClientHook {
  return newNullCap();
}
