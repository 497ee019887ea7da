/**
 * Capabilities moved out of a received message to the code that read them.
 *
 * A response or a call's params owns one reference per capability in its cap table. C++ releases
 * those when the `Response<T>` (or the params) goes out of scope, which in C++ is the end of the
 * block that read them. JavaScript has no such point: a reader can be kept, or forgotten, and
 * the response would keep the peer's object alive until the garbage collector ran. So the first
 * time a capability field of such a message is read, the table's reference is **moved** to the
 * new client, and the table keeps a `TakenCap` in its place: closing what you read releases the
 * capability, as it does in C++ at the end of the scope (ownership chapter of docs/).
 *
 * The entry stays usable: another read, a pipelined call resolved from the response, or a copy of
 * the struct takes a new reference from it (`addRef()`), as long as some client of it is still
 * open. Once all are closed the capability is gone; a later read gets a capability whose calls
 * fail with a ClosedHandleError that says why.
 */
import type { Arena } from "../wire/arena.js";
import { type AnyPointerReader, StructReader } from "../wire/index.js";
import { BrokenClient, newNullCap } from "./broken.js";
import { ClosedHandleError, toRpcError } from "./errors.js";
import {
  type CallContextHook,
  type CallHints,
  ClientHook,
  type PipelineOps,
  type RequestHook,
} from "./hooks.js";

export class TakenCap extends ClientHook {
  /** The moved capability: borrowed (the reader owns the reference). */
  private readonly inner: ClientHook;

  constructor(inner: ClientHook) {
    super();
    this.inner = inner;
  }

  get brand(): unknown {
    return this.inner.brand;
  }

  /**
   * A new reference to the moved capability while it lives, else a capability that says it was
   * closed. Every consumer of a cap table entry (getters, `capAtPath`, the wire layer's copy)
   * takes its reference through `addRef()` and uses what it returns, which is what lets this
   * entry hand out another hook than itself.
   */
  override addRef(): this {
    const h = this.inner;
    return (h._refs > 0 ? h.addRef() : new BrokenClient(takenError())) as this;
  }

  /** The table owns nothing here: releasing the message's cap table skips this entry. */
  override release(): void {}

  newCall(interfaceId: bigint, methodId: number, hints: CallHints): RequestHook {
    const h = this.addRef();
    const r = h.newCall(interfaceId, methodId, hints);
    h.release();
    return r;
  }

  call(interfaceId: bigint, methodId: number, ctx: CallContextHook, hints: CallHints): void {
    const h = this.addRef();
    h.call(interfaceId, methodId, ctx, hints);
    h.release();
  }
}

function takenError(): ClosedHandleError {
  return new ClosedHandleError(
    "the capability in this field was read before and every client read from it was closed; " +
      "keep the first client (dup() it for more references) instead of reading the field again",
  );
}

/**
 * A reference to cap table entry `index` (holding `cap`) for a new owner: the table's own
 * reference if the message's capabilities are movable and nobody took this one yet (the entry
 * becomes a TakenCap), else a new reference.
 */
export function takeCapability(arena: Arena, index: number, cap: ClientHook): ClientHook {
  if (arena.capsMovable === true && !(cap instanceof TakenCap)) {
    arena.capTable[index] = new TakenCap(cap);
    return cap;
  }
  return cap.addRef();
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
