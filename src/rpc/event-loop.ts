/**
 * The run queue: our own FIFO of deferred work, with C++ kj `evalLater` / `evalLast` semantics.
 *
 * Every local call is dispatched through it, never synchronously (capability.c++ LocalClient::call
 * "we don't want the callee to have any side effects before the promise is returned to the
 * caller"), and every internal continuation of the RPC state machine runs from it. Its order is
 * the order in which work was queued, so E-order holds by construction rather than by whatever
 * order the host's microtask queue happens to produce.
 *
 * The loop itself does no I/O and chooses no time: a `scheduler` is told when work is pending.
 * The default scheduler drains the queue in a microtask and, like kj (which polls for I/O every
 * 256 turns), yields to the host with a zero-delay timer after a batch so that a task that keeps
 * re-queueing itself cannot starve socket reads. Tests can install a manual loop and single-step.
 */

// biome-ignore lint/suspicious/noExplicitAny: a task and its argument are stored side by side.
type Task = (arg: any) => void;

export interface LoopScheduler {
  /** Called when the loop goes from idle to having work. `drain` runs queued work. */
  schedule(drain: () => void, yieldToHost: boolean): void;
}

/** Drain in a microtask; after `BATCH` tasks, continue from a timer (lets I/O in). */
export const defaultScheduler: LoopScheduler = {
  schedule(drain, yieldToHost) {
    if (yieldToHost) setTimeout(drain, 0);
    else queueMicrotask(drain);
  },
};

/** Never runs anything by itself: call `runOne()` / `run()` (tests). */
export const manualScheduler: LoopScheduler = { schedule() {} };

const BATCH = 256;

/**
 * Who answers for a task's failure: C++ adds a connection's work to the connection's own
 * `kj::TaskSet`, whose error handler (rpc.c++ `RpcConnectionState::taskFailed`) disconnects that
 * connection and nothing else. Tasks here do not name their set; a task belongs to the owner of
 * the task that queued it (or to the one given to `evalLaterFor`), so everything a connection's
 * message sets going, however many hops later, answers to that connection. A peer's call is
 * delivered as the work of the connection it came in on, whoever releases it (local-client.ts:
 * a promise it waited in resolving, an embargo lifting). Other continuations follow the cause,
 * not always the work's origin: one that connection X registered, run because Y's message
 * settled what it waited for (a Return), answers to Y. Either way one connection ends, not the
 * process.
 */
export interface TaskOwner {
  /** A task of ours threw (a bug, since tasks handle their own failures). */
  taskFailed(error: unknown): void;
}

export class EventLoop {
  // Ring of (fn, arg, owner) triples: no closure per queued task.
  private fns: (Task | undefined)[] = new Array(64);
  private args: unknown[] = new Array(64);
  private owners: (TaskOwner | null)[] = new Array(64);
  private head = 0;
  private count = 0;
  private last: Array<() => void> = [];
  private lastOwners: (TaskOwner | null)[] = [];
  private scheduled = false;
  private running = false;
  /** The owner of the task running now (null outside tasks, or for a task nobody owns). */
  private owner: TaskOwner | null = null;
  readonly scheduler: LoopScheduler;
  /**
   * @internal Test hook: told of every error an owned task throws, before its owner is. Such an
   * error ends only a connection, which a test or a fuzzer would take for an ordinary Abort; the
   * RPC tests fail on it (test/rpc/harness.ts), as they fail on an unowned task's uncaught error.
   */
  taskErrorSpy: ((e: unknown) => void) | null = null;
  /**
   * Errors thrown by tasks that no owner answers for (they are bugs: tasks handle their own
   * failures); a task with an owner reports to it instead, so that a bug a peer can provoke
   * ends that peer's connection rather than the process.
   */
  onTaskError: (e: unknown) => void = (e) => {
    // Surface it without breaking the queue.
    queueMicrotask(() => {
      throw e;
    });
  };

  constructor(scheduler: LoopScheduler = defaultScheduler) {
    this.scheduler = scheduler;
  }

  /** Queue `fn(arg)` to run after everything already queued (kj `evalLater`). */
  evalLater<A>(fn: (arg: A) => void, arg: A): void;
  evalLater(fn: () => void): void;
  evalLater(fn: Task, arg?: unknown): void {
    this.queue(fn, arg, this.owner);
  }

