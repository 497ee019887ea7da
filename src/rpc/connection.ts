/**
 * One RPC connection (rpc.c++ RpcConnectionState): the four tables, the message handlers, and
 * the rules that tie them together. It does no I/O of its own and sets no timers: a transport
 * feeds it messages and takes messages from it; everything else runs from the run queue.
 *
 * Tables (rpc.capnp "The Four Tables"): questions (calls we made, IDs ours), answers (calls we
 * received, IDs theirs), exports (our capabilities the peer holds, IDs ours, shared when the
 * same capability is sent again), imports (their capabilities we hold, IDs theirs). Plus
 * embargoes ("There are only four tables. This definitely isn't a fifth table.").
 *
 * Protocol violations end the connection: an Abort carrying the reason is sent, then the
 * transport is shut down; every question fails and every import breaks with a `disconnected`
 * error, and all tables are emptied.
 */

import type { Exception_Type } from "../gen/rpc.capnp.js";
import { trimToUsed } from "../wire/arena.js";
import type { AnyPointerReader, MessageBuilder, MessageReader, StructList } from "../wire/index.js";
import {
  type Answer,
  answerInUse,
  answerPipeline,
  bootstrapReturned,
  callReceived,
  clearAnswers,
  finishReceived,
  newReturn,
  takeRedirected,
} from "./answers.js";
import { BrokenClient, BrokenPipeline, newBrokenCap, releaseCapTable } from "./broken.js";
import { clearEmbargoes, type Embargo, embargoLifted, reflectDisembargo } from "./embargoes.js";
import {
  EXCEPTION_TYPE_ORDINAL,
  exceptionTypeFromOrdinal,
  RpcError,
  type RpcErrorDetail,
  toRpcError,
} from "./errors.js";
import { type EventLoop, eventLoop } from "./event-loop.js";
import {
  clearExports,
  dropExportRefs,
  type Export,
  type ExportIds,
  exportCap,
  releaseReceived,
} from "./exports.js";
import { attachCapFd, claimCapFd, closeFd, closeUnclaimedFds } from "./fd.js";
import { DEFAULT_WINDOW_SIZE, type RpcFlowController, WindowFlowController } from "./flow-control.js";
import { type ClientHook, innermost, PipelineHook, type PipelineOps } from "./hooks.js";
import {
  clearImports,
  type Import,
  importCap,
  importClientDestroyed,
  promiseClientDestroyed,
  resolveReceived,
} from "./imports.js";
import {
  type BootstrapR,
  type CallR,
  type CapDescriptorB,
  type CapDescriptorR,
  type DisembargoR,
  type ExceptionB,
  type ExceptionR,
  type FinishR,
  MessageB,
  MessageR,
  type MessageTargetB,
  type MessageTargetR,
  newRpcMessage,
  type PayloadB,
  type PayloadR,
  type PromisedAnswerOpR,
  type ReleaseR,
  type ResolveR,
  type ReturnR,
} from "./protocol.js";
import { ProtocolError, require_ } from "./protocol-error.js";
import {
  callNotSent,
  canceledQuestionReturned,
  clearQuestions,
  dropRedirected,
  type Question,
  questionAsked,
  RpcResponse,
  returnReceived,
} from "./questions.js";
import { RpcCallContext } from "./rpc-call-context.js";
import {
  type ImportClient,
  type PromiseClient,
  type RpcClient,
  RpcPipeline,
  TribbleRaceBlocker,
} from "./rpc-client.js";
import { ExportTable, ImportTable } from "./tables.js";
import type { RpcTransport, TransportReceiver } from "./transport.js";

export interface ConnectionOptions {
  /** The capability to return for a Bootstrap, per the peer's identity (BootstrapFactory). */
  bootstrap?: (peerVatId: unknown) => ClientHook;
  /** For Bootstrap.deprecatedObjectId (C++ SturdyRefRestorer); without it such a request fails. */
  restorer?: (objectId: import("../wire/index.js").AnyPointerReader) => ClientHook;
  /** C++ setTraceEncoder: its result goes into Exception.trace of exceptions we send. */
  traceEncoder?: ((error: RpcError) => string) | null;
  /** Called once the connection has ended (after tables were emptied). */
  onDisconnect?: (error: RpcError) => void;
  /** Incoming call words allowed in flight before reading pauses (C++ setFlowLimit). */
  flowLimit?: number;
  /**
   * Received messages not yet handled at which the connection stops reading (resuming once half
   * are handled). C++ reads the next message only after handling the previous one, so the
   * kernel's buffers push back on a sender that outpaces us; a small backlog keeps that push-back
   * while letting one read bring several messages. Default {@link DEFAULT_MAX_BACKLOG_MESSAGES}.
   */
  maxBacklogMessages?: number;
  /** Bytes of received, unhandled messages at which reading stops. Default 1 MiB. */
  maxBacklogBytes?: number;
  /**
   * Bytes of our output the peer has not taken yet (the transport's `getCurrentQueueSize()`)
   * past which the peer's new calls (and Bootstraps) wait unhandled: a peer that does not read
   * its replies cannot make us buffer replies without bound. Messages before the first waiting
   * call are still handled in order; the backlog bound then stops reading. Default 1 MiB.
   */
  maxUnsentBytes?: number;
  /** Protocol trace hook for tests and debugging. */
  onProtocolError?: (error: RpcError) => void;
  /**
   * Errors nobody else can see, such as the transport's shutdown failing after a disconnect
   * (C++ logs these from RpcSystem's TaskSet error handler, `KJ_LOG(ERROR, ...)`). Default:
   * `console.error`.
   */
  onError?: (error: unknown) => void;
}

