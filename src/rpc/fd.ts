/**
 * File descriptors riding with RPC messages (rpc.capnp `CapDescriptor.attachedFd`; C++
 * `OutgoingRpcMessage::setFds`, `IncomingRpcMessage::getAttachedFds`).
 *
 * The RPC core stays platform-neutral: FDs are plain numbers here. An outgoing message collects
 * the FDs of the capabilities written into it (keyed by the message's arena, so descriptor
 * writers need no extra parameter); the transport takes them when it sends the message. An
 * incoming message carries the FDs that arrived with it; `receiveCap` claims the one a
 * descriptor names, and whatever is left unclaimed is closed once the message was handled (C++:
 * the IncomingRpcMessage owns them as `kj::AutoCloseFd`s).
 *
 * Closing needs the OS: a transport that can receive FDs registers a closer
 * (`setFdCloser`, done by src/transport/fd-socket.ts).
 */

import type { MessageBuilder, MessageReader } from "../wire/index.js";
import type { ClientHook } from "./hooks.js";
import type { CapDescriptorB, CapDescriptorR } from "./protocol.js";

/** Linux refuses more than this many FDs in one SCM_RIGHTS message (SCM_MAX_FD). */
export const MAX_FDS_PER_MESSAGE = 253;

let closer: ((fd: number) => void) | null = null;

/** Install how FDs are closed (the transport that receives them does). */
export function setFdCloser(f: (fd: number) => void): void {
  closer = f;
}

/** Close an FD we own (received and unclaimed, or dropped by an import). Never throws. */
export function closeFd(fd: number): void {
  try {
    closer?.(fd);
  } catch {
    // Already closed, or not ours any more: nothing useful to do.
  }
}

const outgoing = new WeakMap<object, number[]>();
const incoming = new WeakMap<object, (number | null)[]>();

/**
 * C++ writeDescriptor: if `inner` (the innermost hook being written) exposes an FD, attach it to
 * the message `d` belongs to and set `d.attachedFd` to its index.
 */
export function attachCapFd(inner: ClientHook, d: CapDescriptorB): void {
  const fd = inner.getFd();
  if (fd === null || fd < 0) return;
  const arena = d._arena as object;
  let list = outgoing.get(arena);
  if (list === undefined) {
    list = [];
    outgoing.set(arena, list);
  }
  // attachedFd is a UInt8 and 0xff means "none"; the kernel takes at most 253 per message.
  if (list.length >= MAX_FDS_PER_MESSAGE) return;
  d.attachedFd = list.length;
  list.push(fd);
}

/** The FDs to send with `message` (borrowed: the servers exposing them still own them). */
export function takeOutgoingFds(message: MessageBuilder): number[] | null {
  const arena = message.arena as object;
  const list = outgoing.get(arena);
  if (list === undefined) return null;
  outgoing.delete(arena);
  return list.length > 0 ? list : null;
}

/** Transport: `fds` arrived with `message`; the message now owns them. */
export function setIncomingFds(message: MessageReader, fds: readonly number[]): void {
  if (fds.length > 0) incoming.set(message.arena as object, [...fds]);
}

/** receiveCap: take the FD `d.attachedFd` names, if it arrived (null when out of range). */
export function claimCapFd(d: CapDescriptorR): number | null {
  const list = incoming.get(d._arena as object);
  if (list === undefined) return null;
  const i = d.attachedFd;
  if (i >= list.length) return null;
  const fd = list[i] ?? null;
  list[i] = null;
  return fd;
}

/** After a message was handled (or dropped): close the FDs nobody claimed. */
export function closeUnclaimedFds(message: MessageReader): void {
  const arena = message.arena as object;
  const list = incoming.get(arena);
  if (list === undefined) return;
  incoming.delete(arena);
  for (const fd of list) if (fd !== null) closeFd(fd);
}

/**
 * Matches FDs received with byte chunks to the frames (messages) they were sent with.
 *
 * The sender writes a message that carries FDs alone, in one sendmsg with the FDs attached; a
 * Unix stream socket hands those FDs to the recvmsg that reads the message's first byte, and that
 * read stops within the message (Linux never reads past a chunk whose FDs it has returned). So the
 * FDs that arrive with a chunk belong to the frame that starts inside the chunk and reaches at
 * least to its end. Keeps the first `maxFds` of each set and closes the rest, as the kernel does
 * for C++'s fixed-size FD buffer (C++ `maxFdsPerMessage`).
 */
export class IncomingFdTracker {
  private readonly maxFds: number;
  private received = 0;
  private framed = 0;
  private pending: { end: number; fds: number[] }[] = [];

  constructor(maxFds: number) {
    this.maxFds = Math.max(0, Math.min(maxFds, MAX_FDS_PER_MESSAGE));
  }

  /** A chunk of `bytes` bytes arrived, with `fds` (may be empty). */
  chunk(bytes: number, fds: readonly number[] | undefined): void {
    this.received += bytes;
    if (fds === undefined || fds.length === 0) return;
    const keep = fds.slice(0, this.maxFds);
    for (let i = this.maxFds; i < fds.length; i++) closeFd(fds[i]!);
    if (keep.length > 0) this.pending.push({ end: this.received, fds: keep });
  }

  /** The next frame, of `bytes` bytes, was read: the FDs it came with, or null. */
  frame(bytes: number): number[] | null {
    const start = this.framed;
    const end = start + bytes;
    this.framed = end;
    let out: number[] | null = null;
    while (this.pending.length > 0) {
      const p = this.pending[0]!;
      if (p.end > end) break; // belongs to a later frame
      this.pending.shift();
      if (p.end > start && out === null) out = p.fds;
      else for (const fd of p.fds) closeFd(fd); // cannot be placed: drop it
    }
    return out;
  }

  /** The connection ended: close what never found its frame. */
  dispose(): void {
    for (const p of this.pending.splice(0)) for (const fd of p.fds) closeFd(fd);
  }
}
