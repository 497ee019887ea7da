/**
 * A safety net for references nobody released. C++ releases a capability when its last handle
 * goes out of scope; JavaScript has no destructors, so a `Client` that is never closed, or a
 * response that is never disposed, would keep the peer's object alive until the connection ends.
 * When the garbage collector reclaims such a handle, its reference is released here, from the run
 * queue. Explicit `close()` / `using` / `cancel()` stay the deterministic way; this only bounds
 * leaks in programs that forget.
 */
import { eventLoop } from "./event-loop.js";

interface Releasable {
  release(): void;
}

function releaseLater(r: Releasable): void {
  eventLoop().evalLater(doRelease, r);
}

function doRelease(r: Releasable): void {
  try {
    r.release();
  } catch {
    // A failing release must not break the queue.
  }
}

const registry: FinalizationRegistry<Releasable> | null =
  typeof FinalizationRegistry === "function" ? new FinalizationRegistry(releaseLater) : null;

/** When `owner` is collected, release `what` (which must not reference `owner`). */
export function releaseWhenCollected(owner: object, what: Releasable, token: object): void {
  registry?.register(owner, what, token);
}

/** The reference was released explicitly: forget the registration made with `token`. */
export function forget(token: object): void {
  registry?.unregister(token);
}
