/**
 * A random-action behaviour fuzzer (after OCaml capnp-rpc's, which finds embargo bugs in seconds):
 * three vats, each pair connected by in-memory transports whose messages the fuzzer delivers one
 * at a time, in an order it picks. At each step it does one random thing: a call on a reference it
 * holds, a pipelined `echo` that hands a capability to another vat and returns it (a promise that
 * resolves to a capability in any vat: local, the callee's, or a third one, so resolution and
 * embargoes happen), a deferred echo answered or failed, a reference dup()ed or closed, a call
 * canceled, one message delivered, or the run queue drained.
 *
 * The oracle is E-order (rpc.capnp: calls made on one reference are delivered in the order they
 * were made, across promise resolution and embargoes): every call carries its reference and its
 * sequence number, and the target checks that, per reference, they arrive in increasing order.
 * At the end every message is delivered, every call must have settled, and once every reference
 * is closed every table of every connection is empty and every object made is destroyed (counted
 * by the objects themselves) — with the connections still up. After every step, every
 * connection's tables keep their own rules (`checkInvariants` of capnts/testing,
 * src/rpc/invariants.ts).
 *
 * Seeded. CAPNTS_FUZZ_RUNS (default 150 runs), CAPNTS_FUZZ_STEPS (150), CAPNTS_FUZZ_VATS (3) and
 * CAPNTS_FUZZ_SEED widen the search; CAPNTS_FUZZ_TRACE replays an action list and prints what
 * every step did, every message delivered included.
 * A failure prints the seed and the shortest action list found that still fails.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { type RemotePromise, RpcError } from "capnts/rpc";
// CAPNTS_FUZZ_TRACE prints messages in capnp text format: the printer comes with capnts/schema.
import "capnts/schema";
import { checkInvariants as checkConnection, dump, whenIdle } from "capnts/testing";
import { Message_Reader } from "../../src/gen/rpc.capnp.js";
import { RpcConnection } from "../../src/rpc/connection.js";
import { type MemoryTransport, newMemoryTransportPair } from "../../src/rpc/memory-transport.js";
import {
  TestCallOrder_getCallSequence_Params_Reader,
  TestMoreStuff,
  TestMoreStuff_Client,
} from "../interop/gen/test.capnp.js";

const RUNS = Number(process.env.CAPNTS_FUZZ_RUNS ?? 150);
const STEPS = Number(process.env.CAPNTS_FUZZ_STEPS ?? 150);
const SEED = Number(process.env.CAPNTS_FUZZ_SEED ?? 1);
const VATS = Number(process.env.CAPNTS_FUZZ_VATS ?? 3);
const TRACE = process.env.CAPNTS_FUZZ_TRACE;

/** xorshift32: small, deterministic. */
function rng(seed: number): (n: number) => number {
  let x = seed | 0 || 1;
  return (n) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
}

/** One action, with its choices as numbers (resolved against the world's state when replayed). */
type Action =
  | { kind: "call"; h: number }
  | { kind: "echo"; h: number; arg: number; defer: boolean }
  | { kind: "answer"; i: number; fail: boolean }
  | { kind: "dup"; h: number }
  | { kind: "close"; h: number }
  | { kind: "cancel"; i: number }
  | { kind: "deliver"; t: number }
  | { kind: "drain" };

function randomAction(r: (n: number) => number): Action {
  const k = r(100);
  if (k < 28) return { kind: "call", h: r(1 << 16) };
  if (k < 43) return { kind: "echo", h: r(1 << 16), arg: r(1 << 16), defer: r(2) === 0 };
  if (k < 50) return { kind: "answer", i: r(1 << 16), fail: r(5) === 0 };
  if (k < 54) return { kind: "dup", h: r(1 << 16) };
  if (k < 60) return { kind: "close", h: r(1 << 16) };
  if (k < 63) return { kind: "cancel", i: r(1 << 16) };
  if (k < 95) return { kind: "deliver", t: r(1 << 16) };
  return { kind: "drain" };
}

interface Handle {
  readonly id: number;
  readonly vat: number;
  readonly client: TestMoreStuff_Client;
  seq: number;
}

/** What the fuzzer keeps of a call. */
type Call = Pick<RemotePromise<unknown>, "cancel" | "then">;