const NOT_EXPORT_ID = "Message target is not a current export ID.";

/** Default of ConnectionOptions.maxBacklogMessages. */
export const DEFAULT_MAX_BACKLOG_MESSAGES = 128;
/** Default of ConnectionOptions.maxBacklogBytes. */
export const DEFAULT_MAX_BACKLOG_BYTES = 1 << 20;
/** Default of ConnectionOptions.maxUnsentBytes. */
export const DEFAULT_MAX_UNSENT_BYTES = 1 << 20;

/** Bytes of a received message (its segments). */
function messageBytes(m: MessageReader): number {
  return m.arena.sizeInWords * 8;
}

/**
 * Whether handling `m` makes us answer the peer: a Call or a Bootstrap, or a message we do not
 * implement (echoed back whole in an Unimplemented). These are what wait while the peer leaves
 * our output unread, and what is dropped unhandled once the peer has gone. A message too broken
 * to tell is not (handling it reports the damage).
 */
function asksForAnswer(m: MessageReader): boolean {
  try {
    switch (m.getRoot(MessageR).which) {
      case "unimplemented":
      case "abort":
      case "return":
      case "finish":
      case "resolve":
      case "release":
      case "disembargo":
        return false;
      default:
        return true;
    }
  } catch {
    return false;
  }
}

export class RpcConnection implements TransportReceiver {
  readonly transport: RpcTransport;
  /** null while connected; the error the connection ended with afterwards. */
  error: RpcError | null = null;

  /** @internal The four tables (rpc.capnp): what tests' leak checks read. */
  readonly questions = new ExportTable<Question>();
  /** @internal */
  readonly answers = new ImportTable<Answer<RpcCallContext>>();
  /** @internal */
  readonly exports = new ExportTable<Export>();
  /** @internal */
  readonly imports = new ImportTable<Import>();
  readonly embargoes = new ExportTable<Embargo>();
  /** @internal Our exports by capability (a capability sent twice shares its entry). */
  readonly exportsByCap = new Map<ClientHook, number>();

  private readonly options: ConnectionOptions;
  traceEncoder: ((error: RpcError) => string) | null;
  /**
   * The pipeline of the last Bootstrap answered, with its result exports: shared by the next
   * Bootstraps that return the same capability (see handleBootstrap). Holds no reference: reused
   * only while live.
   */
  private lastBootstrap: SingleCapPipeline | null = null;
  /** The error of calls on a question that is not (or no longer) there: getMessageTarget. */
  private noPipelineError: RpcError | null = null;
  private inbound: MessageReader[] = [];
  private inboundHead = 0;
  /** Bytes of the messages in `inbound` from `inboundHead` on. */
  private backlogBytes = 0;
  private readonly maxBacklogMessages: number;
  private readonly maxBacklogBytes: number;
  private readonly maxUnsentBytes: number;
  /** A processNext turn is queued or running. */
  private processing = false;
  callWordsInFlight = 0;
  flowLimit: number;
  private flowBlocked = false;
  /** The backlog reached its bound; reading stays paused until half of it is handled. */
  private backlogFull = false;
  /** Handling waits at a call until the peer has taken enough of our output. */
  private outputBlocked = false;
  /** Whether we asked the transport to pause reading. */
  private readingPaused = false;
  /**
   * The transport ended: calls still in the backlog are dropped unhandled (their answers would go
   * nowhere; C++ cancels what a departed peer asked), the rest is handled before the end.
   */
  private peerGone = false;
  private readonly disconnectWaiters: ((e: RpcError) => void)[] = [];
  private shutdownPromise: Promise<void> | null = null;
  /** Messages sent / received (by type name) — cheap counters for tests and metrics. */
  readonly stats = { sent: 0, received: 0 };

  constructor(transport: RpcTransport, options: ConnectionOptions = {}) {
    this.transport = transport;
    this.options = options;
    this.traceEncoder = options.traceEncoder ?? null;
    this.flowLimit = options.flowLimit ?? Number.POSITIVE_INFINITY;
    this.maxBacklogMessages = Math.max(1, options.maxBacklogMessages ?? DEFAULT_MAX_BACKLOG_MESSAGES);
    this.maxBacklogBytes = Math.max(1, options.maxBacklogBytes ?? DEFAULT_MAX_BACKLOG_BYTES);
    this.maxUnsentBytes = options.maxUnsentBytes ?? DEFAULT_MAX_UNSENT_BYTES;
  }

  start(): void {
    this.transport.start(this);
  }

  /** Window for streaming calls (C++ gets it from the socket's SO_SNDBUF, else 64 KiB). */
  streamWindow(): number {
    return this.transport.streamWindow ?? DEFAULT_WINDOW_SIZE;
  }

  /** A flow controller for one capability's streaming calls (C++ `Connection::newStream()`). */
  newStream(): RpcFlowController {
    return this.transport.newStream?.() ?? new WindowFlowController(() => this.streamWindow());
  }

  loop(): EventLoop {
    return eventLoop();
  }

  get isConnected(): boolean {
    return this.error === null;
  }

  /** Resolves (never rejects) with the error once the connection has ended. */
  onDisconnect(): Promise<RpcError> {
    if (this.error !== null) return Promise.resolve(this.error);
    return new Promise((resolve) => this.disconnectWaiters.push(resolve));
  }

