/**
 * Capabilities that live across the connection (rpc.c++ RpcClient and its kinds): an import
 * (ImportClient), a pipelined promise on a question we asked (PipelineClient), a promise that
 * later resolves elsewhere (PromiseClient, with the embargo logic), and the TribbleRaceBlocker;
 * and the calls made on them (rpc.c++ RpcRequest, RpcPipeline). The two are one module because
 * they make each other (a client makes requests, a request's pipeline makes clients), as they
 * share rpc.c++; questions.ts holds what a question is once sent.
 */
import type {
  AnyPointerBuilder,
  AnyPointerReader,
  MessageBuilder,
  StructListBuilder,
} from "../wire/index.js";
import { BROKEN_BRAND, BrokenClient, BrokenPipeline, BrokenRequest, releaseCapTable } from "./broken.js";
import type { CallContextBase } from "./call-context.js";
import type { RpcConnection } from "./connection.js";
import { startEmbargo } from "./embargoes.js";
import { promiseCycleError, RpcError, toRpcError } from "./errors.js";
import { closeFd } from "./fd.js";
import type { RpcFlowController } from "./flow-control.js";
import { Future } from "./future.js";
import {
  type CallContextHook,
  type CallHints,
  ClientHook,
  opsKey,
  PipelineHook,
  type PipelineOps,
  type RequestHook,
  type ResponseSink,
  resolvesTo,
} from "./hooks.js";
import { OwnedTargetRequest } from "./owned-target-request.js";
import type { CallB, CapDescriptorB, MessageTargetB, PayloadB, PromisedAnswerOpB } from "./protocol.js";
import { MessageB, newRpcMessage } from "./protocol.js";
import {
  callNotSent,
  copyInto,
  NULL_RESPONSE,
  type QuestionRef,
  questionAsked,
  type RpcResponse,
} from "./questions.js";
import * as R from "./resolution.js";
import { capAtPath } from "./taken.js";

export abstract class RpcClient extends ClientHook {
  readonly conn: RpcConnection;
  /** Made on the first streaming call on this capability (C++ RpcClient::flowController). */
  flowController: RpcFlowController | null = null;

  constructor(conn: RpcConnection) {
    super();
    this.conn = conn;
  }

  override release(): void {
    super.release();
    if (this._refs === 0 && this.flowController !== null) {
      // C++ ~RpcClient destroys its flow controller, which lets blocked senders go.
      const fc = this.flowController;
      this.flowController = null;
      fc.destroy();
    }
  }

  get brand(): unknown {
    return this.conn;
  }

  /**
   * Write a CapDescriptor naming this capability; returns the export ID whose refcount this
   * added (to be released if the message is not delivered), or null.
   */
  abstract writeDescriptor(descriptor: CapDescriptorB): number | null;

  /**
   * Write the target for a call to this capability and return null, or — when calls must now go
   * elsewhere (a promise that resolved) — return that hook (a new reference) instead.
   */
  abstract writeTarget(target: MessageTargetB): ClientHook | null;

  /** The innermost client this one wraps (a new reference), per rpc.c++ getInnermostClient. */
  abstract getInnermostClient(): ClientHook;

  newCall(interfaceId: bigint, methodId: number, hints: CallHints): RequestHook {
    const e = this.conn.error;
    if (e !== null) return new BrokenRequest(interfaceId, methodId, e);
    return new RpcRequest(this.conn, this.addRef(), interfaceId, methodId, hints);
  }

  /** Forward a call whose context exists: copy the params into a request, tail-call it. */
  call(interfaceId: bigint, methodId: number, ctxHook: CallContextHook, hints: CallHints): void {
    const ctx = ctxHook as CallContextBase;
    let req: RequestHook;
    try {
      const params = ctx.getParams();
      req = this.newCall(interfaceId, methodId, hints);
      copyInto(req.params, params);
      ctx.releaseParams();
    } catch (e) {
      ctx.done(e);
      return;
    }
    ctx.directTailCall(req);
  }
}

/** A capability the peer exported to us (an entry of our import table). */
export class ImportClient extends RpcClient {
  readonly importId: number;
  /** Times the peer has sent us this ID (what a Release must give back). */
  remoteRefcount = 0;
  /** The FD that came attached to this capability (CapDescriptor.attachedFd); ours to close. */
  private fd: number | null = null;

  constructor(conn: RpcConnection, importId: number) {
    super(conn);
    this.importId = importId;
  }

