/**
 * What must hold of a connection's tables between two turns of the run queue, and a readable
 * snapshot of them (after OCaml capnp-rpc `capTP.ml`'s per-table `check` and `dump`, which its
 * fuzzer calls after every step): `checkInvariants(connection)` and `dump(connection)`, exported
 * by capnts/testing. They are functions, not RpcConnection methods, so that an application's
 * bundle does not carry them (1.5 KB gzip of rules and messages; test/package checks the
 * browser client's size). The RPC test harness checks after every test, the behaviour fuzzer
 * after every step.
 *
 * The rules, by table (rpc.capnp "The Four Tables", and the lifecycles in answers.ts and
 * questions.ts):
 * - questions: an entry whose QuestionRef is gone is waiting for its Return (a question leaves
 *   once it has both Return and Finish); a live ref names its entry; exports sent in the params
 *   are kept only until the Return.
 * - answers: one of the three states of answers.ts (an answer that returned and got its Finish
 *   is never in the table); a finishing call has not completed (its completion sends the Return
 *   that removes it); a running call that completed is one that waits for its Finish by design
 *   (`sendResultsTo.yourself`, `onlyPromisePipeline`); the request words counted against the
 *   flow limit are those of the calls not yet returned.
 * - exports: refcount above zero (zero erases the entry), the capability alive, and the
 *   capability → ID index pointing at entries for that capability.
 * - imports: the ImportClient alive and naming its ID, having received the ID at least once; an
 *   unresolved promise import marked as a promise.
 * - embargoes: the queue not yet released, the target alive.
 * - a disconnected connection has empty tables.
 */
import type { Answer } from "./answers.js";
import type { RpcConnection } from "./connection.js";
import type { RefCounted } from "./hooks.js";
import type { RpcCallContext } from "./rpc-call-context.js";

/** Thrown by checkInvariants(): `message` names the broken rule and the entry. */
export class InvariantError extends Error {
  override readonly name = "InvariantError";
}

function alive(x: RefCounted): boolean {
  return x._refs > 0;
}

/** The violations found (empty when every rule holds). */
export function findViolations(conn: RpcConnection): string[] {
  const bad: string[] = [];
  const t = conn;
  if (conn.error !== null) {
    const sizes = conn.tableSizes();
    for (const [name, n] of Object.entries(sizes)) {
      if (n !== 0)
        bad.push(`disconnected, but the ${name} table still has ${n} entr${n === 1 ? "y" : "ies"}`);
    }
    return bad;
  }

  t.questions.forEach((id, q) => {
    if (q.state === "canceled") return; // waits for its Return only
    const r = q.ref;
    if (r.id !== id) bad.push(`question #${id}: its QuestionRef names question #${r.id}`);
    if (!alive(r)) bad.push(`question #${id}: its QuestionRef was released without a Finish`);
  });

  let words = 0;
  t.answers.forEach((id, a: Answer<RpcCallContext>) => {
    switch (a.state) {
      case "running": {
        const c = a.call;
        words += c.requestSize;
        if (c.answerId !== id) bad.push(`answer #${id}: running call is answer #${c.answerId}`);
        if (!alive(c)) bad.push(`answer #${id}: running call already destroyed`);
        if (c.isDone && !c.redirectResults && c.hints.onlyPromisePipeline !== true) {
          bad.push(`answer #${id}: call completed but no Return was sent`);
        }
        if (a.redirected !== null && !c.redirectResults) {
          bad.push(`answer #${id}: has redirected results but did not use sendResultsTo.yourself`);
        }
        break;
      }
      case "finishing": {
        const c = a.call;
        words += c.requestSize;
        if (c.answerId !== id) bad.push(`answer #${id}: finishing call is answer #${c.answerId}`);
        if (!alive(c)) bad.push(`answer #${id}: finishing call already destroyed`);
        if (c.isDone) bad.push(`answer #${id}: Finish received and call completed, still in the table`);
        break;
      }
      case "returned":
        if (a.pipeline !== null && !alive(a.pipeline)) bad.push(`answer #${id}: pipeline already destroyed`);
        break;
      default:
        bad.push(`answer #${id}: unknown state ${JSON.stringify((a as { state: unknown }).state)}`);
    }
  });
  if (words !== conn.callWordsInFlight) {
    bad.push(`call words in flight: counted ${conn.callWordsInFlight}, the unreturned answers hold ${words}`);
  }

  t.exports.forEach((id, e) => {
    if (e.refcount <= 0) bad.push(`export #${id}: refcount ${e.refcount}, still in the table`);
    if (!alive(e.hook)) bad.push(`export #${id}: its capability was destroyed`);
  });
  for (const [hook, id] of t.exportsByCap) {
    const e = t.exports.find(id);
    if (e === undefined) bad.push(`export index: a capability maps to export #${id}, which does not exist`);
    else if (e.hook !== hook)
      bad.push(`export index: export #${id} holds another capability than the index says`);
  }

  t.imports.forEach((id, i) => {
    const ic = i.importClient;
    if (ic.importId !== id) bad.push(`import #${id}: its ImportClient is import #${ic.importId}`);
    if (!alive(ic)) bad.push(`import #${id}: its ImportClient was destroyed, the entry kept`);
    if (ic.remoteRefcount <= 0) bad.push(`import #${id}: remote refcount ${ic.remoteRefcount}`);
    if (i.state !== "promise") return;
    if (i.appClient !== null && !alive(i.appClient)) bad.push(`import #${id}: its client was destroyed`);
    const p = i.awaitingResolve;
    if (p !== null) {
      if (!alive(p)) bad.push(`import #${id}: its promise client was destroyed`);
      if (p.isResolved) bad.push(`import #${id}: its promise resolved but is still waiting for a Resolve`);
    }
  });

  t.embargoes.forEach((id, e) => {
    if (!alive(e.queued)) bad.push(`embargo #${id}: its queue was destroyed`);
    if (e.queued.isResolved) bad.push(`embargo #${id}: released, still in the table`);
    if (!alive(e.target)) bad.push(`embargo #${id}: its target was destroyed`);
  });
  return bad;
}

