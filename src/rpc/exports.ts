/**
 * The export table: capabilities we sent the peer, which it calls by export ID (rpc.capnp
 * "Export"; rpc.c++ `Export`, `writeDescriptor`, `resolveExportedPromise`, `handleRelease`).
 * Every change to an entry is one of the transitions below; nothing else writes the table.
 *
 * ```text
 *   descriptor ──► hosted ──────────────────────────────────────────► (gone)
 *   written   └──► promise ──resolved──► Resolve sent ──► hosted ───►   at refcount 0
 *                     │  └─resolved to another local promise──► promise (no message yet)
 *                     └─broken──► Resolve{exception} sent ──► hosted
 * ```
 *
 * - An entry counts the descriptors the peer received for it (`refcount`); the peer's Release
 *   takes some back, and the entry leaves at zero, releasing its capability (rpc.capnp Release).
 *   A capability sent twice shares its entry (`exportsByCap`), as in C++.
 * - `promise`: we sent a `senderPromise`; once the promise settles we send a Resolve for the ID
 *   (rpc.capnp Resolve) and the entry holds what it resolved to, innermost, so that a Disembargo
 *   the peer reflects reaches the right place. A resolution to another of our promises needs no
 *   message yet: the entry then stands for that promise.
 * - Transitions replace the entry object, so a resolution that arrives for an entry which has
 *   since left the table or moved on finds another object there and does nothing.
 * - Disconnect empties the table at once ({@link clearExports}).
 */
import type { MessageBuilder } from "../wire/index.js";
import { type RpcError, toRpcError } from "./errors.js";
import type { Future } from "./future.js";
import type { ClientHook } from "./hooks.js";
import { type CapDescriptorB, type ExceptionB, MessageB, type ResolveB } from "./protocol.js";
import { require_ } from "./protocol-error.js";
import type { ExportTable } from "./tables.js";

/** Sent as senderHosted. */
export interface HostedExport {
  readonly state: "hosted";
  /** Descriptors the peer holds for this ID. */
  refcount: number;
  readonly hook: ClientHook;
}

/** Sent as senderPromise; its Resolve is still to be sent. */
export interface PromiseExport {
  readonly state: "promise";
  refcount: number;
  readonly hook: ClientHook;
}

export type Export = HostedExport | PromiseExport;

/** What the export transitions use of the connection. */
export interface ExportTableOwner {
  readonly exports: ExportTable<Export>;
  /** Our exports by capability (a capability sent twice shares its entry). */
  readonly exportsByCap: Map<ClientHook, number>;
  readonly error: RpcError | null;
  newMessage(): MessageBuilder;
  sendOrFail(m: MessageBuilder): void;
  fromException(error: RpcError, b: ExceptionB): void;
  /** The innermost client of `cap` as the peer should see it (a new reference). */
  getInnermostClient(cap: ClientHook): ClientHook;
  writeDescriptor(cap: ClientHook, d: CapDescriptorB): number | null;
  disconnect(error: RpcError): void;
}

/**
 * Write a descriptor for `inner` (a capability not hosted by the peer) into `d`, exporting it if
 * it is not exported yet. Returns its export ID (one more reference for the peer).
 */
export function exportCap(owner: ExportTableOwner, inner: ClientHook, d: CapDescriptorB): number {
  const known = owner.exportsByCap.get(inner);
  if (known !== undefined) {
    const exp = owner.exports.find(known)!;
    exp.refcount++;
    if (exp.state === "hosted") d.senderHosted = known;
    else d.senderPromise = known;
    return known;
  }
  const more = inner.whenMoreResolved();
  if (more === null) {
    const id = owner.exports.add({ state: "hosted", refcount: 1, hook: inner.addRef() });
    owner.exportsByCap.set(inner, id);
    d.senderHosted = id;
    return id;
  }
  const exp: PromiseExport = { state: "promise", refcount: 1, hook: inner.addRef() };
  const id = owner.exports.add(exp);
  owner.exportsByCap.set(inner, id);
  d.senderPromise = id;
  resolveWhenSettled(owner, id, exp, more);
  return id;
}

