/**
 * Cap'n Proto messages over a byte stream with the standard stream framing (C++
 * `AsyncIoMessageStream`, `AsyncCapabilityMessageStream` when the stream carries FDs): what a
 * `TwoPartyVatNetwork` given a `ByteStream` runs over.
 *
 * Outgoing messages are coalesced: everything sent in one turn goes out in one write (Finish,
 * Release and Return ride along with whatever else leaves that turn). Incoming messages are read
 * in place from the received chunks (segments are views, not copies).
 */

import { FrameReader, frameSize, headerSize, writeFrame, writeHeader } from "../serialize/index.js";
import {
  DEFAULT_NESTING_LIMIT,
  DEFAULT_TRAVERSAL_LIMIT_IN_WORDS,
  type MessageBuilder,
  MessageReader,
  type ReaderOptions,
} from "../wire/index.js";
import { Slab } from "../wire/slab.js";
import { RpcError } from "./errors.js";
import { closeFd, IncomingFdTracker, setIncomingFds, takeOutgoingFds } from "./fd.js";
import { type MessageStream, messageTooLarge, type TransportReceiver } from "./transport.js";

/** A bidirectional byte stream (a socket, a pipe, a WebSocket's bytes, an in-memory pipe). */
export interface ByteStream {
  /**
   * Begin reading: `onData` for each chunk (the stream must not reuse a chunk's memory once
   * handed over), then `onEnd` once — `null` at a clean end of stream, or the error.
   * A stream that carries file descriptors (a Unix socket, src/transport/fd-socket.ts) passes
   * the FDs received with a chunk as `fds`; the receiver owns them.
   * At a clean end, a stream that can stay half-open (a socket) ends its own side unless `onEnd`
   * returns true, which says the receiver will call `end()` itself (after a last message).
   */
  start(
    onData: (chunk: Uint8Array, fds?: readonly number[]) => void,
    onEnd: (error: Error | null) => void,
  ): void;
  /** Queue bytes for writing. A write error ends the stream (onEnd with the error). */
  write(data: Uint8Array): void;
  /**
   * Optional: queue several chunks as one write (a gathered write, writev). The chunks are
   * borrowed until written and must not change.
   */
  writev?(chunks: readonly Uint8Array[]): void;
  /**
   * FD-capable streams: write `data` in one send with `fds` attached (SCM_RIGHTS), so that they
   * arrive with its first byte (C++ `AsyncCapabilityStream::writeWithFds`). The FDs are borrowed.
   */
  writeWithFds?(data: Uint8Array, fds: readonly number[]): void;
  /** Flush, then end our side and release the stream. */
  end(): Promise<void>;
  /**
   * The bytes the kernel buffers for sending on this stream (SO_SNDBUF), if known. C++
   * TwoPartyVatNetwork::getWindow() uses it as the flow-control window of streaming calls.
   */
  sendBufferSize?(): number | undefined;
  /**
   * Bytes handed to write() that the kernel has not taken yet (Node: `writableLength`). The
   * queue metrics count them as queued, as C++ counts a message until its write completes.
   */
  writableBytes?(): number;
  /** Stop / resume reading (`onData` is not called while paused). */
  pause?(): void;
  resume?(): void;
  /**
   * Call `cb` each time the stream's write buffer has emptied after it filled (Node's 'drain'):
   * output the peer was slow to take has now gone to the kernel.
   */
  onDrain?(cb: () => void): void;
}

export interface ByteMessageStreamOptions {
  /** Reader limits for incoming messages; outgoing messages at or over the traversal limit are
   * refused (C++ TwoPartyNetwork.HugeMessage). A MessageStream has its own. */
  traversalLimitInWords?: number;
  nestingLimit?: number;
  /**
   * Flow-control window for streaming calls, in bytes. Default: the stream's `sendBufferSize()`
   * when it has one (C++ TwoPartyVatNetwork::getWindow() reads the socket's SO_SNDBUF), else
   * 64 KiB (C++ RpcFlowController::DEFAULT_WINDOW_SIZE).
   */
  streamWindow?: number;
  /**
   * FDs accepted per incoming message on an FD-capable stream (C++ `maxFdsPerMessage`, a DoS
   * guard; default 0: every FD received is closed). Extra FDs are closed; a capability whose
   * `attachedFd` points past the kept ones arrives without its FD. Outgoing FDs are not limited.
   */
  maxFdsPerMessage?: number;
  /**
   * Monotonic clock in milliseconds for `getOutgoingMessageWaitTime()` (C++ passes a
   * `kj::MonotonicClock`); default `performance.now`. Tests inject one they advance by hand.
   */
  clock?: () => number;
}

