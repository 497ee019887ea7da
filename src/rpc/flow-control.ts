/**
 * Client-side flow control for streaming calls (`-> stream`), after C++ rpc.h `RpcFlowController`
 * and its implementations in rpc.c++. A call is sent at once ("REQUIRED to maintain correct
 * ordering"); only the promise of the next send waits while too many bytes of unacknowledged calls
 * are in flight. The window is widened by the largest message seen, so one message bigger than
 * the window cannot stall. After a streaming call fails, every later send fails with that error.
 *
 * - {@link WindowFlowController} (C++ `newFixedWindowController` / `newVariableWindowController`):
 *   a fixed window, or one read again for every send (the two-party network's socket buffer).
 * - {@link AdaptiveFlowController} (C++ `newAdaptiveController`): the window follows the
 *   bandwidth-delay product measured from send and ack times, BBR-like.
 */
import type { RpcError } from "./errors.js";
import { Future } from "./future.js";

/** C++ RpcFlowController::DEFAULT_WINDOW_SIZE. */
export const DEFAULT_WINDOW_SIZE = 65536;

/** What a send returns: when the next send may go, and the call's acknowledgement. */
export interface FlowSend {
  /** Settles when it is a good time to send the next message (rejects once a call failed). */
  ready: Future<void>;
  /** Call when the call returns (with its error if it failed). Idempotent. */
  ack: (error?: RpcError) => void;
}

/** C++ `RpcFlowController`: tracks one capability's stream of streaming calls. */
export interface RpcFlowController {
  /** A message of `size` bytes was just sent (C++ `send(message, ack)`, which sends it). */
  sent(size: number): FlowSend;
  /**
   * C++'s destructor: the controller is dropped (its capability is gone). Blocked senders are
   * fulfilled, not rejected: a settled send only means "a good time to send the next message";
   * the caller's next send fails with the connection's own error.
   */
  destroy(): void;
}

/**
 * C++ `WindowFlowController`: a window given by `getWindow()`, read again as needed. The adaptive
 * controller extends it with its own window and what it measures at each send and ack.
 */
export class WindowFlowController implements RpcFlowController {
  protected inFlight = 0;
  protected maxMessageSize = 0;
  private blocked: Future<void>[] = [];
  private failed: RpcError | null = null;
  private readonly getWindow: () => number;

  constructor(getWindow: () => number = () => DEFAULT_WINDOW_SIZE) {
    this.getWindow = getWindow;
  }

  protected isReady(): boolean {
    return this.getWindow() + this.maxMessageSize > this.inFlight;
  }
  /** After the bytes of a send are counted; returns what `onAck` gets back. */
  protected onSend(): unknown {
    return null;
  }
  /** A send was acknowledged (its bytes no longer counted), before blocked senders are looked at. */
  protected onAck(_size: number, _snapshot: unknown): void {}

  sent(size: number): FlowSend {
    if (size > this.maxMessageSize) this.maxMessageSize = size;
    this.inFlight += size;
    const snapshot = this.onSend();
    let acked = false;
    const ack = (error?: RpcError): void => {
      if (acked) return;
      acked = true;
      this.inFlight -= size;
      if (error !== undefined) {
        if (this.failed === null) {
          // C++ taskFailed(): fail the pending sends and every future one.
          this.failed = error;
          for (const f of this.blocked.splice(0)) f.reject(error);
        }
        return;
      }
      this.onAck(size, snapshot);
      // After a failure, a call that was already in flight succeeding changes nothing (C++).
      if (this.failed === null && this.isReady()) for (const f of this.blocked.splice(0)) f.resolve();
    };
    if (this.failed !== null) return { ready: Future.rejected(this.failed), ack };
    if (this.isReady()) return { ready: Future.resolved(undefined), ack };
    const f = new Future<void>();
    this.blocked.push(f);
    return { ready: f, ack };
  }

  destroy(): void {
    if (this.failed === null) for (const f of this.blocked.splice(0)) f.resolve();
  }
}

/** What AdaptiveFlowController records at each send, used when its ack arrives. */
interface SendSnapshot {
  /** Clock time of the send (ms). */
  sentTime: number;
  /** Bytes acknowledged, and the time of the last ack, when this was sent (null: no ack yet). */
  deliveredAtSend: number;
  deliveredTimeAtSend: number | null;
  /** The window when this was sent, and whether it was full then (else the app sent too little
   * to measure the pipe, and the window must not shrink on what it measures). */
  windowAtSend: number;
  windowFullAtSend: boolean;
}

/** Largest and smallest adaptive windows, and the stalled rounds that end the startup phase. */
const MAX_WINDOW = 1024 * 1024 * 1024;
const MIN_WINDOW = 64 * 1024;
const STARTUP_EXIT_ROUNDS = 3;

/**
 * C++ `AdaptiveFlowController`: estimates the stream's bandwidth-delay product from send and ack
 * times and sets the window to it times a growth factor, so the sender always pushes a little more
 * than the estimate and so finds more bandwidth when there is some. In the startup phase the
 * window may double each round trip; startup ends once it has stopped growing meaningfully for
 * three rounds. Then it grows by at most 5/4 and shrinks by at most 7/8 per round trip. The
 * window stays between 64 KiB and 1 GiB.
 *
 * `clock` is monotonic, in milliseconds (default `performance.now()`).
 */
