/**
 * Arenas: the set of segments a message lives in, plus per-message state that readers and
 * builders share (read limits, the capability table). Mirrors C++ `capnp/arena.h`.
 */

import { allocUnsafe } from "#platform";
import { DecodeError, EncodeError } from "./errors.js";
import type { AllocUnsafe } from "./platform-browser.js";
import { Segment } from "./segment.js";

/** C++ `ReaderOptions`: limits that make hostile messages fail fast. */
export interface ReaderOptions {
  /** Words that may be read in all; counts every struct/list visited (default 8 Mi words). */
  traversalLimitInWords?: number;
  /** Pointer nesting depth (default 64). */
  nestingLimit?: number;
}

export const DEFAULT_TRAVERSAL_LIMIT_IN_WORDS = 8 * 1024 * 1024;
export const DEFAULT_NESTING_LIMIT = 64;
/**
 * "No nesting limit" for builders and readers over builders. 2^30-1 rather than 2^31-1 so that
 * it is a Smi under V8's pointer compression (31-bit Smis): a non-Smi would turn the `_nesting`
 * field of every reader class into a boxed double.
 */
export const UNLIMITED_NESTING = 0x3fffffff;

/** What readers need from any arena (builders' arenas are readable too). */
export interface Arena {
  /** The segment with this id; throws DecodeError when there is none. */
  segment(id: number): Segment;
  /** Charge `words` against the traversal limit (no-op for builders). */
  readLimit(words: number): void;
  /** Capability table: indexes in capability pointers refer to it (RPC fills it with clients). */
  capTable: unknown[];
  readonly nestingLimit: number;
  /**
   * Set by the RPC layer on a message whose capabilities belong to whoever reads them: a
   * response or a call's params, which nothing writes any more. A capability getter then moves
   * the table's reference to the first reader instead of taking another (capability.ts
   * `getClient`), so closing what you read releases the capability.
   */
  capsMovable?: boolean;
}

export class ReaderArena implements Arena {
  /**
   * The caller's segments, each wrapped in a Segment (and its DataView) only when first reached:
   * a message may declare up to 511 segments, and building all of them up front made such a
   * message 26x slower to handle than in C++, which also reads segments on demand.
   */
  private readonly raw: readonly Uint8Array[];
  private readonly built: (Segment | undefined)[];
  readonly nestingLimit: number;
  capTable: unknown[] = [];
  capsMovable = false;
  private budget: number;

  constructor(segments: readonly Uint8Array[], options?: ReaderOptions) {
    if (segments.length === 0) throw new DecodeError("bad-framing", "Message has no segments.");
    this.raw = segments;
    this.built = new Array<Segment | undefined>(segments.length);
    this.budget = options?.traversalLimitInWords ?? DEFAULT_TRAVERSAL_LIMIT_IN_WORDS;
    this.nestingLimit = options?.nestingLimit ?? DEFAULT_NESTING_LIMIT;
  }

  /** Every segment (builds those not reached yet). */
  get segments(): Segment[] {
    const out = new Array<Segment>(this.raw.length);
    for (let i = 0; i < out.length; i++) out[i] = this.segment(i);
    return out;
  }

  /** Number of segments. */
  get segmentCount(): number {
    return this.raw.length;
  }

  /** Words in all segments (trailing partial words not counted), without building them. */
  get sizeInWords(): number {
    let n = 0;
    for (const s of this.raw) n += s.byteLength >>> 3;
    return n;
  }

  segment(id: number): Segment {
    const s = this.built[id];
    if (s !== undefined) return s;
    const bytes = this.raw[id];
    if (bytes === undefined) {
      throw new DecodeError("out-of-bounds", `Message contains far pointer to unknown segment ${id}.`);
    }
    // A segment is a whole number of words; trailing partial words cannot be addressed.
    const seg = new Segment(id, bytes, bytes.byteLength & ~7);
    this.built[id] = seg;
    return seg;
  }

  readLimit(words: number): void {
    this.budget -= words;
    if (this.budget < 0) {
      throw new DecodeError(
        "traversal-limit",
        "Exceeded message traversal limit. See capnp::ReaderOptions.traversalLimitInWords.",
      );
    }
  }

  /** Words left before the traversal limit trips. */
  get remainingTraversalWords(): number {
    return this.budget;
  }
}