  /** `evalLater` for a task (and what it queues) that `owner` answers for. */
  evalLaterFor<A>(owner: TaskOwner, fn: (arg: A) => void, arg: A): void;
  evalLaterFor(owner: TaskOwner, fn: () => void): void;
  evalLaterFor(owner: TaskOwner, fn: Task, arg?: unknown): void {
    this.queue(fn, arg, owner);
  }

  private queue(fn: Task, arg: unknown, owner: TaskOwner | null): void {
    if (this.count === this.fns.length) this.grow();
    const i = (this.head + this.count) & (this.fns.length - 1);
    this.fns[i] = fn;
    this.args[i] = arg;
    this.owners[i] = owner;
    this.count++;
    this.wake(false);
  }

  /** Queue `fn` to run once the FIFO queue is empty (kj `evalLast`). */
  evalLast(fn: () => void): void {
    this.last.push(fn);
    this.lastOwners.push(this.owner);
    this.wake(false);
  }

  /** True when nothing is queued. */
  get idle(): boolean {
    return this.count === 0 && this.last.length === 0;
  }

  /** Number of queued FIFO tasks. */
  get pending(): number {
    return this.count;
  }

  /** Run one task (a FIFO one, or an evalLast one when the FIFO is empty). False when idle. */
  runOne(): boolean {
    if (this.count > 0) {
      const i = this.head;
      const fn = this.fns[i]!;
      const arg = this.args[i];
      const owner = this.owners[i]!;
      this.fns[i] = undefined;
      this.args[i] = undefined;
      this.owners[i] = null;
      this.head = (i + 1) & (this.fns.length - 1);
      this.count--;
      this.runTask(fn, arg, owner);
      return true;
    }
    const f = this.last.shift();
    if (f === undefined) return false;
    this.runTask(f, undefined, this.lastOwners.shift()!);
    return true;
  }

  private runTask(fn: Task, arg: unknown, owner: TaskOwner | null): void {
    const outer = this.owner;
    this.owner = owner;
    try {
      fn(arg);
    } catch (e) {
      try {
        if (owner === null) throw e;
        this.taskErrorSpy?.(e);
        owner.taskFailed(e);
      } catch (e2) {
        this.onTaskError(e2);
      }
    } finally {
      this.owner = outer;
    }
  }

  /** Run until idle (or until `maxTurns` tasks ran). Returns the number of tasks run. */
  run(maxTurns = Number.POSITIVE_INFINITY): number {
    let n = 0;
    while (n < maxTurns && this.runOne()) n++;
    return n;
  }

  private readonly drain = (): void => {
    this.scheduled = false;
    if (this.running) return;
    this.running = true;
    try {
      this.run(BATCH);
    } finally {
      this.running = false;
    }
    if (!this.idle) this.wake(true);
  };

  private wake(yieldToHost: boolean): void {
    if (this.scheduled || this.running) return;
    this.scheduled = true;
    this.scheduler.schedule(this.drain, yieldToHost);
  }

  private grow(): void {
    const n = this.fns.length;
    const fns = new Array<Task | undefined>(n * 2);
    const args = new Array<unknown>(n * 2);
    const owners = new Array<TaskOwner | null>(n * 2);
    for (let k = 0; k < this.count; k++) {
      const j = (this.head + k) & (n - 1);
      fns[k] = this.fns[j];
      args[k] = this.args[j];
      owners[k] = this.owners[j]!;
    }
    this.fns = fns;
    this.args = args;
    this.owners = owners;
    this.head = 0;
  }
}

let current = new EventLoop();

/** The loop all capability code queues work on (one per JS realm, like kj's per-thread loop). */
export function eventLoop(): EventLoop {
  return current;
}

/** Replace the loop (tests: `setEventLoop(new EventLoop(manualScheduler))`). Returns the old one. */
export function setEventLoop(loop: EventLoop): EventLoop {
  const old = current;
  current = loop;
  return old;
}

/** `eventLoop().evalLater(fn, arg)`. */
export function evalLater<A>(fn: (arg: A) => void, arg: A): void;
export function evalLater(fn: () => void): void;
export function evalLater(fn: Task, arg?: unknown): void {
  current.evalLater(fn, arg);
}

/**
 * A promise that settles once the loop is idle (every task queued so far, and what they queued,
 * has run). With the default scheduler this is what tests await to let a vat "run its turn".
 */
export function whenIdle(): Promise<void> {
  return new Promise((resolve) => current.evalLast(resolve));
}