/**
 * Buffers for outgoing writes. A fresh small Uint8Array per write costs more than the copy into
 * it (an ArrayBuffer allocation, external-memory accounting, GC pressure: 10% of a sequential
 * call's CPU), so writes of up to OUT_CARVE_MAX bytes are carved from a shared slab. The slab
 * only moves forward and a new one replaces it when it runs out, so no byte is handed out twice:
 * a write the socket still holds is never overwritten.
 */
const OUT_CARVE_MAX = 8 * 1024;
const outSlab = /* @__PURE__ */ new Slab(64 * 1024, OUT_CARVE_MAX);
function outputBuffer(bytes: number): Uint8Array {
  return outSlab.take(bytes);
}

/**
 * Segments of at least this many bytes go to the stream as they are, in a gathered write, instead
 * of being copied into the write buffer (a 64 KiB streaming call was copied twice: into its
 * message, then into the frame). The segments stay untouched: a sent message is never modified.
 */
const GATHER_MIN_SEGMENT = 16 * 1024;

/**
 * The chunks of one gathered write of `messages`: big segments as views, everything between them
 * (tables, small messages and small segments) copied into buffers from outputBuffer().
 */
function gatherFrames(messages: readonly Uint8Array[][]): Uint8Array[] {
  // Pass 1: the sizes of the copied runs between big segments.
  const runs: number[] = [];
  let run = 0;
  for (const segs of messages) {
    run += headerSize(segs.length);
    for (const seg of segs) {
      if (seg.length >= GATHER_MIN_SEGMENT) {
        runs.push(run);
        run = 0;
      } else run += seg.length;
    }
  }
  runs.push(run);
  // Pass 2: fill the runs, big segments in between as they are.
  const chunks: Uint8Array[] = [];
  let r = 0;
  let buf = outputBuffer(runs[0]!);
  let o = 0;
  for (const segs of messages) {
    o = writeHeader(segs, buf, o);
    for (const seg of segs) {
      if (seg.length >= GATHER_MIN_SEGMENT) {
        if (o > 0) chunks.push(buf);
        chunks.push(seg);
        buf = outputBuffer(runs[++r]!);
        o = 0;
      } else {
        buf.set(seg, o);
        o += seg.length;
      }
    }
  }
  if (o > 0) chunks.push(buf);
  return chunks;
}

/**
 * How a flush holding streaming calls back waits for the next ones (see `send`): it looks again
 * in a later microtask as long as calls keep coming, and writes once QUIET_HOPS microtasks in a
 * row brought none (an `await` of a settled promise takes up to three), after MAX_HOPS at most,
 * or at once when FLUSH_BYTES are queued.
 */
const QUIET_HOPS = 4;
const MAX_HOPS = 256;
const FLUSH_BYTES = 64 * 1024;

