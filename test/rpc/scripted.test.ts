/**
 * Scripted-peer tests: the test plays one side of the connection with hand-built rpc.capnp
 * messages and checks the exact replies (C++ rpc-test.c++ TEST(Rpc, Abort) and
 * rpc-twoparty-test.c++ TEST(TwoPartyNetwork, Abort), plus the rpc.capnp rules: Unimplemented for
 * Level 3 messages, tolerance of an unknown Finish, Abort on protocol violations, no crash on
 * malformed input).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { nodeNet } from "capnts/node";
import type { RpcTransport, TransportReceiver } from "capnts/rpc";
import { whenIdle } from "capnts/testing";
import { MessageBuilder, type MessageReader } from "capnts/wire";
import { Message_Builder, Message_Reader } from "../../src/gen/rpc.capnp.js";
import { RpcConnection } from "../../src/rpc/connection.js";
import { newMemoryTransportPair } from "../../src/rpc/memory-transport.js";
import { TwoPartyVatNetwork } from "../../src/rpc/two-party.js";
import { Counters, newTestBootstrap, TestInterfaceImpl, TestTailCalleeImpl } from "../fixtures/test-impls.js";
import {
  TestInterface,
  TestInterface_Client,
  TestInterface_foo_Params_Builder,
  TestInterface_foo_Results_Reader,
  TestPipeline,
  TestPipeline_Client,
  TestPipeline_getCap_Params_Builder,
  TestTailCallee,
  TestTailCallee_Client,
} from "../interop/gen/test.capnp.js";
import { emptyTables, liveServers } from "./harness.js";

/** The test's side of the connection. */
class RawPeer implements TransportReceiver {
  readonly inbox: (MessageReader | null)[] = [];
  private waiters: (() => void)[] = [];
  constructor(readonly t: RpcTransport) {
    t.start(this);
  }
  message(m: MessageReader): void {
    this.inbox.push(m);
    for (const w of this.waiters.splice(0)) w();
  }
  closed(): void {
    this.inbox.push(null);
    for (const w of this.waiters.splice(0)) w();
  }
  send(build: (m: Message_Builder) => void): void {
    const mb = new MessageBuilder();
    build(mb.initRoot(Message_Builder));
    this.t.send(mb);
  }
  sendRaw(segments: Uint8Array[]): void {
    (this.t as unknown as { sendRawSegments?: (s: Uint8Array[]) => void }).sendRawSegments?.(segments);
  }
  /** The next message (null at end of stream); fails after 2 s. */
  async next(): Promise<Message_Reader | null> {
    for (let i = 0; i < 2000 && this.inbox.length === 0; i++) {
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 1);
      });
      await whenIdle();
    }
    assert.ok(this.inbox.length > 0, "expected a message");
    const m = this.inbox.shift()!;
    return m === null ? null : m.getRoot(Message_Reader);
  }
  /** Nothing arrives for a while. */
  async quiet(): Promise<void> {
    for (let i = 0; i < 20; i++) {
      await whenIdle();
      await new Promise((r) => setTimeout(r, 1));
    }
    assert.equal(
      this.inbox.length,
      0,
      `unexpected message: ${this.inbox[0] === null ? "EOF" : this.inbox[0]?.getRoot(Message_Reader).which}`,
    );
  }
}

type Mode = "memory" | "tcp";

async function scripted(mode: Mode, bootstrap = newTestBootstrap(new Counters())) {
  let serverT: RpcTransport;
  let peerT: RpcTransport;
  let cleanup = async () => {};
  if (mode === "memory") {
    const [a, b] = newMemoryTransportPair({ vatId: "client" }, { vatId: "server" });
    serverT = b;
    peerT = a;
  } else {
    let accepted!: (s: import("../../src/rpc/two-party.js").ByteStream) => void;
    const got = new Promise<import("../../src/rpc/two-party.js").ByteStream>((r) => (accepted = r));
    const l = await nodeNet.listen("127.0.0.1:0", (s) => accepted(s));
    const c = await nodeNet.connect(l.address);
    peerT = new TwoPartyVatNetwork(c, "client");
    serverT = new TwoPartyVatNetwork(await got, "server");
    cleanup = () => l.close();
  }
  const server = new RpcConnection(serverT, { bootstrap: () => bootstrap._client() });
  server.start();
  const peer = new RawPeer(peerT);
  return {
    server,
    peer,
    async close() {
      await peerT.shutdown();
      for (let i = 0; i < 50 && server.error === null; i++) await new Promise((r) => setTimeout(r, 2));
      await cleanup();
    },
  };
}

