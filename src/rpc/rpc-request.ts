/**
 * Outgoing calls over the connection (rpc.c++ RpcRequest / QuestionRef / RpcPipeline /
 * RpcResponse).
 *
 * A question's ID is freed only once its Return has been received and its Finish sent
 * (rpc.capnp Question lifetime). A `QuestionRef` is held by the call's pipeline while waiting and
 * by each PipelineClient; when the last reference goes, Finish is sent (with `releaseResultCaps`
 * set when the Return has not arrived: the caller canceled). The response, its capabilities
 * imported, is owned by whoever received it; caps it holds are released with it.
 */
import type { AnyPointerBuilder, AnyPointerReader, MessageBuilder, MessageReader } from "../wire/index.js";
import { BrokenClient, BrokenPipeline, releaseCapTable } from "./broken.js";
import type { Question, RpcConnection } from "./connection.js";
import { canceledError, RpcError, toRpcError } from "./errors.js";
import { Future } from "./future.js";
import { forget, releaseWhenCollected } from "./gc.js";
import {
  type CallHints,
  type ClientHook,
  makeCapsTakeable,
  opsKey,
  PipelineHook,
  type PipelineOps,
  RefCounted,
  RequestHook,
  type ResponseHook,
  type ResponseSink,
} from "./hooks.js";
import { type CallB, MessageB, newRpcMessage, type PayloadB } from "./protocol.js";
import { capAtPath } from "./queued.js";
import type { PromiseClient, RpcClient } from "./rpc-client.js";

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

/** Releases a cap table's references (holds no reference to the message). */
export class CapTableRelease {
  constructor(private readonly table: unknown[]) {}
  release(): void {
    releaseCapTable(this.table);
  }
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
  readonly question: Question;
  /** The app's sink (a RemotePromise, a tail call, ...). */
  sink: ResponseSink | null = null;
  /** The pipeline of this question, told first ("the pipeline must get notified of resolution
   * before the app does to maintain ordering"). */
  waiter: QuestionWaiter | null = null;
  /** Set on disconnect: the tables are gone, nothing more to send. */
  detached = false;

  constructor(conn: RpcConnection, id: number, question: Question) {
    super();
    this.conn = conn;
    this.id = id;
    this.question = question;
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
    this.conn._questionRefDestroyed(this);
  }
}

/** The response of a tail call (`resultsSentElsewhere`): nothing to read. */
const NULL_RESPONSE: ResponseHook = {
  get results(): AnyPointerReader {
    throw RpcError.failed("Tail call results were sent elsewhere.");
  },
  release() {},
};

/** rpc.c++ RpcPipeline: pipelined capabilities of a question, memoised per transform. */
export class RpcPipeline extends PipelineHook {
  readonly conn: RpcConnection;
  private qref: QuestionRef | null;
  private state: 0 | 1 | 2 = 0; // waiting, resolved, broken
  private response: RpcResponse | null = null;
  private error: RpcError | null = null;
  private readonly neverResolves: boolean;
  private map: Map<string, ClientHook> | null = null;
  private pending: { client: PromiseClient; ops: PipelineOps }[] | null = null;

  /** `qref`: a reference the pipeline owns. `neverResolves`: a tail call's pipeline. */
  constructor(conn: RpcConnection, qref: QuestionRef, neverResolves = false) {
    super();
    this.conn = conn;
    this.qref = qref;
    this.neverResolves = neverResolves;
    if (!neverResolves) qref.waiter = this;
  }

  getPipelinedCap(ops: PipelineOps): ClientHook {
    // Resolved: the capability from the response, not memoised (the memo would keep it alive for
    // as long as the call is; taken.ts), unless an embargo still holds calls made before (_resolve).
    if (this.state === 1 && this.map === null) return capAtPath(this.response!.results, ops);
    const key = opsKey(ops);
    const hit = this.map?.get(key);
    if (hit !== undefined) return hit.addRef();
    if (this.state === 1) return capAtPath(this.response!.results, ops);
    const map = (this.map ??= new Map());
    let hook: ClientHook;
    if (this.state === 0) {
      const pc = this.conn._newPipelineClient(this.qref!.addRef(), ops.slice());
      if (this.neverResolves) hook = pc;
      else {
        const p = this.conn._newPromiseClient(pc, null);
        (this.pending ??= []).push({ client: p, ops: ops.slice() });
        hook = p;
      }
    } else {
      hook = new BrokenClient(this.error!);
    }
    map.set(key, hook);
    return hook.addRef();
  }

