/**
 * UTF-8 for Text fields. Short strings are decoded and encoded by a JS loop (TextDecoder and
 * TextEncoder have a fixed cost per call that dominates for the short strings most messages
 * hold); long strings go through the platform codec.
 */

const decoder = new TextDecoder("utf-8");
const encoder = new TextEncoder();

/** Below this many bytes a JS loop beats TextDecoder (to be tuned by the benchmarks). */
const SHORT_DECODE = 32;
const SHORT_ENCODE = 64;

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
