/**
 * Calls between objects of this vat (C++ capability.c++ LocalRequest / LocalCallContext /
 * LocalResponse). The params message the caller built becomes the callee's params (no copy);
 * the callee's results message becomes the caller's response (no copy).
 */
import { type AnyPointerBuilder, type AnyPointerReader, MessageBuilder } from "../wire/index.js";
import { releaseCapTable } from "./broken.js";
import { CallContextBase } from "./call-context.js";
import { RpcError } from "./errors.js";
import { Future } from "./future.js";
import { forget, releaseWhenCollected } from "./gc.js";
import {
  type CallHints,
  type ClientHook,
  type PipelineHook,
  RequestHook,
  type ResponseHook,
  type ResponseSink,
} from "./hooks.js";
import { CapTableRelease } from "./rpc-request.js";

export class LocalRequest extends RequestHook {
  message: MessageBuilder;
  readonly params: AnyPointerBuilder;
  private hints: CallHints;
  private target: ClientHook | null;

  /** `target`: a reference this request owns. */
  constructor(interfaceId: bigint, methodId: number, hints: CallHints, target: ClientHook) {
    super(interfaceId, methodId);
    this.message = new MessageBuilder();
    this.params = this.message.getRootAnyPointer();
    this.hints = hints;
    this.target = target;
  }

  private take(): ClientHook {
    const t = this.target;
    if (t === null) throw RpcError.failed("Already called send() on this request.");
    this.target = null;
    return t;
  }

  send(sink: ResponseSink): PipelineHook {
    const target = this.take();
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
    const target = this.take();
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
    const target = this.take();
    const hints: CallHints = { ...this.hints, onlyPromisePipeline: true };
    const ctx = new LocalCallContext(this.message, null, target, hints);
    ctx.addRef();
    target.call(this.interfaceId, this.methodId, ctx, hints);
    return ctx;
  }

  abandon(): void {
    const t = this.target;
    if (t === null) return;
    this.target = null;
    releaseCapTable(this.message.capTable);
    t.release();
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
