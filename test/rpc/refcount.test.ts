/**
 * Reference counting (src/rpc/hooks.ts RefCounted): the last release() destroys, and a destroy
 * that releases what it held destroys that in turn, however long the chain.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { RefCounted } from "../../src/rpc/hooks.js";

/** Holds the next link; records when its destroy() starts and ends. */
class Link extends RefCounted {
  /** destroy() throws after releasing the next link. */
  throws = false;
  constructor(
    readonly id: number,
    private readonly next: Link | null,
    private readonly log: string[],
  ) {
    super();
  }
  protected override destroy(): void {
    this.log.push(`+${this.id}`);
    this.next?.release();
    this.log.push(`-${this.id}`);
    if (this.throws) throw new Error(`link ${this.id} failed`);
  }
}

function chain(n: number, log: string[]): Link[] {
  const links: Link[] = [];
  let next: Link | null = null;
  for (let i = n - 1; i >= 0; i--) {
    next = new Link(i, next, log);
    links.unshift(next);
  }
  return links;
}

test("RefCounted: a short chain is destroyed within its holder's destroy(), as before", () => {
  const log: string[] = [];
  const links = chain(3, log);
  links[0]!.release();
  assert.deepEqual(log, ["+0", "+1", "+2", "-2", "-1", "-0"]);
  assert.ok(links.every((l) => l._refs === 0));
});

test("RefCounted: releasing the head of a 200k-link chain destroys every link without overflowing the stack", () => {
  // A peer can make such chains (a promise resolved to a promise, one Resolve per link):
  // destroying them recursively threw "Maximum call stack size exceeded" part way.
  const log: string[] = [];
  const n = 200_000;
  const links = chain(n, log);
  links[0]!.release();
  assert.equal(log.length, 2 * n);
  assert.ok(links.every((l) => l._refs === 0));
  const started = new Set(log.filter((e) => e.startsWith("+")));
  assert.equal(started.size, n, "each link destroyed once");
  // A later release starts from depth 0 again: nothing was left waiting.
  const more: string[] = [];
  chain(2, more)[0]!.release();
  assert.deepEqual(more, ["+0", "+1", "-1", "-0"]);
});

test("RefCounted: a destroy() that throws does not leave the rest of a long chain undestroyed; its error is rethrown", () => {
  const log: string[] = [];
  const links = chain(300, log);
  links[0]!.throws = true; // the outermost
  links[100]!.throws = true; // one destroyed from the queue
  assert.throws(() => links[0]!.release(), /link 0 failed/);
  assert.ok(
    links.every((l) => l._refs === 0),
    "every link destroyed",
  );
  assert.equal(log.filter((e) => e.startsWith("+")).length, 300);
  // Nothing is left queued: a new chain's release is nested as usual.
  const more: string[] = [];
  chain(2, more)[0]!.release();
  assert.deepEqual(more, ["+0", "+1", "-1", "-0"]);
});

test("RefCounted: the error of a hook destroyed from the queue is rethrown when the outermost one succeeds", () => {
  const log: string[] = [];
  const links = chain(300, log);
  links[100]!.throws = true;
  assert.throws(() => links[0]!.release(), /link 100 failed/);
  assert.ok(links.every((l) => l._refs === 0));
  assert.equal(log.filter((e) => e.startsWith("+")).length, 300);
});
