/**
 * UTF-8 for Text fields. Short strings are decoded and encoded by a JS loop (the platform codecs
 * have a fixed cost per call that dominates for the short strings most messages hold); long
 * strings go through the fastest platform codec available.
 *
 * On Node that is Buffer's `utf8Slice` / `utf8Write` (called on plain Uint8Arrays): C++ bindings
 * without TextDecoder's and TextEncoder's JS wrappers, and they take offsets, so no `subarray`
 * per call. Measured on Node 20, 70-100 byte ASCII strings: utf8Slice 64-104 ns against
 * TextDecoder 107-179 ns; utf8Write 65 ns against encodeInto + subarray 80 ns. Elsewhere (or if
 * they ever disagree with the WHATWG codecs on the probe below) TextDecoder/TextEncoder are used.
 */

// ignoreBOM: a Text that starts with U+FEFF keeps it (the default decoder would drop it, so a
// string written by setText would not read back the same).
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });
const encoder = new TextEncoder();

type Utf8Slice = (this: Uint8Array, start: number, end: number) => string;
type Utf8Write = (this: Uint8Array, s: string, offset: number, length: number) => number;

interface NodeBufferProto {
  utf8Slice?: Utf8Slice;
  utf8Write?: Utf8Write;
}

function nodeBufferProto(): NodeBufferProto | undefined {
  const B = (globalThis as { Buffer?: { prototype?: NodeBufferProto } }).Buffer;
  return B?.prototype;
}

/**
 * Node's utf8Slice, if present and if it decodes like TextDecoder: a BOM kept, invalid bytes as
 * U+FFFD per maximal subpart.
 */
const utf8Slice: Utf8Slice | undefined = /* @__PURE__ */ (() => {
  const f = nodeBufferProto()?.utf8Slice;
  if (typeof f !== "function") return undefined;
  try {
    const probe = new Uint8Array([
      0xef, 0xbb, 0xbf, 0x41, 0xc3, 0xa9, 0xe2, 0x82, 0xf0, 0x9f, 0x98, 0x80, 0x80, 0xff,
    ]);
    return f.call(probe, 0, probe.length) === decoder.decode(probe) ? f : undefined;
  } catch {
    return undefined;
  }
})();

/**
 * Node's utf8Write, if present and if it encodes like TextEncoder (lone surrogates as U+FFFD).
 */
const utf8Write: Utf8Write | undefined = /* @__PURE__ */ (() => {
  const f = nodeBufferProto()?.utf8Write;
  if (typeof f !== "function") return undefined;
  try {
    const s = "A\u00e9\u20ac\ud83d\ude00\ud800x\udc00";
    const want = encoder.encode(s);
    const got = new Uint8Array(s.length * 3);
    const n = f.call(got, s, 0, got.length);
    if (n !== want.length) return undefined;
    for (let i = 0; i < n; i++) if (got[i] !== want[i]) return undefined;
    return f;
  } catch {
    return undefined;
  }
})();

/**
 * Up to this many bytes the JS loop decodes. Measured on Node 20 (ASCII): the loop costs ~5 ns
 * per byte, utf8Slice ~45 ns flat up to 24 bytes (crossing at 8-10), TextDecoder ~75 ns
 * (crossing at ~12).
 */
const SHORT_DECODE = utf8Slice !== undefined ? 8 : 10;

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
  if (utf8Slice !== undefined) return utf8Slice.call(bytes, start, end);
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
  if (utf8Write !== undefined) return utf8Write.call(bytes, s, off, n * 3);
  const r = encoder.encodeInto(s, bytes.subarray(off, off + n * 3));
  return r.written;
}

/** Write `s` as UTF-8 at `off`; the caller has sized the space with utf8Length. */
export function encodeUtf8Into(s: string, bytes: Uint8Array, off: number): void {
  const n = s.length;
  if (n <= SHORT_ENCODE) {
    encodeUtf8Js(s, bytes, off);
    return;
  }
  if (utf8Write !== undefined) {
    utf8Write.call(bytes, s, off, bytes.length - off);
    return;
  }
  encoder.encodeInto(s, bytes.subarray(off));
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
