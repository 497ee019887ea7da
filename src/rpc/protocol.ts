/**
 * The rpc.capnp protocol messages: readers and builders of the structs the connection reads and
 * writes. All message encoding and decoding of the RPC layer goes through this module, so that
 * the hand-written views below can be replaced by the generated bindings (src/gen/rpc.capnp.ts)
 * in one place. Layouts are those `capnp compile -ocapnp rpc.capnp` prints for 1.x rpc.capnp
 * (wire-compatible with 0.9.2, which lacks only the 1.x fields).
 */
import {
  type AnyPointerBuilder,
  type AnyPointerReader,
  StructBuilder,
  StructList,
  StructListBuilder,
  StructReader,
} from "../wire/index.js";

// ---- Message (8 bytes, 1 ptr) ----------------------------------------------------------------

export const enum MessageWhich {
  unimplemented = 0,
  abort = 1,
  call = 2,
  return = 3,
  finish = 4,
  resolve = 5,
  release = 6,
  obsoleteSave = 7,
  bootstrap = 8,
  obsoleteDelete = 9,
  provide = 10,
  accept = 11,
  join = 12,
  disembargo = 13,
}

export const MESSAGE_NAMES: readonly string[] = [
  "unimplemented",
  "abort",
  "call",
  "return",
  "finish",
  "resolve",
  "release",
  "obsoleteSave",
  "bootstrap",
  "obsoleteDelete",
  "provide",
  "accept",
  "join",
  "disembargo",
];

export class MessageR extends StructReader {
  get which(): number {
    return this._getUint16(0);
  }
  get unimplemented(): MessageR {
    return this._getStruct(0, MessageR);
  }
  get abort(): ExceptionR {
    return this._getStruct(0, ExceptionR);
  }
  get bootstrap(): BootstrapR {
    return this._getStruct(0, BootstrapR);
  }
  get call(): CallR {
    return this._getStruct(0, CallR);
  }
  get return(): ReturnR {
    return this._getStruct(0, ReturnR);
  }
  get finish(): FinishR {
    return this._getStruct(0, FinishR);
  }
  get resolve(): ResolveR {
    return this._getStruct(0, ResolveR);
  }
  get release(): ReleaseR {
    return this._getStruct(0, ReleaseR);
  }
  get disembargo(): DisembargoR {
    return this._getStruct(0, DisembargoR);
  }
}

export class MessageB extends StructBuilder {
  static readonly _dataWords = 1;
  static readonly _ptrCount = 1;
  private tag(t: number): void {
    this._setUint16(0, t);
  }
  /** Echo `msg` back (Message.unimplemented). */
  setUnimplemented(msg: MessageR): void {
    this.tag(MessageWhich.unimplemented);
    this._setStruct(0, msg);
  }
  initAbort(): ExceptionB {
    this.tag(MessageWhich.abort);
    return this._initStruct(0, ExceptionB);
  }
  initBootstrap(): BootstrapB {
    this.tag(MessageWhich.bootstrap);
    return this._initStruct(0, BootstrapB);
  }
  initCall(): CallB {
    this.tag(MessageWhich.call);
    return this._initStruct(0, CallB);
  }
  initReturn(): ReturnB {
    this.tag(MessageWhich.return);
    return this._initStruct(0, ReturnB);
  }
  initFinish(): FinishB {
    this.tag(MessageWhich.finish);
    return this._initStruct(0, FinishB);
  }
  initResolve(): ResolveB {
    this.tag(MessageWhich.resolve);
    return this._initStruct(0, ResolveB);
  }
  initRelease(): ReleaseB {
    this.tag(MessageWhich.release);
    return this._initStruct(0, ReleaseB);
  }
  initDisembargo(): DisembargoB {
    this.tag(MessageWhich.disembargo);
    return this._initStruct(0, DisembargoB);
  }
  /** Any other variant, with an empty struct body (scripted tests of Level 3 messages). */
  initOther(which: number, dataWords: number, ptrCount: number): StructBuilder {
    this.tag(which);
    return this._initStruct(0, sized(dataWords, ptrCount));
  }
}

const sizedCache = new Map<number, { new (...a: any[]): StructBuilder; _dataWords: number; _ptrCount: number }>();
function sized(dw: number, pc: number) {
  const k = dw * 65536 + pc;
  let c = sizedCache.get(k);
  if (c === undefined) {
    c = class extends StructBuilder {
      static readonly _dataWords = dw;
      static readonly _ptrCount = pc;
    };
    sizedCache.set(k, c);
  }
  return c;
}

// ---- Bootstrap (8 bytes, 1 ptr) --------------------------------------------------------------