/** Release received (rpc.capnp Release): `refcount` references of export `id` go. */
export function releaseReceived(owner: ExportTableOwner, id: number, refcount: number): void {
  const exp = owner.exports.find(id);
  require_(exp !== undefined, "Tried to release invalid export ID.");
  require_(refcount <= exp.refcount, "Tried to drop export's refcount below zero.");
  exp.refcount -= refcount;
  if (exp.refcount === 0) {
    if (owner.exportsByCap.get(exp.hook) === id) owner.exportsByCap.delete(exp.hook);
    owner.exports.erase(id);
    exp.hook.release();
  }
}

/**
 * One reference of each of `ids` goes (the exports a message carried whose capabilities the peer
 * gave back: a Finish with releaseResultCaps, a Return with releaseParamCaps, a failed send);
 * IDs no longer in the table are skipped.
 */
export function dropExportRefs(owner: ExportTableOwner, ids: ExportIds): void {
  if (typeof ids === "number") {
    if (owner.exports.find(ids) !== undefined) releaseReceived(owner, ids, 1);
    return;
  }
  for (const id of ids) if (owner.exports.find(id) !== undefined) releaseReceived(owner, id, 1);
}

/**
 * Export IDs a message carried: a single one as its number, so that what is kept until a
 * Finish (an answer's result exports, issue 13) needs no array for the usual one capability.
 */
export type ExportIds = readonly number[] | number;

/** `ids` as ExportIds: the one ID of a single-element list, else the list. */
export function exportIds(ids: readonly number[]): ExportIds {
  return ids.length === 1 ? ids[0]! : ids;
}

/** Disconnect: empty the table; the capabilities to release go to `toRelease`. */
export function clearExports(owner: ExportTableOwner, toRelease: { release(): void }[]): void {
  for (const e of owner.exports.clear()) toRelease.push(e.hook);
  owner.exportsByCap.clear();
}

/**
 * The promise of export `id` (entry `exp`) settles with `future`: send its Resolve, or, for a
 * resolution to another local promise, let the entry stand for that one.
 */
function resolveWhenSettled(
  owner: ExportTableOwner,
  id: number,
  exp: PromiseExport,
  future: Future<ClientHook>,
): void {
  future.listen((ok, v) => {
    // Gone, replaced, or the connection ended: nothing to tell.
    if (owner.error !== null || owner.exports.find(id) !== exp) return;
    try {
      if (!ok) {
        owner.exports.replace(id, { state: "hosted", refcount: exp.refcount, hook: exp.hook });
        sendResolve(owner, id, (r) => owner.fromException(toRpcError(v), r.initException()));
        return;
      }
      // Innermost, including unresolved PromiseClients' inner Import/PipelineClient, so that a
      // Disembargo the peer sends back bounces correctly (rpc.capnp Disembargo).
      const resolution = owner.getInnermostClient(v as ClientHook);
      if (owner.exportsByCap.get(exp.hook) === id) owner.exportsByCap.delete(exp.hook);
      exp.hook.release();
      const more = resolution.brand !== owner ? resolution.whenMoreResolved() : null; // local
      if (more !== null && !owner.exportsByCap.has(resolution)) {
        // Another local promise: the entry now stands for it; no message needed yet.
        const next: PromiseExport = { state: "promise", refcount: exp.refcount, hook: resolution };
        owner.exports.replace(id, next);
        owner.exportsByCap.set(resolution, id);
        resolveWhenSettled(owner, id, next, more);
        return;
      }
      const hosted: HostedExport = { state: "hosted", refcount: exp.refcount, hook: resolution };
      owner.exports.replace(id, hosted);
      sendResolve(owner, id, (r) => owner.writeDescriptor(hosted.hook, r.initCap()));
    } catch (e) {
      owner.disconnect(toRpcError(e));
    }
  });
}

function sendResolve(owner: ExportTableOwner, id: number, fill: (r: ResolveB) => void): void {
  const out = owner.newMessage();
  const r = out.getRoot(MessageB).initResolve();
  r.promiseId = id;
  fill(r);
  owner.sendOrFail(out);
}
