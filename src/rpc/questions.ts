/**
 * Questions: calls we made over the connection, from the question's side (rpc.c++ QuestionRef
 * and RpcResponse).
 *
 * A question's ID is freed only once its Return has been received and its Finish sent
 * (rpc.capnp Question lifetime). A `QuestionRef` is held by the call's pipeline while waiting and
 * by each PipelineClient; when the last reference goes, Finish is sent (with `releaseResultCaps`
 * set when the Return has not arrived: the caller canceled). The response, its capabilities
 * imported, is owned by whoever received it; caps it holds are released with it.
 */
import type { AnyPointerBuilder, AnyPointerReader, MessageBuilder, MessageReader } from "../wire/index.js";
import { CapTableRelease, releaseCapTable } from "./broken.js";
import type { RpcConnection } from "./connection.js";
import { RpcError, toRpcError } from "./errors.js";
import type { Future } from "./future.js";
import { forget, releaseWhenCollected } from "./gc.js";
import {
  makeCapsTakeable,
  type PipelineHook,
  RefCounted,
  type ResponseHook,
  type ResponseSink,
} from "./hooks.js";
import { MessageB } from "./protocol.js";
import { require_ } from "./protocol-error.js";

/**
 * The Call (or Bootstrap) went and its Return has not come; the caller holds the question.
 *
 * ```text
 *   asked ──Return──► returned ──caller drops it──► (gone), Finish sent unless not needed
 *     └──caller drops it──► canceled ──Return──► (gone)
 *          (Finish sent, releaseResultCaps)
 * ```
 */
export interface AskedQuestion {
  readonly state: "asked";
  readonly ref: QuestionRef;
  /** Exports sent in the params; released if the Return says releaseParamCaps. */
  readonly paramExports: readonly number[];
  readonly isTailCall: boolean;
}

/** The caller dropped it before the Return (Finish sent); the ID waits for the Return. */
export interface CanceledQuestion {
  readonly state: "canceled";
  readonly paramExports: readonly number[];
  readonly isTailCall: boolean;
}

/** The Return came (or the Call never went out); the caller still holds the question. */
export interface ReturnedQuestion {
  readonly state: "returned";
  readonly ref: QuestionRef;
  /** False when the Return said noFinishNeeded, or the Call never went out. */
  readonly finishNeeded: boolean;
}

/** An entry of the question table. */
export type Question = AskedQuestion | CanceledQuestion | ReturnedQuestion;

/** A Call or Bootstrap is about to go: its entry and the QuestionRef its caller holds. */
export function questionAsked(
  conn: RpcConnection,
  paramExports: readonly number[],
  isTailCall: boolean,
): QuestionRef {
  const ref = new QuestionRef(conn, conn.questions.nextId());
  conn.questions.add({ state: "asked", ref, paramExports, isTailCall });
  return ref;
}

/**
 * The Call never reached the peer (sending it failed): no Return and no Finish will be, and the
 * params' exports were never the peer's. Returns them for the caller to release.
 */
export function callNotSent(conn: RpcConnection, ref: QuestionRef): readonly number[] {
  const q = conn.questions.find(ref.id);
  if (q === undefined || q.state !== "asked") return [];
  conn.questions.replace(ref.id, { state: "returned", ref, finishNeeded: false });
  return q.paramExports;
}

/**
 * Return received for question `id` (rpc.capnp Return). Checks it may come (C++'s reasons), moves
 * the entry on and says what the Return is for: the QuestionRef still waiting for it (null if the
 * caller canceled: the connection then frees the ID with {@link canceledQuestionReturned} once
 * it has dealt with the Return), whether it was a tail call, and the params' exports to release.
 */
