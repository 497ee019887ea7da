/**
 * A capability served by an object in this vat (C++ capability.c++ LocalClient).
 *
 * Calls are never dispatched synchronously: `call()` queues delivery on the run queue, so the
 * caller always has its promise before the callee runs, and calls are delivered in the order
 * they were made. A call still in the queue can be canceled; once delivered it is canceled only
 * if the method allows it (C++ 1.x `$Cxx.allowCancellation`, or `allowCancellation()`).
 * Streaming methods (`-> stream`) are delivered one at a time: later calls wait behind them
 * (the C++ `blocked` flag), and a failed streaming call fails every later call.
 */

import { BrokenClient } from "./broken.js";
import type { CallContextBase } from "./call-context.js";
import { canceledError, promiseCycleError, RpcError, toRpcError } from "./errors.js";
import { eventLoop } from "./event-loop.js";
import { Future } from "./future.js";
import {
  type CallContextHook,
  type CallHints,
  ClientHook,
  LOCAL_BRAND,
  type RequestHook,
  resolvesTo,
} from "./hooks.js";
import { LocalRequest, newLocalPromiseClient } from "./local-request.js";
import type { MethodInfo, Server } from "./server.js";

export class LocalClient extends ClientHook {
  readonly brand = LOCAL_BRAND;
  server: Server;
  private blocked = false;
  /**
   * Calls waiting behind a streaming call, and `_whenUnblocked()` waiters, in order (made when
   * first needed: most capabilities never stream, and a server may export many).
   */
  private blockedCalls: (CallContextBase | (() => void))[] | null = null;
  private brokenError_: RpcError | null = null;

  /** What `shortenPath()` resolved to (C++ `resolved`): new calls go there directly. */
  private shortened: ClientHook | null = null;
  /** Non-null when the server presents itself as a promise (C++ `resolveTask`). */
  private resolveTask: Future<ClientHook> | null = null;

  override describe(): string {
    return `local server ${this.server.info.name}`;
  }

  constructor(server: Server) {
    super();
    this.server = server;
    let p: PromiseLike<unknown> | null = null;
    try {
      p = server.shortenPath();
    } catch {
      p = null;
    }
    if (p !== null) this.startResolveTask(p);
  }

  /**
   * C++ `startResolveTask`: the server's `shortenPath()` promise makes this capability a promise
   * (exported as `senderPromise`, a `Resolve` once it settles). If streaming calls are queued when
   * it resolves, new calls wait for them (they must not jump the queue).
   */
  private startResolveTask(p: PromiseLike<unknown>): void {
    const task = new Future<ClientHook>();
    this.resolveTask = task;
    p.then(
      (c) => {
        let hook: ClientHook;
        try {
          hook = toHook(c);
        } catch (e) {
          task.reject(toRpcError(e));
          return;
        }
        if (this._refs <= 0) {
          hook.release(); // we are gone
          return;
        }
        if (resolvesTo(hook, this)) {
          hook.release();
          hook = new BrokenClient(promiseCycleError());
        }
        const drained = this._whenUnblocked();
        if (drained !== null) {
          const f = new Future<ClientHook>();
          const h = hook;
          drained.then(() => {
            f.resolve(h);
            h.release();
          });
          hook = newLocalPromiseClient(f);
        }
        this.shortened = hook;
        task.resolve(hook);
      },
      (e: unknown) => task.reject(toRpcError(e)),
    );
  }

  override getResolved(): ClientHook | null {
    return this.shortened;
  }

  override whenMoreResolved(): Future<ClientHook> | null {
    const s = this.shortened;
    if (s !== null) return Future.resolved(s);
    return this.resolveTask;
  }

  newCall(interfaceId: bigint, methodId: number, hints: CallHints): RequestHook {
    // Resolved to a shorter path: new calls go there directly (never into our streaming queue).
    const s = this.shortened;
    if (s !== null) return s.newCall(interfaceId, methodId, hints);
    return new LocalRequest(interfaceId, methodId, hints, this.addRef());
  }

  call(interfaceId: bigint, methodId: number, ctxHook: CallContextHook, hints: CallHints): void {
    const s = this.shortened;
    if (s !== null) {
      s.call(interfaceId, methodId, ctxHook, hints);
      return;
    }
    const ctx = ctxHook as CallContextBase;
    ctx._iid = interfaceId;
    ctx._mid = methodId;
    ctx._execRef = this.addRef();
    ctx.setCancelHandler(() => ctx.done(canceledError())); // not delivered yet
    const owner = ctx.taskOwner;
    if (owner === null) eventLoop().evalLater(deliver, ctx);
    else eventLoop().evalLaterFor(owner, deliver, ctx);
  }

