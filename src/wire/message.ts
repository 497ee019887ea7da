/**
 * Messages: the entry points users start from (C++ `MessageReader` / `MessageBuilder`).
 */

import { AnyPointerBuilder, AnyPointerReader } from "./any-pointer.js";
import {
  BuilderArena,
  type BuilderOptions,
  ReaderArena,
  type ReaderOptions,
  UNLIMITED_NESTING,
} from "./arena.js";
import { DecodeError } from "./errors.js";
import { Orphan } from "./orphan.js";
import { A } from "./pointer.js";
import { readStruct, type StructCtor } from "./read.js";
import type { Segment } from "./segment.js";
import type { StructBuilderCtor, StructView } from "./struct.js";
import { copyStructInto, getWritableStruct, initStruct, W } from "./write.js";

/** A message read from segments (views of the caller's bytes; nothing is copied). */
export class MessageReader {
  readonly arena: ReaderArena;

  constructor(segments: readonly Uint8Array[], options?: ReaderOptions) {
    this.arena = new ReaderArena(segments, options);
  }

  getRoot<T>(ctor: StructCtor<T>): T {
    const a = this.arena;
    return readStruct(a, this.rootSegment(), 0, a.nestingLimit, ctor, undefined);
  }

  getRootAnyPointer(): AnyPointerReader {
    const a = this.arena;
    return new AnyPointerReader(a, this.rootSegment(), 0, a.nestingLimit);
  }

  private rootSegment(): Segment {
    const s = this.arena.segment(0);
    if (s.end < 8) throw new DecodeError("out-of-bounds", "Message did not contain a root pointer.");
    return s;
  }

  /** Capability table (filled by the RPC layer when a message carries capabilities). */
  get capTable(): unknown[] {
    return this.arena.capTable;
  }
  set capTable(table: unknown[]) {
    this.arena.capTable = table;
  }
}

export class MessageBuilder {
  readonly arena: BuilderArena;

  constructor(options?: BuilderOptions) {
    const a = new BuilderArena(options);
    a.allocate(1); // the root pointer: word 0 of segment 0
    this.arena = a;
  }

  private get rootSeg() {
    return this.arena.segments[0]!;
  }

  initRoot<T>(ctor: StructBuilderCtor<T>): T {
    const dw = ctor._dataWords;
    const pc = ctor._ptrCount;
    initStruct(this.arena, this.rootSeg, 0, dw, pc);
    return new ctor(this.arena, A.seg, A.off, dw * 8, A.off + dw * 8, pc, UNLIMITED_NESTING);
  }

  getRoot<T>(ctor: StructBuilderCtor<T>): T {
    getWritableStruct(this.arena, this.rootSeg, 0, ctor._dataWords, ctor._ptrCount, undefined);
    return new ctor(
      this.arena,
      W.seg,
      W.off,
      W.dataWords * 8,
      W.off + W.dataWords * 8,
      W.ptrCount,
      UNLIMITED_NESTING,
    );
  }

  /** Deep-copy `root` (a struct reader or builder of any message) as this message's root. */
  setRoot(root: StructView): void {
    copyStructInto(this.arena, this.rootSeg, 0, root);
  }

  getRootAnyPointer(): AnyPointerBuilder {
    return new AnyPointerBuilder(this.arena, this.rootSeg, 0);
  }

  /** Read this message back (no copy). */
  asReader(options?: ReaderOptions): MessageReader {
    const r = new MessageReader(this.getSegmentsForOutput(), options);
    r.capTable = this.arena.capTable;
    return r;
  }

  newOrphanStruct(dataWords: number, ptrCount: number): Orphan {
    return Orphan.newStruct(this.arena, dataWords, ptrCount);
  }

  /** Views of each segment's used words, ready for framing (C++ `getSegmentsForOutput`). */
  getSegmentsForOutput(): Uint8Array[] {
    return this.arena.segmentsForOutput();
  }

  get capTable(): unknown[] {
    return this.arena.capTable;
  }

  /** Words in use in all segments. */
  get sizeInWords(): number {
    let n = 0;
    for (const s of this.arena.segments) n += s.end >>> 3;
    return n;
  }
}
