/**
 * The import table: capabilities the peer sent us, which we call by its export ID (rpc.capnp
 * "Import"; rpc.c++ `Import`, `receiveCap`/`import()`, `ImportClient::~ImportClient`,
 * `handleResolve`). Every change to an entry is one of the transitions below; nothing else
 * writes the table.
 *
 * ```text
 *   senderHosted ──► hosted ──senderPromise, same ID──► promise
 *   senderPromise ─────────────────────────────────────► promise ──Resolve──► promise (resolved)
 *   the ImportClient goes ──► (gone), a Release for every descriptor received
 * ```
 *
 * - One ImportClient per ID, whatever the number of descriptors: it counts them
 *   (`remoteRefcount`) and, when the last reference to it goes, the entry leaves and one Release
 *   gives the peer all of them back (rpc.capnp Release: "the sender may ... release all
 *   references at once").
 * - `promise`: the peer sent the ID as a senderPromise, so a Resolve will follow. The app holds
 *   a PromiseClient over the ImportClient (`appClient`), which the Resolve resolves
 *   (`awaitingResolve` until then). A Resolve for a `hosted` import is a protocol error; for an
 *   ID no longer imported it is dropped (we released it, our Release crossed its Resolve).
 * - Disconnect empties the table at once ({@link clearImports}); the PromiseClients still
 *   awaiting a Resolve break.
 */
import type { RpcConnection } from "./connection.js";
import type { ClientHook } from "./hooks.js";
import { MessageB } from "./protocol.js";
import { ProtocolError } from "./protocol-error.js";
import { ImportClient, PromiseClient, type RpcClient } from "./rpc-client.js";

/** Sent to us as senderHosted: the app holds the ImportClient itself. */
export interface HostedImport {
  readonly state: "hosted";
  readonly importClient: ImportClient;
}

/** Sent to us as senderPromise (at least once). */
export interface PromiseImport {
  readonly state: "promise";
  readonly importClient: ImportClient;
  /** The client the app holds: a PromiseClient over the ImportClient (null once it is gone). */
  appClient: RpcClient | null;
  /** The PromiseClient the peer's Resolve resolves, until it arrives. */
  awaitingResolve: PromiseClient | null;
}

export type Import = HostedImport | PromiseImport;

/**
 * A descriptor for import `id` received (senderHosted, senderPromise, or a thirdPartyHosted's
 * vine): the client for it (a new reference), counting one more reference the peer gave us.
 */
export function importCap(
  conn: RpcConnection,
  id: number,
  isPromise: boolean,
  fd: number | null,
): ClientHook {
  const imp = conn.imports.find(id);
  const ic = imp === undefined ? new ImportClient(conn, id) : imp.importClient.addRef();
  // A later introduction may bring the FD an earlier one lacked (C++ setFdIfMissing).
  if (fd !== null) ic.setFdIfMissing(fd);
  // We just received a copy of this import ID, so the remote refcount has gone up.
  ic.remoteRefcount++;
  if (!isPromise) {
    if (imp === undefined) conn.imports.set(id, { state: "hosted", importClient: ic });
    else if (imp.state === "promise") imp.appClient = ic;
    return ic;
  }
  if (imp?.state === "promise" && imp.appClient !== null && imp.appClient !== ic) {
    ic.release();
    return imp.appClient.addRef();
  }
  const p = new PromiseClient(conn, ic, id);
  conn.imports.set(id, { state: "promise", importClient: ic, appClient: p, awaitingResolve: p });
  return p;
}

/**
 * Resolve received for import `id` (rpc.capnp Resolve): resolve the PromiseClient awaiting it to
 * `resolution` (borrowed).
 */
export function resolveReceived(conn: RpcConnection, id: number, resolution: ClientHook): void {
  const imp = conn.imports.find(id);
  if (imp === undefined) return; // already released: drop the resolution
  if (imp.state === "hosted") throw new ProtocolError("Got 'Resolve' for a non-promise import.");
  const p = imp.awaitingResolve;
  if (p === null) return;
  imp.awaitingResolve = null;
  p.resolve(resolution);
}

/** The ImportClient of an import went: the entry leaves, and the peer gets its references back. */
export function importClientDestroyed(conn: RpcConnection, ic: ImportClient): void {
  const imp = conn.imports.find(ic.importId);
  if (imp !== undefined && imp.importClient === ic) conn.imports.erase(ic.importId);
  if (ic.remoteRefcount > 0 && conn.error === null) {
    const out = conn.newMessage();
    const r = out.getRoot(MessageB).initRelease();
    r.id = ic.importId;
    r.referenceCount = ic.remoteRefcount;
    conn.sendOrFail(out);
  }
  conn.checkIfBecameIdle();
}

/** The PromiseClient of a promise import went: the entry forgets it (its ImportClient stays). */
export function promiseClientDestroyed(conn: RpcConnection, p: PromiseClient): void {
  const imp = conn.imports.find(p.importId!);
  if (imp === undefined || imp.state !== "promise") return;
  if (imp.appClient === p) imp.appClient = null;
  if (imp.awaitingResolve === p) imp.awaitingResolve = null;
}

/** Disconnect: empty the table. Returns the PromiseClients that were awaiting a Resolve. */
export function clearImports(conn: RpcConnection): PromiseClient[] {
  const awaiting: PromiseClient[] = [];
  for (const i of conn.imports.clear()) {
    if (i.state === "promise" && i.awaitingResolve !== null) awaiting.push(i.awaitingResolve);
  }
  return awaiting;
}
