/**
 * A small single-threaded promise whose continuations run from our run queue (a kj
 * `ForkedPromise`, in effect). The RPC core uses it wherever C++ chains kj promises — promise
 * capabilities, pipelines waiting for results, embargoes — so the order of continuations is the
 * order they were registered, on our queue, never the host microtask order. It never produces an
 * unhandled rejection: an error with no listener is simply kept.
 */
import { eventLoop } from "./event-loop.js";

type ListenFn = (ok: boolean, value: unknown) => void;
interface Entry {
  fn: ListenFn;
  now: boolean;
}

const PENDING = 0;
const FULFILLED = 1;
const REJECTED = 2;

export class Future<T> {
  private state: 0 | 1 | 2 = PENDING;
  private value: unknown = undefined;
  private listeners: Entry[] | undefined = undefined;

  static resolved<T>(value: T): Future<T> {
    const f = new Future<T>();
    f.resolve(value);
    return f;
  }
  static rejected<T>(error: unknown): Future<T> {
    const f = new Future<T>();
    f.reject(error);
    return f;
  }
  /** Adopt a host promise (its settlement is queued onto our loop). */
  static fromPromise<T>(p: PromiseLike<T>): Future<T> {
    const f = new Future<T>();
    p.then(
      (v) => f.resolve(v),
      (e) => f.reject(e),
    );
    return f;
  }

  get settled(): boolean {
    return this.state !== PENDING;
  }
  get fulfilled(): boolean {
    return this.state === FULFILLED;
  }
  get rejected(): boolean {
    return this.state === REJECTED;
  }
  /** The value (fulfilled) or error (rejected); undefined while pending. */
  get result(): unknown {
    return this.value;
  }

  resolve(value: T): void {
    if (this.state !== PENDING) return;
    this.state = FULFILLED;
    this.value = value;
    this.fire();
  }
  reject(error: unknown): void {
    if (this.state !== PENDING) return;
    this.state = REJECTED;
    this.value = error;
    this.fire();
  }

  /**
   * Call `fn(ok, valueOrError)` from the run queue once settled (on a later turn even when
   * already settled, like kj: a continuation never runs synchronously).
   */
  listen(fn: (ok: boolean, value: unknown) => void): void {
    if (this.state !== PENDING) {
      eventLoop().evalLater(runListener, { fn, ok: this.state === FULFILLED, value: this.value });
      return;
    }
    (this.listeners ??= []).push({ fn, now: false });
  }

  /** Listen synchronously: `fn` runs inside resolve()/reject() (for internal chains that must not
   * add a turn, e.g. forwarding queued calls in order the moment a promise resolves). */
  listenNow(fn: (ok: boolean, value: unknown) => void): void {
    if (this.state !== PENDING) {
      fn(this.state === FULFILLED, this.value);
      return;
    }
    (this.listeners ??= []).push({ fn, now: true });
  }

  /** A host Promise for the value. */
  toPromise(): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.listenNow((ok, v) => (ok ? resolve(v as T) : reject(v)));
    });
  }

  private fire(): void {
    const l = this.listeners;
    this.listeners = undefined;
    if (l === undefined) return;
    const ok = this.state === FULFILLED;
    const value = this.value;
    for (const e of l) {
      if (e.now) e.fn(ok, value);
      else eventLoop().evalLater(runListener, { fn: e.fn, ok, value });
    }
  }
}

function runListener(a: { fn: ListenFn; ok: boolean; value: unknown }): void {
  a.fn(a.ok, a.value);
}
