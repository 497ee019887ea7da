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

import type { CallContextBase } from "./call-context.js";
import { canceledError, RpcError, toRpcError } from "./errors.js";
import { eventLoop } from "./event-loop.js";
import { type CallContextHook, type CallHints, ClientHook, LOCAL_BRAND, type RequestHook } from "./hooks.js";
import { LocalRequest } from "./local-request.js";
import type { MethodInfo, Server } from "./server.js";

export class LocalClient extends ClientHook {
  readonly brand = LOCAL_BRAND;
  server: Server;
  private blocked = false;
  /** Calls waiting behind a streaming call, and `_whenUnblocked()` waiters, in order. */
  private blockedCalls: (CallContextBase | (() => void))[] = [];
  private brokenError_: RpcError | null = null;

  constructor(server: Server) {
    super();
    this.server = server;
  }

  newCall(interfaceId: bigint, methodId: number, hints: CallHints): RequestHook {
    return new LocalRequest(interfaceId, methodId, hints, this.addRef());
  }

  call(interfaceId: bigint, methodId: number, ctxHook: CallContextHook, _hints: CallHints): void {
    const ctx = ctxHook as CallContextBase;
    ctx._iid = interfaceId;
    ctx._mid = methodId;
    ctx._execRef = this.addRef();
    ctx.setCancelHandler(() => ctx.done(canceledError())); // not delivered yet
    eventLoop().evalLater(deliver, ctx);
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
      this.blockedCalls.push(ctx);
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
    while (!this.blocked && this.blockedCalls.length > 0) {
      const next = this.blockedCalls.shift()!;
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
    return new Promise<void>((resolve) => this.blockedCalls.push(resolve));
  }

  protected override destroy(): void {
    this.server._clientDestroyed(this);
  }
}

function deliver(ctx: CallContextBase): void {
  const target = ctx._execRef as LocalClient | null;
  if (target === null) return; // already done (canceled)
  target._deliver(ctx);
}

export { RpcError };