/**
 * Segments of up to 1024 words are carved out of a shared slab (msgpackr's trick): a fresh
 * ArrayBuffer costs ~3 us whatever its size. Carved bytes are never handed out twice (the slab
 * only moves forward; a new one is allocated when it runs out), so a message keeps its slab
 * alive and nothing else writes to its bytes.
 *
 * On Node the slab is uninitialised memory (`Buffer.allocUnsafeSlow`, from platform-node.ts) and
 * segments zero it ahead of their allocations (`Segment.reserve`): zero-filling whole first
 * segments was 14% of eval bytes mode (memset and page faults for 8 KiB per message that uses
 * ~1.4 KiB). Bytes past a segment's watermark are never read or handed out. Elsewhere (and in
 * browser bundles) the slab is zero-filled.
 *
 * 256 KiB: a 16 KiB slab looked better in a process running capnts alone (fewer page faults
 * under perf), but in the benchmark's processes, where other libraries allocate too, 256 KiB
 * measured up to 2x faster on eval packed and better on eval bytes and object mode.
 *
 * The last segment carved (the slab's tail) gives back what it has not zeroed when the next one
 * is carved: its capacity shrinks to its zeroed watermark, which is at least what its message
 * has allocated. A message that then grows continues in a new segment, as when a segment is
 * full. Without this every message took its whole first segment (8 KiB by default) from the
 * slab however little it used, and so touched fresh memory, new slabs and page faults, 3-6x as
 * often as it needed to.
 */
const SLAB_BYTES = 256 * 1024;
const SLAB_CARVE_MAX_WORDS = 1024;
let slab: ArrayBuffer | null = null;
let slabPos = 0;
let slabEnd = 0;
let slabPoison = -1;
/**
 * @internal Test hook: new slabs are filled with `byte` (tests poison them to catch a builder relying on
 * memory it did not zero), or left as allocated for -1. Starts a new slab.
 */
export function setSlabPoisonForTesting(byte: number): void {
  slabPoison = byte;
  slab = null;
  tail = null;
}
/** The segment carved last, while nothing has been carved after it (see `trimTail`). */
let tail: Segment | null = null;
/** Offset of `tail`'s bytes in the slab. */
let tailPos = 0;

/**
 * Give the slab back the bytes past the tail segment's zeroed watermark (uninitialised memory
 * never handed out): the next carve starts there.
 */
function trimTail(): void {
  const t = tail;
  if (t === null) return;
  tail = null;
  const keep = t.zeroed; // a multiple of 8: allocations are words, zeroing chunks too
  if (keep >= t.capacity || t.bytes.buffer !== slab) return;
  t.capacity = keep;
  slabPos = tailPos + keep;
}

function carve(bytes: number): Uint8Array {
  trimTail();
  if (slab === null || slabPos + bytes > slabEnd) {
    // One call per branch, tested through the import: esbuild folds that where `#platform` makes
    // allocUnsafe `undefined` (browser bundles) and drops the other function.
    if (allocUnsafe) newUninitialisedSlab(allocUnsafe);
    else newZeroedSlab();
  }
  const b = new Uint8Array(slab!, slabPos, bytes);
  slabPos += bytes;
  return b;
}

/** Node: uninitialised memory, viewed through plain Uint8Arrays (not Buffers), so that segments'
 * `bytes` keep one map. */
function newUninitialisedSlab(alloc: AllocUnsafe): void {
  const b = alloc(SLAB_BYTES);
  if (slabPoison >= 0) b.fill(slabPoison);
  slab = b.buffer as ArrayBuffer;
  slabPos = b.byteOffset;
  slabEnd = b.byteOffset + b.byteLength;
}

function newZeroedSlab(): void {
  slab = new ArrayBuffer(SLAB_BYTES);
  slabPos = 0;
  slabEnd = SLAB_BYTES;
}

/** A segment carved from uninitialised memory: it zeroes ahead of its allocations, and is the
 * slab's tail until the next carve (`trimTail`). */
function carvedUninitialised(seg: Segment): void {
  seg.zeroed = 0;
  tail = seg;
  tailPos = slabPos - seg.bytes.byteLength;
}

/** C++ `SUGGESTED_FIRST_SEGMENT_WORDS`. */
export const DEFAULT_FIRST_SEGMENT_WORDS = 1024;
/** Largest segment the format can address (2^29 words). */
export const MAX_SEGMENT_WORDS = (1 << 29) - 1;

