/**
 * Client-side flow control for streaming calls (`-> stream`), after rpc.c++
 * WindowFlowController: a call is sent at once ("REQUIRED to maintain correct ordering"); only
 * the next send waits while the bytes of unacknowledged calls exceed the window. The window is
 * widened by the largest message seen, so one message bigger than the window cannot stall. After
 * a streaming call fails, every later send fails with that error.
 */
import type { RpcError } from "./errors.js";
import { Future } from "./future.js";

/** C++ RpcFlowController::DEFAULT_WINDOW_SIZE. */
export const DEFAULT_WINDOW_SIZE = 65536;

export class WindowFlowController {
  private inFlight = 0;
  private maxMessageSize = 0;
  private blocked: Future<void>[] = [];
  private failed: RpcError | null = null;
  private readonly getWindow: () => number;

  constructor(getWindow: () => number = () => DEFAULT_WINDOW_SIZE) {
    this.getWindow = getWindow;
  }

  /** Bytes sent and not yet acknowledged. */
  get bytesInFlight(): number {
    return this.inFlight;
  }

  private isReady(): boolean {
    return this.getWindow() + this.maxMessageSize > this.inFlight;
  }

  /**
   * A message of `size` bytes was just sent. Returns a future that settles when the next send may
   * go, and the `ack(error?)` to call when the call returns.
   */
  sent(size: number): { ready: Future<void>; ack: (error?: RpcError) => void } {
    if (size > this.maxMessageSize) this.maxMessageSize = size;
    this.inFlight += size;
    let acked = false;
    const ack = (error?: RpcError): void => {
      if (acked) return;
      acked = true;
      this.inFlight -= size;
      if (error !== undefined && this.failed === null) {
        this.failed = error;
        for (const f of this.blocked.splice(0)) f.reject(error);
        return;
      }
      if (this.failed === null && this.isReady()) for (const f of this.blocked.splice(0)) f.resolve();
    };
    if (this.failed !== null) return { ready: Future.rejected(this.failed), ack };
    if (this.isReady()) return { ready: Future.resolved(undefined), ack };
    const f = new Future<void>();
    this.blocked.push(f);
    return { ready: f, ack };
  }

  /** The error a previous streaming call failed with, if any. */
  get error(): RpcError | null {
    return this.failed;
  }
}