export class BootstrapR extends StructReader {
  get questionId(): number {
    return this._getUint32(0);
  }
  get hasDeprecatedObjectId(): boolean {
    return this._hasPointer(0);
  }
  get deprecatedObjectId(): AnyPointerReader {
    return this._getPointer(0);
  }
}
export class BootstrapB extends StructBuilder {
  static readonly _dataWords = 1;
  static readonly _ptrCount = 1;
  set questionId(v: number) {
    this._setUint32(0, v);
  }
  get deprecatedObjectId(): AnyPointerBuilder {
    return this._getPointer(0);
  }
}

// ---- Call (24 bytes, 3 ptrs) -----------------------------------------------------------------

export const enum SendResultsTo {
  caller = 0,
  yourself = 1,
  thirdParty = 2,
}

export class CallR extends StructReader {
  get questionId(): number {
    return this._getUint32(0);
  }
  get target(): MessageTargetR {
    return this._getStruct(0, MessageTargetR);
  }
  get interfaceId(): bigint {
    return this._getUint64(8);
  }
  get methodId(): number {
    return this._getUint16(4);
  }
  get allowThirdPartyTailCall(): boolean {
    return this._getBool(128);
  }
  get noPromisePipelining(): boolean {
    return this._getBool(129);
  }
  get onlyPromisePipeline(): boolean {
    return this._getBool(130);
  }
  get params(): PayloadR {
    return this._getStruct(1, PayloadR);
  }
  get sendResultsTo(): number {
    return this._getUint16(6);
  }
}
export class CallB extends StructBuilder {
  static readonly _dataWords = 3;
  static readonly _ptrCount = 3;
  set questionId(v: number) {
    this._setUint32(0, v);
  }
  get questionId(): number {
    return this._getUint32(0);
  }
  initTarget(): MessageTargetB {
    return this._initStruct(0, MessageTargetB);
  }
  set interfaceId(v: bigint) {
    this._setUint64(8, v);
  }
  get interfaceId(): bigint {
    return this._getUint64(8);
  }
  set methodId(v: number) {
    this._setUint16(4, v);
  }
  get methodId(): number {
    return this._getUint16(4);
  }
  set noPromisePipelining(v: boolean) {
    this._setBool(129, v);
  }
  get noPromisePipelining(): boolean {
    return this._getBool(129);
  }
  set onlyPromisePipeline(v: boolean) {
    this._setBool(130, v);
  }
  get onlyPromisePipeline(): boolean {
    return this._getBool(130);
  }
  initParams(): PayloadB {
    return this._initStruct(1, PayloadB);
  }
  set sendResultsTo(v: number) {
    this._setUint16(6, v);
  }
}

// ---- Return (16 bytes, 1 ptr) ----------------------------------------------------------------

export const enum ReturnWhich {
  results = 0,
  exception = 1,
  canceled = 2,
  resultsSentElsewhere = 3,
  takeFromOtherQuestion = 4,
  acceptFromThirdParty = 5,
}

export class ReturnR extends StructReader {
  get answerId(): number {
    return this._getUint32(0);
  }
  get releaseParamCaps(): boolean {
    return this._getBool(32, true);
  }
  get noFinishNeeded(): boolean {
    return this._getBool(33);
  }
  get which(): number {
    return this._getUint16(6);
  }
  get results(): PayloadR {
    return this._getStruct(0, PayloadR);
  }
  get exception(): ExceptionR {
    return this._getStruct(0, ExceptionR);
  }
  get takeFromOtherQuestion(): number {
    return this._getUint32(8);
  }
}
export class ReturnB extends StructBuilder {
  static readonly _dataWords = 2;
  static readonly _ptrCount = 1;
  set answerId(v: number) {
    this._setUint32(0, v);
  }
  set releaseParamCaps(v: boolean) {
    this._setBool(32, v, true);
  }
  set noFinishNeeded(v: boolean) {
    this._setBool(33, v);
  }
  initResults(): PayloadB {
    this._setUint16(6, ReturnWhich.results);
    return this._initStruct(0, PayloadB);
  }
  initException(): ExceptionB {
    this._setUint16(6, ReturnWhich.exception);
    return this._initStruct(0, ExceptionB);
  }
  setCanceled(): void {
    this._setUint16(6, ReturnWhich.canceled);
    this._clearPointer(0);
  }
  setResultsSentElsewhere(): void {
    this._setUint16(6, ReturnWhich.resultsSentElsewhere);
    this._clearPointer(0);
  }
  setTakeFromOtherQuestion(id: number): void {
    this._setUint16(6, ReturnWhich.takeFromOtherQuestion);
    this._clearPointer(0);
    this._setUint32(8, id);
  }
  /** For scripted tests only. */
  setWhich(w: number): void {
    this._setUint16(6, w);
  }
}

// ---- Finish (8 bytes) ------------------------------------------------------------------------

