/**
 * Small buffers carved from a shared slab: a fresh small Uint8Array costs more than what is
 * usually done with it (an ArrayBuffer allocation, external-memory accounting, GC pressure). The
 * slab only moves forward and a new one replaces it when it runs out, so no byte is handed out
 * twice; a slab is freed when nothing carved from it is alive any more, so a slab should serve
 * buffers of similar lifetimes. Requests larger than `carveMax` get their own buffer.
 */
export class Slab {
  private slab: Uint8Array | null = null;
  private pos = 0;
  private readonly slabBytes: number;
  private readonly carveMax: number;

  constructor(slabBytes: number, carveMax: number) {
    this.slabBytes = slabBytes;
    this.carveMax = carveMax;
  }

  /** A zeroed buffer of `bytes` bytes (word-aligned within the slab). */
  take(bytes: number): Uint8Array {
    if (bytes > this.carveMax) return new Uint8Array(bytes);
    let s = this.slab;
    if (s === null || this.pos + bytes > this.slabBytes) {
      s = this.slab = new Uint8Array(this.slabBytes);
      this.pos = 0;
    }
    const b = s.subarray(this.pos, this.pos + bytes);
    this.pos += (bytes + 7) & ~7;
    return b;
  }
}