export class AdaptiveFlowController extends WindowFlowController {
  private window: number;
  private readonly clock: () => number;
  /** Bytes acknowledged so far, and the time of the latest ack. */
  private delivered = 0;
  private deliveredTime: number | null = null;
  /** The first ack ever: the baseline for sends made before any ack had arrived. */
  private firstAck: { time: number; delivered: number } | null = null;
  /** The smallest round trip seen (ms). */
  private minRtt = Number.POSITIVE_INFINITY;
  private inStartupPhase = true;
  private roundsWithoutIncrease = 0;
  private lastRoundWindow = 0;
  private roundStartTime: number | null = null;

  constructor(initialWindowSize = 256 * 1024, clock: () => number = () => performance.now()) {
    super(() => this.window);
    this.window = initialWindowSize;
    this.clock = clock;
  }

  /** The current window (bytes). */
  get windowSize(): number {
    return this.window;
  }

  protected override isReady(): boolean {
    return this.inFlight < this.window + this.maxMessageSize;
  }

  private growth(v: number): number {
    return this.inStartupPhase ? v * 2 : Math.floor((v * 5) / 4);
  }

  protected override onSend(): SendSnapshot {
    // C++ reads the clock before sending; nothing happens in between here.
    const now = this.clock();
    return {
      sentTime: now,
      deliveredAtSend: this.delivered,
      deliveredTimeAtSend: this.deliveredTime,
      windowAtSend: this.window,
      windowFullAtSend: !this.isReady(),
    };
  }

  protected override onAck(size: number, snapshot: unknown): void {
    const s = snapshot as SendSnapshot;
    const ackTime = this.clock();
    this.delivered += size;
    this.deliveredTime = ackTime;
    this.minRtt = Math.min(this.minRtt, ackTime - s.sentTime);

    if (this.firstAck === null) {
      // One ack cannot give a bandwidth; it is the baseline for later ones.
      this.firstAck = { time: ackTime, delivered: this.delivered };
      return;
    }
    // Bandwidth over the interval from the last ack before this send (or the first ack, for a
    // send made before any ack) to now. Whole microseconds, as C++.
    const baseTime = s.deliveredTimeAtSend ?? this.firstAck.time;
    const baseDelivered = s.deliveredTimeAtSend !== null ? s.deliveredAtSend : this.firstAck.delivered;
    const intervalUs = Math.floor((ackTime - baseTime) * 1000);
    if (intervalUs <= 0) return;
    const minRttUs = Math.floor(this.minRtt * 1000);
    const bytesDelivered = this.delivered - baseDelivered;
    // Window = estimated BDP (bandwidth × minimum RTT) × growth factor.
    let w =
      bytesDelivered > MAX_WINDOW * 2
        ? MAX_WINDOW
        : Math.floor(this.growth(bytesDelivered * minRttUs) / intervalUs);
    // Grow at most by the growth factor per round trip.
    w = Math.min(w, this.growth(s.windowAtSend));
    if (s.windowFullAtSend) {
      // Shrink at most by 7/8 per round trip.
      w = Math.max(w, Math.floor((s.windowAtSend * 7) / 8));
    } else {
      // App-limited: what we measured says nothing about the pipe, so no shrinking. Against the
      // current window, not windowAtSend, so as not to undo earlier shrinking.
      w = Math.max(w, this.window);
    }
    this.window = Math.max(Math.min(w, MAX_WINDOW), MIN_WINDOW);

    if (this.inStartupPhase && (this.roundStartTime === null || s.sentTime >= this.roundStartTime)) {
      // A new round trip: did the window grow meaningfully (more than the steady 5/4) in the last?
      if (this.window > Math.floor((this.lastRoundWindow * 5) / 4)) this.roundsWithoutIncrease = 0;
      else if (++this.roundsWithoutIncrease >= STARTUP_EXIT_ROUNDS) this.inStartupPhase = false;
      this.roundStartTime = ackTime;
      this.lastRoundWindow = this.window;
    }
  }
}

/** C++ `RpcFlowController::newFixedWindowController()`. */
export function newFixedWindowController(windowSize: number): RpcFlowController {
  return new WindowFlowController(() => windowSize);
}

/** C++ `RpcFlowController::newVariableWindowController()`: `getWindow()` asked as needed. */
export function newVariableWindowController(getWindow: () => number): RpcFlowController {
  return new WindowFlowController(getWindow);
}

/**
 * C++ `RpcFlowController::newAdaptiveController()`: `initialWindowSize` (256 KiB is a reasonable
 * default) until a bandwidth estimate exists; `clock` in milliseconds.
 */
export function newAdaptiveController(initialWindowSize: number, clock?: () => number): RpcFlowController {
  return new AdaptiveFlowController(initialWindowSize, clock);
}

/** What useAdaptiveFlowControl() set (C++ a process-wide flag). */
let processNewStream: ((window: number, clock?: () => number) => RpcFlowController) | null = null;

/**
 * C++ `TwoPartyVatNetwork::useAdaptiveFlowControl()`: from now on, two-party networks made
 * without a `newStream` option use the adaptive flow controller for streaming calls. C++ offers
 * it process-wide so that it can be turned on in one place; it may become the default there.
 */
export function useAdaptiveFlowControl(): void {
  processNewStream = newAdaptiveController;
}

/** @internal The factory useAdaptiveFlowControl() set, or null. */
export function defaultNewStream(): ((window: number, clock?: () => number) => RpcFlowController) | null {
  return processNewStream;
}