/** C++ `AsyncIoMessageStream`: framed messages over a `ByteStream`. */
export class ByteStreamMessageStream implements MessageStream {
  private readonly fixedWindow: number | undefined;
  private readonly stream: ByteStream;
  private readonly frames: FrameReader;
  private readonly limitWords: number;
  /** Every received message's limits: one object, not one per message. */
  private readonly readerOptions: ReaderOptions;
  private receiver: TransportReceiver | null = null;
  private out: Uint8Array[][] = [];
  private outBytes = 0;
  private flushScheduled = false;
  /** A message other than a streaming call is queued: the flush does not wait. */
  private urgent = false;
  /** The waiting flush's microtask hops so far, how many in a row brought nothing, the queue length seen. */
  private hops = 0;
  private quietHops = 0;
  private seenQueued = 0;
  /** FDs to send with queued messages (index into `out`); null when none. */
  private outFds: Map<number, readonly number[]> | null = null;
  /** Matches received FDs to messages; null when the stream cannot carry FDs. */
  private readonly fdTracker: IncomingFdTracker | null;
  private readonly clock: () => number;
  /** When the oldest message still queued was sent (C++ currentOutgoingMessageSendTime). */
  private oldestSendTime = 0;
  /** Bytes handed to the stream so far. */
  private handedBytes = 0;
  /**
   * Messages handed to the stream that it still held right after the write (recorded only then:
   * with the kernel keeping up, nothing is): where each ends in `handedBytes`, and when its batch
   * started queueing. Entries before `heldHead` have gone to the kernel.
   */
  private heldEnds: number[] = [];
  private heldTimes: number[] = [];
  private heldHead = 0;
  private ended = false;
  /**
   * The receiver asked us to stop reading: complete frames stay in `frames` as bytes (no reader
   * is made for them) until it resumes, and the stream is paused.
   */
  private paused = false;

  constructor(stream: ByteStream, options: ByteMessageStreamOptions = {}) {
    this.stream = stream;
    this.limitWords = options.traversalLimitInWords ?? DEFAULT_TRAVERSAL_LIMIT_IN_WORDS;
    this.readerOptions = {
      traversalLimitInWords: this.limitWords,
      nestingLimit: options.nestingLimit ?? DEFAULT_NESTING_LIMIT,
    };
    this.fixedWindow = options.streamWindow;
    this.fdTracker =
      stream.writeWithFds !== undefined || options.maxFdsPerMessage !== undefined
        ? new IncomingFdTracker(options.maxFdsPerMessage ?? 0)
        : null;
    this.clock = options.clock ?? (() => performance.now());
    this.frames = new FrameReader({ traversalLimitInWords: this.limitWords });
  }

  /**
   * The window of streaming calls, asked again for every send like C++'s variable window
   * controller (the kernel's buffer may grow while the connection runs).
   */
  get streamWindow(): number | undefined {
    return this.fixedWindow ?? this.stream.sendBufferSize?.();
  }

  /**
   * C++ `getCurrentQueueSize()`: bytes of outgoing messages not yet taken by the kernel: queued
   * here for the next write, or written to a stream that still holds them (a socket whose peer
   * reads slower than we write). Framing included; always a multiple of 8. Useful for
   * backpressure. C++ counts a message until its write completes, which is the same point.
   */
  getCurrentQueueSize(): number {
    return this.outBytes + this.pruneHeld();
  }

  /** C++ `getCurrentQueueCount()`: outgoing messages not yet taken by the kernel. */
  getCurrentQueueCount(): number {
    this.pruneHeld();
    return this.out.length + this.heldEnds.length - this.heldHead;
  }

  /**
   * C++ `getOutgoingMessageWaitTime()`: how long (milliseconds of the clock) the oldest queued
   * message has waited; 0 when nothing is queued. The time is taken when a message enters an
   * empty queue, so a send after an idle period never reports the idle time (the 1.x fix); a
   * message the stream still holds counts from when its batch started queueing.
   */
  getOutgoingMessageWaitTime(): number {
    this.pruneHeld();
    if (this.heldHead < this.heldEnds.length) return this.clock() - this.heldTimes[this.heldHead]!;
    return this.out.length > 0 ? this.clock() - this.oldestSendTime : 0;
  }

  /** Drops the held messages the kernel has taken since; returns the bytes the stream holds. */
  private pruneHeld(): number {
    const pending = this.stream.writableBytes?.() ?? 0;
    const ends = this.heldEnds;
    if (this.heldHead === ends.length) return pending;
    const taken = this.handedBytes - pending;
    let h = this.heldHead;
    while (h < ends.length && ends[h]! <= taken) h++;
    if (h === ends.length) {
      this.heldEnds = [];
      this.heldTimes = [];
      h = 0;
    }
    this.heldHead = h;
    return pending;
  }

