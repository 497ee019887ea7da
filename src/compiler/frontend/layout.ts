/**
 * Struct layout exactly as capnp computes it (`NodeTranslator::StructLayout` in
 * c++/src/capnp/compiler/node-translator.c++): fields are placed in ordinal order, each data field
 * in the smallest hole that fits (holes are power-of-two sized and aligned), and the members of a
 * union share space: a group inside a union reuses the union's data locations and pointers,
 * expanding a location in place when the space behind it is free. Offsets are in units of the
 * field's own size, as in schema.capnp.
 */

/**
 * capnp 0.5 and older laid out some unions nested in unions wrongly (issue 344); capnp since
 * refuses the schemas that layout would have differed on (unless CAPNP_IGNORE_ISSUE_344 is set),
 * and so do we.
 */
export class Issue344Error extends Error {
  constructor() {
    super(
      "Bad news: Cap'n Proto 0.5.x and previous contained a bug which would cause this schema to be compiled incorrectly. Please see: https://github.com/sandstorm-io/capnproto/issues/344",
    );
  }
}

/** Free holes by log2 size (bits): holes[lg] is the offset (in 2^lg-bit units) of a free hole or 0. */
class HoleSet {
  readonly holes = [0, 0, 0, 0, 0, 0];

  tryAllocate(lgSize: number): number | undefined {
    if (lgSize >= this.holes.length) return undefined;
    if (this.holes[lgSize] !== 0) {
      const r = this.holes[lgSize]!;
      this.holes[lgSize] = 0;
      return r;
    }
    const next = this.tryAllocate(lgSize + 1);
    if (next === undefined) return undefined;
    const r = next * 2;
    this.holes[lgSize] = r + 1;
    return r;
  }

  addHolesAtEnd(lgSize: number, offset: number, limitLgSize = 6): void {
    while (lgSize < limitLgSize) {
      this.holes[lgSize] = offset;
      ++lgSize;
      offset = (offset + 1) >>> 1;
    }
  }

  tryExpand(oldLgSize: number, oldOffset: number, expansionFactor: number): boolean {
    if (expansionFactor === 0) return true;
    if (oldLgSize === this.holes.length) return false;
    if (this.holes[oldLgSize] !== oldOffset + 1) return false;
    if (this.tryExpand(oldLgSize + 1, oldOffset >>> 1, expansionFactor - 1)) {
      this.holes[oldLgSize] = 0;
      return true;
    }
    return false;
  }

  smallestAtLeast(size: number): number | undefined {
    for (let i = size; i < this.holes.length; i++) if (this.holes[i] !== 0) return i;
    return undefined;
  }
}

export interface StructOrGroup {
  addVoid(): void;
  addData(lgSize: number): number;
  addPointer(): number;
  tryExpandData(oldLgSize: number, oldOffset: number, expansionFactor: number): boolean;
}

export class TopLayout implements StructOrGroup {
  dataWordCount = 0;
  pointerCount = 0;
  private readonly holes = new HoleSet();
  addVoid(): void {}
  addData(lgSize: number): number {
    const hole = this.holes.tryAllocate(lgSize);
    if (hole !== undefined) return hole;
    const offset = this.dataWordCount++ << (6 - lgSize);
    this.holes.addHolesAtEnd(lgSize, offset + 1);
    return offset;
  }
  addPointer(): number {
    return this.pointerCount++;
  }
  tryExpandData(oldLgSize: number, oldOffset: number, expansionFactor: number): boolean {
    return this.holes.tryExpand(oldLgSize, oldOffset, expansionFactor);
  }
}

interface DataLocation {
  lgSize: number;
  offset: number;
}

export class UnionLayout {
  groupCount = 0;
  discriminantOffset: number | undefined;
  readonly dataLocations: DataLocation[] = [];
  readonly pointerLocations: number[] = [];
  constructor(readonly parent: StructOrGroup) {}

  tryExpandTo(loc: DataLocation, newLgSize: number): boolean {
    if (newLgSize <= loc.lgSize) return true;
    if (this.parent.tryExpandData(loc.lgSize, loc.offset, newLgSize - loc.lgSize)) {
      loc.offset >>>= newLgSize - loc.lgSize;
      loc.lgSize = newLgSize;
      return true;
    }
    return false;
  }
  addNewDataLocation(lgSize: number): number {
    const offset = this.parent.addData(lgSize);
    this.dataLocations.push({ lgSize, offset });
    return offset;
  }
  addNewPointerLocation(): number {
    const p = this.parent.addPointer();
    this.pointerLocations.push(p);
    return p;
  }
  newGroupAddingFirstMember(): void {
    if (++this.groupCount === 2) this.addDiscriminant();
  }
  /** False when the discriminant was already placed. */
  addDiscriminant(): boolean {
    if (this.discriminantOffset !== undefined) return false;
    this.discriminantOffset = this.parent.addData(4);
    return true;
  }
}

/** How one group of a union uses one of the union's data locations. */
class DataLocationUsage {
  isUsed: boolean;
  lgSizeUsed: number;
  readonly holes = new HoleSet();
  constructor(lgSize?: number) {
    this.isUsed = lgSize !== undefined;
    this.lgSizeUsed = lgSize ?? 0;
  }

