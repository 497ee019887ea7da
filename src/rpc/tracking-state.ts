/**
 * The leak finder's switch (tracking.ts), read by every `Client` made or closed: one property
 * of one object while tracking is off. A module of its own so that a program that never turns
 * tracking on need not carry the tracker: `enableTracking()` (tracking.ts) installs it, called by
 * `Runtime.init({ trackCapabilities: true })` and, for `CAPNTS_TRACK_CAPABILITIES=1`, by
 * tracking-env.ts (which is how capability.ts imports this switch).
 */
import type { ClientHook } from "./hooks.js";

export const tracking: {
  on: boolean;
  /**
   * Record `client` (which owns one reference to `hook`); returns what the safety net must
   * release when the client is collected. Called only while `on`.
   */
  track: (client: object, hook: ClientHook, iface: string | undefined) => { release(): void };
  /** `client` was closed. Called only while `on`. */
  untrack: (client: object) => void;
} = { on: false, track: (_client, hook) => hook, untrack: () => {} };