export interface BuilderOptions {
  /** Size of the first segment in words (C++ `firstSegmentWords`). */
  firstSegmentWords?: number;
}

/**
 * Builder arena. Allocation tries the most recent segment; when it is full a new segment is
 * started whose size is at least the request and at least the total allocated so far, like
 * C++ `MallocMessageBuilder` with `GROW_HEURISTICALLY`. Sizes are in words; buffers are zeroed.
 */
export class BuilderArena implements Arena {
  /** Replaced by a one-element literal at the first segment: pushing onto `[]` would give the
   * array room for 16 (~150 bytes of heap per message, most of them never used). */
  segments: Segment[] = [];
  capTable: unknown[] = [];
  capsMovable = false;
  readonly nestingLimit = UNLIMITED_NESTING;
  private nextSizeWords: number;
  private totalWords = 0;

  /** Results of the last allocate(): where the words are (scratch, to avoid an object per call). */
  allocSeg!: Segment;
  allocOff = 0;

  constructor(options?: BuilderOptions) {
    this.nextSizeWords = Math.max(1, options?.firstSegmentWords ?? DEFAULT_FIRST_SEGMENT_WORDS);
  }

  segment(id: number): Segment {
    const s = this.segments[id];
    if (s === undefined) throw new DecodeError("out-of-bounds", `No segment ${id} in this message.`);
    return s;
  }

  readLimit(_words: number): void {}

  /** Allocate `words` zeroed words, preferably in `preferred`. Result in allocSeg/allocOff. */
  allocate(words: number, preferred?: Segment): void {
    const bytes = words * 8;
    if (preferred !== undefined && preferred.available() >= bytes) {
      this.allocSeg = preferred;
      this.allocOff = preferred.end;
      preferred.end += bytes;
      preferred.reserve(preferred.end);
      return;
    }
    const last = this.segments[this.segments.length - 1];
    if (last !== undefined && last !== preferred && last.available() >= bytes) {
      this.allocSeg = last;
      this.allocOff = last.end;
      last.end += bytes;
      last.reserve(last.end);
      return;
    }
    const seg = this.newSegment(words);
    this.allocSeg = seg;
    this.allocOff = 0;
    seg.end = bytes;
    seg.reserve(bytes);
  }

  private newSegment(minWords: number): Segment {
    if (minWords > MAX_SEGMENT_WORDS) {
      throw new EncodeError(`Allocation of ${minWords} words exceeds the maximum segment size.`);
    }
    const size = Math.min(MAX_SEGMENT_WORDS, Math.max(minWords, this.nextSizeWords));
    const carved = size <= SLAB_CARVE_MAX_WORDS;
    const bytes = carved ? carve(size * 8) : new Uint8Array(size * 8);
    const seg = new Segment(this.segments.length, bytes, 0);
    if (allocUnsafe && carved) carvedUninitialised(seg);
    if (this.segments.length === 0) this.segments = [seg];
    else this.segments.push(seg);
    this.totalWords += size;
    this.nextSizeWords = Math.max(this.nextSizeWords, this.totalWords);
    return seg;
  }

  /** Views of the used part of every segment, ready for framing. */
  segmentsForOutput(): Uint8Array[] {
    const out = new Array<Uint8Array>(this.segments.length);
    for (let i = 0; i < this.segments.length; i++) {
      const s = this.segments[i]!;
      out[i] = s.bytes.subarray(0, s.end);
    }
    return out;
  }
}

/**
 * @internal The message of `arena` is complete (it was sent): if its last segment is still the
 * slab's tail, the slab takes back every byte past what the message used (`trimTail` keeps the
 * zeroed watermark, at least 256 bytes, for a message still being built). A message kept after
 * sending, like an answer's Return awaiting its Finish, then pins about its own size of the slab.
 * Allocating in the message later still works: it starts a new segment. A function, not a
 * method, so that programs which never send RPC messages leave it out of their bundles.
 */
export function trimToUsed(arena: BuilderArena): void {
  const t = tail;
  if (t === null || arena.segments[arena.segments.length - 1] !== t) return;
  tail = null;
  if (t.bytes.buffer !== slab) return;
  const keep = t.end;
  t.capacity = keep;
  if (t.zeroed > keep) t.zeroed = keep;
  slabPos = tailPos + keep;
}