/** A deferred echo waiting for the fuzzer to answer it. */
interface PendingEcho {
  answer(fail: boolean): void;
}

class World {
  readonly handles: Handle[] = [];
  readonly pending: PendingEcho[] = [];
  readonly calls: { rp: Call; settled: boolean }[] = [];
  readonly transports: MemoryTransport[] = [];
  readonly transportVat: number[] = [];
  readonly conns: RpcConnection[] = [];
  readonly violations: string[] = [];
  readonly bootRefs: TestMoreStuff_Client[];
  /** Whether echoes called from now on wait for an "answer" action (else they return at once). */
  deferEchoes = false;
  objectsMade = 0;
  objectsGone = 0;
  private nextHandle = 1;

  constructor(readonly vats: number) {
    const boots = Array.from({ length: vats }, (_, v) => this.newObject(v));
    // Each vat keeps its bootstrap alive for the whole run (a server whose last reference goes
    // would start a new life when a peer bootstraps again, and be counted twice).
    this.bootRefs = boots.map((b) => new TestMoreStuff_Client(b));
    // Each vat holds its own bootstrap object locally, and a bootstrap of each peer.
    for (let v = 0; v < vats; v++) this.adopt(v, new TestMoreStuff_Client(boots[v]!));
    for (let a = 0; a < vats; a++) {
      for (let b = a + 1; b < vats; b++) {
        const [ta, tb] = newMemoryTransportPair();
        ta.hold = true;
        tb.hold = true;
        const ca = new RpcConnection(ta, { bootstrap: () => boots[a]!._client() });
        const cb = new RpcConnection(tb, { bootstrap: () => boots[b]!._client() });
        ca.start();
        cb.start();
        this.transports.push(ta, tb);
        this.transportVat.push(a, b);
        this.conns.push(ca, cb);
        this.adopt(a, new TestMoreStuff_Client(ca.bootstrap()));
        this.adopt(b, new TestMoreStuff_Client(cb.bootstrap()));
      }
    }
  }

  adopt(vat: number, client: TestMoreStuff_Client): Handle {
    const h = { id: this.nextHandle++, vat, client, seq: 0 };
    this.handles.push(h);
    return h;
  }

  /** An object of vat `vat`: checks E-order per calling reference, echoes on demand. */
  newObject(vat: number) {
    this.objectsMade++;
    const lastSeq = new Map<number, number>();
    return TestMoreStuff.server({
      getCallSequence: (ctx) => {
        const ref = Math.floor(ctx.params.expected / 4096);
        const seq = ctx.params.expected % 4096;
        const last = lastSeq.get(ref) ?? -1;
        this.log(`  vat ${vat} object got #${ref} seq ${seq}`);
        if (seq <= last) this.violations.push(`reference ${ref}: call ${seq} delivered after call ${last}`);
        lastSeq.set(ref, seq);
        ctx.results.n = seq;
      },
      echo: (ctx) => {
        // The capability passed in becomes a reference this vat holds (first taker: ours).
        const cap = ctx.params.cap;
        const got = cap.castAs(TestMoreStuff_Client);
        cap.close();
        this.log(`  vat ${vat} echo received #${this.adopt(vat, got).id}`);
        const answer = (fail: boolean): void => {
          if (fail) throw new Error("echo failed on purpose");
          ctx.results.cap = got.closed ? null : got;
        };
        if (!this.deferEchoes) return answer(false);
        return new Promise<void>((resolve, reject) => {
          this.pending.push({
            answer(fail) {
              try {
                answer(fail);
                resolve();
              } catch (e) {
                reject(e);
              }
            },
          });
        });
      },
      [Symbol.dispose]: () => {
        this.objectsGone++;
      },
    } as Parameters<typeof TestMoreStuff.server>[0]);
  }

  pick<T>(list: T[], n: number): T | undefined {
    return list.length === 0 ? undefined : list[n % list.length];
  }

  /** CAPNTS_FUZZ_TRACE: what each action did, to read a failing run. */
  log(line: string): void {
    if (TRACE !== undefined) console.log(line);
  }