/** Fills `m` with a call of TestInterface.foo(123, true) pipelined on answer `target`. */
function initFooOnAnswer(m: Message_Builder, questionId: number, target: number) {
  const c = m.initCall();
  c.questionId = questionId;
  c.initTarget().initPromisedAnswer().questionId = target;
  c.interfaceId = TestInterface_Client._interface!.typeId;
  c.methodId = 0;
  const p = c.initParams().content.initAs(TestInterface_foo_Params_Builder);
  p.i = 123;
  p.j = true;
  return c;
}

/** Union member `w` of `r` (a message or part of one), failing the test if another is active. */
function member<T extends { readonly which: string }, W extends T["which"]>(
  r: T | null | undefined,
  w: W,
): Extract<T, { readonly which: W }> {
  assert.ok(r !== null && r !== undefined, `expected ${w}, got nothing`);
  assert.equal(r.which, w);
  return r as Extract<T, { readonly which: W }>;
}

async function expectAbort(peer: RawPeer, reason?: RegExp): Promise<void> {
  const m = await peer.next();
  assert.ok(m !== null, "expected an Abort, got end of stream");
  assert.equal(m.which, "abort");
  if (reason !== undefined) assert.match(m.abort.reason, reason);
  // Then the stream ends.
  assert.equal(await peer.next(), null);
}

