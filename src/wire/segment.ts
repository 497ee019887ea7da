/**
 * One segment of a message: a view over word-aligned bytes. Readers keep the caller's bytes
 * (no copy); builders own a buffer with spare capacity and track how much is in use.
 */

/**
 * Bytes zeroed ahead of a builder's first allocations (see `Segment.zeroed`); after that each
 * step zeroes as much again as is zeroed already, so a large message still makes few `fill`
 * calls. Small, because the slab's tail segment is trimmed to its zeroed watermark when the next
 * message is carved (arena.ts): a small message that outlives that moment (an answer's Return
 * awaiting its Finish, built while other calls run) then pins 256 bytes of the slab, not 1 KiB.
 */
const ZERO_AHEAD = 256;

export class Segment {
  declare readonly id: number;
  /**
   * The bytes of the segment (a builder's buffer may be longer than `end`; past `zeroed` it may
   * be uninitialised memory, and past `capacity` it may be another message's, so only
   * `[0, end)` is ever handed out).
   */
  declare bytes: Uint8Array;
  /** One cached DataView per segment: every field read goes through it. */
  declare view: DataView;
  /** Bytes in use: for readers the segment's length, for builders the allocation mark. */
  declare end: number;
  /**
   * Bytes [0, zeroed) are known to be zero or written; builders' allocations must stay below it
   * (`reserve`). Builder segments carved from uninitialised memory start at 0 and are zeroed
   * ahead of allocation, in chunks, so a message pays for zeroing only the bytes it uses
   * instead of its whole first segment (8 KiB by default). Otherwise the whole buffer.
   */
  declare zeroed: number;
  /**
   * Bytes the segment may allocate up to: `bytes.byteLength`, kept as a plain number (read on
   * every allocation, and a typed array's byteLength getter is a call where `bytes` has seen more
   * than one kind of array), or less once the slab has taken back the segment's unused tail
   * (arena.ts `trimTail`, `trimToUsed`). Those keep `bytes` as it is rather than narrowing it with
   * a `subarray`: a view of ~100 bytes of heap per message sent, for nothing that reads it.
   */
  declare capacity: number;

  constructor(id: number, bytes: Uint8Array, end: number) {
    this.id = id;
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.end = end;
    this.zeroed = bytes.byteLength;
    this.capacity = bytes.byteLength;
  }

  /** Free capacity, in bytes, at the end of a builder segment. */
  available(): number {
    return this.capacity - this.end;
  }

  /** Make sure bytes up to `end` (at most the capacity) are zero or written. */
  reserve(end: number): void {
    if (end > this.zeroed) this.zeroAhead(end);
  }

  /** Zero from the watermark to `end` and a chunk beyond, within the capacity. */
  zeroAhead(end: number): void {
    const zeroed = this.zeroed;
    const z = Math.min(this.capacity, Math.max(end, zeroed + (zeroed > ZERO_AHEAD ? zeroed : ZERO_AHEAD)));
    this.bytes.fill(0, this.zeroed, z);
    this.zeroed = z;
  }
}