  override describe(): string {
    return `import #${this.importId}`;
  }

  /** C++ `ImportClient::setFdIfMissing`: keep the first FD received; close any later one. */
  setFdIfMissing(fd: number): void {
    if (this.fd === null) this.fd = fd;
    else if (fd !== this.fd) closeFd(fd);
  }

  override getFd(): number | null {
    return this.fd;
  }

  writeDescriptor(descriptor: CapDescriptorB): number | null {
    descriptor.receiverHosted = this.importId;
    return null;
  }
  writeTarget(target: MessageTargetB): ClientHook | null {
    target.importedCap = this.importId;
    return null;
  }
  getInnermostClient(): ClientHook {
    return this.addRef();
  }

  protected override destroy(): void {
    const fd = this.fd;
    this.fd = null;
    if (fd !== null) closeFd(fd);
    this.conn._importClientDestroyed(this);
  }
}

/** A pipelined capability on a question we asked (always wrapped in a PromiseClient). */
export class PipelineClient extends RpcClient {
  readonly question: QuestionRef;
  readonly ops: PipelineOps;

  /** `question`: a reference this client owns. */
  constructor(conn: RpcConnection, question: QuestionRef, ops: PipelineOps) {
    super(conn);
    this.question = question;
    this.ops = ops;
  }

  override describe(): string {
    return `promised answer of question #${this.question.id}`;
  }

  writeDescriptor(descriptor: CapDescriptorB): number | null {
    const pa = descriptor.initReceiverAnswer();
    pa.questionId = this.question.id;
    writeOps(pa.initTransform(this.ops.length), this.ops);
    return null;
  }
  writeTarget(target: MessageTargetB): ClientHook | null {
    const pa = target.initPromisedAnswer();
    pa.questionId = this.question.id;
    writeOps(pa.initTransform(this.ops.length), this.ops);
    return null;
  }
  getInnermostClient(): ClientHook {
    return this.addRef();
  }

  protected override destroy(): void {
    this.question.release();
  }
}

function writeOps(list: StructListBuilder<PromisedAnswerOpB>, ops: PipelineOps): void {
  for (let i = 0; i < ops.length; i++) list.get(i).getPointerField = ops[i]!;
}

/**
 * A capability that forwards to one client (an ImportClient for a promise import, or a
 * PipelineClient) until it resolves, then to the resolution (rpc.c++ PromiseClient).
 *
 * If calls were made on it (`receivedCall`) and it resolves to a capability of our own vat, calls
 * made through the old path may still be on their way back to us: new calls are held in a local
 * queue (the embargo) until a `Disembargo` sent along the old path comes back (rpc.capnp
 * Disembargo). No embargo for null or broken resolutions (rpc-test.c++ EmbargoNull).
 */
export class PromiseClient extends RpcClient {
  cap: ClientHook;
  readonly importId: number | null;
  receivedCall = false;
  resolutionType: R.Resolution = R.UNRESOLVED;
  /** Settles when the Disembargo comes back: calls held until then go on, in order. */
  embargo: Future<ClientHook> | null = null;
  private resolution: Future<ClientHook> | null = null;

  /** `initial`: a reference this client owns. */
  constructor(conn: RpcConnection, initial: RpcClient, importId: number | null) {
    super(conn);
    this.cap = initial;
    this.importId = importId;
  }

  override describe(): string {
    return `promise (${this.cap.describe()})`;
  }

  get isResolved(): boolean {
    return this.resolutionType !== R.UNRESOLVED;
  }

  /** C++ PromiseClient::getFd: the resolution's FD; none before (an FD attached to the promise
   * import itself is not reported: it may be closed when the Resolve arrives). */
  override getFd(): number | null {
    return this.isResolved ? this.cap.getFd() : null;
  }

  writeDescriptor(descriptor: CapDescriptorB): number | null {
    this.receivedCall = true;
    return this.conn.writeDescriptor(this.cap, descriptor);
  }
  writeTarget(target: MessageTargetB): ClientHook | null {
    this.receivedCall = true;
    return this.conn.writeTarget(this.cap, target);
  }
  getInnermostClient(): ClientHook {
    this.receivedCall = true;
    return this.conn.getInnermostClient(this.cap);
  }

  override newCall(interfaceId: bigint, methodId: number, hints: CallHints): RequestHook {
    this.receivedCall = true;
    // Our own RpcRequest, not cap.newCall(): the request checks at send() time whether we
    // resolved meanwhile, and redirects (rpc.c++ "IMPORTANT" note; C++ 6f77d092).
    return super.newCall(interfaceId, methodId, hints);
  }

