/**
 * Broken capabilities and pipelines (C++ capability.c++ BrokenClient / BrokenPipeline /
 * BrokenRequest): every call fails with the same error. The null capability is a broken one
 * whose error says so (C++ `newNullCap()`).
 */
import { type AnyPointerBuilder, MessageBuilder } from "../wire/index.js";
import { RpcError } from "./errors.js";
import { eventLoop } from "./event-loop.js";
import {
  type CallContextHook,
  type CallHints,
  ClientHook,
  PipelineHook,
  type PipelineOps,
  RequestHook,
  type ResponseSink,
} from "./hooks.js";

export const BROKEN_BRAND: unique symbol = Symbol("broken");

export class BrokenClient extends ClientHook {
  readonly brand = BROKEN_BRAND;
  readonly error: RpcError;
  private readonly _isNull: boolean;

  constructor(error: RpcError, isNull = false) {
    super();
    this.error = error;
    this._isNull = isNull;
  }

  override get brokenError(): RpcError {
    return this.error;
  }
  override get isNull(): boolean {
    return this._isNull;
  }

  override describe(): string {
    return this._isNull ? "null capability" : `broken: ${this.error.message}`;
  }

  newCall(interfaceId: bigint, methodId: number, _hints: CallHints): RequestHook {
    return new BrokenRequest(interfaceId, methodId, this.error);
  }

  call(_interfaceId: bigint, _methodId: number, ctx: CallContextHook, _hints: CallHints): void {
    // Not synchronously: the caller must get its promise first (same rule as local calls).
    eventLoop().evalLater(failContext, { ctx, error: this.error });
  }
}

function failContext(a: { ctx: CallContextHook; error: RpcError }): void {
  a.ctx.done(a.error);
}

export class BrokenRequest extends RequestHook {
  readonly message = new MessageBuilder({ firstSegmentWords: 8 });
  readonly params: AnyPointerBuilder;
  readonly error: RpcError;

  constructor(interfaceId: bigint, methodId: number, error: RpcError) {
    super(interfaceId, methodId);
    this.error = error;
    this.params = this.message.getRootAnyPointer();
  }

  send(sink: ResponseSink): PipelineHook {
    releaseCapTable(this.message.capTable);
    eventLoop().evalLater(failSink, { sink, error: this.error });
    return new BrokenPipeline(this.error);
  }

  sendForPipeline(): PipelineHook {
    releaseCapTable(this.message.capTable);
    return new BrokenPipeline(this.error);
  }

  abandon(): void {
    releaseCapTable(this.message.capTable);
  }
}

function failSink(a: { sink: ResponseSink; error: RpcError }): void {
  a.sink.onError(a.error);
}

export class BrokenPipeline extends PipelineHook {
  readonly error: RpcError;
  constructor(error: RpcError) {
    super();
    this.error = error;
  }
  getPipelinedCap(_ops: PipelineOps): ClientHook {
    return new BrokenClient(this.error);
  }
}

export function newBrokenCap(error: RpcError | string): ClientHook {
  return new BrokenClient(typeof error === "string" ? RpcError.failed(error) : error);
}

export function newNullCap(): ClientHook {
  return new BrokenClient(RpcError.failed("Called null capability."), true);
}

/** Drop the references a message's cap table holds (hooks put there by setClient & co). */
export function releaseCapTable(table: unknown[]): void {
  if (table.length === 0) return; // most messages: no array length to set
  for (let i = 0; i < table.length; i++) {
    const h = table[i];
    if (h instanceof ClientHook) h.release();
    table[i] = null;
  }
  table.length = 0;
}

/** Releases a cap table's references (holds no reference to the message). */
export class CapTableRelease {
  constructor(private readonly table: unknown[]) {}
  release(): void {
    releaseCapTable(this.table);
  }
}