export class FinishR extends StructReader {
  get questionId(): number {
    return this._getUint32(0);
  }
  get releaseResultCaps(): boolean {
    return this._getBool(32, true);
  }
  get requireEarlyCancellationWorkaround(): boolean {
    return this._getBool(33, true);
  }
}
export class FinishB extends StructBuilder {
  static readonly _dataWords = 1;
  static readonly _ptrCount = 0;
  set questionId(v: number) {
    this._setUint32(0, v);
  }
  set releaseResultCaps(v: boolean) {
    this._setBool(32, v, true);
  }
  set requireEarlyCancellationWorkaround(v: boolean) {
    this._setBool(33, v, true);
  }
}

// ---- Resolve (8 bytes, 1 ptr) ----------------------------------------------------------------

export class ResolveR extends StructReader {
  get promiseId(): number {
    return this._getUint32(0);
  }
  /** 0 = cap, 1 = exception. */
  get which(): number {
    return this._getUint16(4);
  }
  get cap(): CapDescriptorR {
    return this._getStruct(0, CapDescriptorR);
  }
  get exception(): ExceptionR {
    return this._getStruct(0, ExceptionR);
  }
}
export class ResolveB extends StructBuilder {
  static readonly _dataWords = 1;
  static readonly _ptrCount = 1;
  set promiseId(v: number) {
    this._setUint32(0, v);
  }
  initCap(): CapDescriptorB {
    this._setUint16(4, 0);
    return this._initStruct(0, CapDescriptorB);
  }
  initException(): ExceptionB {
    this._setUint16(4, 1);
    return this._initStruct(0, ExceptionB);
  }
}

// ---- Release (8 bytes) -----------------------------------------------------------------------

export class ReleaseR extends StructReader {
  get id(): number {
    return this._getUint32(0);
  }
  get referenceCount(): number {
    return this._getUint32(4);
  }
}
export class ReleaseB extends StructBuilder {
  static readonly _dataWords = 1;
  static readonly _ptrCount = 0;
  set id(v: number) {
    this._setUint32(0, v);
  }
  set referenceCount(v: number) {
    this._setUint32(4, v);
  }
}

// ---- Disembargo (8 bytes, 1 ptr) -------------------------------------------------------------

export const enum DisembargoWhich {
  senderLoopback = 0,
  receiverLoopback = 1,
  accept = 2,
  provide = 3,
}

export class DisembargoR extends StructReader {
  get target(): MessageTargetR {
    return this._getStruct(0, MessageTargetR);
  }
  get contextWhich(): number {
    return this._getUint16(4);
  }
  /** senderLoopback / receiverLoopback / provide: the embargo or question ID. */
  get contextId(): number {
    return this._getUint32(0);
  }
}
export class DisembargoB extends StructBuilder {
  static readonly _dataWords = 1;
  static readonly _ptrCount = 1;
  initTarget(): MessageTargetB {
    return this._initStruct(0, MessageTargetB);
  }
  setSenderLoopback(id: number): void {
    this._setUint16(4, DisembargoWhich.senderLoopback);
    this._setUint32(0, id);
  }
  setReceiverLoopback(id: number): void {
    this._setUint16(4, DisembargoWhich.receiverLoopback);
    this._setUint32(0, id);
  }
  setContext(which: number, id: number): void {
    this._setUint16(4, which);
    this._setUint32(0, id);
  }
}

// ---- MessageTarget (8 bytes, 1 ptr) ----------------------------------------------------------

export class MessageTargetR extends StructReader {
  /** 0 = importedCap, 1 = promisedAnswer. */
  get which(): number {
    return this._getUint16(4);
  }
  get importedCap(): number {
    return this._getUint32(0);
  }
  get promisedAnswer(): PromisedAnswerR {
    return this._getStruct(0, PromisedAnswerR);
  }
}
export class MessageTargetB extends StructBuilder {
  static readonly _dataWords = 1;
  static readonly _ptrCount = 1;
  set importedCap(id: number) {
    this._setUint16(4, 0);
    this._setUint32(0, id);
  }
  initPromisedAnswer(): PromisedAnswerB {
    this._setUint16(4, 1);
    return this._initStruct(0, PromisedAnswerB);
  }
}

// ---- Payload (0 bytes, 2 ptrs) ---------------------------------------------------------------

export class PayloadR extends StructReader {
  get content(): AnyPointerReader {
    return this._getPointer(0);
  }
  get capTable(): StructList<CapDescriptorR> {
    return this._getList(1, CAP_DESCRIPTOR_LIST);
  }
  get hasCapTable(): boolean {
    return this._hasPointer(1);
  }
}
export class PayloadB extends StructBuilder {
  static readonly _dataWords = 0;
  static readonly _ptrCount = 2;
  get content(): AnyPointerBuilder {
    return this._getPointer(0);
  }
  initCapTable(n: number): StructListBuilder<CapDescriptorB> {
    return this._initList(1, CAP_DESCRIPTOR_LIST_B, n);
  }
}

