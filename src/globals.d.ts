// Ambient declarations for the few host APIs the platform-neutral core uses. The core compiles
// with `types: []` and no DOM lib so that Node or DOM globals cannot leak into it; these are
// available in every JS runtime we target (Node >= 20, browsers, Deno, Bun, Workers).

declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean; ignoreBOM?: boolean });
  decode(input?: Uint8Array): string;
}
declare class TextEncoder {
  encodeInto(src: string, dest: Uint8Array): { read: number; written: number };
  encode(input?: string): Uint8Array;
}
declare function queueMicrotask(callback: () => void): void;
declare function setTimeout(callback: () => void, ms?: number): unknown;
declare function clearTimeout(handle: unknown): void;

interface AbortSignal {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: "abort", listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: "abort", listener: () => void): void;
  throwIfAborted(): void;
}
declare var AbortSignal: { prototype: AbortSignal };
interface AbortController {
  readonly signal: AbortSignal;
  abort(reason?: unknown): void;
}
declare var AbortController: { prototype: AbortController; new (): AbortController };

/** High-resolution clock (every runtime we target has it); used for queue wait-time metrics. */
declare var performance: { now(): number };