for (const mode of ["memory", "tcp"] as const) {
  test(`Rpc.Abort / TwoPartyNetwork.Abort (rpc-test.c++ TEST(Rpc, Abort)): Return to an unknown question → Abort, then EOF [${mode}]`, async () => {
    const s = await scripted(mode);
    s.peer.send((m) => {
      const r = m.initReturn();
      r.answerId = 1234;
      r.setCanceled();
    });
    await expectAbort(s.peer, /Invalid question ID in Return message/);
    assert.ok(s.server.error !== null);
    assert.deepEqual(s.server.tableSizes(), emptyTables());
    await s.close();
  });

  test(`scripted: Level 3 and obsolete messages get Unimplemented with the message echoed [${mode}]`, async () => {
    const s = await scripted(mode);
    s.peer.send((m) => {
      const p = m.initProvide();
      p.questionId = 7;
    });
    let r = await s.peer.next();
    assert.equal(r?.which, "unimplemented");
    assert.equal(r?.unimplemented.which, "provide");
    assert.equal(r?.unimplemented.provide.questionId, 7);
    s.peer.send((m) => {
      m.initAccept().questionId = 8;
    });
    r = await s.peer.next();
    assert.equal(member(r, "unimplemented").unimplemented.which, "accept");
    s.peer.send((m) => {
      m.initJoin().questionId = 9;
    });
    r = await s.peer.next();
    assert.equal(member(r, "unimplemented").unimplemented.which, "join");
    s.peer.send((m) => {
      m.initObsoleteSave().setText("x");
    });
    r = await s.peer.next();
    assert.equal(member(r, "unimplemented").unimplemented.which, "obsoleteSave");
    // Still up.
    assert.equal(s.server.error, null);
    await s.close();
  });

  test(`scripted: Bootstrap, Finish for an unknown question is tolerated, bootstrap answered [${mode}]`, async () => {
    const s = await scripted(mode, TestInterface.server(new TestInterfaceImpl(new Counters())));
    s.peer.send((m) => {
      const f = m.initFinish();
      f.questionId = 99;
    });
    s.peer.send((m) => {
      m.initBootstrap().questionId = 0;
    });
    const r = await s.peer.next();
    assert.equal(r?.which, "return");
    assert.equal(r?.return.answerId, 0);
    assert.equal(r?.return.which, "results");
    const caps = r!.return.results.capTable;
    assert.equal(caps.length, 1);
    assert.equal(member(caps.get(0), "senderHosted").senderHosted, 0);
    // Like C++'s handleBootstrap, releaseParamCaps keeps its default (there are no params).
    assert.equal(r?.return.releaseParamCaps, true);
    // Call foo on the bootstrap through the promised answer (Level 0 pipelining).
    s.peer.send((m) => {
      initFooOnAnswer(m, 1, 0);
    });
    const r2 = await s.peer.next();
    assert.equal(r2?.which, "return");
    assert.equal(r2?.return.answerId, 1);
    assert.equal(r2?.return.which, "results");
    // C++ always sends releaseParamCaps = false (it releases param caps with Release messages).
    assert.equal(r2?.return.releaseParamCaps, false);
    // No caps in the results: 1.x says no Finish is needed.
    assert.equal(r2?.return.noFinishNeeded, true);
    s.peer.send((m) => {
      const f = m.initFinish();
      f.questionId = 0;
      f.releaseResultCaps = false; // we imported the bootstrap: we Release it ourselves
    });
    s.peer.send((m) => {
      const rel = m.initRelease();
      rel.id = 0;
      rel.referenceCount = 1;
    });
    await s.peer.quiet();
    assert.equal(s.server.error, null);
    assert.deepEqual(s.server.tableSizes(), emptyTables());
    await s.close();
  });

  test(`scripted: Bootstrap with deprecatedObjectId is refused as C++ does without a restorer [${mode}]`, async () => {
    const s = await scripted(mode);
    s.peer.send((m) => {
      const b = m.initBootstrap();
      b.questionId = 0;
      b.initDeprecatedObjectId().setText("testInterface");
    });
    const r = await s.peer.next();
    assert.match(
      member(member(r, "return").return, "exception").exception.reason,
      /This vat only supports a bootstrap interface, not the old Cap'n-Proto-0.4-style named exports\./,
    );
    s.peer.send((m) => {
      m.initFinish().questionId = 0;
    });
    await s.peer.quiet();
    assert.deepEqual(s.server.tableSizes(), emptyTables());
    await s.close();
  });

  const violations: [string, (m: Message_Builder) => void, RegExp][] = [
    [
      "Call to an export ID that does not exist",
      (m) => {
        const c = m.initCall();
        c.questionId = 0;
        c.initTarget().importedCap = 42;
        c.initParams();
      },
      /Message target is not a current export ID/,
    ],
    [
      "Call with sendResultsTo.thirdParty",
      (m) => {
        const c = m.initCall();
        c.questionId = 0;
        c.initTarget().initPromisedAnswer().questionId = 5;
        c.sendResultsTo.initThirdParty();
        c.initParams();
      },
      /Unsupported `Call.sendResultsTo`/,
    ],
    [
      "Release of an export ID that does not exist",
      (m) => {
        const r = m.initRelease();
        r.id = 3;
        r.referenceCount = 1;
      },
      /Tried to release invalid export ID/,
    ],
    [
      "Disembargo receiverLoopback with an unknown embargo",
      (m) => {
        const d = m.initDisembargo();
        d.initTarget().importedCap = 0;
        d.initContext().receiverLoopback = 17;
      },
      /Invalid embargo ID/,
    ],
    [
      "Disembargo accept (Level 3)",
      (m) => {
        const d = m.initDisembargo();
        d.initTarget().importedCap = 0;
        d.initContext().setAccept();
      },
      /Unimplemented Disembargo type/,
    ],
    [
      "Resolve with CapDescriptor.none",
      (m) => {
        const r = m.initResolve();
        r.promiseId = 0;
        r.initCap().setNone();
      },
      /CapDescriptor.none/,
    ],
    [
      "Unimplemented echo of a Bootstrap we never sent",
      (m) => {
        m.initUnimplemented().initBootstrap().questionId = 0;
      },
      /Peer did not implement required RPC message type/,
    ],
    [
      "Return with acceptFromThirdParty for an unknown question",
      (m) => {
        const r = m.initReturn();
        r.answerId = 0;
        r.initAcceptFromThirdParty();
      },
      /Invalid question ID/,
    ],
  ];
  for (const [what, build, reason] of violations) {
    test(`scripted: ${what} → Abort with a reason, connection closed [${mode}]`, async () => {
      const s = await scripted(mode);
      s.peer.send(build);
      await expectAbort(s.peer, reason);
      assert.deepEqual(s.server.tableSizes(), emptyTables());
      await s.close();
    });
  }

  test(`scripted: a questionId already in use → Abort [${mode}]`, async () => {
    const s = await scripted(mode);
    s.peer.send((m) => {
      m.initBootstrap().questionId = 0;
    });
    await s.peer.next();
    s.peer.send((m) => {
      m.initBootstrap().questionId = 0;
    });
    await expectAbort(s.peer, /questionId is already in use/);
    await s.close();
  });

  test(`scripted: Unimplemented echo of our Resolve releases the export (rpc.capnp Message.unimplemented) [${mode}]`, async () => {
    // The server's bootstrap is a promise; its Resolve comes back as Unimplemented from a
    // Level 0 peer, which releases the export instead of aborting.
    let fulfill!: (c: TestInterface_Client) => void;
    const promised = new TestInterface_Client(new Promise<TestInterface_Client>((r) => (fulfill = r)));
    const s = await scripted(mode, { _client: () => promised._live().addRef() } as never);
    s.peer.send((m) => {
      m.initBootstrap().questionId = 0;
    });
    const r = await s.peer.next();
    const promiseId = member(
      member(member(r, "return").return, "results").results.capTable.get(0),
      "senderPromise",
    ).senderPromise;
    s.peer.send((m) => {
      const f = m.initFinish();
      f.questionId = 0;
      f.releaseResultCaps = false; // we keep the import
    });
    fulfill(new TestInterface_Client(TestInterface.server(new TestInterfaceImpl(new Counters()))));
    const res = await s.peer.next();
    assert.equal(res?.which, "resolve");
    assert.equal(res?.resolve.promiseId, promiseId);
    const newExport = member(member(res!.resolve, "cap").cap, "senderHosted").senderHosted;
    // Echo it back as unimplemented: the server releases the export the Resolve named.
    s.peer.send((m) => {
      m.unimplemented = res!;
    });
    // And release the promise export itself.
    s.peer.send((m) => {
      const rel = m.initRelease();
      rel.id = promiseId;
      rel.referenceCount = 1;
    });
    await s.peer.quiet();
    assert.equal(s.server.error, null);
    assert.equal(s.server.exports.find(newExport), undefined);
    assert.deepEqual(s.server.tableSizes(), emptyTables());
    promised.close();
    await s.close();
  });

  test(`scripted: a message with a bad pointer → Abort, no crash [${mode}]`, async () => {
    const s = await scripted(mode);
    // A Message whose pointer points far outside its segment.
    const seg = new Uint8Array(16);
    const dv = new DataView(seg.buffer);
    dv.setUint32(0, (1000 << 2) | 0, true); // struct pointer, offset 1000 words
    dv.setUint32(4, 1 | (1 << 16), true);
    const mb = new MessageBuilder();
    void mb;
    // Send through the transport's framing by wrapping the bytes as a builder's segment.
    const { MessageBuilder: MB } = await import("capnts/wire");
    const fake = new MB();
    const arena = fake.arena;
    arena.segments[0]!.bytes.set(seg, 0);
    arena.segments[0]!.end = 16;
    s.peer.t.send(fake);
    const m = await s.peer.next();
    assert.equal(m?.which, "abort");
    assert.equal(await s.peer.next(), null);
    assert.deepEqual(s.server.tableSizes(), emptyTables());
    await s.close();
  });
}

