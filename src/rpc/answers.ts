/**
 * The answer table: calls the peer made to us (rpc.capnp "Answer"; rpc.c++ `Answer`,
 * `RpcCallContext::sendReturn`, `cleanupAnswerTable`, `handleFinish`). Every change to an entry
 * is one of the transitions below; nothing else writes the table.
 *
 * ## When does an answer leave the table?
 *
 * When **both** its Return has been sent and its Finish has been received (rpc.capnp Finish:
 * "the question ID may be reused once both sides have sent Return and Finish"), whichever comes
 * second removes it:
 *
 * ```text
 *   Call ──► running ──Return sent──► returned ──Finish──► (gone)
 *               │                        ▲
 *               └─Finish──► finishing ───┴─Return sent──► (gone)
 *   Bootstrap ─────────────────────────► returned  (its Return goes at once)
 * ```
 *
 * - `running`: the call is executing; the entry holds the call context as the answer's pipeline
 *   (pipelined calls and `receiverAnswer` descriptors reach it).
 * - `returned`: the Return went; the entry keeps what a Finish settles: the exports the results
 *   carried (`resultExports`, released if the Finish says `releaseResultCaps`) and the pipeline
 *   for pipelined calls still on their way (for results with capabilities, a
 *   {@link PostReturnPipeline} that pins them to what they were at Return time, rpc.c++
 *   `PostReturnRpcPipeline`, the Tribble 4-way race).
 * - `finishing`: the Finish came first (the caller canceled). The pipeline is dropped at once,
 *   the call is canceled, and the entry stays until the call sends its Return (`canceled`,
 *   rpc.capnp Return.canceled) so that the ID is not reused under it.
 *
 * Shortcuts, all of which leave at the Return:
 * - A Return without capabilities carries `noFinishNeeded` (rpc.capnp, 1.x): no Finish will
 *   come, so the entry goes at once (a 0.9.2 peer's Finish then finds no entry, which
 *   handleFinish tolerates, as rpc.c++ 1.x does).
 * - A call with `onlyPromisePipeline` gets no Return at all: it leaves at the Finish, or when it
 *   completes if the Finish came first.
 * - Tail calls back to the caller (`sendResultsTo.yourself`): the callee's call returns
 *   `takeFromOtherQuestion` (rpc.capnp Return.takeFromOtherQuestion) naming an answer of ours in
 *   the table, whose `redirected` results the question takes; that answer then gets its
 *   Return (`resultsSentElsewhere`) as any other, and leaves when its Finish arrives too.
 *   Results nobody took are released when the answer leaves (rpc.c++ drops
 *   `redirectedResults` with the answer).
 * - A Return with `releaseParamCaps` concerns the question side, not this table: we always send
 *   `releaseParamCaps = false` and release the params' capabilities ourselves (rpc.c++ 1.x).
 * - Disconnect empties the table at once ({@link clearAnswers}); running calls are canceled.
 */
import { AnyPointerReader, type MessageBuilder, MessageReader } from "../wire/index.js";
import { Slab } from "../wire/slab.js";
import { releaseCapTable } from "./broken.js";
import { eventLoop } from "./event-loop.js";
import { type ExportIds, exportIds } from "./exports.js";
import { Future } from "./future.js";
import { ClientHook, innermost, PipelineHook, type PipelineOps } from "./hooks.js";
import { newLocalPromiseClient } from "./local-request.js";
import { MessageB, newRpcMessage, type ReturnB } from "./protocol.js";
import { dropRedirected, type RpcResponse } from "./questions.js";
import type { ImportTable } from "./tables.js";
import { capAtPath } from "./taken.js";

/** What the table needs of a call being served (an RpcCallContext). */
export interface AnswerCall extends PipelineHook {
  /** The Finish arrived: no results are wanted any more. */
  finish(): void;
  requestCancel(): void;
}

/** The call runs; no Return sent, no Finish received. */
export interface RunningAnswer<C extends AnswerCall = AnswerCall> {
  readonly state: "running";
  /** The call; the entry holds its first reference, as the answer's pipeline. */
  readonly call: C;
  /** sendResultsTo.yourself: the results, for a Return.takeFromOtherQuestion to take. */
  redirected: Future<RpcResponse> | null;
}

/** The Finish arrived first: the call is being canceled; leaves when its Return goes. */
export interface FinishingAnswer<C extends AnswerCall = AnswerCall> {
  readonly state: "finishing";
  /** The call (borrowed: its execution holds it until it returns, which removes this entry). */
  readonly call: C;
  redirected: Future<RpcResponse> | null;
}

/** The Return went; waiting for the Finish. */
export interface ReturnedAnswer {
  readonly state: "returned";
  /** Where pipelined calls still arriving go (owned), or null if the results have no caps. */
  readonly pipeline: PipelineHook | null;
  /** Exports the results carried: released if the Finish says releaseResultCaps. */
  readonly resultExports: ExportIds;
  redirected: Future<RpcResponse> | null;
}

