/**
 * An incoming call being served (rpc.c++ RpcCallContext): params read in place from the Call
 * message, results built straight into the Return message, and the Return variants: results,
 * exception, canceled (Finish arrived first), resultsSentElsewhere / takeFromOtherQuestion (tail
 * calls back to the caller), nothing at all for 1.x `onlyPromisePipeline` calls. Which Return
 * goes when, and what it does to the answer, is answers.ts's: the context asks the table whether
 * its answer is still live (no flags of its own) and reports each Return with `returned()`.
 */
import {
  type AnyPointerBuilder,
  type AnyPointerReader,
  MessageBuilder,
  type MessageReader,
} from "../wire/index.js";
import {
  type FinishingAnswer,
  liveAnswer,
  newReturn,
  PostReturnPipeline,
  type RunningAnswer,
  returnSent,
} from "./answers.js";
import { BrokenPipeline, releaseCapTable } from "./broken.js";
import { CallContextBase } from "./call-context.js";
import type { RpcConnection } from "./connection.js";
import { canceledError, RpcError, toRpcError } from "./errors.js";
import { Future } from "./future.js";
import {
  type CallHints,
  ClientHook,
  type PipelineHook,
  type RequestHook,
  type ResponseHook,
  type ResponseSink,
} from "./hooks.js";
import { QueuedClient } from "./local-request.js";
import type { PayloadB, ReturnB } from "./protocol.js";
import { copyInto, RpcResponse } from "./questions.js";
import { RpcRequest } from "./rpc-client.js";

export class RpcCallContext extends CallContextBase {
  readonly conn: RpcConnection;
  override get taskOwner(): RpcConnection {
    return this.conn;
  }
  readonly answerId: number;
  readonly redirectResults: boolean;
  readonly interfaceId: bigint;
  readonly methodId: number;
  /** @internal Words of the request, counted against the flow limit until we return. */
  readonly requestSize: number;
  private request: MessageReader | null;
  private paramsReader: AnyPointerReader | null;
  private paramsCapTable: unknown[];

  private returnMsg: MessageBuilder | null = null;
  private returnB: ReturnB | null = null;
  private payload: PayloadB | null = null;
  private resultsB: AnyPointerBuilder | null = null;
  /** Results of a call whose results go to ourselves (sendResultsTo.yourself). */
  private redirected: MessageBuilder | null = null;
  /** For redirected results: the answer's task, taken by a later takeFromOtherQuestion. */
  readonly redirectedResponse: Future<RpcResponse> | null;
  /**
   * The results over `redirected`, once the call is done: the context keeps its own reference,
   * so that pipelined calls it still serves read live capabilities; the future settles with
   * another (rpc.c++ consumeRedirectedResponse: "the context needs to keep its own reference to
   * the response so that it doesn't get GC'd until the PipelineHook drops its reference to the
   * context"). Released when the context goes.
   */
  private redirectedResp: RpcResponse | null = null;

  constructor(
    conn: RpcConnection,
    answerId: number,
    request: MessageReader,
    params: AnyPointerReader,
    paramsCapTable: unknown[],
    redirectResults: boolean,
    interfaceId: bigint,
    methodId: number,
    hints: CallHints,
    requestSize: number,
  ) {
    super(hints);
    this.conn = conn;
    this.answerId = answerId;
    this.request = request;
    this.paramsReader = params;
    // Capabilities read from the params are the callee's (taken.ts).
    params._arena.capsMovable = true;
    this.paramsCapTable = paramsCapTable;
    this.redirectResults = redirectResults;
    this.interfaceId = interfaceId;
    this.methodId = methodId;
    this.requestSize = requestSize;
    this.redirectedResponse = redirectResults ? new Future<RpcResponse>() : null;
    conn.callWordsInFlight += requestSize;
  }

  getParams(): AnyPointerReader {
    if (this.request === null) throw RpcError.failed("Can't call getParams() after releaseParams().");
    return this.paramsReader!;
  }

  releaseParams(): void {
    if (this.request === null) return;
    this.request = null;
    // The params reader views the request's bytes, which view the receive buffer they arrived
    // in (64 KiB or more, shared with other messages): an answer awaiting its Finish must not
    // keep that alive.
    this.paramsReader = null;
    releaseCapTable(this.paramsCapTable);
    this.paramsCapTable = [];
  }