  override getFd(): number | null {
    return this.server.getFd();
  }

  /** Run a delivered call (from the run queue). */
  _deliver(ctx: CallContextBase): void {
    if (ctx.isDone) return; // canceled while queued
    if (this.blocked) {
      // Waiting behind a streaming call: it has reached the object, so it counts as delivered
      // and is canceled only if the method allows it (a 0.9.2 peer's streaming calls are followed
      // by an immediate Finish; they must still run).
      ctx.delivered = true;
      try {
        if (this.server.methodInfo(ctx._iid, ctx._mid)?.allowCancellation === true)
          ctx.allowCancellation = true;
      } catch {
        // reported when the call runs
      }
      ctx.setCancelHandler(() => {
        if (ctx.allowCancellation) ctx.cancelDelivered();
      });
      (this.blockedCalls ??= []).push(ctx);
      return;
    }
    this.callInternal(ctx);
  }

  private callInternal(ctx: CallContextBase): void {
    ctx.delivered = true;
    if (this.brokenError_ !== null) {
      // "Previous streaming call threw, so everything fails from now on."
      ctx.done(this.brokenError_);
      return;
    }
    const server = this.server;
    let method: MethodInfo | null;
    try {
      method = server.methodInfo(ctx._iid, ctx._mid);
    } catch (e) {
      ctx.done(e);
      return;
    }
    if (method?.allowCancellation === true) ctx.allowCancellation = true;
    ctx.setCancelHandler(() => {
      if (ctx.allowCancellation) ctx.cancelDelivered();
    });
    const streaming = method?.streaming === true;
    if (streaming) this.blocked = true;
    let r: unknown;
    try {
      r = server.dispatchCall(ctx._iid, ctx._mid, ctx, method);
    } catch (e) {
      this.finish(ctx, streaming, e);
      return;
    }
    if (r !== null && typeof r === "object" && typeof (r as PromiseLike<void>).then === "function") {
      (r as PromiseLike<void>).then(
        () => this.finish(ctx, streaming, undefined),
        (e: unknown) => this.finish(ctx, streaming, e === undefined ? new Error("undefined") : e),
      );
    } else {
      this.finish(ctx, streaming, undefined);
    }
  }

  private finish(ctx: CallContextBase, streaming: boolean, error: unknown): void {
    ctx.executorDone(error);
    if (streaming) {
      if (error !== undefined) this.brokenError_ = toRpcError(error);
      this.unblock();
    }
  }

  private unblock(): void {
    this.blocked = false;
    const q = this.blockedCalls;
    while (!this.blocked && q !== null && q.length > 0) {
      const next = q.shift()!;
      if (typeof next === "function") next();
      else if (!next.isDone) this.callInternal(next);
    }
  }

  /**
   * @internal Null when no streaming call is in progress; else a promise that settles once the
   * calls queued behind it now have run (C++ LocalClient::getLocalServer's BlockedCall without a
   * call). Calls made later may still be queued then.
   */
  _whenUnblocked(): Promise<void> | null {
    if (!this.blocked) return null;
    return new Promise<void>((resolve) => (this.blockedCalls ??= []).push(resolve));
  }

  protected override destroy(): void {
    const s = this.shortened;
    if (s !== null) s.release(); // stays readable for borrowers later in this turn
    this.server._clientDestroyed(this);
  }
}

/** A new reference to the capability `shortenPath()` resolved to (a Client, Server or hook). */
function toHook(c: unknown): ClientHook {
  if (c instanceof ClientHook) return c.addRef();
  const x = c as { _live?: () => ClientHook; close?: () => void; _client?: () => ClientHook };
  if (typeof x?._live === "function") {
    // A Client: take its reference over.
    const h = x._live().addRef();
    x.close?.();
    return h;
  }
  if (typeof x?._client === "function") return x._client();
  throw RpcError.failed("shortenPath() resolved to something that is not a capability.");
}

function deliver(ctx: CallContextBase): void {
  const target = ctx._execRef as LocalClient | null;
  if (target === null) return; // already done (canceled)
  target._deliver(ctx);
}

export { RpcError };