export type Answer<C extends AnswerCall = AnswerCall> =
  | RunningAnswer<C>
  | FinishingAnswer<C>
  | ReturnedAnswer;

/** The answer table's owner: what the transitions use of the connection. */
export interface AnswerTableOwner<C extends AnswerCall> {
  readonly answers: ImportTable<Answer<C>>;
  releaseExports(ids: ExportIds): void;
  /** An entry left the table: tell the transport if the connection is now idle (C++ setIdle). */
  checkIfBecameIdle(): void;
}

/** A new Return message for `answerId` (the one place a Return header is written). */
export function newReturn(answerId: number): { message: MessageBuilder; ret: ReturnB } {
  const message = newRpcMessage();
  const ret = message.getRoot(MessageB).initReturn();
  ret.answerId = answerId;
  // We release the params' capabilities ourselves (rpc.c++ 1.x sends false too).
  ret.releaseParamCaps = false;
  return { message, ret };
}

/** Whether `id` names an answer still in the table (a new Call or Bootstrap may not reuse it). */
export function answerInUse<C extends AnswerCall>(owner: AnswerTableOwner<C>, id: number): boolean {
  return owner.answers.find(id) !== undefined;
}

/** Where pipelined calls on answer `id` go (borrowed), or null if there is nowhere. */
export function answerPipeline<C extends AnswerCall>(
  owner: AnswerTableOwner<C>,
  id: number,
): PipelineHook | null {
  const a = owner.answers.find(id);
  if (a === undefined) return null;
  switch (a.state) {
    case "running":
      return a.call;
    case "returned":
      return a.pipeline;
    default:
      return null; // finishing: the caller dropped it
  }
}

/** Call received: the entry takes `call`'s first reference (its pipeline). */
export function callReceived<C extends AnswerCall>(
  owner: AnswerTableOwner<C>,
  id: number,
  call: C,
  redirected: Future<RpcResponse> | null,
): void {
  owner.answers.set(id, { state: "running", call, redirected });
}

/** Bootstrap received and answered at once: the entry waits for its Finish. */
export function bootstrapReturned<C extends AnswerCall>(
  owner: AnswerTableOwner<C>,
  id: number,
  pipeline: PipelineHook,
  resultExports: ExportIds,
): void {
  owner.answers.set(id, { state: "returned", pipeline, resultExports, redirected: null });
}

/**
 * The live answer of `call`: running or finishing, and still this call's (after it left, the
 * peer may reuse the ID; after a disconnect the table is empty). Null once it has returned.
 */
export function liveAnswer<C extends AnswerCall>(
  owner: AnswerTableOwner<C>,
  id: number,
  call: C,
): RunningAnswer<C> | FinishingAnswer<C> | null {
  const a = owner.answers.find(id);
  if (a === undefined || a.state === "returned" || a.call !== call) return null;
  return a;
}

/**
 * `call` sent its Return (or, for `onlyPromisePipeline`, completed without one). `pipeline`:
 * "keep" to keep the call as the answer's pipeline (its results may be pipelined on, or it
 * failed and pipelined calls should see the error), a replacement pipeline (owned; the call's
 * reference is released), or null to free it. `finishNeeded`: false when the Return said
 * noFinishNeeded. Returns false if the answer was no longer live (nothing changed).
 */
export function returnSent<C extends AnswerCall>(
  owner: AnswerTableOwner<C>,
  id: number,
  call: C,
  resultExports: readonly number[],
  pipeline: "keep" | PipelineHook | null,
  finishNeeded: boolean,
): boolean {
  const a = liveAnswer(owner, id, call);
  if (a === null) {
    if (pipeline !== "keep") pipeline?.release();
    return false;
  }
  if (a.state === "finishing" || !finishNeeded) {
    // Return and Finish both done: the answer leaves. (The call's pipeline reference went at
    // the Finish; without a Finish it goes now.)
    owner.answers.erase(id);
    dropRedirectedOf(a);
    if (pipeline !== "keep") pipeline?.release();
    if (a.state === "running") a.call.release();
    owner.releaseExports(resultExports);
    owner.checkIfBecameIdle();
    return true;
  }
  let p: PipelineHook | null;
  if (pipeline === "keep") p = a.call;
  else {
    p = pipeline;
    a.call.release();
  }
  owner.answers.set(id, {
    state: "returned",
    pipeline: p,
    resultExports: exportIds(resultExports),
    redirected: a.redirected,
  });
  return true;
}