  /** Sizes of the five tables (the leak check: all zero once everything is released). */
  tableSizes(): { questions: number; answers: number; exports: number; imports: number; embargoes: number } {
    return {
      questions: this.questions.size,
      answers: this.answers.size,
      exports: this.exports.size,
      imports: this.imports.size,
      embargoes: this.embargoes.size,
    };
  }

  // ---- sending ---------------------------------------------------------------------------------

  newMessage(): MessageBuilder {
    return newRpcMessage();
  }

  /**
   * Send; throws if the transport refuses the message (too large, ...). `streaming`: a
   * streaming call (MessageStream.send).
   */
  send(m: MessageBuilder, streaming?: boolean): void {
    if (this.error !== null) return;
    this.transport.send(m, streaming);
    this.stats.sent++;
    // Sent messages do not grow: give the slab back their unused bytes (a Return kept until
    // its Finish then holds ~its size, not 1 KiB).
    trimToUsed(m.arena);
  }

  /** Send; a failure to send is a connection failure. */
  sendOrFail(m: MessageBuilder): void {
    try {
      this.send(m);
    } catch (e) {
      this.loop().evalLaterFor(this, () => this.disconnect(toRpcError(e)));
    }
  }

  fromException(error: RpcError, b: ExceptionB): void {
    b.reason = error.reason;
    b.type = (EXCEPTION_TYPE_ORDINAL[error.type] ?? 0) as Exception_Type;
    const details = error.details;
    if (details !== undefined) {
      // rpc.c++ fromException(): 1.x peers read them; 0.9.2 peers skip the unknown field.
      const list = b.initDetails(details.length);
      for (let i = 0; i < details.length; i++) {
        const d = list.get(i);
        d.detailId = details[i]!.id;
        d.data = details[i]!.data;
      }
    }
    const enc = this.traceEncoder;
    if (enc !== null) {
      try {
        b.trace = enc(error);
      } catch {
        // A failing trace encoder must not break the connection.
      }
    }
  }

  static toException(e: ExceptionR): RpcError {
    let details: RpcErrorDetail[] | undefined;
    if (e.hasDetails()) {
      // rpc.c++ toException(): a detail without data is skipped. The data is copied out of the
      // message, which is not kept.
      details = [];
      for (const d of e.details) if (d.hasData()) details.push({ id: d.detailId, data: d.data.slice() });
    }
    return RpcError.fromRemote(
      exceptionTypeFromOrdinal(e.type),
      e.reason,
      e.hasTrace() ? e.trace : undefined,
      details,
    );
  }

  // ---- receiving -------------------------------------------------------------------------------

  /** TransportReceiver: queue the message; one message is handled per run-queue turn (rpc.c++
   * messageLoop's evalLater between messages). */
  message(m: MessageReader): void {
    if (this.error !== null) {
      closeUnclaimedFds(m);
      return;
    }
    this.inbound.push(m);
    this.backlogBytes += messageBytes(m);
    if (
      !this.backlogFull &&
      (this.inbound.length - this.inboundHead >= this.maxBacklogMessages ||
        this.backlogBytes >= this.maxBacklogBytes)
    ) {
      this.backlogFull = true;
      this.updateReading();
    }
    this.kick();
  }

  closed(error: RpcError | null): void {
    if (this.error !== null) return;
    this.peerGone = true;
    this.receiveFailed = error !== null;
    // Bytes that make no message (a malformed or truncated frame) were received all the same:
    // like any message, they end idleness, so the Abort that answers them is sent.
    if (error !== null) this.setNotIdle();
    // Let the messages already received be handled first (calls among them are dropped, so
    // neither the flow limit nor unread output holds them back), then end.
    this.outputBlocked = false;
    this.kick();
    this.loop().evalLaterFor(this, () => {
      this.endOfInput = error ?? RpcError.disconnected("Peer disconnected.");
      this.maybeEnd();
    });
  }
  private endOfInput: RpcError | null = null;
  /** C++ `idle`: the last value given to the transport's setIdle() (true until first used). */
  private idle = true;
  /** The transport ended with an error (C++ receiveIncomingMessageError). */
  private receiveFailed = false;

  private maybeEnd(): void {
    if (this.endOfInput !== null && this.inboundHead >= this.inbound.length && !this.processing) {
      this.disconnect(this.endOfInput);
    }
  }

  /** Pause or resume the transport's reading to match the flow limit and the backlog bound. */
  private updateReading(): void {
    const pause = this.flowBlocked || this.backlogFull;
    if (pause === this.readingPaused) return;
    this.readingPaused = pause;
    if (pause) this.transport.pauseReading?.();
    else this.transport.resumeReading?.();
  }

  /** Our output the peer has not taken is over maxUnsentBytes. */
  private outputOverBound(): boolean {
    const size = this.transport.getCurrentQueueSize;
    return size !== undefined && size.call(this.transport) > this.maxUnsentBytes;
  }

