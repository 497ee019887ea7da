/**
 * Embargoes (rpc.capnp Disembargo; rpc.c++ `Embargo`, `PromiseClient::resolve`,
 * `handleDisembargo`): when a promise we sent calls to over this connection resolves to a
 * capability of our own, calls made on it from then on must not overtake the ones already on
 * their way to the peer and back. We send a Disembargo along the old path and hold new calls in
 * a queue until it comes back (`receiverLoopback`). The peer does the same for its promises: a
 * Disembargo it sends (`senderLoopback`) comes back to it along the path it names, after every
 * call we had queued towards that target.
 *
 * ```text
 *   startEmbargo ──► waiting (Disembargo{senderLoopback} sent, calls held)
 *                       └──Disembargo{receiverLoopback} received──► (gone), calls released
 * ```
 *
 * Disconnect empties the table; the held calls fail ({@link clearEmbargoes}).
 */
import type { RpcConnection } from "./connection.js";
import type { RpcError } from "./errors.js";
import type { ClientHook } from "./hooks.js";
import { QueuedClient } from "./local-request.js";
import { MessageB } from "./protocol.js";
import { ProtocolError, require_ } from "./protocol-error.js";
import type { RpcClient } from "./rpc-client.js";

/** An embargo waiting for its Disembargo to come back. */
export interface Embargo {
  /** Where the calls made meanwhile wait (the table's reference). */
  readonly queued: QueuedClient;
  /** What they go to once the Disembargo is back (owned). */
  readonly target: ClientHook;
}

/**
 * `promiseTarget` (a promise's old, remote path) resolved to `resolution` (borrowed), a
 * capability of ours, after calls were made on it: send a Disembargo along the old path and
 * return a queue that lets calls through to `resolution` when it comes back (a new reference);
 * null if none is needed.
 */
export function startEmbargo(
  conn: RpcConnection,
  promiseTarget: ClientHook,
  resolution: ClientHook,
): ClientHook | null {
  if (conn.error !== null) return null;
  const out = conn.newMessage();
  const d = out.getRoot(MessageB).initDisembargo();
  const redirect = conn.writeTarget(promiseTarget, d.initTarget());
  if (redirect !== null) {
    // "Original promise target should always be from this RPC connection."
    redirect.release();
    return null;
  }
  const queued = new QueuedClient();
  queued.addRef(); // one for the embargo table, one returned
  const id = conn.embargoes.add({ queued, target: resolution.addRef() });
  d.initContext().senderLoopback = id;
  conn.sendOrFail(out);
  return queued;
}

/** Our Disembargo came back (receiverLoopback): the held calls go on to the resolution. */
export function embargoLifted(conn: RpcConnection, id: number): void {
  const e = conn.embargoes.find(id);
  require_(e !== undefined, "Invalid embargo ID in 'Disembargo.context.receiverLoopback'.");
  conn.embargoes.erase(id);
  e.queued.resolve(e.target);
  e.target.release();
  e.queued.release();
}

/**
 * The peer's Disembargo (senderLoopback) reached `target` (its innermost client past any
 * Tribble race blocker), after every call queued towards it: send it back along the path to that
 * capability, which must be the peer's (rpc.capnp: "the Disembargo must be sent to a capability
 * that was the subject of a previous Resolve").
 */
export function reflectDisembargo(conn: RpcConnection, target: ClientHook, embargoId: number): void {
  require_(
    target.brand === conn,
    "'Disembargo' of type 'senderLoopback' sent to an object that does not point back to the sender.",
  );
  if (conn.error !== null) return;
  const out = conn.newMessage();
  const d = out.getRoot(MessageB).initDisembargo();
  const redirect = (target as RpcClient).writeTarget(d.initTarget());
  if (redirect !== null) {
    redirect.release();
    throw new ProtocolError(
      "'Disembargo' of type 'senderLoopback' sent to an object that does not appear to have been the subject of a previous 'Resolve' message.",
    );
  }
  d.initContext().receiverLoopback = embargoId;
  conn.sendOrFail(out);
}

/** Disconnect: empty the table; held calls fail with `error`, targets go to `toRelease`. */
export function clearEmbargoes(conn: RpcConnection, error: RpcError, toRelease: { release(): void }[]): void {
  for (const e of conn.embargoes.clear()) {
    e.queued.reject(error);
    e.queued.release();
    toRelease.push(e.target);
  }
}