  override call(interfaceId: bigint, methodId: number, ctx: CallContextHook, hints: CallHints): void {
    this.receivedCall = true;
    this.cap.call(interfaceId, methodId, ctx, hints);
  }

  override getResolved(): ClientHook | null {
    return this.isResolved ? this.cap : null;
  }

  override whenMoreResolved(): Future<ClientHook> | null {
    if (this.isResolved) return Future.resolved(this.cap);
    return (this.resolution ??= new Future<ClientHook>());
  }

  /**
   * Resolve to `replacement` (borrowed). `reflected`: calls made on this promise reach
   * `replacement` through our own vat (results taken with Return.takeFromOtherQuestion), so even
   * a capability of the same peer needs the embargo a local one gets.
   */
  resolve(replacement: ClientHook, reflected = false): void {
    if (this.isResolved) return;
    if (resolvesTo(replacement, this)) {
      // The peer resolved its promise into a cycle through this one (ours resolved to it, or
      // two of its promises to each other): break it rather than loop on it.
      const b = new BrokenClient(promiseCycleError());
      this.resolve(b);
      b.release();
      return;
    }
    let repl = replacement.addRef();
    const conn = this.conn;
    const brand = repl.brand;
    if (brand === conn && reflected) {
      this.resolutionType = R.REFLECTED;
    } else if (brand === conn) {
      // Another capability of the same peer.
      if (repl.whenMoreResolved() !== null) {
        // Another remote promise: merge with it, or adopt its verdict if it already resolved.
        let other = repl as PromiseClient;
        while (other.resolutionType === R.MERGED) {
          const next = other.cap.addRef();
          repl.release();
          repl = next;
          other = repl as PromiseClient;
        }
        if (other.isResolved) {
          this.resolutionType = other.resolutionType;
        } else {
          other.receivedCall = other.receivedCall || this.receivedCall;
          this.resolutionType = R.MERGED;
        }
      } else {
        this.resolutionType = R.REMOTE;
      }
    } else if (brand === BROKEN_BRAND) {
      // "We don't consider null or broken capabilities as reflected": no disembargo.
      this.resolutionType = R.BROKEN;
    } else {
      this.resolutionType = R.REFLECTED;
    }

    if (this.resolutionType === R.REFLECTED && this.receivedCall && conn.error === null) {
      // Calls we made on the promise may still be travelling to the peer and back: embargo.
      const queued = startEmbargo(conn, this.cap, repl);
      if (queued !== null) {
        repl.release();
        repl = queued;
        this.embargo = queued.whenMoreResolved();
      }
    }

    const old = this.cap;
    this.cap = repl;
    this.resolution?.resolve(repl);
    old.release();
  }

  protected override destroy(): void {
    if (this.importId !== null) this.conn._promiseClientDestroyed(this);
    this.cap.release();
  }
}

/**
 * Wraps an ImportClient or PipelineClient found in our export table or answer pipeline when the
 * peer names it in a `receiverHosted` / `receiverAnswer` descriptor: such a capability reflects
 * back to the peer, which must keep reflecting messages sent to it (Tribble 4-way race), so a
 * PromiseClient resolving to it must treat it as local and embargo (rpc.c++ TribbleRaceBlocker,
 * RequireEmbargoWrapper in 1.x). That is all it changes: it resolves as the wrapped capability
 * does and is written to the peer as the wrapped one, so CapabilityServerSet still unwraps what
 * it becomes (rpc-test.c++ "RequireEmbargoWrapper shouldn't block CapabilityServerSet unwrap").
 */
export class TribbleRaceBlocker extends ClientHook {
  readonly brand: unknown = TRIBBLE_BRAND;
  /** The wrapped capability (borrowed by readers); writeDescriptor() writes this one. */
  readonly inner: ClientHook;
  /** `inner`: a reference this wrapper owns. */
  constructor(inner: ClientHook) {
    super();
    this.inner = inner;
  }
  newCall(interfaceId: bigint, methodId: number, hints: CallHints): RequestHook {
    return this.inner.newCall(interfaceId, methodId, hints);
  }
  call(interfaceId: bigint, methodId: number, ctx: CallContextHook, hints: CallHints): void {
    this.inner.call(interfaceId, methodId, ctx, hints);
  }
  override getFd(): number | null {
    return this.inner.getFd();
  }
  override getResolved(): ClientHook | null {
    return this.inner.getResolved();
  }
  override whenMoreResolved(): Future<ClientHook> | null {
    return this.inner.whenMoreResolved();
  }
  protected override destroy(): void {
    this.inner.release();
  }
}
const TRIBBLE_BRAND: unique symbol = Symbol("tribble-race-blocker");