  /** @internal */
  _processNext(): void {
    // `processing` stays true while this runs, so a message delivered meanwhile (resuming the
    // transport hands over what it held) does not queue a second turn.
    if (this.error !== null) {
      this.processing = false;
      return;
    }
    if (this.inboundHead >= this.inbound.length) {
      this.processing = false;
      this.maybeEnd();
      return;
    }
    if (this.callWordsInFlight > this.flowLimit && !this.peerGone) {
      this.processing = false;
      this.flowBlocked = true;
      this.updateReading();
      return;
    }
    const m = this.inbound[this.inboundHead]!;
    if (!this.peerGone && this.outputOverBound() && asksForAnswer(m)) {
      // The peer is not reading what we send: its new calls wait (drained() resumes).
      this.processing = false;
      this.outputBlocked = true;
      return;
    }
    this.inbound[this.inboundHead++] = undefined as unknown as MessageReader;
    if (this.inboundHead > 1024 && this.inboundHead * 2 > this.inbound.length) {
      this.inbound = this.inbound.slice(this.inboundHead);
      this.inboundHead = 0;
    }
    this.backlogBytes -= messageBytes(m);
    if (
      this.backlogFull &&
      (this.inbound.length - this.inboundHead) * 2 <= this.maxBacklogMessages &&
      this.backlogBytes * 2 <= this.maxBacklogBytes
    ) {
      this.backlogFull = false;
      this.updateReading();
    }
    this.stats.received++;
    if (this.peerGone && asksForAnswer(m)) {
      closeUnclaimedFds(m);
    } else {
      try {
        // Receiving anything ends idleness, even a message that makes no sense now (C++).
        this.setNotIdle();
        this.handleMessage(m);
        this.checkIfBecameIdle();
      } catch (e) {
        const err = toRpcError(e);
        this.options.onProtocolError?.(err);
        this.processing = false;
        this.disconnect(err);
        return;
      } finally {
        // FDs that arrived with the message and that no capability claimed (C++ closes them with
        // the IncomingRpcMessage).
        closeUnclaimedFds(m);
      }
    }
    if (this.inboundHead < this.inbound.length && this.error === null) {
      this.loop().evalLaterFor(this, processNext, this);
    } else {
      this.processing = false;
      this.maybeEnd();
    }
  }

  maybeUnblockFlow(): void {
    if (this.flowBlocked && this.callWordsInFlight < this.flowLimit) {
      this.flowBlocked = false;
      this.updateReading();
      this.kick();
    }
  }

  /** TransportReceiver: the transport handed output to the peer; waiting calls may go on. */
  drained(): void {
    if (this.outputBlocked && !this.outputOverBound()) {
      this.outputBlocked = false;
      this.kick();
    }
  }

  /** Queue a processNext turn unless one is queued or something holds handling back. */
  private kick(): void {
    if (this.processing || this.error !== null) return;
    if (!this.peerGone && (this.flowBlocked || this.outputBlocked)) return;
    this.processing = true;
    this.loop().evalLaterFor(this, processNext, this);
  }

  setFlowLimit(words: number): void {
    this.flowLimit = words;
    this.maybeUnblockFlow();
  }

  private handleMessage(m: MessageReader): void {
    const msg = m.getRoot(MessageR);
    switch (msg.which) {
      case "unimplemented":
        this.handleUnimplemented(msg.unimplemented);
        break;
      case "abort":
        throw RpcConnection.toException(msg.abort);
      case "bootstrap":
        this.handleBootstrap(msg.bootstrap);
        break;
      case "call":
        this.handleCall(m, msg.call);
        break;
      case "return":
        this.handleReturn(m, msg.return);
        break;
      case "finish":
        this.handleFinish(msg.finish);
        break;
      case "resolve":
        this.handleResolve(m, msg.resolve);
        break;
      case "release":
        this.handleRelease(msg.release);
        break;
      case "disembargo":
        this.handleDisembargo(msg.disembargo);
        break;
      default: {
        // Level 2+ (obsoleteSave/Delete, provide, accept, join) and anything newer.
        const out = this.newMessage();
        out.getRoot(MessageB).unimplemented = msg;
        this.sendOrFail(out);
        break;
      }
    }
  }

  private handleUnimplemented(msg: MessageR): void {
    if (msg.which === "resolve") {
      // The peer does not do Level 1: release the export our Resolve named.
      const r = msg.resolve;
      if (r.which === "cap") {
        const cap = r.cap;
        switch (cap.which) {
          case "senderHosted":
            releaseReceived(this, cap.senderHosted, 1);
            break;
          case "senderPromise":
            releaseReceived(this, cap.senderPromise, 1);
            break;
          case "thirdPartyHosted":
            releaseReceived(this, cap.thirdPartyHosted.vineId, 1);
            break;
          default:
            break;
        }
      }
      return;
    }
    throw new ProtocolError(`Peer did not implement required RPC message type. (${msg.which})`);
  }

  // ---- Level 0 ---------------------------------------------------------------------------------

