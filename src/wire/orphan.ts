/**
 * Orphans: objects of a message that no pointer refers to, so they can be moved between fields
 * without copying (C++ `Orphan<T>`). Disowning a field detaches its object; adopting attaches it
 * elsewhere in the same message. An orphan must be adopted by the message that owns it.
 */

import type { BuilderArena } from "./arena.js";
import { UNLIMITED_NESTING } from "./arena.js";
import { CapnpError } from "./errors.js";
import { KIND_LIST, KIND_OTHER, KIND_STRUCT, R, resolve, writePointer } from "./pointer.js";
import type { Segment } from "./segment.js";
import type { StructBuilderCtor } from "./struct.js";
import { clearPointer } from "./write.js";

export class Orphan {
  readonly _arena: BuilderArena;
  /** Where the object is: segment, byte offset of its content, and its pointer tag. */
  private _seg: Segment | null;
  private _off: number;
  private _lo: number;
  private _hi: number;

  private constructor(arena: BuilderArena, seg: Segment | null, off: number, lo: number, hi: number) {
    this._arena = arena;
    this._seg = seg;
    this._off = off;
    this._lo = lo;
    this._hi = hi;
  }

  /** Detach the object behind `p` (which becomes null). */
  static disown(arena: BuilderArena, seg: Segment, p: number): Orphan {
    let o: Orphan;
    if (!resolve(arena, seg, p)) o = new Orphan(arena, null, 0, 0, 0);
    else o = new Orphan(arena, R.seg, R.off, R.lo, R.hi);
    // Drop the pointer but keep the object (and any far landing pad stays as garbage words).
    seg.view.setUint32(p, 0, true);
    seg.view.setUint32(p + 4, 0, true);
    return o;
  }

  /** A new struct orphan of the given size (C++ `Orphanage::newOrphan`). */
  static newStruct(arena: BuilderArena, dataWords: number, ptrCount: number): Orphan {
    arena.allocate(dataWords + ptrCount);
    return new Orphan(
      arena,
      arena.allocSeg,
      arena.allocOff,
      KIND_STRUCT,
      (dataWords | (ptrCount << 16)) >>> 0,
    );
  }

  /** A builder over a struct orphan (the orphan keeps ownership until adopted). */
  getAs<T>(ctor: StructBuilderCtor<T>): T {
    const s = this._seg;
    if (s === null || (this._lo & 3) !== KIND_STRUCT) throw new CapnpError("Orphan is not a struct.");
    const dw = this._hi & 0xffff;
    return new ctor(
      this._arena,
      s,
      this._off,
      dw * 8,
      this._off + dw * 8,
      this._hi >>> 16,
      UNLIMITED_NESTING,
    );
  }

  get isNull(): boolean {
    return this._seg === null;
  }
  get kind(): "null" | "struct" | "list" | "capability" {
    if (this._seg === null) return "null";
    const k = this._lo & 3;
    return k === KIND_STRUCT ? "struct" : k === KIND_LIST ? "list" : "capability";
  }

  /** Point `p` (of this orphan's message) at the object; the orphan is consumed. */
  adoptInto(arena: BuilderArena, seg: Segment, p: number): void {
    if (arena !== this._arena)
      throw new CapnpError("An orphan can only be adopted into the message that owns it.");
    clearPointer(arena, seg, p);
    const s = this._seg;
    if (s !== null) {
      if ((this._lo & 3) === KIND_OTHER) {
        seg.view.setUint32(p, this._lo, true);
        seg.view.setUint32(p + 4, this._hi, true);
      } else {
        writePointer(arena, seg, p, s, this._off, this._lo & 3, this._hi);
      }
    }
    this._seg = null;
  }
}