/** The raw peer plays the server: the RpcConnection under test is the client. */
async function scriptedServer() {
  const [a, b] = newMemoryTransportPair({ vatId: "client" }, { vatId: "server" });
  const client = new RpcConnection(a, {});
  client.start();
  const peer = new RawPeer(b);
  return { client, peer };
}

/**
 * A vat that exports nothing (a plain client) still answers the peer: its Bootstrap gets a broken
 * capability (rpc.c++ handleBootstrap without a bootstrap interface), exported like any other,
 * and calls on it (pipelined on the answer, or on the export) are served as every incoming call
 * is, each failing with C++'s message. So the incoming-call path (RpcCallContext, the answer
 * table) is part of every connection, not only of vats that serve (BENCHMARKS.md, bundle sizes).
 */
test("scripted: a vat that exports nothing answers a Bootstrap and the calls on it with C++'s error; other exports abort", async () => {
  const NO_BOOTSTRAP = "This vat does not expose any public/bootstrap interfaces.";
  const { client, peer } = await scriptedServer();
  peer.send((m) => {
    m.initBootstrap().questionId = 0;
  });
  const boot = member(member(await peer.next(), "return").return, "results");
  assert.equal(boot.answerId, 0);
  assert.equal(member(boot.results.capTable.get(0), "senderHosted").senderHosted, 0);
  const call = (
    questionId: number,
    target: (t: import("../../src/gen/rpc.capnp.js").MessageTarget_Builder) => void,
  ) =>
    peer.send((m) => {
      const c = m.initCall();
      c.questionId = questionId;
      target(c.initTarget());
      c.interfaceId = TestInterface_Client._interface!.typeId;
      c.methodId = 0;
      c.initParams();
    });
  call(1, (t) => {
    t.initPromisedAnswer().questionId = 0;
  });
  call(2, (t) => {
    t.importedCap = 0;
  });
  for (const id of [1, 2]) {
    const r = member(member(await peer.next(), "return").return, "exception");
    assert.equal(r.answerId, id);
    assert.equal(r.exception.reason, NO_BOOTSTRAP);
    assert.equal(r.exception.type, 0); // failed
  }
  for (const id of [1, 2, 0]) {
    peer.send((m) => {
      m.initFinish().questionId = id; // releaseResultCaps: the bootstrap's export goes with it
    });
  }
  await peer.quiet();
  assert.equal(client.error, null);
  assert.deepEqual(client.tableSizes(), emptyTables());
  call(3, (t) => {
    t.importedCap = 0;
  });
  await expectAbort(peer, /^Message target is not a current export ID\.$/);
});