  private handleBootstrap(b: BootstrapR): void {
    if (this.error !== null) return;
    const answerId = b.questionId;
    const { message: out, ret } = newReturn(answerId);
    // C++ handleBootstrap leaves releaseParamCaps at its default (a Bootstrap has no params).
    ret.releaseParamCaps = true;
    let capHook: ClientHook;
    let resultExports: number[] = [];
    try {
      let cap: ClientHook;
      if (b.hasDeprecatedObjectId()) {
        const r = this.options.restorer;
        if (r === undefined) {
          throw RpcError.failed(
            "This vat only supports a bootstrap interface, not the old Cap'n-Proto-0.4-style named exports.",
          );
        }
        cap = r(b.deprecatedObjectId);
      } else {
        const f = this.options.bootstrap;
        cap =
          f !== undefined
            ? f(this.transport.peerVatId)
            : newBrokenCap("This vat does not expose any public/bootstrap interfaces.");
      }
      const payload = ret.initResults();
      payload.content.setCapability(cap); // the message's cap table takes our reference
      resultExports = this.writeDescriptors(out.capTable, payload);
      // Return the innermost client: if it is a promise pointing back over this connection, the
      // peer must reach what the promise pointed at when we answered (rpc.c++: "This single line
      // of code represents two hours of my life.").
      capHook = this.getInnermostClient(cap);
    } catch (e) {
      const err = toRpcError(e);
      releaseCapTable(out.capTable);
      this.fromException(err, ret.initException());
      capHook = new BrokenClient(err);
    }
    if (answerInUse(this, answerId)) {
      capHook.release();
      this.releaseExports(resultExports);
      releaseCapTable(out.capTable);
      throw new ProtocolError("questionId is already in use");
    }
    // Bootstraps answered with the same capability (the usual case: one bootstrap interface)
    // share one pipeline and one exports list: an answer awaiting its Finish is then an entry in
    // the table, not three objects (a peer sending Bootstraps and no Finish, issue 13).
    const last = this.lastBootstrap;
    let pipeline: SingleCapPipeline;
    // A Bootstrap's results are one capability: the same hook means the same exports.
    if (last !== null && last._refs > 0 && last.cap === capHook && last.exports[0] === resultExports[0]) {
      capHook.release(); // the shared pipeline holds one already
      pipeline = last.addRef();
    } else {
      this.lastBootstrap = pipeline = new SingleCapPipeline(capHook, resultExports);
    }
    bootstrapReturned(this, answerId, pipeline, pipeline.exports);
    try {
      this.send(out);
    } finally {
      releaseCapTable(out.capTable);
    }
  }

  private handleCall(m: MessageReader, call: CallR): void {
    const target = this.getMessageTarget(call.target);
    let redirectResults: boolean;
    switch (call.sendResultsTo.which) {
      case "caller":
        redirectResults = false;
        break;
      case "yourself":
        redirectResults = true;
        break;
      default:
        target.release();
        throw new ProtocolError("Unsupported `Call.sendResultsTo`.");
    }
    const answerId = call.questionId;
    if (answerInUse(this, answerId)) {
      target.release();
      throw new ProtocolError("questionId is already in use");
    }
    let capTable: unknown[];
    let params: AnyPointerReader;
    try {
      const payload = call.params;
      capTable = this.receiveCaps(payload);
      m.arena.capTable = capTable;
      params = payload.content;
    } catch (e) {
      target.release();
      throw e;
    }
    const hints = {
      noPromisePipelining: call.noPromisePipelining,
      // "Don't honor onlyPromisePipeline if results are redirected."
      onlyPromisePipeline: redirectResults ? false : call.onlyPromisePipeline,
    };
    const interfaceId = call.interfaceId;
    const methodId = call.methodId;
    const words = m.arena.sizeInWords;
    const ctx = new RpcCallContext(
      this,
      answerId,
      m,
      params,
      capTable,
      redirectResults,
      interfaceId,
      methodId,
      hints,
      words,
    );
    // The answer holds the context's first reference (as its pipeline) until Finish; the
    // execution holds another until the outcome is known (C++: the answer's task).
    callReceived(this, answerId, ctx, ctx.redirectedResponse);
    ctx.addRef();
    try {
      target.call(interfaceId, methodId, ctx, hints);
    } finally {
      target.release();
    }
  }

  /** The capability a MessageTarget names (a new reference). */
  /** `forDisembargo`: for a Disembargo, which must not wait behind embargoes (PipelineHook). */
  private getMessageTarget(t: MessageTargetR, forDisembargo = false): ClientHook {
    switch (t.which) {
      case "importedCap": {
        const exp = this.exports.find(t.importedCap);
        require_(exp !== undefined, NOT_EXPORT_ID);
        return exp.hook.addRef();
      }
      case "promisedAnswer": {
        const pa = t.promisedAnswer;
        const ops = toPipelineOps(pa.transform);
        const pipeline = answerPipeline(this, pa.questionId);
        if (pipeline !== null) {
          return forDisembargo ? pipeline.getPipelinedCapForDisembargo(ops) : pipeline.getPipelinedCap(ops);
        }
        // A question never asked (or finished) gets a broken pipeline, as rpc.c++ 1.x
        // getMessageTarget; 0.9.2 aborted ("PromisedAnswer.questionId is not a current
        // question."). The call fails alone, its answer is freed by its Finish: nothing leaks.
        // One error per connection: only the peer sees it, and a peer sending such calls by the
        // thousand would otherwise have us capture a stack trace for each (issue 13).
        return new BrokenClient(
          (this.noPipelineError ??= RpcError.failed(
            "Pipeline call on a request that returned no capabilities or was already closed.",
          )),
        );
      }
      default:
        throw new ProtocolError("Unknown message target type.");
    }
  }