export function returnReceived(
  conn: RpcConnection,
  id: number,
  releaseParamCaps: boolean,
  noFinishNeeded: boolean,
): { ref: QuestionRef | null; isTailCall: boolean; releaseExports: readonly number[] } {
  const q = conn.questions.find(id);
  require_(q !== undefined, "Invalid question ID in Return message.");
  require_(q.state !== "returned", "Duplicate Return.");
  const releaseExports = releaseParamCaps ? q.paramExports : NONE;
  if (q.state === "canceled") return { ref: null, isTailCall: q.isTailCall, releaseExports };
  conn.questions.replace(id, { state: "returned", ref: q.ref, finishNeeded: !noFinishNeeded });
  return { ref: q.ref, isTailCall: q.isTailCall, releaseExports };
}

/** The Return of a question its caller had canceled was dealt with: the ID is free again. */
export function canceledQuestionReturned(conn: RpcConnection, id: number): void {
  conn.questions.erase(id);
}

/**
 * The caller's last reference to question `ref` went: Finish (unless not needed), and free the ID
 * if the Return has come, else wait for it.
 */
function questionDropped(conn: RpcConnection, ref: QuestionRef): void {
  const q = conn.questions.find(ref.id);
  if (q === undefined || q.state === "canceled" || q.ref !== ref) return;
  if (conn.error === null && (q.state === "asked" || q.finishNeeded)) {
    const out = conn.newMessage();
    const f = out.getRoot(MessageB).initFinish();
    f.questionId = ref.id;
    // Still awaiting the Return: we are canceling and will ignore its caps, so the callee
    // releases them. Otherwise we imported them and will Release them ourselves.
    f.releaseResultCaps = q.state === "asked";
    // "Let the peer know we don't have the early cancellation bug."
    f.requireEarlyCancellationWorkaround = false;
    conn.sendOrFail(out);
  }
  // Free the ID only after the Finish went out, so it cannot be reused before.
  if (q.state === "asked") {
    conn.questions.replace(ref.id, {
      state: "canceled",
      paramExports: q.paramExports,
      isTailCall: q.isTailCall,
    });
  } else {
    conn.questions.erase(ref.id);
    conn.checkIfBecameIdle();
  }
}

/** Disconnect: empty the table; the QuestionRefs still held fail with `error`. */
export function clearQuestions(conn: RpcConnection, error: RpcError): void {
  for (const q of conn.questions.clear()) {
    if (q.state === "canceled") continue;
    q.ref.detached = true;
    q.ref.reject(error);
  }
}

const NONE: readonly number[] = [];

/**
 * Deep-copy `src` into `dst`. The wire layer takes a reference for every capability it copies
 * (each message's cap table owns its entries, like C++ extractCap/injectCap).
 */
export function copyInto(dst: AnyPointerBuilder, src: AnyPointerReader): void {
  dst.set(src);
}

/** A received (or locally redirected) result: a reader plus the capabilities it owns. */
export class RpcResponse extends RefCounted implements ResponseHook {
  readonly results: AnyPointerReader;
  private capTable: unknown[];
  /** Keeps the message (and so its buffers) reachable while the response is. */
  readonly message: MessageReader | MessageBuilder;

  constructor(message: MessageReader | MessageBuilder, results: AnyPointerReader, capTable: unknown[]) {
    super();
    this.message = message;
    this.results = results;
    this.capTable = capTable;
    // If every reader of this message is dropped without disposing the response, release its
    // capabilities when the message is collected (gc.ts).
    if (capTable.length > 0) releaseWhenCollected(results._arena, new CapTableRelease(capTable), this);
  }

  protected override destroy(): void {
    forget(this);
    releaseCapTable(this.capTable);
  }
}

/**
 * Drop the redirected results of a `sendResultsTo.yourself` call that no question took
 * (`Answer.redirected` erased without a `takeFromOtherQuestion`): the reference the future
 * settles with is ours to release (C++ drops `answer.redirectedResults` with the answer).
 */
export function dropRedirected(future: Future<RpcResponse>): void {
  future.listenNow((ok, v) => {
    if (ok) (v as RpcResponse).release();
  });
}

/** Who hears about a question's outcome besides the app: its pipeline. */
interface QuestionWaiter {
  /** `reflected`, `via`: see QuestionRef.reflectedVia. */
  _resolve(response: RpcResponse | null, reflected: boolean, via: PipelineHook | null): void;
  _reject(error: RpcError): void;
}

