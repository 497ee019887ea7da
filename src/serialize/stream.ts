/**
 * Incremental reader of framed messages from a byte stream (a socket, a pipe): push the chunks as
 * they arrive, take whole messages out as soon as they are complete.
 *
 * Like C++ `InputStreamMessageReader` (c++/src/capnp/serialize.c++) it checks the segment count
 * and the total size against the limits as soon as the segment table is in, so a peer claiming a
 * 4 GiB message is refused before anything is buffered for it.
 */

import { DEFAULT_TRAVERSAL_LIMIT_IN_WORDS } from "../wire/arena.js";
import { DecodeError } from "../wire/errors.js";
import { decodeFrame, type FrameOptions, MAX_HEADER_BYTES, scanHeader } from "./framing.js";

/** Compact the chunk queue once this many consumed entries sit at its front. */
const COMPACT_AT = 64;

/**
 * Collects stream chunks and yields whole messages (arrays of segments).
 *
 * Zero copy: when a message lies entirely within one pushed chunk, its segments are views into
 * that chunk. The caller must therefore not overwrite a pushed chunk's memory (e.g. reuse one read
 * buffer for the next read) while messages read from it are in use. A message spanning several
 * chunks is copied once, into a fresh buffer of exactly its size, when its last byte arrives.
 *
 * After any error (from `push`, `next` or `finish`) the reader is poisoned: every later call
 * throws the same error.
 */
export class FrameReader implements Iterable<Uint8Array[]> {
  private readonly options: FrameOptions;
  private readonly limit: number;
  /** Pending chunks; entries before `first` are consumed. */
  private chunks: Uint8Array[] = [];
  private first = 0;
  /** Bytes of chunks[first] already consumed. */
  private offset = 0;
  /** Unconsumed bytes across all pending chunks. */
  private buffered = 0;
  /** Byte length of the next message once its table is known; otherwise -1. */
  private expected = -1;
  /** Bytes that must be buffered before the segment table is worth parsing again. */
  private headerNeed = 8;
  private error: unknown = undefined;
  private failed = false;

  constructor(options: FrameOptions = {}) {
    this.options = options;
    this.limit = options.traversalLimitInWords ?? DEFAULT_TRAVERSAL_LIMIT_IN_WORDS;
  }

  /** Unconsumed bytes held (the start of a message not yet complete, or messages not yet taken). */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /**
   * Appends a chunk of the stream. Throws DecodeError ("too-large") if the segment table of the
   * message now being waited for breaks a limit.
   */
  push(chunk: Uint8Array): void {
    if (this.failed) throw this.error;
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    if (this.expected < 0 && this.buffered >= this.headerNeed) this.guard(this.readHeader);
  }

  /** The next complete message, or undefined if more bytes are needed. */
  next(): Uint8Array[] | undefined {
    if (this.failed) throw this.error;
    if (this.expected < 0) {
      if (this.buffered < this.headerNeed) return undefined;
      this.guard(this.readHeader);
      if (this.expected < 0) return undefined;
    }
    if (this.buffered < this.expected) return undefined;
    return this.guard(this.take);
  }

  /** Yields every message that is complete now (then stops; push more and iterate again). */
  *[Symbol.iterator](): Iterator<Uint8Array[]> {
    for (let m = this.next(); m !== undefined; m = this.next()) yield m;
  }

  /**
   * Declares the end of the stream: throws DecodeError "truncated" if part of a message is still
   * buffered (call after taking every complete message).
   */
  finish(): void {
    if (this.failed) throw this.error;
    if (this.buffered > 0) {
      const need = this.expected >= 0 ? this.expected : this.headerNeed;
      this.fail(
        new DecodeError(
          "truncated",
          `Stream ended in the middle of a message. (${this.buffered} of ${need} bytes)`,
        ),
      );
    }
  }

  private fail(e: unknown): never {
    this.failed = true;
    this.error = e;
    // Drop what we hold: a poisoned reader must not pin the caller's buffers.
    this.chunks = [];
    this.first = 0;
    this.offset = 0;
    this.buffered = 0;
    throw e;
  }

  /** Runs `step` and poisons the reader if it throws. (Called once per message, not per byte.) */
  private guard<T>(step: (this: FrameReader) => T): T {
    try {
      return step.call(this);
    } catch (e) {
      return this.fail(e);
    }
  }

  /** Parses the segment table of the next message, if enough of it is buffered. */
  private readHeader(): void {
    // At most two rounds: the first word gives the table size, the second round sees it whole.
    for (;;) {
      const need = this.headerNeed;
      const head = this.chunks[this.first]!;
      let src = head;
      let at = this.offset;
      // The table usually lies within the first chunk; otherwise copy what scanHeader will look
      // at (at most MAX_HEADER_BYTES). With `headerNeed` this copy happens at most twice per
      // message, however small the chunks.
      if (head.length - at < need) {
        src = this.gather(Math.min(this.buffered, MAX_HEADER_BYTES));
        at = 0;
      }
      const n = scanHeader(src, at, this.limit);
      if (n >= 0) {
        this.expected = n;
        return;
      }
      this.headerNeed = -n;
      if (this.buffered < this.headerNeed) return;
    }
  }

  /** Copies the next `size` buffered bytes (spanning chunks) into a fresh buffer; consumes none. */
  private gather(size: number): Uint8Array {
    const out = new Uint8Array(size);
    let filled = 0;
    let i = this.first;
    let at = this.offset;
    while (filled < size) {
      const c = this.chunks[i]!;
      const n = Math.min(c.length - at, size - filled);
      out.set(n === c.length ? c : c.subarray(at, at + n), filled);
      filled += n;
      i++;
      at = 0;
    }
    return out;
  }

  /** Removes the complete next message from the buffer and returns its segments. */
  private take(): Uint8Array[] {
    const size = this.expected;
    const head = this.chunks[this.first]!;
    let segments: Uint8Array[];
    if (head.length - this.offset >= size) {
      // Whole message inside one chunk: views, no copy.
      segments = decodeFrame(head, this.offset, this.options).segments;
      this.offset += size;
      if (this.offset === head.length) this.dropFirst();
    } else {
      // Spans chunks: one copy into a buffer of exactly its size.
      const out = new Uint8Array(size);
      let filled = 0;
      while (filled < size) {
        const c = this.chunks[this.first]!;
        const n = Math.min(c.length - this.offset, size - filled);
        out.set(this.offset === 0 && n === c.length ? c : c.subarray(this.offset, this.offset + n), filled);
        filled += n;
        this.offset += n;
        if (this.offset === c.length) this.dropFirst();
      }
      segments = decodeFrame(out, 0, this.options).segments;
    }
    this.buffered -= size;
    this.expected = -1;
    this.headerNeed = 8;
    return segments;
  }

  private dropFirst(): void {
    const chunks = this.chunks;
    // Release the reference so a consumed chunk can be collected before the queue compacts.
    chunks[this.first] = EMPTY;
    this.first++;
    this.offset = 0;
    if (this.first === chunks.length) {
      chunks.length = 0;
      this.first = 0;
    } else if (this.first >= COMPACT_AT && this.first * 2 >= chunks.length) {
      // Amortised O(1): shifting one entry at a time would be quadratic with many tiny chunks.
      chunks.splice(0, this.first);
      this.first = 0;
    }
  }
}

const EMPTY = new Uint8Array(0);