  private handleReturn(m: MessageReader, ret: ReturnR): void {
    const questionId = ret.answerId;
    const question = returnReceived(this, questionId, ret.releaseParamCaps, ret.noFinishNeeded);
    try {
      const qref = question.ref;
      if (qref !== null) {
        switch (ret.which) {
          case "results": {
            require_(
              !question.isTailCall,
              "Tail call `Return` must set `resultsSentElsewhere`, not `results`.",
            );
            const payload = ret.results;
            const capTable = this.receiveCaps(payload);
            m.arena.capTable = capTable;
            qref.fulfill(new RpcResponse(m, payload.content, capTable));
            break;
          }
          case "exception":
            require_(
              !question.isTailCall,
              "Tail call `Return` must set `resultsSentElsewhere`, not `exception`.",
            );
            qref.reject(RpcConnection.toException(ret.exception));
            break;
          case "canceled":
            throw new ProtocolError("Return message falsely claims call was canceled.");
          case "resultsSentElsewhere":
            require_(
              question.isTailCall,
              "`Return` had `resultsSentElsewhere` but this was not a tail call.",
            );
            qref.fulfill(null);
            break;
          case "takeFromOtherQuestion": {
            const taken = takeRedirected(this, ret.takeFromOtherQuestion);
            require_(taken !== undefined, "`Return.takeFromOtherQuestion` had invalid answer ID.");
            const red = taken.results;
            require_(
              red !== null,
              "`Return.takeFromOtherQuestion` referenced a call that did not use `sendResultsTo.yourself`.",
            );
            // The call's pipeline: where our calls pipelined on this question were forwarded to.
            qref.fulfillLater(red, taken.call, taken.pipeline);
            // Tell the peer it can tear down the call whose results we took.
            taken.call?.sendRedirectReturn();
            break;
          }
          case "acceptFromThirdParty":
            // Level 3: we never send a Call that could be answered this way.
            throw new ProtocolError("Unsupported `Return` type: acceptFromThirdParty (Level 3).");
          default:
            throw new ProtocolError("Unknown 'Return' type.");
        }
      } else {
        // We canceled this question earlier (Finish sent with releaseResultCaps = true, so the
        // caps in this Return are not ours to release).
        if (ret.which === "takeFromOtherQuestion") {
          const taken = takeRedirected(this, ret.takeFromOtherQuestion);
          if (taken !== undefined) {
            if (taken.results !== null) dropRedirected(taken.results);
            const ctx = taken.call;
            if (ctx !== null) {
              ctx.requestCancel();
              ctx.sendRedirectReturn();
            }
          }
        }
        canceledQuestionReturned(this, questionId);
      }
    } finally {
      this.releaseExports(question.releaseExports);
    }
  }

  private handleFinish(f: FinishR): void {
    // Unknown IDs are tolerated, as rpc.c++ 1.x handleFinish does ("We can silently ignore
    // this": the peer may not know noFinishNeeded, or its Finish crossed our Return). 0.9.2
    // aborted with "'Finish' for invalid question ID."; we follow 1.x (DESIGN.md) since
    // ignoring it creates no table entry and costs a hostile peer nothing it could not do with
    // any other message (test/hostile checks it).
    // Old peers (requireEarlyCancellationWorkaround, the default) get their queued calls
    // delivered before the cancellation.
    finishReceived(this, f.questionId, f.releaseResultCaps, f.requireEarlyCancellationWorkaround);
  }

  // ---- Level 1 ---------------------------------------------------------------------------------

  private handleResolve(m: MessageReader, r: ResolveR): void {
    let replacement: ClientHook | null = null;
    let exception: RpcError | null = null;
    switch (r.which) {
      case "cap": {
        const cap = this.receiveCap(r.cap);
        require_(cap !== null, "'Resolve' contained 'CapDescriptor.none'.");
        replacement = cap;
        break;
      }
      case "exception":
        // Not a broken cap: that would look like a reflected resolution needing a Disembargo.
        exception = RpcConnection.toException(r.exception);
        break;
      default:
        throw new ProtocolError("Unknown 'Resolve' type.");
    }
    void m;
    const resolution = replacement ?? new BrokenClient(exception!);
    try {
      resolveReceived(this, r.promiseId, resolution);
    } finally {
      resolution.release();
    }
  }

  private handleRelease(r: ReleaseR): void {
    releaseReceived(this, r.id, r.referenceCount);
  }

  /** One reference of each export in `ids` goes (exports.ts dropExportRefs). */
  releaseExports(ids: ExportIds): void {
    dropExportRefs(this, ids);
  }

  private handleDisembargo(d: DisembargoR): void {
    const context = d.context;
    switch (context.which) {
      case "senderLoopback": {
        // Not held behind our own embargoes: this Disembargo may be what lifts them.
        const target = this.getMessageTarget(d.target, true);
        const embargoId = context.senderLoopback;
        // The target may still be a promise (A -> B -> C chains): wait for it to resolve, then
        // for every call already queued towards it (evalLast), then reflect (C++ #1656).
        whenResolvedHook(target, () => {
          this.loop().evalLast(() => {
            try {
              reflectDisembargo(this, innermostPastBlocker(target), embargoId);
            } catch (e) {
              this.disconnect(toRpcError(e));
            } finally {
              target.release();
            }
          });
        });
        break;
      }
      case "receiverLoopback":
        embargoLifted(this, context.receiverLoopback);
        break;
      default:
        throw new ProtocolError("Unimplemented Disembargo type.");
    }
  }

  // ---- capabilities on the wire ----------------------------------------------------------------

  /** Write descriptors for a message's cap table into `payload`; returns the export IDs added. */
  writeDescriptors(capTable: unknown[], payload: PayloadB): number[] {
    if (capTable.length === 0) return [];
    const list = payload.initCapTable(capTable.length);
    // Sized up front (and cut to what was used): an answer keeps this until its Finish, and an
    // array grown by push() reserves room for 17.
    const exports = new Array<number>(capTable.length);
    let n = 0;
    for (let i = 0; i < capTable.length; i++) {
      const cap = capTable[i] as ClientHook | null | undefined;
      const d = list.get(i);
      if (cap === null || cap === undefined) {
        d.setNone();
        continue;
      }
      const id = this.writeDescriptor(cap, d);
      if (id !== null) exports[n++] = id;
    }
    exports.length = n;
    return exports;
  }