export class QuestionRef extends RefCounted {
  readonly conn: RpcConnection;
  readonly id: number;
  /** The app's sink (a RemotePromise, a tail call, ...). */
  sink: ResponseSink | null = null;
  /** The pipeline of this question, told first ("the pipeline must get notified of resolution
   * before the app does to maintain ordering"). */
  waiter: QuestionWaiter | null = null;
  /** Set on disconnect: the tables are gone, nothing more to send. */
  detached = false;

  constructor(conn: RpcConnection, id: number) {
    super();
    this.conn = conn;
    this.id = id;
  }

  /** Settle with `response`, whose reference this call takes over. */
  fulfill(response: RpcResponse | null): void {
    // For the application, before the pipeline takes what it resolves to (taken.ts).
    if (response !== null && this.sink?.takesCaps === true) makeCapsTakeable(response.results);
    const w = this.waiter;
    const via = this.reflectedVia;
    this.reflectedVia = null;
    if (w !== null) w._resolve(response, this.reflected, via);
    via?.release();
    const s = this.sink;
    this.sink = null;
    if (s !== null) {
      if (response === null) s.onReturn(NULL_RESPONSE);
      else s.onReturn(response.addRef());
    }
    response?.release();
  }

  /**
   * The results come back through our own vat (Return.takeFromOtherQuestion): calls pipelined on
   * this question travelled to the peer and were forwarded back to the call whose results we
   * take, arriving at that call's pipeline. This is that pipeline (our reference), for
   * RpcPipeline to resolve pipelined promises to what those calls reached (RpcPipeline._resolve);
   * null if the answer has no pipeline any more (then the results, with an embargo).
   */
  private reflectedVia: PipelineHook | null = null;
  private reflected = false;

  /** A call of ours whose results this question takes (Return.takeFromOtherQuestion). */
  private redirectedCall: { requestCancel(): void; isDone: boolean } | null = null;

  /**
   * Fulfill once `future` — the results of `call`, a call the peer sent back to us with
   * `sendResultsTo.yourself` — settles. Dropping this question before then cancels that call
   * (C++: the redirected results promise is dropped).
   *
   * The response the future settles with is a reference taken from the answer that held it
   * (`Answer.redirected`, C++ `answer.redirectedResults` moved into `QuestionRef::fulfill`): this
   * question now owns it, and hands it on to fulfill(), or releases it if nobody wants it.
   */
  fulfillLater(
    future: Future<RpcResponse>,
    call: { requestCancel(): void; isDone: boolean } | null,
    pipeline: PipelineHook | null,
  ): void {
    this.redirectedCall = call;
    this.reflected = true;
    this.reflectedVia = pipeline?.addRef() ?? null;
    future.listenNow((ok, v) => {
      this.redirectedCall = null;
      if (ok) {
        const r = v as RpcResponse;
        // Nobody wants it any more: release it.
        if (this._refs <= 0) r.release();
        else this.fulfill(r);
      } else if (this._refs > 0) this.reject(toRpcError(v));
    });
  }

  reject(error: RpcError): void {
    this.reflectedVia?.release();
    this.reflectedVia = null;
    const w = this.waiter;
    if (w !== null) w._reject(error);
    const s = this.sink;
    this.sink = null;
    if (s !== null) s.onError(error);
  }

  protected override destroy(): void {
    const rc = this.redirectedCall;
    this.redirectedCall = null;
    if (rc !== null && !rc.isDone) rc.requestCancel();
    this.reflectedVia?.release();
    this.reflectedVia = null;
    if (this.detached) return;
    questionDropped(this.conn, this);
  }
}

/** The response of a tail call (`resultsSentElsewhere`): nothing to read. */
export const NULL_RESPONSE: ResponseHook = {
  get results(): AnyPointerReader {
    throw RpcError.failed("Tail call results were sent elsewhere.");
  },
  release() {},
};
