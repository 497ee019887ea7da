/**
 * Node IDs capnp derives when a declaration does not give one (c++/src/capnp/compiler/type-id.c++):
 * the first 8 bytes of an MD5 over the parent's ID (little-endian) and something that names the
 * child, read big-endian, with the top bit set.
 */
import { md5 } from "./md5.js";

const utf8 = new TextEncoder();

function le(value: bigint, bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) out[i] = Number((value >> BigInt(i * 8)) & 0xffn);
  return out;
}

function idOf(parts: readonly Uint8Array[]): bigint {
  let n = 0;
  for (const p of parts) n += p.length;
  const all = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    all.set(p, o);
    o += p.length;
  }
  const h = md5(all);
  let r = 0n;
  for (let i = 0; i < 8; i++) r = (r << 8n) | BigInt(h[i]!);
  return r | (1n << 63n);
}

/** `generateChildId`: a nested declaration named `name` in the node `parentId`. */
export function generateChildId(parentId: bigint, name: string): bigint {
  return idOf([le(parentId, 8), utf8.encode(name)]);
}

/** `generateGroupId`: the group or named union at field index `index` of `parentId`. */
export function generateGroupId(parentId: bigint, index: number): bigint {
  return idOf([le(parentId, 8), le(BigInt(index), 2)]);
}

/** `generateMethodParamsId`: the implicit param (or result) struct of method `ordinal`. */
export function generateMethodParamsId(parentId: bigint, ordinal: number, isResults: boolean): bigint {
  return idOf([le(parentId, 8), le(BigInt(ordinal), 2), new Uint8Array([isResults ? 1 : 0])]);
}

/** A random file ID (what `capnp id` prints): top bit set. */
export function generateRandomId(): bigint {
  const b = new Uint8Array(8);
  globalThis.crypto.getRandomValues(b);
  let r = 0n;
  for (let i = 0; i < 8; i++) r = (r << 8n) | BigInt(b[i]!);
  return r | (1n << 63n);
}
