/**
 * Capabilities that live across the connection (rpc.c++ RpcClient and its kinds): an import
 * (ImportClient), a pipelined promise on a question we asked (PipelineClient), a promise that
 * later resolves elsewhere (PromiseClient, with the embargo logic), and the TribbleRaceBlocker.
 */
import type { AnyPointerReader, StructListBuilder } from "../wire/index.js";
import { BROKEN_BRAND, BrokenClient, BrokenRequest } from "./broken.js";
import type { CallContextBase } from "./call-context.js";
import type { RpcConnection } from "./connection.js";
import { RpcError } from "./errors.js";
import { closeFd } from "./fd.js";
import type { RpcFlowController } from "./flow-control.js";
import { Future } from "./future.js";
import {
  type CallContextHook,
  type CallHints,
  ClientHook,
  type PipelineOps,
  type RequestHook,
} from "./hooks.js";
import type { CapDescriptorB, MessageTargetB, PromisedAnswerOpB } from "./protocol.js";
import { QueuedClient } from "./queued.js";
import type { QuestionRef } from "./rpc-request.js";
import { copyInto, RpcRequest } from "./rpc-request.js";

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

enum Resolution {
  UNRESOLVED,
  /** Resolved to a settled capability of the peer (or one it hosts via another path). */
  REMOTE,
  /** Resolved to one of our own capabilities. */
  REFLECTED,
  /** Resolved to another not-yet-resolved promise of the same connection: merged with it. */
  MERGED,
  /** Resolved to null or an error. */
  BROKEN,
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
  resolutionType: Resolution = Resolution.UNRESOLVED;
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
    return this.resolutionType !== Resolution.UNRESOLVED;
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
    let repl = replacement.addRef();
    const conn = this.conn;
    const brand = repl.brand;
    if (brand === conn && reflected) {
      this.resolutionType = Resolution.REFLECTED;
    } else if (brand === conn) {
      // Another capability of the same peer.
      if (repl.whenMoreResolved() !== null) {
        // Another remote promise: merge with it, or adopt its verdict if it already resolved.
        let other = repl as PromiseClient;
        while (other.resolutionType === Resolution.MERGED) {
          const next = other.cap.addRef();
          repl.release();
          repl = next;
          other = repl as PromiseClient;
        }
        if (other.isResolved) {
          this.resolutionType = other.resolutionType;
        } else {
          other.receivedCall = other.receivedCall || this.receivedCall;
          this.resolutionType = Resolution.MERGED;
        }
      } else {
        this.resolutionType = Resolution.REMOTE;
      }
    } else if (brand === BROKEN_BRAND) {
      // "We don't consider null or broken capabilities as reflected": no disembargo.
      this.resolutionType = Resolution.BROKEN;
    } else {
      this.resolutionType = Resolution.REFLECTED;
    }

    if (this.resolutionType === Resolution.REFLECTED && this.receivedCall && conn.error === null) {
      // Calls we made on the promise may still be travelling to the peer and back: embargo.
      const queued = conn.startEmbargo(this.cap, repl);
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

export type { AnyPointerReader };
export { BrokenClient, QueuedClient, RpcError };
