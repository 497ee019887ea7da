/**
 * The internal object model, after C++ capability.h: a capability is a `ClientHook`, a promise
 * for a call's results is a `PipelineHook`, an outgoing call under construction is a
 * `RequestHook`, an incoming call being served is a `CallContextHook`, and a received result is
 * a `ResponseHook`. Public classes (Client, Pipeline, RemotePromise, Request, CallContext) are
 * thin typed handles over these.
 *
 * Reference counting replaces C++ `kj::Own`: `addRef()` takes a reference, `release()` drops
 * one, and the hook's `destroy()` runs when the last one goes (an import sends Release, a local
 * server is disposed, ...). Values handed out by `getResolved()` and by the futures of
 * `whenMoreResolved()` are borrowed: take a reference to keep them.
 */
import type { AnyPointerBuilder, AnyPointerReader, MessageBuilder } from "../wire/index.js";
import type { RpcError } from "./errors.js";
import type { Future } from "./future.js";

/** A pipeline transform: the pointer-field indices to follow (rpc.capnp PromisedAnswer.Op). */
export type PipelineOps = readonly number[];

/** Key of a transform for memoising pipelined caps per (question, transform). */
export function opsKey(ops: PipelineOps): string {
  return ops.length === 0 ? "" : ops.join(".");
}

/** C++ `ClientHook::CallHints` (rpc.capnp 1.x Call.noPromisePipelining / onlyPromisePipeline). */
export interface CallHints {
  noPromisePipelining?: boolean;
  onlyPromisePipeline?: boolean;
}

export const NO_HINTS: CallHints = Object.freeze({});

/** Who receives a call's outcome: the RemotePromise of a local caller, a tail call, ... */
export interface ResponseSink {
  /** The call returned; the sink now owns `response`. */
  onReturn(response: ResponseHook): void;
  /** The call failed. */
  onError(error: RpcError): void;
  /**
   * True for the application's RemotePromise: the capabilities in the response go to whoever
   * takes them first, a pipelined capability or a reader (taken.ts). Internal sinks (tail calls,
   * forwarding) leave it unset and keep the response's references, as C++ does.
   */
  readonly takesCaps?: boolean;
}

/** Let the capabilities of `results` go to whoever takes them first (taken.ts). */
export function makeCapsTakeable(results: { readonly _arena: { capsMovable?: boolean } }): void {
  results._arena.capsMovable = true;
}

/** A received result: a reader over the results, owning the capabilities in it. */
export interface ResponseHook {
  readonly results: AnyPointerReader;
  /** Drop the response and the references its capabilities hold. Idempotent. */
  release(): void;
}

/**
 * Destruction nests (a hook's destroy() releases what it held, which may be destroyed in turn) up
 * to this depth; deeper, hooks wait in `deferredDestroys` for the outermost release to destroy
 * them. A peer can build chains as long as it likes (a promise resolved to a promise resolved
 * to ..., one Resolve each): destroying 100k of them recursively overflowed the stack.
 */
const MAX_DESTROY_DEPTH = 64;
let destroyDepth = 0;
const deferredDestroys: RefCounted[] = [];

/** Base of refcounted hooks. */
export abstract class RefCounted {
  /** Live references; the creator holds the first. */
  _refs = 1;

  addRef(): this {
    if (this._refs <= 0) throw new Error(`${this.constructor.name}: addRef() after destruction.`);
    this._refs++;
    return this;
  }

  release(): void {
    if (this._refs <= 0) return; // Tolerate a double release rather than corrupt counts.
    if (--this._refs !== 0) return;
    if (destroyDepth === 0) this.destroyOutermost();
    else if (destroyDepth < MAX_DESTROY_DEPTH) this.destroyCounted();
    else deferredDestroys.push(this);
  }

  /**
   * Destroys this hook, then the hooks its destruction deferred. A destroy() that throws does not
   * strand the rest (they would sit released but in their tables): all are destroyed, then the
   * first error is rethrown.
   */
  private destroyOutermost(): void {
    try {
      this.destroyCounted();
    } catch (e) {
      if (deferredDestroys.length !== 0) RefCounted.destroyDeferred(false);
      throw e;
    }
    if (deferredDestroys.length !== 0) RefCounted.destroyDeferred(true);
  }

  /** Destroys the deferred hooks; then rethrows the first error if `rethrow`. */
  private static destroyDeferred(rethrow: boolean): void {
    let failed = false;
    let error: unknown;
    for (let h = deferredDestroys.pop(); h !== undefined; h = deferredDestroys.pop()) {
      try {
        h.destroyCounted();
      } catch (e) {
        if (!failed) error = e;
        failed = true;
      }
    }
    if (failed && rethrow) throw error;
  }

  private destroyCounted(): void {
    destroyDepth++;
    try {
      this.destroy();
    } finally {
      destroyDepth--;
    }
  }

  /** Runs once, when the last reference is released. */
  protected destroy(): void {}
}

/** C++ `PipelineHook`: where pipelined calls on a not-yet-returned result go. */
export abstract class PipelineHook extends RefCounted {
  /** A new reference to the capability at `ops` in the eventual results. */
  abstract getPipelinedCap(ops: PipelineOps): ClientHook;

  /**
   * The capability at `ops` for a Disembargo the peer addressed to it (rpc.capnp
   * Disembargo.senderLoopback), which must not wait behind an embargo only it can lift: the
   * pipeline of an answer that has returned gives the capability as the Return left it
   * (answers.ts PostReturnPipeline). Others give what getPipelinedCap() gives.
   */
  getPipelinedCapForDisembargo(ops: PipelineOps): ClientHook {
    return this.getPipelinedCap(ops);
  }
}