/**
 * Finish received for `id` (rpc.capnp Finish). A returned answer leaves (its result exports
 * released if `releaseResultCaps`). A running one becomes `finishing`: its call hears of the
 * Finish and is canceled — at once, or, for old peers that may rely on calls queued before the
 * Finish being delivered first (`requireEarlyCancellationWorkaround`), at the end of the run
 * queue (evalLast) — and the entry's pipeline reference goes. Unknown IDs, and a second Finish,
 * are ignored (see handleFinish).
 */
export function finishReceived<C extends AnswerCall>(
  owner: AnswerTableOwner<C>,
  id: number,
  releaseResultCaps: boolean,
  cancelLate: boolean,
): void {
  const a = owner.answers.find(id);
  if (a === undefined || a.state === "finishing") return;
  if (a.state === "running") {
    const call = a.call;
    owner.answers.set(id, { state: "finishing", call, redirected: a.redirected });
    call.finish();
    if (cancelLate) eventLoop().evalLast(() => call.requestCancel());
    else call.requestCancel();
    call.release();
    return;
  }
  owner.answers.erase(id);
  dropRedirectedOf(a);
  if (releaseResultCaps) owner.releaseExports(a.resultExports);
  a.pipeline?.release();
  owner.checkIfBecameIdle();
}

/**
 * Return.takeFromOtherQuestion named answer `id`: hand its redirected results to the question
 * (they are the taker's now). Undefined if there is no such answer, null if it has no results
 * to take (not a `sendResultsTo.yourself` call, or taken already).
 */
export function takeRedirected<C extends AnswerCall>(
  owner: AnswerTableOwner<C>,
  id: number,
): { results: Future<RpcResponse> | null; call: C | null; pipeline: PipelineHook | null } | undefined {
  const a = owner.answers.find(id);
  if (a === undefined) return undefined;
  const results = a.redirected;
  a.redirected = null;
  return { results, call: a.state === "returned" ? null : a.call, pipeline: answerPipeline(owner, id) };
}

/** Disconnect: empty the table. Running and finishing calls are canceled; pipelines released. */
export function clearAnswers<C extends AnswerCall>(
  owner: AnswerTableOwner<C>,
  toRelease: { release(): void }[],
): void {
  for (const a of owner.answers.clear()) {
    // Results nobody took: released once the call has produced them (its context is canceled).
    dropRedirectedOf(a);
    if (a.state === "returned") {
      if (a.pipeline !== null) toRelease.push(a.pipeline);
      continue;
    }
    const call = a.call;
    if (a.state === "running") toRelease.push(call);
    toRelease.push({ release: () => call.requestCancel() });
  }
}

function dropRedirectedOf(a: Answer<AnswerCall>): void {
  const red = a.redirected;
  a.redirected = null;
  if (red !== null) dropRedirected(red);
}

/**
 * The pipeline of an answer whose results held capabilities, after its Return (rpc.c++
 * `PostReturnRpcPipeline`): pipelined calls and `receiverAnswer` descriptors still arriving reach
 * each capability as it was when the Return was written, even if it has resolved further since,
 * because that is what the peer's embargoes assume (Tribble 4-way race). `resolutions` maps a
 * results capability to its innermost client at Return time (owned).
 */
/**
 * Where kept results are copied: they live until their Finish, so they share slabs with each
 * other rather than with messages that die at once.
 */
const keptResults = /* @__PURE__ */ new Slab(16 * 1024, 2 * 1024);

/**
 * For results whose root is a struct of one pointer, a capability (table index < 2^30) or null:
 * the capability's index, or -2 for null. Otherwise -1. Pipelined calls walk pointers only, so
 * such results (a method returning one capability, the usual case) are kept as this number.
 */
function resultsShape(results: AnyPointerReader): number {
  const seg = results._seg;
  const v = seg.view;
  const lo = v.getInt32(results._p, true);
  const hi = v.getUint32(results._p + 4, true);
  // The pointer: after the root pointer, its offset and the data words.
  const q = results._p + 8 + ((lo >> 2) + (hi & 0xffff)) * 8;
  if ((lo & 3) !== 0 || hi >>> 16 !== 1 || q < 0 || q + 8 > seg.end) return -1;
  const plo = v.getInt32(q, true);
  const phi = v.getUint32(q + 4, true);
  if (plo === 3 && phi < 0x4000_0000) return phi; // a capability
  return (plo | phi) === 0 ? -2 : -1;
}

/** Results of this shape: a struct of no data and its one pointer, in a message of its own. */
function shapeWords(shape: number): Uint8Array {
  const v = new DataView(new ArrayBuffer(16));
  v.setUint32(4, 1 << 16, true); // struct pointer: offset 0, no data words, one pointer
  if (shape >= 0) {
    v.setUint32(8, 3, true); // capability pointer
    v.setUint32(12, shape, true);
  }
  return new Uint8Array(v.buffer);
}