// ---- CapDescriptor (8 bytes, 1 ptr) ----------------------------------------------------------

export const enum CapDescriptorWhich {
  none = 0,
  senderHosted = 1,
  senderPromise = 2,
  receiverHosted = 3,
  receiverAnswer = 4,
  thirdPartyHosted = 5,
}

export class CapDescriptorR extends StructReader {
  get which(): number {
    return this._getUint16(0);
  }
  /** senderHosted / senderPromise / receiverHosted. */
  get id(): number {
    return this._getUint32(4);
  }
  get receiverAnswer(): PromisedAnswerR {
    return this._getStruct(0, PromisedAnswerR);
  }
  /** thirdPartyHosted.vineId */
  get vineId(): number {
    return this._getStruct(0, ThirdPartyCapDescriptorR).vineId;
  }
  get attachedFd(): number {
    return this._getUint8(2, 255);
  }
}
export class ThirdPartyCapDescriptorR extends StructReader {
  get vineId(): number {
    return this._getUint32(0);
  }
}
export class CapDescriptorB extends StructBuilder {
  static readonly _dataWords = 1;
  static readonly _ptrCount = 1;
  setNone(): void {
    this._setUint16(0, CapDescriptorWhich.none);
  }
  setSenderHosted(id: number): void {
    this._setUint16(0, CapDescriptorWhich.senderHosted);
    this._setUint32(4, id);
  }
  setSenderPromise(id: number): void {
    this._setUint16(0, CapDescriptorWhich.senderPromise);
    this._setUint32(4, id);
  }
  setReceiverHosted(id: number): void {
    this._setUint16(0, CapDescriptorWhich.receiverHosted);
    this._setUint32(4, id);
  }
  initReceiverAnswer(): PromisedAnswerB {
    this._setUint16(0, CapDescriptorWhich.receiverAnswer);
    return this._initStruct(0, PromisedAnswerB);
  }
  set attachedFd(v: number) {
    this._setUint8(2, v, 255);
  }
}

const CAP_DESCRIPTOR_LIST = StructList.of(CapDescriptorR);
const CAP_DESCRIPTOR_LIST_B = StructListBuilder.of(CapDescriptorB);

// ---- PromisedAnswer (8 bytes, 1 ptr) ---------------------------------------------------------

export class PromisedAnswerOpR extends StructReader {
  /** 0 = noop, 1 = getPointerField. */
  get which(): number {
    return this._getUint16(0);
  }
  get getPointerField(): number {
    return this._getUint16(2);
  }
}
export class PromisedAnswerOpB extends StructBuilder {
  static readonly _dataWords = 1;
  static readonly _ptrCount = 0;
  setNoop(): void {
    this._setUint16(0, 0);
  }
  setGetPointerField(i: number): void {
    this._setUint16(0, 1);
    this._setUint16(2, i);
  }
}
const OP_LIST = StructList.of(PromisedAnswerOpR);
const OP_LIST_B = StructListBuilder.of(PromisedAnswerOpB);

export class PromisedAnswerR extends StructReader {
  get questionId(): number {
    return this._getUint32(0);
  }
  get transform(): StructList<PromisedAnswerOpR> {
    return this._getList(0, OP_LIST);
  }
}
export class PromisedAnswerB extends StructBuilder {
  static readonly _dataWords = 1;
  static readonly _ptrCount = 1;
  set questionId(v: number) {
    this._setUint32(0, v);
  }
  initTransform(n: number): StructListBuilder<PromisedAnswerOpB> {
    return this._initList(0, OP_LIST_B, n);
  }
}

// ---- Exception (8 bytes, 2 ptrs) -------------------------------------------------------------

export class ExceptionR extends StructReader {
  get reason(): string {
    return this._getText(0);
  }
  get type(): number {
    return this._getUint16(4);
  }
  get trace(): string {
    return this._getText(1);
  }
  get hasTrace(): boolean {
    return this._hasPointer(1);
  }
}
export class ExceptionB extends StructBuilder {
  static readonly _dataWords = 1;
  static readonly _ptrCount = 2;
  set reason(v: string) {
    this._setText(0, v);
  }
  set type(v: number) {
    this._setUint16(4, v);
  }
  set trace(v: string) {
    this._setText(1, v);
  }
}

// ---- rpc-twoparty.capnp VatId (8 bytes) ------------------------------------------------------

export const enum Side {
  server = 0,
  client = 1,
}
export class VatIdR extends StructReader {
  get side(): number {
    return this._getUint16(0);
  }
}
export class VatIdB extends StructBuilder {
  static readonly _dataWords = 1;
  static readonly _ptrCount = 0;
  set side(v: number) {
    this._setUint16(0, v);
  }
}
