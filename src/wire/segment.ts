/**
 * One segment of a message: a view over word-aligned bytes. Readers keep the caller's bytes
 * (no copy); builders own a buffer with spare capacity and track how much is in use.
 */
export class Segment {
  declare readonly id: number;
  /** The bytes of the segment (a builder's buffer may be longer than `end`). */
  declare bytes: Uint8Array;
  /** One cached DataView per segment: every field read goes through it. */
  declare view: DataView;
  /** Bytes in use: for readers the segment's length, for builders the allocation mark. */
  declare end: number;

  constructor(id: number, bytes: Uint8Array, end: number) {
    this.id = id;
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.end = end;
  }

  /** Free capacity, in bytes, at the end of a builder segment. */
  available(): number {
    return this.bytes.byteLength - this.end;
  }
}