  _resolve(response: RpcResponse | null, reflected: boolean, via: PipelineHook | null): void {
    if (this.state !== 0) return;
    const pending = this.pending;
    this.pending = null;
    if (response === null) {
      // A tail call's question: pipelined calls keep going to the promised answer.
      return;
    }
    this.state = 1;
    if (this._refs > 0) this.response = response.addRef();
    // The memo has done its job (one promise per transform while waiting), with one exception:
    // a promise that is now embargoed stays until the Disembargo comes back, so that a call
    // arriving for the same pipelined capability meanwhile (a forwarded call on an answer of ours
    // whose call we forwarded) queues behind the calls made before, not ahead of them. C++ keeps
    // the whole memo for that reason (rpc.c++ RpcPipeline::clientMap); we keep only embargoed
    // entries, since the memo would keep every pipelined capability alive until this call is
    // dropped (taken.ts).
    const m = this.map;
    this.map = null;
    if (pending !== null) {
      // Results taken from a call the peer sent back to us (takeFromOtherQuestion, `via` that
      // call's pipeline): a pipelined call went peer -> us -> that call's pipeline, so the
      // promise resolves to what that pipeline gives (where the earlier calls went, perhaps
      // still held there), with an embargo as for a local resolution; resolving straight to
      // the capability in the results, one of the peer's, let later calls overtake them. (C++
      // fulfills the question with the redirected response and embargoes nothing here; the
      // behaviour fuzzer finds the reordering: test/rpc/behaviour-fuzz.test.ts.)
      for (const { client, ops } of pending) {
        // Held by someone besides the memo, or called through (an embargo may be needed).
        const held = client._refs > (m === null ? 0 : 1);
        if (!held && !client.receivedCall) continue;
        // Only an outside holder takes the response's reference; the memo's own does not, so the
        // application's first read still can (taken.ts).
        const hook = via !== null ? via.getPipelinedCap(ops) : capAtPath(response.results, ops, held);
        client.resolve(hook, reflected);
        hook.release();
        const embargo = client.embargo;
        if (embargo !== null && m !== null) this.keepUntilLifted(m, opsKey(ops), client, embargo);
      }
    }
    if (m !== null) for (const h of m.values()) h.release();
    const q = this.qref;
    this.qref = null;
    q?.release();
  }

  /** Move `client`'s entry from the old memo `m` to a new one until `embargo` settles. */
  private keepUntilLifted(
    m: Map<string, ClientHook>,
    key: string,
    client: ClientHook,
    embargo: Future<unknown>,
  ): void {
    if (m.get(key) !== client) return;
    m.delete(key);
    (this.map ??= new Map()).set(key, client);
    embargo.listen(() => {
      if (this.map?.get(key) !== client) return;
      this.map.delete(key);
      if (this.map.size === 0 && this.state === 1) this.map = null;
      client.release();
    });
  }

  _reject(error: RpcError): void {
    if (this.state !== 0) return;
    this.state = 2;
    this.error = error;
    const pending = this.pending;
    this.pending = null;
    if (pending !== null) {
      for (const { client } of pending) {
        if (client._refs <= 0) continue;
        const b = new BrokenClient(error);
        client.resolve(b);
        b.release();
      }
    }
    const q = this.qref;
    this.qref = null;
    q?.release();
  }

  protected override destroy(): void {
    const m = this.map;
    this.map = null;
    if (m !== null) for (const h of m.values()) h.release();
    const r = this.response;
    this.response = null;
    r?.release();
    const q = this.qref;
    this.qref = null;
    // Pending pipelined clients still held elsewhere keep the question (and our registration as
    // its waiter) alive through their PipelineClients.
    q?.release();
  }
}

/** rpc.c++ RpcRequest: a Call message being built. */
export class RpcRequest extends RequestHook {
  readonly conn: RpcConnection;
  readonly message: MessageBuilder;
  readonly params: AnyPointerBuilder;
  private readonly call: CallB;
  private readonly payload: PayloadB;
  private target: RpcClient | null;

  /** `target`: a reference the request owns. */
  constructor(
    conn: RpcConnection,
    target: RpcClient,
    interfaceId: bigint,
    methodId: number,
    hints: CallHints,
  ) {
    super(interfaceId, methodId);
    this.conn = conn;
    this.target = target;
    const m = newRpcMessage();
    this.message = m;
    const call = m.getRoot(MessageB).initCall();
    this.call = call;
    call.interfaceId = interfaceId;
    call.methodId = methodId;
    if (hints.noPromisePipelining === true) call.noPromisePipelining = true;
    this.payload = call.initParams();
    this.params = this.payload.content;
  }