export class PostReturnPipeline extends PipelineHook {
  /** The pipeline the call forwarded pipelined calls to before the Return, if any (owned). */
  private redirect: PipelineHook | null;
  /**
   * The results as kept until the Finish, the cheapest of: their shape (`at`, see resultsShape;
   * `words` and `results` null); a copy of the Return's one segment (`words`) and where the
   * results pointer is in it (`at`); the results in the Return message (a Return of several
   * segments).
   */
  private readonly words: Uint8Array | null;
  private readonly at: number;
  private readonly results: AnyPointerReader | null;
  /**
   * The Return's capability table (the references are ours); a table of one capability is kept
   * as that capability. Null once released.
   */
  private caps: unknown[] | ClientHook | null;
  private resolutions: Map<ClientHook, ClientHook> | null;

  /**
   * Takes over from the call what pipelined calls still need, so that the call itself (its
   * context, the Return message's builder) is freed at the Return rather than at the Finish,
   * which a peer that pipelines deeply may send long after: `redirect` (a reference this pipeline
   * owns), and `results` within the Return `message`, whose capability table's references this
   * pipeline takes over. Answers awaiting their Finish are what a peer that pipelines deeply makes
   * us hold (issue 13), so the usual results (a struct whose one pointer is a capability) are
   * kept as a number and that capability, other Returns of one segment as a copy of their used
   * words (the builder's segment has room to spare and is shared with short-lived messages).
   */
  constructor(
    redirect: PipelineHook | null,
    message: MessageBuilder,
    results: AnyPointerReader,
    resolutions: Map<ClientHook, ClientHook> | null,
  ) {
    super();
    this.redirect = redirect;
    this.resolutions = resolutions;
    const segs = message.arena.segments;
    const table = message.capTable;
    if (segs.length === 1 && results._seg === segs[0]) {
      const shape = resultsShape(results);
      if (shape !== -1) {
        this.words = null;
        this.at = shape;
      } else {
        const seg = segs[0]!;
        const words = keptResults.take(seg.end);
        words.set(seg.bytes.subarray(0, seg.end));
        this.words = words;
        this.at = results._p;
      }
      this.results = null;
      const only = table.length === 1 ? table[0] : null;
      // Exact size: the builder's table grew by pushes.
      this.caps = only instanceof ClientHook ? only : table.slice();
    } else {
      this.words = null;
      this.at = 0;
      this.results = results;
      this.caps = table;
    }
  }

  /** The results, readable (their capabilities are borrowed from our table). */
  private resultsReader(): AnyPointerReader {
    if (this.results !== null) return this.results;
    const words = this.words;
    const m = new MessageReader([words ?? shapeWords(this.at)]);
    const c = this.caps;
    m.capTable = c === null ? [] : Array.isArray(c) ? c : [c];
    return new AnyPointerReader(
      m.arena,
      m.arena.segment(0),
      words === null ? 0 : this.at,
      m.arena.nestingLimit,
    );
  }

  /** The capability at `ops` as it was when the Return was written (a new reference). */
  private capAtReturn(ops: PipelineOps): ClientHook {
    const cap = capAtPath(this.resultsReader(), ops);
    const u = this.resolutions?.get(cap);
    if (u === undefined) return cap;
    cap.release();
    return u.addRef();
  }

  override getPipelinedCapForDisembargo(ops: PipelineOps): ClientHook {
    return this.capAtReturn(ops);
  }

  getPipelinedCap(ops: PipelineOps): ClientHook {
    const result = this.capAtReturn(ops);
    const held = this.embargoAhead(ops);
    if (held === null) return result;
    const f = new Future<ClientHook>();
    held.listen(() => {
      f.resolve(result);
      result.release();
    });
    return newLocalPromiseClient(f);
  }

  /**
   * E-order across the Return: calls that reached this answer before it returned went to what the
   * call's pipeline gave them. If that was a promise which has since resolved into an embargo
   * still holding them (RpcPipeline keeps such a promise), a later call must wait until the
   * embargo lets them go, or it would overtake them. C++ PostReturnRpcPipeline asks the original
   * pipeline first for the same reason. The future to wait for, or null. Only a pipeline the
   * call forwarded to can hold such a promise; the call's own results give what it returned.
   */
  private embargoAhead(ops: PipelineOps): Future<ClientHook> | null {
    const redirect = this.redirect;
    if (redirect === null) return null;
    const original = redirect.getPipelinedCap(ops);
    const ptr = innermost(original);
    const more = ptr !== original ? ptr.whenMoreResolved() : null;
    original.release();
    return more;
  }

  protected override destroy(): void {
    const map = this.resolutions;
    this.resolutions = null;
    if (map !== null) for (const h of map.values()) h.release();
    const c = this.caps;
    this.caps = null;
    if (Array.isArray(c)) releaseCapTable(c);
    else c?.release();
    const r = this.redirect;
    this.redirect = null;
    r?.release();
  }
}
