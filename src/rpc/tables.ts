/**
 * The four tables' containers (rpc.c++ ExportTable / ImportTable).
 *
 * IDs we choose (questions, exports, embargoes) are allocated lowest-free-first, "like Unix file
 * descriptors" (rpc.capnp); the C++ tests depend on it (rpc-test.c++ "export the same promise
 * twice", "when OutgoingRpcMessage::send() throws, we don't leak exports"). IDs the peer chooses
 * (answers, imports) are kept in a map.
 */

/** Table of entries whose IDs this side allocates. */
export class ExportTable<T> {
  private slots: (T | undefined)[] = [];
  /** Min-heap of free IDs below slots.length. */
  private free: number[] = [];
  private live = 0;

  get size(): number {
    return this.live;
  }

  find(id: number): T | undefined {
    return this.slots[id];
  }

  /** Store `entry` under the lowest free ID and return that ID. */
  add(entry: T): number {
    let id: number;
    if (this.free.length > 0) id = this.popFree();
    else {
      id = this.slots.length;
      this.slots.push(undefined);
    }
    this.slots[id] = entry;
    this.live++;
    return id;
  }

  erase(id: number): T | undefined {
    const e = this.slots[id];
    if (e === undefined) return undefined;
    this.slots[id] = undefined;
    this.live--;
    if (id === this.slots.length - 1 && this.free.length === 0) {
      this.slots.pop();
    } else {
      this.pushFree(id);
    }
    return e;
  }

  forEach(f: (id: number, entry: T) => void): void {
    for (let i = 0; i < this.slots.length; i++) {
      const e = this.slots[i];
      if (e !== undefined) f(i, e);
    }
  }

  /** Remove everything (returns the entries). */
  clear(): T[] {
    const out: T[] = [];
    for (const e of this.slots) if (e !== undefined) out.push(e);
    this.slots = [];
    this.free = [];
    this.live = 0;
    return out;
  }

  private pushFree(id: number): void {
    const h = this.free;
    h.push(id);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p]! <= h[i]!) break;
      [h[p], h[i]] = [h[i]!, h[p]!];
      i = p;
    }
  }

  private popFree(): number {
    const h = this.free;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && h[l]! < h[m]!) m = l;
        if (r < h.length && h[r]! < h[m]!) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i]!, h[m]!];
        i = m;
      }
    }
    return top;
  }
}

/** Table of entries whose IDs the peer allocates. */
export class ImportTable<T> {
  private map = new Map<number, T>();

  get size(): number {
    return this.map.size;
  }
  find(id: number): T | undefined {
    return this.map.get(id);
  }
  set(id: number, entry: T): void {
    this.map.set(id, entry);
  }
  erase(id: number): T | undefined {
    const e = this.map.get(id);
    if (e !== undefined) this.map.delete(id);
    return e;
  }
  forEach(f: (id: number, entry: T) => void): void {
    for (const [k, v] of this.map) f(k, v);
  }
  clear(): T[] {
    const out = [...this.map.values()];
    this.map.clear();
    return out;
  }
}
