/**
 * What a request that owns a reference to its target does until it is sent: C++'s LocalRequest
 * (capability.c++) and RpcRequest (rpc.c++) each hold their target and their params message, and
 * both refuse a second send() with "Already called send() on this request."; a request dropped
 * unsent releases the capabilities written into its params, then its target.
 */
import { releaseCapTable } from "./broken.js";
import { RpcError } from "./errors.js";
import { type ClientHook, RequestHook } from "./hooks.js";

export abstract class OwnedTargetRequest<T extends ClientHook> extends RequestHook {
  /** The reference this request owns; null once sent or abandoned. */
  protected target: T | null;

  constructor(interfaceId: bigint, methodId: number, target: T) {
    super(interfaceId, methodId);
    this.target = target;
  }

  /** The target, with this request's reference, for the one send. */
  protected takeTarget(): T {
    const t = this.target;
    if (t === null) throw RpcError.failed("Already called send() on this request.");
    this.target = null;
    return t;
  }

  abandon(): void {
    const t = this.target;
    if (t === null) return;
    this.target = null;
    releaseCapTable(this.message.capTable);
    t.release();
  }
}