test("scripted: Abort received — every pending call fails and every capability breaks (rpc.capnp Message.abort)", async () => {
  const { client, peer } = await scriptedServer();
  using cap = new TestInterface_Client(client.bootstrap());
  const boot = await peer.next();
  assert.equal(boot?.which, "bootstrap");
  // Answer the bootstrap with our export 0.
  peer.send((m) => {
    const r = m.initReturn();
    r.answerId = member(boot, "bootstrap").bootstrap.questionId;
    r.releaseParamCaps = false;
    const payload = r.initResults();
    payload.content.setCapability("cap #0"); // a capability pointer to cap-table index 0
    payload.initCapTable(1).get(0).senderHosted = 0;
  });
  await whenIdle();
  using pending = cap.foo((p) => {
    p.i = 1;
  });
  let call = await peer.next();
  while (call?.which === "finish") call = await peer.next(); // the bootstrap's Finish
  assert.equal(call?.which, "call");
  peer.send((m) => {
    const e = m.initAbort();
    e.reason = "going away";
    e.type = 2 as never;
  });
  await assert.rejects(pending, (e: unknown) => {
    assert.ok(e instanceof Error);
    assert.match(e.message, /remote exception: going away/);
    return true;
  });
  using after = cap.foo((p) => {
    p.i = 2;
  });
  await assert.rejects(after, /going away/);
  assert.deepEqual(client.tableSizes(), emptyTables());
});

test("scripted: a Call with onlyPromisePipeline gets no Return; Finish ends it (rpc.capnp Call.onlyPromisePipeline)", async () => {
  const s = await scripted("memory", TestInterface.server(new TestInterfaceImpl(new Counters())));
  s.peer.send((m) => {
    m.initBootstrap().questionId = 0;
  });
  await s.peer.next();
  s.peer.send((m) => {
    initFooOnAnswer(m, 1, 0).onlyPromisePipeline = true;
  });
  await s.peer.quiet();
  s.peer.send((m) => {
    const f = m.initFinish();
    f.questionId = 1;
  });
  s.peer.send((m) => {
    m.initFinish().questionId = 0;
  });
  await s.peer.quiet();
  assert.equal(s.server.error, null);
  assert.deepEqual(s.server.tableSizes(), emptyTables());
  await s.close();
});

