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

  /** The ID the next add() will return (the lowest free one). */
  nextId(): number {
    return this.free.length > 0 ? this.free[0]! : this.slots.length;
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

  /** Put `entry` in the place of the live entry `id` (a state transition). */
  replace(id: number, entry: T): void {
    this.slots[id] = entry;
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

/**
 * Table of entries whose IDs the peer allocates. A well-behaved peer allocates them lowest-free
 * first, so they are small and dense: those live in an array (a Map get/delete per message was
 * 11% of a pipelined-echo profile). The array takes an ID that grows it only if it lies within
 * DENSE_SLACK of the number of IDs it grew for so far, and below DENSE_LIMIT; other IDs go to a
 * Map. A hostile or odd peer may pick any 32-bit value: one Bootstrap at ID 65,535 made the array
 * 65,536 slots (512 KiB per connection for a 40-byte message). Now N slots cost the peer about N
 * messages with climbing IDs (jumps of 64 each do not get further), and the Map holds what it
 * holds. (Well-behaved IDs climb: a peer's questions in flight take IDs 0, 1, 2, ... lowest free
 * first.) An ID lives in one place; lookups that miss in the array try the Map, which exists only
 * for such peers.
 *
 * Once the array's top slot is free and half its length in erases has passed since the last
 * trim, it is trimmed back to the highest live entry, so the walk and the regrowth after it cost
 * a constant per erase. The price: after a burst the array keeps its length until that many more
 * erases come, which a connection that goes quiet may never make (bounded as above). (Trimming
 * at every erase of the top slot emptied and refilled the array for every call of a stream: the
 * peer's IDs climb to the thousands while its calls are in flight, each answer leaves at its
 * Return, so the table was empty after each call and the next one pushed thousands of slots
 * back, a third of a streaming server's time; BENCHMARKS.md, issue 17.)
 */
const DENSE_LIMIT = 1 << 16;
/** How far past the number of IDs it grew for the array may reach. */
const DENSE_SLACK = 64;

export class ImportTable<T> {
  private dense: (T | undefined)[] = [];
  private sparse: Map<number, T> | null = null;
  private live = 0;
  /** Erases since the array was last trimmed. */
  private erasesSinceTrim = 0;
  /** How many IDs the array grew for (trims do not lower it): it may grow to this + DENSE_SLACK. */
  private reach = 0;

  get size(): number {
    return this.live;
  }
  /** @internal Slots of the array (tests: what a burst of IDs leaves behind). */
  get denseLength(): number {
    return this.dense.length;
  }
  /** @internal Entries in the Map (tests: which IDs the array did not take). */
  get sparseSize(): number {
    return this.sparse?.size ?? 0;
  }
  find(id: number): T | undefined {
    const e = this.dense[id];
    return e !== undefined || this.sparse === null ? e : this.sparse.get(id);
  }
  set(id: number, entry: T): void {
    const d = this.dense;
    const m = this.sparse;
    if (m?.has(id)) {
      m.set(id, entry);
      return;
    }
    if (id < d.length || (id < DENSE_LIMIT && id < this.reach + DENSE_SLACK)) {
      if (id >= d.length) {
        this.reach++; // one more ID the array took by growing
        // Grow one slot at a time (push) so the array stays packed, never holey.
        while (d.length <= id) d.push(undefined);
      }
      if (d[id] === undefined) this.live++;
      d[id] = entry;
    } else {
      (this.sparse ??= new Map()).set(id, entry);
      this.live++;
    }
  }
  erase(id: number): T | undefined {
    const d = this.dense;
    const e = d[id];
    if (e === undefined) {
      const s = this.sparse?.get(id);
      if (s === undefined) return undefined;
      this.sparse!.delete(id);
      this.live--;
      return s;
    }
    d[id] = undefined;
    if (++this.erasesSinceTrim >= d.length >>> 1 && d[d.length - 1] === undefined) this.trim();
    this.live--;
    return e;
  }
  forEach(f: (id: number, entry: T) => void): void {
    const d = this.dense;
    for (let i = 0; i < d.length; i++) {
      const e = d[i];
      if (e !== undefined) f(i, e);
    }
    if (this.sparse !== null) for (const [k, v] of this.sparse) f(k, v);
  }
  clear(): T[] {
    const out: T[] = [];
    for (const e of this.dense) if (e !== undefined) out.push(e);
    // A loop, not push(...values): a peer may have put hundreds of thousands of entries here,
    // more arguments than a call takes ("Maximum call stack size exceeded" at disconnect).
    if (this.sparse !== null) for (const e of this.sparse.values()) out.push(e);
    this.dense = [];
    this.sparse = null;
    this.live = 0;
    this.erasesSinceTrim = 0;
    this.reach = 0;
    return out;
  }
  /** Drop the array's free slots above the highest live entry. */
  private trim(): void {
    this.erasesSinceTrim = 0;
    const d = this.dense;
    let n = d.length;
    while (n > 0 && d[n - 1] === undefined) n--;
    if (n < d.length) d.length = n;
  }
}