/** C++ `RequestHook`: a call whose params are being built. */
export abstract class RequestHook {
  /** The params message; `params` is its root. */
  abstract readonly message: MessageBuilder;
  abstract readonly params: AnyPointerBuilder;
  readonly interfaceId: bigint;
  readonly methodId: number;

  constructor(interfaceId: bigint, methodId: number) {
    this.interfaceId = interfaceId;
    this.methodId = methodId;
  }

  /**
   * Send the call. The outcome goes to `sink`; the returned pipeline (a reference the caller
   * owns) serves pipelined calls, and releasing it — with the response not yet received —
   * means the caller no longer cares (C++ drops the RemotePromise: Finish / cancellation).
   */
  abstract send(sink: ResponseSink): PipelineHook;

  /** C++ 1.x `sendForPipeline()`: no results wanted, only the pipeline (Call.onlyPromisePipeline). */
  abstract sendForPipeline(): PipelineHook;

  /** Release the params without sending (the request was abandoned). */
  abstract abandon(): void;
}

/** Brand of hooks whose calls run in this vat (C++ LocalClient::BRAND). */
export const LOCAL_BRAND: unique symbol = Symbol("local");

/** C++ `ClientHook`. */
export abstract class ClientHook extends RefCounted {
  /** Which implementation (connection) this hook belongs to; used to shorten paths. */
  abstract readonly brand: unknown;

  /** Start building a call. */
  abstract newCall(interfaceId: bigint, methodId: number, hints: CallHints): RequestHook;

  /**
   * Deliver a call whose context exists already (an incoming RPC call, a forwarded or queued
   * call). The outcome is reported through `ctx`; pipelined calls go to `ctx` (a PipelineHook).
   * Implementations must not run the callee synchronously.
   */
  abstract call(interfaceId: bigint, methodId: number, ctx: CallContextHook, hints: CallHints): void;

  /** The hook this one has resolved to, if it is a promise that has resolved (borrowed). */
  getResolved(): ClientHook | null {
    return null;
  }

  /** A future for the next resolution step, or null when this hook is settled (value borrowed). */
  whenMoreResolved(): Future<ClientHook> | null {
    return null;
  }

  /** The error every call fails with, when this hook is broken (or the null capability). */
  get brokenError(): RpcError | null {
    return null;
  }

  /** True for the null capability. */
  get isNull(): boolean {
    return false;
  }

  /** C++ `getFd()`: the attached file descriptor, if any. */
  getFd(): number | null {
    return null;
  }

  /** What this capability is, for the leak finder (tracking.ts). */
  describe(): string {
    return this.constructor.name;
  }
}

/**
 * Follow resolutions as far as they are known (borrowed result). C++ `getInnermostClient`-like,
 * but a cycle of resolutions (which {@link resolvesTo} keeps promises from forming) ends the walk
 * at a hook on the cycle instead of looping forever (C++ 0.9.2 and 1.x loop). A slower walker
 * takes one step for every two: meeting it means a cycle.
 */
export function innermost(hook: ClientHook): ClientHook {
  let h = hook;
  let slow = hook;
  let odd = false;
  for (;;) {
    const r = h.getResolved();
    if (r === null) return h;
    h = r;
    if (odd) {
      slow = slow.getResolved()!;
      if (slow === h) return h;
    }
    odd = !odd;
  }
}

/**
 * Whether following the resolutions of `hook` reaches `target`: a promise about to resolve to
 * `hook` would then resolve into itself. A peer can arrange it (our promise resolves to its
 * promise, which it resolves to ours), and every walk of such a cycle looped forever: one
 * Resolve froze the process at 100% CPU. Cycles that do not pass through `target` end the walk.
 */
export function resolvesTo(hook: ClientHook, target: ClientHook): boolean {
  let h = hook;
  let slow = hook;
  let odd = false;
  for (;;) {
    if (h === target) return true;
    const r = h.getResolved();
    if (r === null) return false;
    h = r;
    if (odd) {
      slow = slow.getResolved()!;
      if (slow === h) {
        // On a cycle: one lap to see whether `target` is on it.
        for (let x = h.getResolved(); x !== null && x !== h; x = x.getResolved())
          if (x === target) return true;
        return h === target;
      }
    }
    odd = !odd;
  }
}

/**
 * C++ `CallContextHook`: one call being served. Abstract here; see call-context.ts.
 * Declared as an interface so that hooks can be written against it without a cycle.
 */
export interface CallContextHook extends PipelineHook {
  getParams(): AnyPointerReader;
  releaseParams(): void;
  getResults(): AnyPointerBuilder;
  /** Report the outcome (exactly once); `error` undefined means the results are ready. */
  done(error?: unknown): void;
  /** Redirect pipelined calls to another pipeline (setPipeline, tail calls, forwarding). */
  setPipeline(pipeline: PipelineHook): void;
  /** Send `request` as a tail call whose results become ours (C++ `directTailCall`). */
  directTailCall(request: RequestHook): void;
  /** Whoever currently executes the call installs how to cancel it (null: cannot). */
  setCancelHandler(handler: (() => void) | null): void;
  /** The caller asked to cancel. */
  readonly cancelRequested: boolean;
  /** The callee allows cancellation once delivered (C++ $Cxx.allowCancellation / allowCancellation()). */
  allowCancellation: boolean;
  /** The call was made with hints. */
  readonly hints: CallHints;
  /** Set when this call was delivered to a local server (not queued / forwarded). */
  delivered: boolean;
  /** AbortSignal for the server implementation (created on first use). */
  readonly signal: AbortSignal;
}
