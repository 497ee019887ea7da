/**
 * Promise capabilities that resolve locally (C++ capability.c++ QueuedClient / QueuedPipeline).
 *
 * Calls made before resolution are queued in order and forwarded, in that order, the moment the
 * resolution is known; calls made after go straight to the resolution. Forwarding happens inside
 * `resolve()` itself, before any `whenMoreResolved()` listener runs (those run from the run
 * queue), so "previously-queued calls are delivered before any new calls made in response to the
 * resolution" (capability.c++).
 */
import { type AnyPointerReader, StructReader } from "../wire/index.js";
import { BrokenClient, newNullCap } from "./broken.js";
import { canceledError, type RpcError, toRpcError } from "./errors.js";
import { Future } from "./future.js";
import {
  type CallContextHook,
  type CallHints,
  ClientHook,
  type PipelineOps,
  type RequestHook,
} from "./hooks.js";
import { LocalRequest } from "./local-request.js";
import { takeCapability } from "./taken.js";

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

/**
 * The capability at `ops` inside `root` (C++ `AnyPointer::Reader::getPipelinedCap`): a reference
 * for the caller, the null capability for a null pointer, a broken one for a malformed path. From a
 * response, the first taker gets the response's own reference (taken.ts): a pipelined capability
 * resolved from it owns the capability, and closing it releases the capability. `take: false`: a
 * new reference, leaving the response's own for the application's first read.
 */
export function capAtPath(root: AnyPointerReader, ops: PipelineOps, take = true): ClientHook {
  try {
    let p = root;
    for (let k = 0; k < ops.length; k++) {
      const s = p.getAs(StructReader);
      p = s._getPointer(ops[k]!);
    }
    const cap = p.getCapability();
    if (cap === null) return newNullCap();
    if (cap instanceof ClientHook) {
      return take ? takeCapability(p._arena, p._getCapabilityIndex(), cap) : cap.addRef();
    }
    return new BrokenClient(toRpcError(new Error("Capability table entry is not a capability.")));
  } catch (e) {
    return new BrokenClient(toRpcError(e));
  }
}

export type { RpcError };
