/**
 * Node's fast paths for text.ts and arena.ts, each found by probing `globalThis.Buffer` (so this
 * module runs anywhere, and gives `undefined` where there is no Buffer or it behaves differently).
 * Imported as `#platform` (package.json `imports`): browser bundles get ./platform-browser.ts
 * instead, since the probes and the branches that use their results would only be dead weight
 * there.
 */
import type { AllocUnsafe, Utf8Slice, Utf8Write } from "./platform-browser.js";

interface NodeBufferProto {
  utf8Slice?: Utf8Slice;
  utf8Write?: Utf8Write;
}

function nodeBufferProto(): NodeBufferProto | undefined {
  const B = (globalThis as { Buffer?: { prototype?: NodeBufferProto } }).Buffer;
  return B?.prototype;
}

/**
 * Node's utf8Slice, if present and if it decodes like TextDecoder (text.ts's, which keeps a BOM):
 * a BOM kept, invalid bytes as U+FFFD per maximal subpart.
 */
export const utf8Slice: Utf8Slice | undefined = /* @__PURE__ */ (() => {
  const f = nodeBufferProto()?.utf8Slice;
  if (typeof f !== "function") return undefined;
  try {
    const probe = new Uint8Array([
      0xef, 0xbb, 0xbf, 0x41, 0xc3, 0xa9, 0xe2, 0x82, 0xf0, 0x9f, 0x98, 0x80, 0x80, 0xff,
    ]);
    const decoder = new TextDecoder("utf-8", { ignoreBOM: true });
    return f.call(probe, 0, probe.length) === decoder.decode(probe) ? f : undefined;
  } catch {
    return undefined;
  }
})();

/**
 * Node's utf8Write, if present and if it encodes like TextEncoder (lone surrogates as U+FFFD).
 */
export const utf8Write: Utf8Write | undefined = /* @__PURE__ */ (() => {
  const f = nodeBufferProto()?.utf8Write;
  if (typeof f !== "function") return undefined;
  try {
    const s = "A\u00e9\u20ac\ud83d\ude00\ud800x\udc00";
    const want = new TextEncoder().encode(s);
    const got = new Uint8Array(s.length * 3);
    const n = f.call(got, s, 0, got.length);
    if (n !== want.length) return undefined;
    for (let i = 0; i < n; i++) if (got[i] !== want[i]) return undefined;
    return f;
  } catch {
    return undefined;
  }
})();

/** Node's Buffer.allocUnsafeSlow (uninitialised memory for arena.ts's slabs). */
export const allocUnsafe: AllocUnsafe | undefined = /* @__PURE__ */ (() => {
  const f = (globalThis as { Buffer?: { allocUnsafeSlow?: AllocUnsafe } }).Buffer?.allocUnsafeSlow;
  return typeof f === "function" ? f : undefined;
})();
