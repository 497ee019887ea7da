/**
 * UTF-8 for Text fields. Short strings are decoded and encoded by a JS loop (TextDecoder and
 * TextEncoder have a fixed cost per call that dominates for the short strings most messages
 * hold); long strings go through the platform codec.
 */

const decoder = new TextDecoder("utf-8");
const encoder = new TextEncoder();

/**
 * Cut-offs measured on Node 20 (1e6 calls, ASCII): TextDecoder costs ~75 ns whatever the length
 * up to 200 bytes and beats a fromCharCode loop from ~12 bytes; encodeInto (~62 ns) beats a
 * charCodeAt loop from ~24 characters.
 */
const SHORT_DECODE = 10;
/** Strings up to this many UTF-16 units are written by the JS loop. */
export const SHORT_ENCODE = 24;

export function decodeUtf8(bytes: Uint8Array, start: number, end: number): string {
  const len = end - start;
  if (len === 0) return "";
  if (len <= SHORT_DECODE) {
    let s = "";
    for (let i = start; i < end; i++) {
      const b = bytes[i]!;
      if (b >= 0x80) return decoder.decode(bytes.subarray(start, end));
      s += String.fromCharCode(b);
    }
    return s;
  }
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

/** Write `s` as UTF-8 at `off`; the caller has sized the space with utf8Length. */
/**
 * Encode `s` into `bytes[off, off + max)` in one native pass; returns the bytes written, or -1
 * when it did not fit (the caller then sizes the string first).
 */
export function encodeUtf8Bounded(s: string, bytes: Uint8Array, off: number, max: number): number {
  const r = encoder.encodeInto(s, bytes.subarray(off, off + max));
  return r.read === s.length ? r.written : -1;
}

export function encodeUtf8Into(s: string, bytes: Uint8Array, off: number): void {
  const n = s.length;
  if (n <= SHORT_ENCODE) {
    let i = 0;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      bytes[off + i] = c;
    }
    if (i === n) return;
    encoder.encodeInto(s.substring(i), bytes.subarray(off + i));
    return;
  }
  encoder.encodeInto(s, bytes.subarray(off));
}