  async run(a: Action): Promise<void> {
    switch (a.kind) {
      case "call": {
        const h = this.pick(this.handles, a.h);
        if (h === undefined || h.seq >= 0xfff) return;
        const seq = h.seq++;
        this.log(`call #${h.id} (vat ${h.vat}) seq ${seq}`);
        this.track(h.client.getCallSequence((p) => (p.expected = h.id * 4096 + seq)));
        return;
      }
      case "echo": {
        const h = this.pick(this.handles, a.h);
        if (h === undefined) return;
        // The argument must be a reference of the calling vat.
        const mine = this.handles.filter((x) => x.vat === h.vat);
        const arg = this.pick(mine, a.arg)!;
        this.deferEchoes = a.defer;
        const rp = h.client.echo((p) => (p.cap = arg.client));
        this.track(rp);
        const piped = rp.pipeline.cap;
        const n = this.adopt(h.vat, piped.castAs(TestMoreStuff_Client));
        this.log(`echo on #${h.id} (vat ${h.vat}) of #${arg.id}${a.defer ? " deferred" : ""} -> #${n.id}`);
        piped.close(); // castAs made our own reference

        return;
      }
      case "answer": {
        if (this.pending.length === 0) return;
        const [p] = this.pending.splice(a.i % this.pending.length, 1);
        this.log(`answer an echo${a.fail ? " with an error" : ""}`);
        p!.answer(a.fail);
        return;
      }
      case "dup": {
        const h = this.pick(this.handles, a.h);
        if (h !== undefined) this.log(`dup #${h.id} -> #${this.adopt(h.vat, h.client.dup()).id}`);
        return;
      }
      case "close": {
        const h = this.pick(this.handles, a.h);
        if (h === undefined) return;
        this.handles.splice(this.handles.indexOf(h), 1);
        this.log(`close #${h.id}`);
        h.client.close();
        return;
      }
      case "cancel": {
        const c = this.pick(this.calls, a.i);
        c?.rp.cancel();
        return;
      }
      case "deliver": {
        const ready = this.transports.filter((t) => t.held.length > 0);
        const t = this.pick(ready, a.t);
        if (t !== undefined) this.logDelivery(t, t.held[0]!.getRoot(Message_Reader));
        t?.release(1);
        await whenIdle();
        return;
      }
      case "drain":
        await whenIdle();
        return;
    }
  }

  logDelivery(t: MemoryTransport, m: Message_Reader): void {
    if (TRACE === undefined) return;
    const i = this.transports.indexOf(t);
    if (TRACE !== "" && m.which === "call" && m.call.methodId === 0) {
      const e = m.call.params.content.getAs(TestCallOrder_getCallSequence_Params_Reader).expected;
      this.log(`  [getCallSequence #${Math.floor(e / 4096)} seq ${e % 4096}]`);
    }
    this.log(
      `deliver to transport ${i} (vat ${this.transportVat[i]}): ${TRACE === "" ? m.which : String(m).replace(/\s+/g, " ")}`,
    );
  }

  track(rp: Call): void {
    const c = { rp, settled: false };
    this.calls.push(c);
    rp.then(
      () => (c.settled = true),
      () => (c.settled = true),
    );
  }

  /** Deliver everything, answer every echo, until nothing moves. */
  async quiesce(): Promise<void> {
    for (let i = 0; i < 2000; i++) {
      let moved = false;
      for (const t of this.transports) {
        if (t.held.length > 0) {
          for (const m of t.held) this.logDelivery(t, m.getRoot(Message_Reader));
          t.release();
          moved = true;
        }
      }
      while (this.pending.length > 0) {
        this.pending.shift()!.answer(false);
        moved = true;
      }
      await whenIdle();
      await new Promise((r) => setImmediate(r));
      if (!moved && this.transports.every((t) => t.held.length === 0) && this.pending.length === 0) return;
    }
  }

  tables(): string {
    return JSON.stringify(this.conns.map((c) => c.tableSizes()));
  }
}