/** A pipelined capability handed out while waiting, resolved when the question returns. */
interface PendingPipelined {
  client: PromiseClient;
  ops: PipelineOps;
}

/**
 * Where an RpcPipeline is (rpc-rust's `PipelineVariant`, each state with its data):
 * - `waiting` for the Return: pipelined capabilities are PromiseClients over PipelineClients on
 *   the question, memoised per transform so that calls on one path keep their order. `qref` is
 *   null once the pipeline itself was dropped (pending clients keep the question through their
 *   PipelineClients, and still get resolved). A tail call's pipeline stays here for good: its
 *   Return says `resultsSentElsewhere`, and pipelined calls keep going to the promised answer.
 * - `resolved`: capabilities are read from the response each time (not memoised, or the memo
 *   would keep them alive as long as the call; taken.ts), except `embargoed`: promises that
 *   resolved into an embargo stay until their Disembargo is back, so that a call arriving for the
 *   same path meanwhile (a forwarded call on an answer of ours whose call we forwarded) queues
 *   behind the calls made before (C++ keeps its whole memo for this: RpcPipeline::clientMap).
 *   `response` is null if the pipeline was dropped before the Return.
 * - `broken`: every capability is broken with the call's error (memoised).
 */
type PipelineState =
  | {
      readonly state: "waiting";
      qref: QuestionRef | null;
      memo: Map<string, ClientHook> | null;
      pending: PendingPipelined[] | null;
    }
  | { readonly state: "resolved"; response: RpcResponse | null; embargoed: Map<string, ClientHook> | null }
  | { readonly state: "broken"; readonly error: RpcError; memo: Map<string, ClientHook> | null };

/** rpc.c++ RpcPipeline: pipelined capabilities of a question, memoised per transform. */
export class RpcPipeline extends PipelineHook {
  readonly conn: RpcConnection;
  private s: PipelineState;
  private readonly neverResolves: boolean;

  /** `qref`: a reference the pipeline owns. `neverResolves`: a tail call's pipeline. */
  constructor(conn: RpcConnection, qref: QuestionRef, neverResolves = false) {
    super();
    this.conn = conn;
    this.s = { state: "waiting", qref, memo: null, pending: null };
    this.neverResolves = neverResolves;
    if (!neverResolves) qref.waiter = this;
  }

  getPipelinedCap(ops: PipelineOps): ClientHook {
    const s = this.s;
    // Resolved: the capability from the response, not memoised (C++ reads the response each
    // time too), unless an embargo still holds calls made before.
    if (s.state === "resolved") {
      const held = s.embargoed?.get(opsKey(ops));
      return held !== undefined ? held.addRef() : capAtPath(s.response!.results, ops);
    }
    const key = opsKey(ops);
    const memo = (s.memo ??= new Map());
    const hit = memo.get(key);
    if (hit !== undefined) return hit.addRef();
    let hook: ClientHook;
    if (s.state === "waiting") {
      const pc = new PipelineClient(this.conn, s.qref!.addRef(), ops.slice());
      if (this.neverResolves) hook = pc;
      else {
        const p = new PromiseClient(this.conn, pc, null);
        (s.pending ??= []).push({ client: p, ops: ops.slice() });
        hook = p;
      }
    } else {
      hook = new BrokenClient(s.error);
    }
    memo.set(key, hook);
    return hook.addRef();
  }

