/**
 * How a PromiseClient (rpc-client.ts) resolved, as plain constants in a module that imports
 * nothing: a bundler inlines them and drops the declarations, where tsc compiles an `enum` to a
 * statement every bundle keeps (src/wire/codes.ts says why the module must import nothing).
 */

export const UNRESOLVED = 0;
/** Resolved to a settled capability of the peer (or one it hosts via another path). */
export const REMOTE = 1;
/** Resolved to one of our own capabilities. */
export const REFLECTED = 2;
/** Resolved to another not-yet-resolved promise of the same connection: merged with it. */
export const MERGED = 3;
/** Resolved to null or an error. */
export const BROKEN = 4;

export type Resolution = typeof UNRESOLVED | typeof REMOTE | typeof REFLECTED | typeof MERGED | typeof BROKEN;