  getResults(): AnyPointerBuilder {
    if (this.resultsB !== null) return this.resultsB;
    if (this.redirectResults || this.conn.error !== null) {
      const m = (this.redirected = new MessageBuilder());
      this.resultsB = m.getRootAnyPointer();
    } else {
      const { message, ret } = newReturn(this.answerId);
      this.returnMsg = message;
      this.returnB = ret;
      this.payload = ret.initResults();
      this.resultsB = this.payload.content;
    }
    return this.resultsB;
  }

  protected resultsReader(): AnyPointerReader | null {
    return this.resultsB === null ? null : this.resultsB.asReader();
  }

  protected newPendingCap(): QueuedClient {
    return new QueuedClient();
  }

  protected adoptTailResponse(response: ResponseHook): void {
    // "Copy the response." (rpc.c++: building it in place would need refactoring there too.)
    try {
      copyInto(this.getResults(), response.results);
    } finally {
      response.release();
    }
  }

  /** Tail calls back to our caller go with sendResultsTo.yourself + takeFromOtherQuestion. */
  override directTailCall(request: RequestHook): void {
    if (
      request instanceof RpcRequest &&
      request.conn === this.conn &&
      !this.redirectResults &&
      this.hints.noPromisePipelining !== true &&
      this.resultsB === null
    ) {
      const sink: ResponseSink = {
        onReturn: (r) => {
          r.release();
          this.done();
        },
        onError: (e) => this.done(e),
      };
      const tail = request.tailSend(sink);
      if (tail !== null) {
        if (this.answer() !== null) {
          this.sendOrFail((ret) => {
            ret.takeFromOtherQuestion = tail.questionId;
          });
          // The tail results may hold caps, so keep honouring pipelined calls (bounced back).
          this.returned([], "keep", true);
        }
        this.tailCalled = true;
        this.tailPipeline = tail.pipeline;
        this.setPipeline(tail.pipeline);
        this.setCancelHandler(() => this.done(canceledError()));
        return;
      }
    }
    super.directTailCall(request);
  }

  protected onDone(error: RpcError | null): void {
    try {
      this.finishCall(error);
    } finally {
      this.release(); // the execution's reference
    }
  }

  /** Our answer while it is live (no Return sent yet), else null (answers.ts). */
  private answer(): RunningAnswer<RpcCallContext> | FinishingAnswer<RpcCallContext> | null {
    return liveAnswer(this.conn, this.answerId, this);
  }

  /** The Finish arrived (or the connection is gone): no results are wanted. */
  private get finishReceived(): boolean {
    return this.answer()?.state !== "running";
  }

  /**
   * The call has an outcome: send the Return that goes with it (answers.ts says when each
   * kind goes) — or, for a call whose results were redirected to ourselves, wait for the
   * question that takes them or for the Finish.
   */
  private finishCall(error: RpcError | null): void {
    this.releaseParams();
    if (this.redirectResults) {
      const f = this.redirectedResponse!;
      if (error !== null) f.reject(error);
      else {
        const m = this.redirected ?? new MessageBuilder();
        const resp = new RpcResponse(m, m.getRootAnyPointer().asReader(), m.capTable);
        this.redirectedResp = resp;
        // The future's reference: whoever takes the answer's `redirected` owns it.
        f.resolve(resp.addRef());
      }
      if (this.finishReceived) this.sendRedirectReturn();
      return;
    }
    if (this.hints.onlyPromisePipeline === true) {
      // The caller wants no Return; the answer goes when its Finish arrives.
      if (this.finishReceived) this.returned([], null, false);
      return;
    }
    if (this.finishReceived) {
      this.sendCanceledReturn();
      return;
    }
    if (error !== null) this.sendErrorReturn(error);
    else this.sendReturn();
  }

