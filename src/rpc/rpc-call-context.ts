/**
 * An incoming call being served (rpc.c++ RpcCallContext): params read in place from the Call
 * message, results built straight into the Return message, and the Return variants: results,
 * exception, canceled (Finish arrived first), resultsSentElsewhere / takeFromOtherQuestion (tail
 * calls back to the caller), nothing at all for 1.x `onlyPromisePipeline` calls.
 */
import {
  type AnyPointerBuilder,
  type AnyPointerReader,
  MessageBuilder,
  type MessageReader,
} from "../wire/index.js";
import { releaseCapTable } from "./broken.js";
import { CallContextBase } from "./call-context.js";
import type { RpcConnection } from "./connection.js";
import { canceledError, RpcError, toRpcError } from "./errors.js";
import { Future } from "./future.js";
import {
  type CallHints,
  ClientHook,
  type PipelineOps,
  type RequestHook,
  type ResponseHook,
  type ResponseSink,
} from "./hooks.js";
import { QueuedClient } from "./local-request.js";
import { MessageB, type PayloadB, type ReturnB } from "./protocol.js";
import { copyInto, RpcResponse } from "./questions.js";
import { RpcRequest } from "./rpc-client.js";
import { capAtPath } from "./taken.js";

export class RpcCallContext extends CallContextBase {
  readonly conn: RpcConnection;
  readonly answerId: number;
  readonly redirectResults: boolean;
  readonly interfaceId: bigint;
  readonly methodId: number;
  /** Words of the request, counted against the flow limit until we return. */
  private readonly requestSize: number;
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