  smallestHoleAtLeast(loc: DataLocation, lgSize: number): number | undefined {
    if (!this.isUsed) return lgSize <= loc.lgSize ? loc.lgSize : undefined;
    if (lgSize >= this.lgSizeUsed) return lgSize < loc.lgSize ? lgSize : undefined;
    const h = this.holes.smallestAtLeast(lgSize);
    if (h !== undefined) return h;
    return this.lgSizeUsed < loc.lgSize ? this.lgSizeUsed : undefined;
  }

  allocateFromHole(loc: DataLocation, lgSize: number): number {
    let result: number;
    if (!this.isUsed) {
      result = 0;
      this.isUsed = true;
      this.lgSizeUsed = lgSize;
    } else if (lgSize >= this.lgSizeUsed) {
      this.holes.addHolesAtEnd(this.lgSizeUsed, 1, lgSize);
      this.lgSizeUsed = lgSize + 1;
      result = 1;
    } else {
      const hole = this.holes.tryAllocate(lgSize);
      if (hole !== undefined) result = hole;
      else {
        result = 1 << (this.lgSizeUsed - lgSize);
        this.holes.addHolesAtEnd(lgSize, result + 1, this.lgSizeUsed);
        this.lgSizeUsed += 1;
      }
    }
    return (loc.offset << (loc.lgSize - lgSize)) + result;
  }

  tryAllocateByExpanding(u: UnionLayout, loc: DataLocation, lgSize: number): number | undefined {
    if (!this.isUsed) {
      if (!u.tryExpandTo(loc, lgSize)) return undefined;
      this.isUsed = true;
      this.lgSizeUsed = lgSize;
      return loc.offset << (loc.lgSize - lgSize);
    }
    const newSize = Math.max(this.lgSizeUsed, lgSize) + 1;
    if (!this.tryExpandUsage(u, loc, newSize, true)) return undefined;
    const r = this.holes.tryAllocate(lgSize)!;
    return (loc.offset << (loc.lgSize - lgSize)) + r;
  }

  tryExpand(
    u: UnionLayout,
    loc: DataLocation,
    oldLgSize: number,
    oldOffset: number,
    factor: number,
  ): boolean {
    if (oldOffset === 0 && this.lgSizeUsed === oldLgSize)
      return this.tryExpandUsage(u, loc, oldLgSize + factor, false);
    return this.holes.tryExpand(oldLgSize, oldOffset, factor);
  }

  private tryExpandUsage(u: UnionLayout, loc: DataLocation, desired: number, newHoles: boolean): boolean {
    if (desired > loc.lgSize && !u.tryExpandTo(loc, desired)) return false;
    if (newHoles) this.holes.addHolesAtEnd(this.lgSizeUsed, 1, desired);
    else throw new Issue344Error();
    this.lgSizeUsed = desired;
    return true;
  }
}

/** A member of a union (a field alone, or a group / named union): shares the union's space. */
export class GroupLayout implements StructOrGroup {
  private readonly usage: DataLocationUsage[] = [];
  private pointerUsage = 0;
  private hasMembers = false;
  constructor(readonly parent: UnionLayout) {}

  private addMember(): void {
    if (!this.hasMembers) {
      this.hasMembers = true;
      this.parent.newGroupAddingFirstMember();
    }
  }
  addVoid(): void {
    this.addMember();
    this.parent.parent.addVoid();
  }
  addData(lgSize: number): number {
    this.addMember();
    const locs = this.parent.dataLocations;
    let bestSize = Number.MAX_SAFE_INTEGER;
    let best: number | undefined;
    for (let i = 0; i < locs.length; i++) {
      if (this.usage.length === i) this.usage.push(new DataLocationUsage());
      const hole = this.usage[i]!.smallestHoleAtLeast(locs[i]!, lgSize);
      if (hole !== undefined && hole < bestSize) {
        bestSize = hole;
        best = i;
      }
    }
    if (best !== undefined) return this.usage[best]!.allocateFromHole(locs[best]!, lgSize);
    for (let i = 0; i < locs.length; i++) {
      const r = this.usage[i]!.tryAllocateByExpanding(this.parent, locs[i]!, lgSize);
      if (r !== undefined) return r;
    }
    const r = this.parent.addNewDataLocation(lgSize);
    this.usage.push(new DataLocationUsage(lgSize));
    return r;
  }
  addPointer(): number {
    this.addMember();
    if (this.pointerUsage < this.parent.pointerLocations.length)
      return this.parent.pointerLocations[this.pointerUsage++]!;
    this.pointerUsage++;
    return this.parent.addNewPointerLocation();
  }
  tryExpandData(oldLgSize: number, oldOffset: number, factor: number): boolean {
    // An expansion capnp 0.5 would have allowed here (issue 344): refused if it would succeed.
    const mustFail = oldLgSize + factor > 6 || (oldOffset & ((1 << factor) - 1)) !== 0;
    for (let i = 0; i < this.usage.length; i++) {
      const loc = this.parent.dataLocations[i]!;
      if (loc.lgSize >= oldLgSize && oldOffset >>> (loc.lgSize - oldLgSize) === loc.offset) {
        const localOldOffset = oldOffset - (loc.offset << (loc.lgSize - oldLgSize));
        const result = this.usage[i]!.tryExpand(this.parent, loc, oldLgSize, localOldOffset, factor);
        if (mustFail && result) throw new Issue344Error();
        return result;
      }
    }
    throw new Error("capnts internal error: tried to expand a field that was never allocated");
  }
}