  private takeTarget(): RpcClient {
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

  /** The call was redirected while being built: copy it into a request on the new target. */
  private redirected(redirect: ClientHook): RequestHook {
    const repl = redirect.newCall(this.interfaceId, this.methodId, {
      noPromisePipelining: this.call.noPromisePipelining,
    });
    try {
      copyInto(repl.params, this.params.asReader());
    } finally {
      releaseCapTable(this.message.capTable);
      redirect.release();
    }
    return repl;
  }

  send(sink: ResponseSink): PipelineHook {
    const target = this.takeTarget();
    const conn = this.conn;
    try {
      if (conn.error !== null) {
        releaseCapTable(this.message.capTable);
        const e = conn.error;
        conn.loop().evalLater(() => sink.onError(e));
        return new BrokenPipeline(e);
      }
      const redirect = target.writeTarget(this.call.initTarget());
      if (redirect !== null) return this.redirected(redirect).send(sink);
      const qref = this.sendInternal(false);
      qref.sink = sink;
      return new RpcPipeline(conn, qref);
    } finally {
      target.release();
    }
  }

  /**
   * Send a streaming call: sent now; the returned future settles when flow control lets the next
   * streaming call on this capability go (C++ `sendStreaming()`).
   */
  sendStreaming(sink: ResponseSink): Future<void> {
    const target = this.takeTarget();
    const conn = this.conn;
    try {
      if (conn.error !== null) {
        releaseCapTable(this.message.capTable);
        return Future.rejected(conn.error);
      }
      const redirect = target.writeTarget(this.call.initTarget());
      if (redirect !== null) {
        const repl = this.redirected(redirect);
        const s = (repl as RequestHook & { sendStreaming?: (k: ResponseSink) => Future<void> }).sendStreaming;
        if (typeof s === "function") return s.call(repl, sink);
        const done = new Future<void>();
        const pipeline = repl.send({
          onReturn(r) {
            r.release();
            pipeline.release();
            done.resolve();
          },
          onError(e) {
            pipeline.release();
            done.reject(e);
          },
        });
        return done;
      }
      const fc = (target.flowController ??= conn.newStream());
      const size = this.message.sizeInWords * 8;
      const qref = this.sendInternal(false);
      const { ready, ack } = fc.sent(size);
      const pipeline = new RpcPipeline(conn, qref);
      qref.sink = {
        onReturn(r) {
          r.release();
          pipeline.release();
          ack();
          sink.onReturn(NULL_RESPONSE);
        },
        onError(e) {
          pipeline.release();
          ack(e);
          sink.onError(e);
        },
      };
      return ready;
    } finally {
      target.release();
    }
  }

  sendForPipeline(): PipelineHook {
    // Sent as an ordinary call whose results are dropped: Call.onlyPromisePipeline would let a
    // 1.x peer skip the Return, which needs C++'s high question IDs to be safe; a plain call
    // behaves the same with both 0.9.2 and 1.x peers.
    return this.send(DROP_SINK);
  }

  /**
   * Send as a tail call (`sendResultsTo.yourself`); null when that is impossible (redirected
   * target or disconnected), in which case the request is still usable for send().
   */
  tailSend(sink: ResponseSink): { questionId: number; pipeline: RpcPipeline } | null {
    const conn = this.conn;
    if (conn.error !== null || this.target === null) return null;
    const redirect = this.target.writeTarget(this.call.initTarget());
    if (redirect !== null) {
      redirect.release();
      return null;
    }
    const target = this.takeTarget();
    try {
      const qref = this.sendInternal(true);
      qref.sink = sink;
      const pipeline = new RpcPipeline(conn, qref, true);
      return { questionId: qref.id, pipeline };
    } finally {
      target.release();
    }
  }

  private sendInternal(isTailCall: boolean): QuestionRef {
    const conn = this.conn;
    // Build the cap table, then take the question ID ("to avoid interference").
    const exports = conn.writeDescriptors(this.message.capTable, this.payload);
    const question: Question = {
      paramExports: exports,
      ref: null,
      isAwaitingReturn: true,
      isTailCall,
      skipFinish: false,
    };
    const id = conn.questions.add(question);
    const qref = new QuestionRef(conn, id, question);
    question.ref = qref;
    this.call.questionId = id;
    if (isTailCall) this.call.sendResultsTo.setYourself();
    // The exports hold their own references now.
    const table = this.message.capTable.slice();
    try {
      conn.send(this.message);
    } catch (e) {
      // The peer never got the call: no Return, no Finish; free the exports we just made
      // (rpc-test.c++ "when OutgoingRpcMessage::send() throws, we don't leak exports").
      question.isAwaitingReturn = false;
      question.skipFinish = true;
      conn.releaseExports(exports);
      question.paramExports = [];
      const err = toRpcError(e);
      conn.loop().evalLater(() => qref.reject(err));
    }
    releaseCapTable(table);
    this.message.capTable.length = 0;
    return qref;
  }
}

const DROP_SINK: ResponseSink = {
  onReturn(r) {
    r.release();
  },
  onError() {},
};

export { canceledError };