  private responseSent = false;
  /** A Finish arrived, or we sent a Return with noFinishNeeded: we clean up the answer. */
  receivedFinish = false;
  private cleanedUp = false;

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
      const m = this.conn.newMessage();
      this.returnMsg = m;
      const ret = m.getRoot(MessageB).initReturn();
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
        if (this.isFirstResponder()) {
          if (this.conn.error === null) {
            const m = this.conn.newMessage();
            const ret = m.getRoot(MessageB).initReturn();
            ret.answerId = this.answerId;
            ret.releaseParamCaps = false;
            ret.takeFromOtherQuestion = tail.questionId;
            this.conn.sendOrFail(m);
          }
          // The tail results may hold caps, so keep honouring pipelined calls (bounced back).
          this.cleanupAnswerTable([], false);
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

  private finishCall(error: RpcError | null): void {
    this.releaseParams();
    if (this.redirectResults) {
      const f = this.redirectedResponse!;
      if (error !== null) f.reject(error);
      else {
        const m = this.redirected ?? new MessageBuilder();
        const resp = new RpcResponse(m, m.getRootAnyPointer().asReader(), m.capTable);
        this.redirectedResp = resp;
        // The future's reference: whoever takes `Answer.redirected` owns it.
        f.resolve(resp.addRef());
      }
      if (this.receivedFinish) this.sendRedirectReturn();
      return;
    }
    if (this.hints.onlyPromisePipeline === true) {
      // The caller wants no Return; the answer goes when its Finish arrives.
      if (this.receivedFinish) this.cleanupAnswerTable([], true);
      return;
    }
    if (this.receivedFinish) {
      this.sendCanceledReturn();
      return;
    }
    if (error !== null) this.sendErrorReturn(error);
    else this.sendReturn();
  }

  private isFirstResponder(): boolean {
    if (this.responseSent) return false;
    this.responseSent = true;
    return true;
  }

  private sendReturn(): void {
    if (this.receivedFinish || !this.isFirstResponder()) return;
    const conn = this.conn;
    if (conn.error !== null) {
      this.cleanupAnswerTable([], true);
      return;
    }
    this.getResults();
    const ret = this.returnB!;
    const msg = this.returnMsg!;
    ret.answerId = this.answerId;
    ret.releaseParamCaps = false;
    const capTable = msg.capTable;
    const hasCaps = capTable.length > 0;
    if (!hasCaps) {
      // 1.x: no capabilities, so no need for a Finish; a 0.9.2 peer sends one anyway, which an
      // unknown-question Finish tolerates.
      ret.noFinishNeeded = true;
      this.receivedFinish = true;
    }
    let exports: number[] = [];
    try {
      exports = conn.writeDescriptors(capTable, this.payload!);
      conn.send(msg);
    } catch (e) {
      conn.releaseExports(exports);
      if (!hasCaps) this.receivedFinish = false;
      this.responseSent = false;
      this.sendErrorReturn(toRpcError(e));
      return;
    }
    if (hasCaps) {
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
      this.resolutionsAtReturnTime = map;
      this.returnedCaps = true;
      this.cleanupAnswerTable(exports, false);
    } else this.cleanupAnswerTable([], true);
  }

  private resolutionsAtReturnTime: Map<ClientHook, ClientHook> | null = null;
  private returnedCaps = false;

  override getPipelinedCap(ops: PipelineOps): ClientHook {
    if (!this.returnedCaps) return super.getPipelinedCap(ops);
    const r = this.resultsReader();
    if (r === null) return super.getPipelinedCap(ops);
    const cap = capAtPath(r, ops);
    const u = this.resolutionsAtReturnTime?.get(cap);
    if (u === undefined) return cap;
    cap.release();
    return u.addRef();
  }

  private sendErrorReturn(error: RpcError): void {
    if (!this.isFirstResponder()) return;
    const conn = this.conn;
    if (conn.error === null) {
      const m = conn.newMessage();
      const ret = m.getRoot(MessageB).initReturn();
      ret.answerId = this.answerId;
      ret.releaseParamCaps = false;
      conn.fromException(error, ret.initException());
      conn.sendOrFail(m);
    }
    // Keep the pipeline: pipelined calls should see this error, not "no such field".
    this.cleanupAnswerTable([], false);
  }

  /** The Finish came first: Return{canceled} (or resultsSentElsewhere for a redirect). */
  private sendCanceledReturn(): void {
    if (!this.isFirstResponder()) return;
    const conn = this.conn;
    if (conn.error === null && this.hints.onlyPromisePipeline !== true) {
      const m = conn.newMessage();
      const ret = m.getRoot(MessageB).initReturn();
      ret.answerId = this.answerId;
      ret.releaseParamCaps = false;
      if (this.redirectResults) ret.setResultsSentElsewhere();
      else ret.setCanceled();
      conn.sendOrFail(m);
    }
    this.cleanupAnswerTable([], !this.redirectResults);
  }

  /** Our results were taken by the caller's own question: Return{resultsSentElsewhere}. */
  sendRedirectReturn(): void {
    if (!this.isFirstResponder()) return;
    const conn = this.conn;
    if (conn.error === null) {
      const m = conn.newMessage();
      const ret = m.getRoot(MessageB).initReturn();
      ret.answerId = this.answerId;
      ret.releaseParamCaps = false;
      ret.setResultsSentElsewhere();
      conn.sendOrFail(m);
    }
    this.cleanupAnswerTable([], false);
  }

  /** A Finish arrived while we exist. */
  finish(): void {
    this.receivedFinish = true;
    if (!this.isDone || this.cleanedUp) return;
    if (this.redirectResults) this.sendRedirectReturn();
    else if (this.hints.onlyPromisePipeline === true) this.cleanupAnswerTable([], true);
  }

  private cleanupAnswerTable(resultExports: number[], shouldFreePipeline: boolean): void {
    if (this.cleanedUp) return;
    this.cleanedUp = true;
    this.conn._cleanupAnswer(this, resultExports, shouldFreePipeline);
    this.conn.callWordsInFlight -= this.requestSize;
    this.conn.maybeUnblockFlow();
  }

  /** Disconnected: nothing more is sent; the answer table is gone. */
  detach(): void {
    this.receivedFinish = true;
    this.responseSent = true;
    this.cleanedUp = true;
  }

  protected override destroy(): void {
    super.destroy();
    this.releaseParams();
    const m = this.returnMsg;
    this.returnMsg = null;
    if (m !== null) releaseCapTable(m.capTable);
    const map = this.resolutionsAtReturnTime;
    this.resolutionsAtReturnTime = null;
    if (map !== null) for (const h of map.values()) h.release();
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