/** Replay `actions`; the failure, or null. `eOrder`: also fail on an E-order violation. */
async function replay(actions: readonly Action[], eOrder: boolean, vats = VATS): Promise<string | null> {
  const w = new World(vats);
  try {
    for (const a of actions) {
      await w.run(a);
      if (eOrder && w.violations.length > 0) return `E-order: ${w.violations[0]}`;
      // The tables' own rules hold after every step (`checkInvariants` of capnts/testing).
      for (const c of w.conns) checkConnection(c);
    }
    await w.quiesce();
    for (const c of w.conns) checkConnection(c);
    if (eOrder && w.violations.length > 0) return `E-order: ${w.violations[0]}`;
    const unsettled = w.calls.filter((c) => !c.settled).length;
    if (unsettled > 0) return `${unsettled} call(s) never settled`;
    // What the guide says: close every reference taken, and dispose calls whose results hold
    // capabilities nobody took (an echo whose pipelined capability was closed before it returned).
    for (const h of w.handles.splice(0)) h.client.close();
    for (const c of w.calls) c.rp.cancel();
    await w.quiesce();
    const empty = JSON.stringify(
      w.conns.map(() => ({ questions: 0, answers: 0, exports: 0, imports: 0, embargoes: 0 })),
    );
    if (w.tables() !== empty)
      return `tables not empty at the end: ${w.tables()}\n${w.conns.map((c) => dump(c)).join("\n")}`;
    if (w.objectsMade - w.objectsGone !== vats) {
      return `${w.objectsMade - w.objectsGone - vats} object(s) besides the bootstraps still alive with every reference closed`;
    }
    for (const b of w.bootRefs) b.close();
    if (w.objectsMade !== w.objectsGone) {
      return `${w.objectsMade - w.objectsGone} object(s) still alive with every reference closed`;
    }
    return null;
  } catch (e) {
    return `threw: ${(e as Error).stack ?? String(e)}`;
  } finally {
    for (const c of w.conns) c.disconnect(RpcError.disconnected("fuzz run over"));
    await whenIdle();
  }
}

/** Greedy shrinking: drop actions one at a time while the run still fails. */
async function shrink(
  actions: Action[],
  eOrder: boolean,
  vats: number,
): Promise<{ actions: Action[]; failure: string }> {
  let best = actions;
  let failure = (await replay(best, eOrder, vats))!;
  for (let chunk = Math.max(1, best.length >> 1); chunk >= 1; chunk >>= 1) {
    for (let i = 0; i + chunk <= best.length; ) {
      const candidate = [...best.slice(0, i), ...best.slice(i + chunk)];
      const f = await replay(candidate, eOrder, vats);
      if (f !== null) {
        best = candidate;
        failure = f;
      } else i += chunk;
    }
  }
  return { actions: best, failure };
}

if (TRACE !== undefined) {
  test("behaviour fuzzer: replay CAPNTS_FUZZ_TRACE", async () => {
    console.log(await replay(JSON.parse(TRACE) as Action[], true));
  });
}

