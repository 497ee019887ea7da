/**
 * UTF-8 for Text fields. Short strings are decoded and encoded by a JS loop (the platform codecs
 * have a fixed cost per call that dominates for the short strings most messages hold); long
 * strings go through the fastest platform codec available.
 *
 * On Node that is Buffer's `utf8Slice` / `utf8Write` (called on plain Uint8Arrays): C++ bindings
 * without TextDecoder's and TextEncoder's JS wrappers, and they take offsets, so no `subarray`
 * per call. Measured on Node 20, 70-100 byte ASCII strings: utf8Slice 64-104 ns against
 * TextDecoder 107-179 ns; utf8Write 65 ns against encodeInto + subarray 80 ns. Elsewhere (or if
 * they ever disagree with the WHATWG codecs on the probes in platform-node.ts, and in browser
 * bundles) TextDecoder/TextEncoder are used.
 */
import { utf8Slice as nodeUtf8Slice, utf8Write as nodeUtf8Write } from "#platform";

// Called through constants of this module: V8 calls an imported function through the module's
// cell, ~60 ns more per encode + decode of a 160-byte string than through a module constant.
// Tested through the imports: in browser bundles they are `undefined`, which esbuild folds (it
// does not follow the copies), so the branches and the copies drop out.
const utf8Slice = nodeUtf8Slice;
const utf8Write = nodeUtf8Write;

// ignoreBOM: a Text that starts with U+FEFF keeps it (the default decoder would drop it, so a
// string written by setText would not read back the same).
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });
const encoder = new TextEncoder();

/**
 * Up to this many bytes the JS loop decodes. Measured on Node 20 (ASCII): the loop costs ~5 ns
 * per byte, utf8Slice ~45 ns flat up to 24 bytes (crossing at 8-10), TextDecoder ~75 ns
 * (crossing at ~12).
 */
const SHORT_DECODE = nodeUtf8Slice ? 8 : 10;

export function decodeUtf8(bytes: Uint8Array, start: number, end: number): string {
  const len = end - start;
  if (len === 0) return "";
  if (len <= SHORT_DECODE) {
    let s = "";
    for (let i = start; i < end; i++) {
      const b = bytes[i]!;
      if (b >= 0x80) return decodeLong(bytes, start, end);
      s += String.fromCharCode(b);
    }
    return s;
  }
  return decodeLong(bytes, start, end);
}

function decodeLong(bytes: Uint8Array, start: number, end: number): string {
  if (nodeUtf8Slice) return utf8Slice!.call(bytes, start, end);
  return decoder.decode(bytes.subarray(start, end));
}

/** Exact number of bytes `s` takes in UTF-8 (lone surrogates count as U+FFFD, 3 bytes). */
export function utf8Length(s: string): number {
  const n = s.length;
  let len = n;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) len += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        len += 2; // 4 bytes for 2 UTF-16 units
        i++;
      } else len += 2;
    } else len += 2;
  }
  return len;
}

/**
 * Strings up to this many UTF-16 units are written by the JS loop. Measured on Node 20 (ASCII):
 * encodeInto (~62 ns plus a subarray) and utf8Write (~65 ns) both beat the loop from ~24
 * characters.
 */
export const SHORT_ENCODE = 24;

/**
 * Encode `s` into `bytes` at `off`, which has room for the worst case (3 bytes per UTF-16 unit);
 * returns the bytes written. One pass: nothing sizes the string first.
 */
export function encodeUtf8Bounded(s: string, bytes: Uint8Array, off: number): number {
  const n = s.length;
  if (n <= SHORT_ENCODE) return encodeUtf8Js(s, bytes, off);
  if (nodeUtf8Write) return utf8Write!.call(bytes, s, off, n * 3);
  const r = encoder.encodeInto(s, bytes.subarray(off, off + n * 3));
  return r.written;
}

/** Write `s` as UTF-8 at `off`; the caller has sized the space with utf8Length. */
export function encodeUtf8Into(s: string, bytes: Uint8Array, off: number): void {
  const n = s.length;
  // One statement per branch, so that esbuild folds the test (see above).
  if (n <= SHORT_ENCODE) encodeUtf8Js(s, bytes, off);
  else if (nodeUtf8Write) utf8Write!.call(bytes, s, off, bytes.length - off);
  else encoder.encodeInto(s, bytes.subarray(off));
}

/** The JS encoder (TextEncoder's output: lone surrogates become U+FFFD); returns bytes written. */
function encodeUtf8Js(s: string, bytes: Uint8Array, off: number): number {
  const n = s.length;
  let o = off;
  for (let i = 0; i < n; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      bytes[o++] = c;
      continue;
    }
    if (c < 0x800) {
      bytes[o++] = 0xc0 | (c >> 6);
      bytes[o++] = 0x80 | (c & 0x3f);
      continue;
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const d = c <= 0xdbff && i + 1 < n ? s.charCodeAt(i + 1) : 0;
      if (d >= 0xdc00 && d <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
        bytes[o++] = 0xf0 | (c >> 18);
        bytes[o++] = 0x80 | ((c >> 12) & 0x3f);
        bytes[o++] = 0x80 | ((c >> 6) & 0x3f);
        bytes[o++] = 0x80 | (c & 0x3f);
        continue;
      }
      c = 0xfffd; // lone surrogate
    }
    bytes[o++] = 0xe0 | (c >> 12);
    bytes[o++] = 0x80 | ((c >> 6) & 0x3f);
    bytes[o++] = 0x80 | (c & 0x3f);
  }
  return o - off;
}