  writeDescriptor(cap: ClientHook, d: CapDescriptorB): number | null {
    const inner = innermostPastBlocker(cap);
    attachCapFd(inner, d); // C++: `KJ_IF_MAYBE(fd, inner->getFd()) descriptor.setAttachedFd(...)`
    if (inner.brand === this) return (inner as RpcClient).writeDescriptor(d);
    return exportCap(this, inner, d);
  }

  /** Fill `target` for a call to `cap` over this connection and return null; or return the hook
   * the call must go to instead (a new reference). */
  writeTarget(cap: ClientHook, target: MessageTargetB): ClientHook | null {
    if (cap.brand === this) return (cap as RpcClient).writeTarget(target);
    return cap.addRef();
  }

  getInnermostClient(cap: ClientHook): ClientHook {
    const inner = innermost(cap);
    if (inner.brand === this) return (inner as RpcClient).getInnermostClient();
    return inner.addRef();
  }

  private receiveCaps(payload: PayloadR): unknown[] {
    if (!payload.hasCapTable()) return [];
    const list = payload.capTable;
    const n = list.length;
    const out = new Array<unknown>(n);
    let i = 0;
    try {
      for (; i < n; i++) out[i] = this.receiveCap(list.get(i));
    } catch (e) {
      for (let k = 0; k < i; k++) (out[k] as ClientHook | null)?.release();
      throw e;
    }
    return out;
  }

  receiveCap(d: CapDescriptorR): ClientHook | null {
    // The FD attached to this descriptor, if it arrived: an import takes it; for the other kinds
    // it is closed (C++ drops it with the message).
    const fd = claimCapFd(d);
    switch (d.which) {
      case "none":
        if (fd !== null) closeFd(fd);
        return null;
      case "senderHosted":
        return importCap(this, d.senderHosted, false, fd);
      case "senderPromise":
        return importCap(this, d.senderPromise, true, fd);
      case "receiverHosted": {
        if (fd !== null) closeFd(fd);
        const exp = this.exports.find(d.receiverHosted);
        if (exp === undefined) return newBrokenCap("invalid 'receiverHosted' export ID");
        const r = exp.hook.addRef();
        return r.brand === this ? new TribbleRaceBlocker(r) : r;
      }
      case "receiverAnswer": {
        if (fd !== null) closeFd(fd);
        const pa = d.receiverAnswer;
        const pipeline = answerPipeline(this, pa.questionId);
        if (pipeline !== null) {
          const ops = toPipelineOps(pa.transform);
          const r = pipeline.getPipelinedCap(ops);
          return r.brand === this ? new TribbleRaceBlocker(r) : r;
        }
        return newBrokenCap("invalid 'receiverAnswer'");
      }
      case "thirdPartyHosted":
        // No Level 3: use the vine.
        return importCap(this, d.thirdPartyHosted.vineId, false, fd);
      default:
        if (fd !== null) closeFd(fd);
        throw new ProtocolError("unknown CapDescriptor type");
    }
  }

  /** @internal ImportClient gone (imports.ts). */
  _importClientDestroyed(ic: ImportClient): void {
    importClientDestroyed(this, ic);
  }

  /** @internal PromiseClient of an import gone (imports.ts). */
  _promiseClientDestroyed(p: PromiseClient): void {
    promiseClientDestroyed(this, p);
  }

  // ---- idle (C++ setIdle) -----------------------------------------------------------------------

  private setNotIdle(): void {
    if (this.idle) {
      this.idle = false;
      this.transport.setIdle?.(false);
    }
  }

  /**
   * rpc.c++ checkIfBecameIdle(): after an entry left a table (and what it sent went out). The
   * answer and question transitions call it too (answers.ts, questions.ts).
   */
  checkIfBecameIdle(): void {
    if (
      this.idle ||
      this.error !== null ||
      this.questions.size + this.answers.size + this.exports.size + this.imports.size + this.embargoes.size >
        0
    )
      return;
    this.idle = true;
    this.transport.setIdle?.(true);
  }

  // ---- bootstrap -------------------------------------------------------------------------------

  /** The peer's bootstrap capability (a Bootstrap question). */
  bootstrap(fillObjectId?: (objectId: import("../wire/index.js").AnyPointerBuilder) => void): ClientHook {
    if (this.error !== null) return new BrokenClient(this.error);
    this.setNotIdle();
    const qref = questionAsked(this, [], false);
    const out = this.newMessage();
    const b = out.getRoot(MessageB).initBootstrap();
    b.questionId = qref.id;
    if (fillObjectId !== undefined) fillObjectId(b.deprecatedObjectId);
    try {
      this.send(out);
    } catch (e) {
      callNotSent(this, qref);
      qref.reject(toRpcError(e));
    }
    const pipeline = new RpcPipeline(this, qref);
    const cap = pipeline.getPipelinedCap([]);
    pipeline.release();
    return cap;
  }

  // ---- the end ---------------------------------------------------------------------------------