  /**
   * After `out` (queued since `since`) went to the stream: count the bytes, and if the stream
   * could not pass them all to the kernel at once, remember where each message ends.
   */
  private handed(out: readonly Uint8Array[][], bytes: number, since: number): void {
    const start = this.handedBytes;
    this.handedBytes = start + bytes;
    const pending = this.stream.writableBytes?.() ?? 0;
    if (pending === 0) return;
    let end = start;
    for (const segs of out) {
      end += frameSize(segs);
      this.heldEnds.push(end);
      this.heldTimes.push(since);
    }
  }

  send(message: MessageBuilder, streaming = false): void {
    if (this.ended) throw RpcError.disconnected("Connection is closed.");
    const segs = message.getSegmentsForOutput();
    let words = 0;
    for (const s of segs) words += s.byteLength >>> 3;
    if (words >= this.limitWords) throw RpcError.failed(messageTooLarge(words, this.limitWords).message);
    if (this.out.length === 0) this.oldestSendTime = this.clock();
    this.out.push(segs);
    this.outBytes += frameSize(segs);
    const fds = takeOutgoingFds(message);
    if (fds !== null && this.stream.writeWithFds !== undefined) {
      (this.outFds ??= new Map()).set(this.out.length - 1, fds);
    }
    if (!streaming) this.urgent = true;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      this.hops = 0;
      this.quietHops = 0;
      this.seenQueued = this.out.length;
      queueMicrotask(this.flushSoon);
    }
  }

  /**
   * Writes what is queued once the current microtasks are done: a call, or all the calls and
   * Returns one turn makes, leave at once. Streaming calls alone wait a little longer, while
   * more keep coming: a loop awaiting each streaming write (a settled promise while the window
   * is open) then fills one write up to its window instead of making one write per call. C++ 1.x
   * batches every message sent before its event loop runs out of work (evalLast,
   * rpc-twoparty.c++ OutgoingMessageImpl::send); in JS the sender's continuations are the
   * host's microtasks, which our run queue does not see, hence the hops. Other messages keep
   * their timing. 1 KiB stream writes over TCP, TS to TS: 53 -> 113 MB/s (BENCHMARKS.md,
   * issue 17).
   */
  private readonly flushSoon = (): void => {
    if (!this.flushScheduled) return;
    if (!this.urgent) {
      const n = this.out.length;
      if (n !== this.seenQueued) {
        this.seenQueued = n;
        this.quietHops = 0;
      } else this.quietHops++;
      if (this.quietHops < QUIET_HOPS && ++this.hops < MAX_HOPS && this.outBytes < FLUSH_BYTES) {
        queueMicrotask(this.flushSoon);
        return;
      }
    }
    this.flush();
  };

  private readonly flush = (): void => {
    this.flushScheduled = false;
    this.urgent = false;
    const n = this.outBytes;
    if (n === 0) return;
    if (this.outFds !== null) {
      this.flushWithFds(n);
      return;
    }
    const out = this.out;
    const since = this.oldestSendTime;
    this.out = [];
    this.outBytes = 0;
    try {
      if (n > OUT_CARVE_MAX && this.stream.writev !== undefined) {
        this.stream.writev(gatherFrames(out));
      } else {
        const buf = outputBuffer(n);
        let off = 0;
        for (const segs of out) off = writeFrame(segs, buf, off);
        this.stream.write(buf);
      }
      this.handed(out, n, since);
    } catch (e) {
      this.onEnd(e instanceof Error ? e : new Error(String(e)));
      return;
    }
    this.receiver?.drained?.();
  };

  /** Like flush, but each message with FDs goes out alone, in one write carrying its FDs. */
  private flushWithFds(n: number): void {
    const out = this.out;
    const since = this.oldestSendTime;
    const fdsAt = this.outFds!;
    this.out = [];
    this.outBytes = 0;
    this.outFds = null;
    const writeRange = (from: number, to: number): void => {
      let size = 0;
      for (let i = from; i < to; i++) size += frameSize(out[i]!);
      if (size === 0) return;
      const buf = new Uint8Array(size);
      let off = 0;
      for (let i = from; i < to; i++) off = writeFrame(out[i]!, buf, off);
      this.stream.write(buf);
    };
    try {
      let from = 0;
      for (let i = 0; i < out.length; i++) {
        const fds = fdsAt.get(i);
        if (fds === undefined) continue;
        writeRange(from, i);
        const buf = new Uint8Array(frameSize(out[i]!));
        writeFrame(out[i]!, buf, 0);
        this.stream.writeWithFds!(buf, fds);
        from = i + 1;
      }
      writeRange(from, out.length);
      this.handed(out, n, since);
    } catch (e) {
      this.onEnd(e instanceof Error ? e : new Error(String(e)));
      return;
    }
    this.receiver?.drained?.();
  }

  start(receiver: TransportReceiver): void {
    this.receiver = receiver;
    this.stream.onDrain?.(() => this.receiver?.drained?.());
    this.stream.start(
      (chunk, fds) => this.onData(chunk, fds),
      // We end our side ourselves, after the Abort saying why (connection.disconnect()).
      (err) => {
        this.streamEnded(err);
        return true;
      },
    );
  }

  private onData(chunk: Uint8Array, fds?: readonly number[]): void {
    const r = this.receiver;
    const tracker = this.fdTracker;
    if (r === null || this.ended) {
      if (fds !== undefined) for (const fd of fds) closeFd(fd);
      return;
    }
    if (tracker !== null) tracker.chunk(chunk.byteLength, fds);
    else if (fds !== undefined) for (const fd of fds) closeFd(fd);
    try {
      this.frames.push(chunk);
    } catch (e) {
      // Malformed framing: the connection ends (and sends an Abort saying why).
      this.onEnd(e instanceof Error ? e : new Error(String(e)));
      return;
    }
    this.deliverFrames();
  }

  /** Hand the complete frames received to the receiver, until it pauses us. */
  private deliverFrames(): void {
    const r = this.receiver;
    const tracker = this.fdTracker;
    if (r === null) return;
    try {
      while (!this.paused && !this.endReported) {
        const segs = this.frames.next();
        if (segs === undefined) break;
        const m = new MessageReader(segs, this.readerOptions);
        if (tracker !== null) {
          const got = tracker.frame(frameSize(segs));
          if (got !== null) setIncomingFds(m, got);
        }
        r.message(m);
      }
    } catch (e) {
      // Malformed framing: the connection ends (and sends an Abort saying why).
      this.onEnd(e instanceof Error ? e : new Error(String(e)));
    }
  }

  /**
   * The stream ended. Frames held while paused are the peer's last messages and are handed over
   * (the connection drops the calls among them unhandled). A partial frame left over is the
   * peer's fault, reported as C++ does (kj AsyncMessageReader: "Premature EOF." inside the first
   * word, else kj's "stream disconnected prematurely"), and the Abort we send says so.
   */
  private streamEnded(err: Error | null): void {
    if (this.endReported) return;
    this.paused = false;
    this.deliverFrames();
    if (this.endReported) return;
    if (err === null) {
      const partial = this.frames.bufferedBytes;
      if (partial > 0) {
        err = RpcError.disconnected(partial < 8 ? "Premature EOF." : "stream disconnected prematurely");
      }
    }
    this.onEnd(err);
  }

  private endReported = false;
  private onEnd(err: Error | null): void {
    if (this.endReported) return;
    this.endReported = true;
    this.fdTracker?.dispose();
    this.receiver?.closed(
      err === null
        ? null
        : err instanceof RpcError
          ? err
          : new RpcError("disconnected", err.message, { cause: err }),
    );
  }

  pauseReading(): void {
    if (this.paused) return;
    this.paused = true;
    this.stream.pause?.();
  }
  resumeReading(): void {
    if (!this.paused) return;
    this.paused = false;
    this.stream.resume?.();
    if (!this.endReported) this.deliverFrames();
  }

  async shutdown(): Promise<void> {
    if (this.ended) return;
    this.flush();
    this.ended = true;
    try {
      await this.stream.end();
    } catch {
      // The peer may already be gone.
    }
  }
}