  private sendReturn(): void {
    if (this.answer()?.state !== "running") return;
    const conn = this.conn;
    this.getResults();
    const ret = this.returnB!;
    const msg = this.returnMsg!;
    const capTable = msg.capTable;
    const hasCaps = capTable.length > 0;
    // 1.x: no capabilities, so no need for a Finish; a 0.9.2 peer sends one anyway, which an
    // unknown-question Finish tolerates.
    if (!hasCaps) ret.noFinishNeeded = true;
    let exports: number[] = [];
    try {
      exports = conn.writeDescriptors(capTable, this.payload!);
      conn.send(msg);
    } catch (e) {
      conn.releaseExports(exports);
      ret.noFinishNeeded = false;
      this.sendErrorReturn(toRpcError(e));
      return;
    }
    if (!hasCaps) {
      this.returned([], null, false);
      return;
    }
    // From now on, pipelined calls and Disembargoes addressed to the returned caps go to what
    // they were as of this Return, even if they later resolve further (Tribble 4-way race;
    // rpc.c++ PostReturnRpcPipeline).
    let map: Map<ClientHook, ClientHook> | null = null;
    for (const c of capTable) {
      if (!(c instanceof ClientHook)) continue;
      const inner = conn.getInnermostClient(c);
      if (inner === c || map?.has(c)) inner.release();
      else (map ??= new Map()).set(c, inner);
    }
    // The answer's pipeline becomes a PostReturnPipeline that owns the Return message from now
    // on; the answer's reference on us goes (returnSent), so we are freed once the call is over.
    const redirect = this.pipelineRedirect;
    this.returnMsg = null;
    this.returned(
      exports,
      new PostReturnPipeline(redirect?.addRef() ?? null, msg, this.resultsB!.asReader(), map),
      true,
    );
  }

  private sendErrorReturn(error: RpcError): void {
    if (this.answer() === null) return;
    this.sendOrFail((ret) => this.conn.fromException(error, ret.initException()));
    // Pipelined calls still arriving should see this error, not "no such field": a broken
    // pipeline gives them that without keeping the call until the Finish (a peer pipelining
    // deeply on failing calls made every one keep its context, issue 13). A call whose pipeline
    // went elsewhere (setPipeline, a tail call) keeps sending them there, as rpc.c++ does.
    const d = this.doneError;
    this.returned([], this.pipelineBroken && d !== null ? new BrokenPipeline(d) : "keep", true);
  }

  /** The Finish came first: Return{canceled} (or resultsSentElsewhere for a redirect). */
  private sendCanceledReturn(): void {
    if (this.answer() === null) return;
    if (this.hints.onlyPromisePipeline !== true) {
      this.sendOrFail((ret) => {
        if (this.redirectResults) ret.setResultsSentElsewhere();
        else ret.setCanceled();
      });
    }
    this.returned([], this.redirectResults ? "keep" : null, true);
  }

  /** Our results were taken by the caller's own question: Return{resultsSentElsewhere}. */
  sendRedirectReturn(): void {
    if (this.answer() === null) return;
    this.sendOrFail((ret) => ret.setResultsSentElsewhere());
    this.returned([], "keep", true);
  }

  /** Send a Return for our answer, `fill` choosing its kind (nothing once disconnected). */
  private sendOrFail(fill: (ret: ReturnB) => void): void {
    const conn = this.conn;
    if (conn.error !== null) return;
    const { message, ret } = newReturn(this.answerId);
    fill(ret);
    conn.sendOrFail(message);
  }

  /** A Finish arrived while we exist (our answer is `finishing` now). */
  finish(): void {
    if (!this.isDone) return;
    if (this.redirectResults) this.sendRedirectReturn();
    else if (this.hints.onlyPromisePipeline === true) this.returned([], null, false);
  }

  /**
   * Our Return went (answers.ts returnSent), and the request no longer counts against the flow
   * limit. `pipeline` and `finishNeeded` as returnSent takes them.
   */
  private returned(
    resultExports: number[],
    pipeline: "keep" | PipelineHook | null,
    finishNeeded: boolean,
  ): void {
    if (!returnSent(this.conn, this.answerId, this, resultExports, pipeline, finishNeeded)) return;
    this.conn.callWordsInFlight -= this.requestSize;
    this.conn.maybeUnblockFlow();
  }

  protected override destroy(): void {
    super.destroy();
    this.releaseParams();
    const m = this.returnMsg;
    this.returnMsg = null;
    if (m !== null) releaseCapTable(m.capTable);
    // Our reference to the redirected results (the taker holds its own); results built but
    // never turned into a response (the call failed, or results made after a disconnect) are
    // released here.
    const resp = this.redirectedResp;
    this.redirectedResp = null;
    const red = this.redirected;
    this.redirected = null;
    if (resp !== null) resp.release();
    else if (red !== null) releaseCapTable(red.capTable);
  }
}