// E-order violations this fuzzer found, fixed, each replayed from its shortest trace
// (fixtures/fuzz-e-order-traces.json; each fails without its fix). The first three come from
// calls forwarded around a loop of tail calls between two vats (`sendResultsTo.yourself`, then
// `Return.takeFromOtherQuestion`), the path C++ takes when a call's target is the caller's own
// capability (rpc.c++ RpcClient::call -> directTailCall).
const E_ORDER_FIXES: Record<string, string> = {
  // Vat 1 calls a promise P that vat 0 answers by forwarding the call back to vat 1; the results
  // vat 1 takes from its own answer hold vat 0's capability. P resolved straight to it with no
  // embargo (a capability of the same peer) while an earlier call was still on its way
  // vat 1 -> vat 0 -> vat 1 -> vat 0. Results taken from our own answer are a local resolution:
  // the embargo applies (RpcPipeline._resolve, PromiseClient.resolve). C++ handleReturn
  // (TAKE_FROM_OTHER_QUESTION) embargoes nothing here.
  takeFromOtherQuestion:
    "a promise resolved through takeFromOtherQuestion to the peer's capability is embargoed",
  // Two calls arrive for the same pipelined capability of an answer whose call we forwarded: the
  // first went through the pipeline's promise, which then resolved with an embargo; the second
  // asked the pipeline again and got the resolution itself, skipping the embargo. The pipeline
  // now keeps an embargoed promise until the Disembargo is back (C++ keeps all of them:
  // rpc.c++ RpcPipeline::clientMap).
  memo: "a pipelined capability asked again while its promise is embargoed queues behind it",
  // As the first, when the application has already dropped the call's pipeline (its pipelined
  // promises still live): the question tells the pipeline the results were taken from our own
  // answer, instead of the pipeline asking the question it no longer holds.
  "pipeline-dropped": "the takeFromOtherQuestion embargo applies after the pipeline is dropped",
  // Three vats. A call on an answer of ours went to the promise its forwarded call's pipeline
  // gave, which then resolved into an embargo; we returned the answer; a later call on the answer
  // went to the capability as returned and overtook the first. Once returned, an answer first
  // asks the original pipeline and waits behind such an embargo (RpcCallContext.embargoAhead;
  // C++ PostReturnRpcPipeline asks the original pipeline first).
  "post-return": "a call on a returned answer waits behind an embargo on what earlier calls went to",
  // Three vats. Our calls on a promise went to the peer and came back to an answer of ours whose
  // pipeline held them in another embargo; the promise then resolved through
  // takeFromOtherQuestion to the capability in that answer's results, and when its own
  // Disembargo came back (right behind the held calls) later calls went straight there, ahead of
  // them. It now resolves to what the answer's pipeline gives, so later calls queue behind the
  // held ones (RpcPipeline._resolve, QuestionRef.reflectedVia).
  "held-at-answer":
    "a promise resolved through takeFromOtherQuestion goes where its earlier calls went, behind them",
  // Three vats, a leak the "post-return" fix brought: a Disembargo aimed at a returned answer
  // waited, like a call, behind an embargo of ours that only it could lift, so it was never
  // reflected and the peer's embargo (and what it held) stayed for good. A Disembargo takes the
  // target as the Return left it (getMessageTarget's forDisembargo, PostReturnPipeline.capAtReturn).
  "disembargo-not-held": "a Disembargo aimed at a returned answer is not held behind our own embargoes",
  // Three vats, the last violation the search found (on 3880549): a call held in one embargo
  // while another's Disembargo path was already clear. Fixed by the C++ parity work (3b7447c):
  // the RequireEmbargoWrapper (TribbleRaceBlocker) is written and reflects Disembargoes as the
  // capability it wraps, not as a new export; kept so that it stays fixed.
  "three-vats": "calls on one reference keep their order through embargoes across three vats",
};
const traces = JSON.parse(
  readFileSync(new URL("fixtures/fuzz-e-order-traces.json", import.meta.url), "utf8"),
) as Record<string, { vats: number; actions: Action[] }>;
for (const [name, what] of Object.entries(E_ORDER_FIXES)) {
  test(`behaviour fuzzer, E-order: ${what}`, async () => {
    const t = traces[name]!;
    assert.equal(await replay(t.actions, true, t.vats), null);
  });
}

async function fuzz(eOrder: boolean, vats = VATS): Promise<void> {
  for (let run = 0; run < RUNS; run++) {
    const seed = SEED * 100_003 + run;
    const r = rng(seed);
    const actions = Array.from({ length: STEPS }, () => randomAction(r));
    const failure = await replay(actions, eOrder, vats);
    if (failure === null) continue;
    const min = await shrink(actions, eOrder, vats);
    assert.fail(
      `seed ${seed} (CAPNTS_FUZZ_SEED=${SEED}, run ${run}, ${vats} vats) fails: ${min.failure}\n` +
        `shortest failing actions (${min.actions.length}); replay with CAPNTS_FUZZ_VATS=${vats} CAPNTS_FUZZ_TRACE='${JSON.stringify(min.actions)}'`,
    );
  }
}

test(`behaviour fuzzer: ${RUNS} runs of ${STEPS} random actions over ${VATS} vats: every call settles, nothing leaks, nothing throws`, () =>
  fuzz(false));

test(`behaviour fuzzer: ${RUNS} runs of ${STEPS} random actions over 2 vats keep E-order`, () =>
  fuzz(true, 2));

// Three vats: capabilities handed on through a third vat while calls on them are forwarded
// around tail-call loops (6,000 runs over 12 seeds found nothing more).
test(`behaviour fuzzer: ${RUNS} runs of ${STEPS} random actions over ${VATS} vats keep E-order`, () =>
  fuzz(true));