  /**
   * @internal (an event-loop.ts `TaskOwner`) A task that this connection's messages set going
   * threw: a bug of ours, which a peer may be able to provoke. As in rpc.c++ (`taskFailed`, the
   * error handler of the connection's TaskSet), the connection ends with that error (C++'s
   * disconnect() does nothing once it has ended) and the rest of the process goes on. The error
   * itself, stack and all, goes where errors nobody else can see go (`onError`): the Abort tells
   * only the peer, and an idle connection sends none.
   */
  taskFailed(error: unknown): void {
    try {
      (this.options.onError ?? reportError)(error);
    } catch {
      // A throwing reporter must not end the process either.
    }
    this.disconnect(toRpcError(error));
  }

  /**
   * End the connection with `error`: every question fails, every import breaks, exports and
   * answers are released, an Abort is sent (best effort), and the transport is shut down.
   */
  disconnect(error: RpcError): void {
    if (this.error !== null) return;
    const netError =
      error.type === "disconnected"
        ? error
        : new RpcError("disconnected", error.message, {
            ...(error.remoteTrace !== undefined ? { remoteTrace: error.remoteTrace } : {}),
            // rpc.c++ disconnect(): "Retain details from the original exception."
            ...(error.details !== undefined ? { details: error.details } : {}),
          });
    // Set the state first so that nothing released below tries to send.
    this.error = netError;
    for (let i = this.inboundHead; i < this.inbound.length; i++) closeUnclaimedFds(this.inbound[i]!);
    this.inbound = [];
    this.inboundHead = 0;
    this.backlogBytes = 0;

    const toRelease: { release(): void }[] = [];
    clearQuestions(this, netError);
    clearAnswers(this, toRelease);
    clearExports(this, toRelease);
    const pendingImports = clearImports(this);
    clearEmbargoes(this, netError, toRelease);
    for (const p of pendingImports) {
      const b = new BrokenClient(netError);
      p.resolve(b);
      b.release();
    }
    for (const r of toRelease) {
      try {
        r.release();
      } catch {
        // A throwing destructor must not stop the teardown.
      }
    }

    // Best effort: tell the peer why (C++ sends the original exception), unless idle: nothing is
    // sent on an idle connection (C++ `setIdle()` contract), and an idle one has nothing to end.
    if (!this.idle) {
      try {
        const out = this.newMessage();
        this.fromException(error, out.getRoot(MessageB).initAbort());
        this.transport.send(out);
      } catch {
        // ignore
      }
    }
    this.shutdownPromise = this.transport.shutdown().catch((e: unknown) => this.shutdownFailed(e, error));
    for (const w of this.disconnectWaiters.splice(0)) w(netError);
    this.options.onDisconnect?.(netError);
  }

  /**
   * The transport's shutdown failed. Reported unless it says nothing new, as C++ RpcConnectionState
   * ::disconnect() decides: not a DISCONNECTED error, not the error we disconnected with, and not
   * after a receive error (the transport is probably broken).
   */
  private shutdownFailed(e: unknown, reason: RpcError): void {
    const err = toRpcError(e);
    if (err.type === "disconnected" || this.receiveFailed) return;
    if (err.type === reason.type && err.message === reason.message) return;
    try {
      (this.options.onError ?? reportError)(e);
    } catch {
      // A throwing reporter must not turn into an unhandled rejection.
    }
  }

  /** Resolves when the transport has been shut down after a disconnect. */
  whenShutDown(): Promise<void> {
    return this.shutdownPromise ?? Promise.resolve();
  }
}

/**
 * `innermost(hook)`, looking through a TribbleRaceBlocker: C++'s RequireEmbargoWrapper is an
 * RpcClient of the connection that forwards writeDescriptor() and writeTarget() to the capability
 * it wraps, so it is written, and reflects a Disembargo, as that capability.
 */
function innermostPastBlocker(hook: ClientHook): ClientHook {
  const h = innermost(hook);
  return h instanceof TribbleRaceBlocker ? innermost(h.inner) : h;
}

function reportError(e: unknown): void {
  // The core is typed without the DOM and Node libraries; every runtime has a console.
  (globalThis as { console?: { error(...args: unknown[]): void } }).console?.error(
    "capnts: RPC connection error:",
    e,
  );
}

function processNext(c: RpcConnection): void {
  c._processNext();
}

function toPipelineOps(list: StructList<PromisedAnswerOpR>): number[] {
  const ops: number[] = [];
  for (let i = 0; i < list.length; i++) {
    const op = list.get(i);
    switch (op.which) {
      case "noop":
        break;
      case "getPointerField":
        ops.push(op.getPointerField);
        break;
      default:
        throw new ProtocolError("Unsupported pipeline op.");
    }
  }
  return ops;
}

/** Run `f` once `hook` is no longer a promise (rpc.c++ `whenResolved()`), from the run queue. */
function whenResolvedHook(hook: ClientHook, f: () => void): void {
  const more = innermost(hook).whenMoreResolved();
  if (more === null) {
    eventLoop().evalLater(f);
    return;
  }
  more.listen(() => whenResolvedHook(hook, f));
}

/** The pipeline of a Bootstrap answer: the one capability, with an empty transform. */
class SingleCapPipeline extends PipelineHook {
  readonly cap: ClientHook;
  /** The exports of the Return that carried `cap` (a Bootstrap's). */
  readonly exports: readonly number[];
  constructor(cap: ClientHook, exports: readonly number[]) {
    super();
    this.cap = cap;
    this.exports = exports;
  }
  getPipelinedCap(ops: PipelineOps): ClientHook {
    if (ops.length === 0) return this.cap.addRef();
    return newBrokenCap("Invalid pipeline transform.");
  }
  protected override destroy(): void {
    this.cap.release();
  }
}

export { BrokenPipeline };
