/**
 * `checkInvariants()` and `dump()` of capnts/testing (src/rpc/invariants.ts): the snapshot names every
 * table's entries, the check passes on a connection mid-call, and each rule it states fails,
 * naming the entry, when the table is made to break it. (The harness runs the check after every
 * rpcTest, and the behaviour fuzzer after every step: these tests show it can fail.)
 */
import assert from "node:assert/strict";
import { checkInvariants as checkConnection, dump } from "capnts/testing";
import type { RpcConnection } from "../../src/rpc/connection.js";
import { QuestionRef } from "../../src/rpc/questions.js";
import { TestInterfaceImpl } from "../fixtures/test-impls.js";
import { TestInterface } from "../interop/gen/test.capnp.js";
import { rpcTest } from "./harness.js";
import { obj } from "./util.js";

/** The message checkInvariants() throws, or null if it passes. */
function violation(conn: RpcConnection): string | null {
  try {
    checkConnection(conn);
    return null;
  } catch (e) {
    assert.equal((e as Error).name, "InvariantError");
    return (e as Error).message;
  }
}

rpcTest(
  "dump() lists every table's entries; checkInvariants() passes with a call in flight",
  async (ctx) => {
    using client = obj(ctx.boot, "testMoreStuff");
    const { handle } = await client.getHandle();
    // A call the server holds (neverReturn), with a capability in its params.
    const pending = client.neverReturn(
      (p) => (p.cap = TestInterface.server(new TestInterfaceImpl(ctx.counters))),
    );
    await ctx.settle();
    assert.equal(violation(ctx.clientConn), null);
    assert.equal(violation(ctx.serverConn), null);
    const server = dump(ctx.serverConn);
    const client_ = dump(ctx.clientConn);
    assert.match(server, /^answers \([1-9]\d*\):$/m);
    assert.match(server, /^ {2}#\d+ running: @[0-9a-f]+\.2$/m, server); // neverReturn is method 2
    assert.match(server, /^exports \([1-9]\d*\):$/m);
    assert.match(server, /^ {2}#\d+ refcount 1: /m);
    assert.match(client_, /^questions \([1-9]\d*\):$/m);
    assert.match(client_, /^ {2}#\d+ awaiting Return, held, param exports \d+$/m, client_);
    assert.match(client_, /^imports \([1-9]\d*\):$/m);
    assert.match(client_, /^ {2}#\d+ remote refcount 1$/m);
    pending.cancel();
    handle.close();
    await ctx.settle();
    assert.equal(violation(ctx.serverConn), null);
  },
  { modes: ["memory"] },
);

rpcTest(
  "checkInvariants() names the rule an entry breaks",
  async (ctx) => {
    using client = obj(ctx.boot, "testMoreStuff");
    const { handle } = await client.getHandle();
    await ctx.settle();
    const server = ctx.serverConn;
    const conn = ctx.clientConn;

    // An export whose refcount reached zero must have left the table.
    let exportId = -1;
    server.exports.forEach((id) => {
      exportId = Math.max(exportId, id);
    });
    assert.ok(exportId > 0, dump(server));
    const exp = server.exports.find(exportId)!;
    const refcount = exp.refcount;
    exp.refcount = 0;
    assert.match(violation(server) ?? "", new RegExp(`export #${exportId}: refcount 0, still in the table`));
    exp.refcount = refcount;
    assert.equal(violation(server), null);

    // An import the peer never sent (remote refcount 0) cannot be released correctly.
    let importId = -1;
    conn.imports.forEach((id) => {
      if (id !== 0) importId = id;
    });
    const imp = conn.imports.find(importId)!;
    const ic = imp.importClient!;
    const remote = ic.remoteRefcount;
    ic.remoteRefcount = 0;
    assert.match(violation(conn) ?? "", new RegExp(`import #${importId}: remote refcount 0`));
    ic.remoteRefcount = remote;

    // A question whose QuestionRef went without a Finish (the entry says the caller still holds
    // it). (A question returned and finished but still in the table cannot be written any more:
    // the entry's type has no such state.)
    const ref = new QuestionRef(conn, conn.questions.nextId());
    const qid = conn.questions.add({ state: "asked", ref, paramExports: [], isTailCall: false });
    ref.detached = true; // so that releasing it sends nothing and leaves the table alone
    ref.release();
    assert.match(
      violation(conn) ?? "",
      new RegExp(`question #${qid}: its QuestionRef was released without a Finish`),
    );
    conn.questions.erase(qid);

    // The flow limit counts the words of exactly the calls not yet returned.
    server.callWordsInFlight += 8;
    assert.match(violation(server) ?? "", /call words in flight: counted 8, the unreturned answers hold 0/);
    server.callWordsInFlight -= 8;

    assert.equal(violation(conn), null);
    assert.equal(violation(server), null);
    handle.close();
  },
  { modes: ["memory"] },
);