test("scripted: Finish with releaseResultCaps (a Level 0 peer) releases the caps of the results", async () => {
  const s = await scripted("memory");
  s.peer.send((m) => {
    m.initBootstrap().questionId = 0;
  });
  const r = await s.peer.next();
  const ret = member(member(r, "return").return, "results");
  assert.equal(member(ret.results.capTable.get(0), "senderHosted").senderHosted, 0);
  assert.equal(s.server.exports.size, 1);
  s.peer.send((m) => {
    m.initFinish().questionId = 0; // releaseResultCaps defaults to true
  });
  await s.peer.quiet();
  assert.deepEqual(s.server.tableSizes(), emptyTables());
  await s.close();
});

test("scripted: Bootstraps answered with the same capability share its pipeline; each answer keeps the capability until its Finish, and the last Finish frees it", async () => {
  const counters = new Counters();
  const before = liveServers();
  const s = await scripted("memory", TestInterface.server(new TestInterfaceImpl(counters)));
  for (let q = 0; q < 3; q++) {
    s.peer.send((m) => {
      m.initBootstrap().questionId = q;
    });
  }
  for (let q = 0; q < 3; q++) {
    const ret = member(await s.peer.next(), "return").return;
    assert.equal(ret.answerId, q);
    assert.equal(member(member(ret, "results").results.capTable.get(0), "senderHosted").senderHosted, 0);
  }
  assert.equal(s.server.exports.size, 1);
  // The peer finishes two answers keeping its imports, then releases all three imports of export
  // 0: only answer 2's pipeline still holds the capability, and a call pipelined on it must reach
  // it.
  for (const q of [0, 1]) {
    s.peer.send((m) => {
      const f = m.initFinish();
      f.questionId = q;
      f.releaseResultCaps = false;
    });
  }
  s.peer.send((m) => {
    const r = m.initRelease();
    r.id = 0;
    r.referenceCount = 3;
  });
  await s.peer.quiet();
  assert.equal(s.server.exports.size, 0);
  assert.equal(liveServers(), before + 1, "answer 2 keeps the capability");
  s.peer.send((m) => {
    initFooOnAnswer(m, 10, 2);
  });
  const ret = member(await s.peer.next(), "return").return;
  assert.equal(ret.answerId, 10);
  assert.equal(member(ret, "results").results.content.getAs(TestInterface_foo_Results_Reader).x, "foo");
  assert.equal(counters.callCount, 1);
  for (const q of [2, 10]) {
    s.peer.send((m) => {
      m.initFinish().questionId = q;
    });
  }
  await s.peer.quiet();
  assert.equal(s.server.error, null);
  assert.deepEqual(s.server.tableSizes(), emptyTables());
  assert.equal(liveServers(), before, "the last Finish frees the capability");
  await s.close();
});

test("scripted: a thirdPartyHosted capability is used through its vine (no Level 3)", async () => {
  const { client, peer } = await scriptedServer();
  using cap = new TestInterface_Client(client.bootstrap());
  const boot = await peer.next();
  peer.send((m) => {
    const r = m.initReturn();
    r.answerId = member(boot, "bootstrap").bootstrap.questionId;
    r.releaseParamCaps = false;
    const payload = r.initResults();
    payload.content.setCapability("cap #0");
    payload.initCapTable(1).get(0).initThirdPartyHosted().vineId = 5;
  });
  await cap.whenResolved();
  using p = cap.foo((x) => (x.i = 1));
  let call = await peer.next();
  while (call?.which === "finish") call = await peer.next();
  assert.equal(call?.which, "call");
  assert.equal(call?.call.target.which, "importedCap");
  assert.equal(call?.call.target.importedCap, 5);
  void p;
});

