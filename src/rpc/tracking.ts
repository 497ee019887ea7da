/**
 * The leak finder: where each capability reference still open was created.
 *
 * Off by default. Turned on by `Runtime.init({ trackCapabilities: true })` or the environment
 * variable `CAPNTS_TRACK_CAPABILITIES=1` (tracking-env.ts); then every `Client` records a stack
 * when it is made, is listed by `liveCapabilities()` until it is closed, and when the
 * garbage-collection safety net (gc.ts) releases one nobody closed, a warning names where it came
 * from. Off, the call path pays one property read per client made or closed (tracking-state.ts;
 * BENCHMARKS.md, "leak finder").
 */
import type { ClientHook } from "./hooks.js";
import { innermost } from "./hooks.js";
import { tracking } from "./tracking-state.js";

/** A capability reference that is still open (see `Runtime.liveCapabilities()`). */
export interface LiveCapability {
  /** The interface of the handle, when its class knows it ("Counter"). */
  readonly interface: string | undefined;
  /** What the reference points to now: "import #3 (connection 1)", "local server Counter", … */
  readonly target: string;
  /** Where the reference was made (a JavaScript stack, starting with "Error"). */
  readonly stack: string;
  /** The handle, unless the garbage collector already took it (its release is then queued). */
  readonly client: object | undefined;
}

interface Tracked {
  readonly iface: string | undefined;
  readonly hook: ClientHook;
  readonly stack: string;
  readonly ref: WeakRef<object>;
}

let onLeak: (leak: LiveCapability) => void = warnLeak;
const records = new Map<number, Tracked>();
const ids = new WeakMap<object, number>();
let nextId = 1;

/** Turn tracking on (it stays on for the process) and choose who hears about leaks. */
export function enableTracking(leak?: (leak: LiveCapability) => void): void {
  tracking.track = trackClient;
  tracking.untrack = untrackClient;
  tracking.on = true;
  if (leak !== undefined) onLeak = leak;
}

/**
 * Record `client` (which owns one reference to `hook`); returns what the safety net must release
 * when the client is collected, which also reports the leak.
 */
function trackClient(client: object, hook: ClientHook, iface: string | undefined): { release(): void } {
  const id = nextId++;
  // Not `client`'s own stack property: an Error made here, whose first frames are capnts's.
  const stack = new Error("capability created").stack ?? "";
  records.set(id, { iface, hook, stack, ref: new WeakRef(client) });
  ids.set(client, id);
  return new LeakedRelease(id, hook);
}

/** `client` was closed: no longer live. */
function untrackClient(client: object): void {
  const id = ids.get(client);
  if (id === undefined) return;
  ids.delete(client);
  records.delete(id);
}

export function liveCapabilities(): LiveCapability[] {
  const out: LiveCapability[] = [];
  for (const r of records.values()) out.push(describe(r));
  return out;
}

class LeakedRelease {
  constructor(
    private readonly id: number,
    private readonly hook: ClientHook,
  ) {}

  release(): void {
    const r = records.get(this.id);
    records.delete(this.id);
    if (r !== undefined) {
      try {
        onLeak(describe(r));
      } catch {
        // A reporter that throws must not keep the reference alive.
      }
    }
    this.hook.release();
  }
}

function describe(r: Tracked): LiveCapability {
  return { interface: r.iface, target: innermost(r.hook).describe(), stack: r.stack, client: r.ref.deref() };
}

function warnLeak(leak: LiveCapability): void {
  // The core has no platform types: console is reached through globalThis (every runtime has it).
  (globalThis as { console?: { warn(message: string): void } }).console?.warn(
    `capnts: a ${leak.interface ?? "capability"} reference (${leak.target}) was never closed; the garbage collector released it. It was created here:\n${leak.stack}`,
  );
}