/** Throw an InvariantError listing every violation, with the tables' dump. */
export function checkInvariants(conn: RpcConnection): void {
  const bad = findViolations(conn);
  if (bad.length > 0)
    throw new InvariantError(`RpcConnection invariants violated:\n  ${bad.join("\n  ")}\n${dump(conn)}`);
}

/** Every table, one entry a line. */
export function dump(conn: RpcConnection): string {
  const t = conn;
  const out: string[] = [
    `RpcConnection (${conn.error === null ? "connected" : `disconnected: ${conn.error.message}`}), call words in flight ${conn.callWordsInFlight}`,
  ];
  const section = (name: string, size: number, each: (line: (s: string) => void) => void) => {
    out.push(`${name} (${size}):`);
    each((s) => out.push(`  ${s}`));
  };
  section("questions", t.questions.size, (line) =>
    t.questions.forEach((id, q) => {
      const flags = [
        q.state === "returned" ? "returned" : "awaiting Return",
        q.state === "canceled" ? "Finish sent" : "held",
        ...(q.state !== "returned" && q.isTailCall ? ["tail call"] : []),
        ...(q.state === "returned" && !q.finishNeeded ? ["no Finish needed"] : []),
        ...(q.state !== "returned" && q.paramExports.length > 0
          ? [`param exports ${q.paramExports.join(",")}`]
          : []),
      ];
      line(`#${id} ${flags.join(", ")}`);
    }),
  );
  section("answers", t.answers.size, (line) =>
    t.answers.forEach((id, a: Answer<RpcCallContext>) => {
      switch (a.state) {
        case "running":
        case "finishing": {
          const c = a.call;
          line(
            `#${id} ${a.state}: @${c.interfaceId.toString(16)}.${c.methodId}${c.isDone ? " (completed)" : ""}` +
              `${c.redirectResults ? `, results to ourselves${a.redirected === null ? " (taken)" : ""}` : ""}`,
          );
          break;
        }
        case "returned": {
          const ex = typeof a.resultExports === "number" ? [a.resultExports] : a.resultExports;
          line(
            `#${id} returned: ${a.pipeline === null ? "no pipeline" : "pipeline kept"}` +
              `${ex.length > 0 ? `, result exports ${ex.join(",")}` : ""}` +
              `${a.redirected !== null ? ", redirected results not taken" : ""}`,
          );
          break;
        }
      }
    }),
  );
  section("exports", t.exports.size, (line) =>
    t.exports.forEach((id, e) => {
      const promise = e.state === "promise" ? " (promise, Resolve pending)" : "";
      line(`#${id} refcount ${e.refcount}: ${e.hook.describe()}${promise}`);
    }),
  );
  section("imports", t.imports.size, (line) =>
    t.imports.forEach((id, i) => {
      const promise =
        i.state === "promise"
          ? i.awaitingResolve !== null
            ? ", promise awaiting Resolve"
            : ", promise"
          : "";
      line(`#${id} remote refcount ${i.importClient.remoteRefcount}${promise}`);
    }),
  );
  section("embargoes", t.embargoes.size, (line) =>
    t.embargoes.forEach((id, e) => {
      line(`#${id} holding calls for ${e.target.describe()}`);
    }),
  );
  return out.join("\n");
}
