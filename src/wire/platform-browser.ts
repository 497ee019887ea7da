/**
 * What browser bundles get for `#platform` instead of ./platform-node.ts (package.json
 * `imports`, under the `browser` condition that bundlers targeting browsers set and Node, Deno
 * and Bun do not): none of Node's fast paths,
 * so text.ts and arena.ts use the WHATWG codecs and zeroed ArrayBuffers, as they do wherever
 * Node's probes fail. It imports nothing, so a bundler inlines these constants and drops the
 * branches that test them (src/wire/codes.ts says why that needs a module without imports).
 * Those branches test truthiness (`if (utf8Slice)`): esbuild folds `undefined ? a : b`, not
 * `undefined !== undefined ? a : b`.
 */

/** Buffer.prototype.utf8Slice, called on a plain Uint8Array. */
export type Utf8Slice = (this: Uint8Array, start: number, end: number) => string;
/** Buffer.prototype.utf8Write, called on a plain Uint8Array; returns the bytes written. */
export type Utf8Write = (this: Uint8Array, s: string, offset: number, length: number) => number;
/** Buffer.allocUnsafeSlow. */
export type AllocUnsafe = (size: number) => Uint8Array;

export const utf8Slice: Utf8Slice | undefined = undefined;
export const utf8Write: Utf8Write | undefined = undefined;
export const allocUnsafe: AllocUnsafe | undefined = undefined;