for (const mode of ["memory", "tcp"] as const) {
  test(`a Call with sendResultsTo.yourself finished without a takeFromOtherQuestion: Return{resultsSentElsewhere}, and its results are released [${mode}]`, async () => {
    // rpc.c++ handleFinish: a redirected call that is done and whose results nobody took drops
    // `redirectedResults` with the answer.
    const counts = new Counters();
    const life = counts.tailResults;
    const s = await scripted(mode, TestTailCallee.server(new TestTailCalleeImpl(counts)));
    s.peer.send((m) => {
      m.initBootstrap().questionId = 0;
    });
    const boot = member(member(await s.peer.next(), "return").return, "results");
    const exportId = member(boot.results.capTable.get(0), "senderHosted").senderHosted;
    s.peer.send((m) => {
      const c = m.initCall();
      c.questionId = 1;
      c.initTarget().importedCap = exportId;
      c.interfaceId = TestTailCallee_Client._interface!.typeId;
      c.methodId = 0;
      c.sendResultsTo.setYourself();
      c.initParams();
    });
    // The results stay with the callee's vat until taken; nothing is sent yet.
    await s.peer.quiet();
    assert.equal(counts.callCount, 1);
    assert.deepEqual(life, { created: 1, destroyed: 0 });
    s.peer.send((m) => {
      const f = m.initFinish();
      f.questionId = 1;
      f.releaseResultCaps = false;
      f.requireEarlyCancellationWorkaround = false;
    });
    const ret = member(await s.peer.next(), "return").return;
    assert.equal(ret.answerId, 1);
    assert.equal(ret.which, "resultsSentElsewhere");
    for (let i = 0; i < 50 && life.destroyed === 0; i++) await whenIdle();
    assert.deepEqual(life, { created: 1, destroyed: 1 }, "the untaken results are released");
    s.peer.send((m) => {
      const f = m.initFinish();
      f.questionId = 0;
      f.releaseResultCaps = true;
      f.requireEarlyCancellationWorkaround = false;
    });
    await s.peer.quiet();
    assert.deepEqual(s.server.tableSizes(), emptyTables());
    await s.close();
  });
}

/**
 * A pipelined call that reaches an answer after its Return went (rpc.capnp PromisedAnswer: "the
 * call may be made before the Return is received"; rpc.c++ PostReturnRpcPipeline): the answer no
 * longer keeps the call, only its exports and a copy of its results, from which the capability
 * at the transform is read. Results of one segment are copied; a Return of several segments
 * (here 3000 bytes of text pushing the results past the first segment) is kept as it is. Both
 * are answered, and everything is released at the Finishes.
 */
for (const textBytes of [3, 3000]) {
  test(`scripted: a call pipelined on an answer after its Return reaches the capability in the results (${textBytes}-byte text in them)`, async () => {
    let fooCalls = 0;
    const pipeline = TestPipeline.server({
      getCap(c) {
        // Answers at once: the Return goes before the peer's next message is read.
        c.results.s = "x".repeat(textBytes);
        c.results.initOutBox().cap = new TestInterface_Client(
          TestInterface.server({
            foo(f) {
              fooCalls++;
              f.results.x = `foo ${f.params.i}`;
            },
          }),
        );
      },
    });
    const s = await scripted("memory", pipeline);
    s.peer.send((m) => {
      m.initBootstrap().questionId = 0;
    });
    member(member(await s.peer.next(), "return").return, "results");
    s.peer.send((m) => {
      const c = m.initCall();
      c.questionId = 1;
      c.initTarget().importedCap = 0;
      c.interfaceId = TestPipeline_Client._interface!.typeId;
      c.methodId = 0;
      c.initParams().content.initAs(TestPipeline_getCap_Params_Builder).n = 234;
    });
    const r1 = member(member(await s.peer.next(), "return").return, "results");
    assert.equal(r1.results.capTable.length, 1);
    assert.equal(s.server.tableSizes().answers, 2, "the call's answer awaits its Finish");
    // Now the pipelined call on outBox.cap (pointer 1 of the results, then pointer 0 of the Box).
    s.peer.send((m) => {
      const c = m.initCall();
      c.questionId = 2;
      const pa = c.initTarget().initPromisedAnswer();
      pa.questionId = 1;
      const ops = pa.initTransform(2);
      ops.get(0).getPointerField = 1;
      ops.get(1).getPointerField = 0;
      c.interfaceId = TestInterface_Client._interface!.typeId;
      c.methodId = 0;
      c.initParams().content.initAs(TestInterface_foo_Params_Builder).i = 7;
    });
    const r2 = member(member(await s.peer.next(), "return").return, "results");
    assert.equal(r2.results.content.getAs(TestInterface_foo_Results_Reader).x, "foo 7");
    assert.equal(fooCalls, 1);
    for (const q of [1, 0]) {
      s.peer.send((m) => {
        const f = m.initFinish();
        f.questionId = q;
        f.releaseResultCaps = true;
      });
    }
    await s.peer.quiet();
    assert.equal(s.server.error, null);
    assert.deepEqual(s.server.tableSizes(), emptyTables());
    await s.close();
  });
}