  _resolve(response: RpcResponse | null, reflected: boolean, via: PipelineHook | null): void {
    const s = this.s;
    if (s.state !== "waiting") return;
    const pending = s.pending;
    s.pending = null;
    // A tail call's question: pipelined calls keep going to the promised answer.
    if (response === null) return;
    const r: PipelineState & { state: "resolved" } = {
      state: "resolved",
      response: this._refs > 0 ? response.addRef() : null,
      embargoed: null,
    };
    this.s = r;
    // The memo has done its job (one promise per transform while waiting), except for promises
    // now embargoed (PipelineState). A capability only the memo holds must not take the
    // response's reference (taken.ts).
    const memo = s.memo;
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
        const held = client._refs > (memo === null ? 0 : 1);
        if (!held && !client.receivedCall) continue;
        // Only an outside holder takes the response's reference; the memo's own does not, so the
        // application's first read still can (taken.ts).
        const hook = via !== null ? via.getPipelinedCap(ops) : capAtPath(response.results, ops, held);
        client.resolve(hook, reflected);
        hook.release();
        const embargo = client.embargo;
        if (embargo !== null && memo !== null) this.keepUntilLifted(r, memo, opsKey(ops), client, embargo);
      }
    }
    releaseMemo(memo);
    s.qref?.release();
  }

  /** Move `client`'s entry from the old memo to `r.embargoed` until `embargo` settles. */
  private keepUntilLifted(
    r: PipelineState & { state: "resolved" },
    memo: Map<string, ClientHook>,
    key: string,
    client: ClientHook,
    embargo: Future<unknown>,
  ): void {
    if (memo.get(key) !== client) return;
    memo.delete(key);
    (r.embargoed ??= new Map()).set(key, client);
    embargo.listen(() => {
      const m = r.embargoed;
      if (m?.get(key) !== client) return;
      m.delete(key);
      if (m.size === 0) r.embargoed = null;
      client.release();
    });
  }

  _reject(error: RpcError): void {
    const s = this.s;
    if (s.state !== "waiting") return;
    this.s = { state: "broken", error, memo: s.memo };
    const pending = s.pending;
    if (pending !== null) {
      for (const { client } of pending) {
        if (client._refs <= 0) continue;
        const b = new BrokenClient(error);
        client.resolve(b);
        b.release();
      }
    }
    s.qref?.release();
  }

  protected override destroy(): void {
    const s = this.s;
    switch (s.state) {
      case "waiting": {
        releaseMemo(s.memo);
        s.memo = null;
        const q = s.qref;
        s.qref = null;
        // Pending pipelined clients still held elsewhere keep the question (and our registration
        // as its waiter) alive through their PipelineClients.
        q?.release();
        break;
      }
      case "resolved": {
        const r = s.response;
        s.response = null;
        r?.release();
        releaseMemo(s.embargoed);
        s.embargoed = null;
        break;
      }
      case "broken":
        releaseMemo(s.memo);
        s.memo = null;
        break;
    }
  }
}

function releaseMemo(memo: Map<string, ClientHook> | null): void {
  if (memo !== null) for (const h of memo.values()) h.release();
}

/** rpc.c++ RpcRequest: a Call message being built. */
export class RpcRequest extends OwnedTargetRequest<RpcClient> {
  readonly conn: RpcConnection;
  readonly message: MessageBuilder;
  readonly params: AnyPointerBuilder;
  private readonly call: CallB;
  private readonly payload: PayloadB;

  /** `target`: a reference the request owns. */
  constructor(
    conn: RpcConnection,
    target: RpcClient,
    interfaceId: bigint,
    methodId: number,
    hints: CallHints,
  ) {
    super(interfaceId, methodId, target);
    this.conn = conn;
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
      const qref = this.sendInternal(false, true);
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

  private sendInternal(isTailCall: boolean, streaming?: boolean): QuestionRef {
    const conn = this.conn;
    // Build the cap table, then take the question ID ("to avoid interference").
    const exports = conn.writeDescriptors(this.message.capTable, this.payload);
    const qref = questionAsked(conn, exports, isTailCall);
    this.call.questionId = qref.id;
    if (isTailCall) this.call.sendResultsTo.setYourself();
    // The exports hold their own references now. (Most calls carry no capability: no copy.)
    const caps = this.message.capTable;
    const table = caps.length === 0 ? null : caps.slice();
    try {
      conn.send(this.message, streaming);
    } catch (e) {
      // The peer never got the call: no Return, no Finish; free the exports we just made
      // (rpc-test.c++ "when OutgoingRpcMessage::send() throws, we don't leak exports").
      conn.releaseExports(callNotSent(conn, qref));
      const err = toRpcError(e);
      conn.loop().evalLater(() => qref.reject(err));
    }
    if (table !== null) {
      releaseCapTable(table);
      caps.length = 0;
    }
    return qref;
  }
}

const DROP_SINK: ResponseSink = {
  onReturn(r) {
    r.release();
  },
  onError() {},
};

export type { AnyPointerReader };
export { BrokenClient, RpcError };
