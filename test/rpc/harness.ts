/**
 * Runs an RPC behaviour test the way C++'s rpc-test.c++ TestContext does — a client vat and a
 * server vat whose bootstrap hands out the test objects — over each transport: an in-memory
 * message pair (observable message by message), and real sockets (TCP, Unix). After each test
 * everything is released and both connections' tables must be empty (the leak check), their
 * invariants holding before and after (`checkInvariants` of capnts/testing); once the
 * connections are closed, every server object made during the test must have been destroyed
 * (C++: a test's objects die with its scope), counted by the servers themselves.
 */
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { Runtime } from "capnts/node";
import { Client, type Server } from "capnts/rpc";
import { checkInvariants as checkConnection, dump, whenIdle } from "capnts/testing";
import { RpcConnection as Conn, type RpcConnection } from "../../src/rpc/connection.js";
import { eventLoop } from "../../src/rpc/event-loop.js";
import { type MemoryTransport, newMemoryTransportPair } from "../../src/rpc/memory-transport.js";
import { serverLifetimes } from "../../src/rpc/server.js";
import type { TwoPartyClient } from "../../src/rpc/two-party.js";
import { Counters, newTestBootstrap } from "../fixtures/test-impls.js";
import { TestBootstrap_Client } from "../interop/gen/test.capnp.js";

// A task of ours that throws is a bug. It ends only the connection whose message set it going
// (event-loop.ts TaskOwner), which a test could take for an ordinary disconnect: in every test
// that uses this harness it is also thrown as an uncaught exception, failing the test as it did
// before tasks had owners.
eventLoop().taskErrorSpy = (e) => {
  queueMicrotask(() => {
    throw e;
  });
};

export type Mode = "memory" | "tcp" | "unix";
export const ALL_MODES: readonly Mode[] = ["memory", "tcp", "unix"];

export interface Ctx {
  readonly mode: Mode;
  readonly counters: Counters;
  /** The server's bootstrap (TestBootstrap). */
  readonly boot: TestBootstrap_Client;
  readonly clientConn: RpcConnection;
  readonly serverConn: RpcConnection;
  /** Memory mode: the client's and server's transports (observe / intercept messages). */
  readonly clientTransport: MemoryTransport | null;
  readonly serverTransport: MemoryTransport | null;
  /** Let both vats run until nothing moves. */
  settle(): Promise<void>;
  /** Things to release before the leak check (closed in reverse order). */
  defer<T extends Disposable>(x: T): T;
}

export interface RpcTestOptions {
  modes?: readonly Mode[];
  /** The server's bootstrap, if not TestBootstrap. */
  serverBootstrap?: (c: Counters) => Server | Client;
  /** A bootstrap the client exports to the server. */
  clientBootstrap?: () => Server | Client;
  /** Skip the empty-tables check (tests that end the connection themselves). */
  noLeakCheck?: boolean;
}

function activity(...cs: (RpcConnection | null)[]): number {
  let n = 0;
  for (const c of cs) if (c !== null) n += c.stats.sent + c.stats.received;
  return n;
}

export async function settleConns(realIo: boolean, ...cs: (RpcConnection | null)[]): Promise<void> {
  let last = -1;
  let quiet = 0;
  for (let i = 0; i < 500 && quiet < (realIo ? 3 : 2); i++) {
    await whenIdle();
    await new Promise((r) => (realIo ? setTimeout(r, 1) : setImmediate(r)));
    const a = activity(...cs);
    if (a === last) quiet++;
    else quiet = 0;
    last = a;
  }
}

export function emptyTables() {
  return { questions: 0, answers: 0, exports: 0, imports: 0, embargoes: 0 };
}

async function waitEmpty(settle: () => Promise<void>, ...cs: RpcConnection[]): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (cs.every((c) => Object.values(c.tableSizes()).every((v) => v === 0))) return;
    await settle();
  }
  for (const c of cs)
    assert.deepEqual(c.tableSizes(), emptyTables(), `leak check: tables not empty\n${dump(c)}`);
}

/** The tables' own rules (`checkInvariants` of capnts/testing), on every connection of the test. */
export function checkInvariants(...cs: (RpcConnection | null)[]): void {
  for (const c of cs) if (c !== null) checkConnection(c);
}

/** Server objects alive now (made into a capability and not yet disposed), in this process. */
export function liveServers(): number {
  return serverLifetimes.created - serverLifetimes.disposed;
}

/**
 * The live-object leak check: once everything is closed, the count of live servers must come back
 * to `baseline` (no gc(): what C++ destroys deterministically must be released deterministically).
 */
export async function expectServersReleased(baseline: number, what: string): Promise<void> {
  // Sockets deliver their end a few loop turns after close; a busy machine may take longer, so the
  // wait is bounded by time (2 s), not by a count of turns. A passing test waits only as long as
  // the release takes.
  const deadline = Date.now() + 2000;
  for (let i = 0; liveServers() !== baseline && Date.now() < deadline; i++) {
    await whenIdle();
    await new Promise((r) => setTimeout(r, i < 10 ? 0 : 2));
  }
  assert.equal(
    liveServers() - baseline,
    0,
    `leak check: ${liveServers() - baseline} server object(s) made during ${what} still alive after the connections closed`,
  );
}

async function setup(mode: Mode, opts: RpcTestOptions) {
  const counters = new Counters();
  const serverBoot = opts.serverBootstrap?.(counters) ?? newTestBootstrap(counters);
  const clientBoot = opts.clientBootstrap?.();
  if (mode === "memory") {
    const [a, b] = newMemoryTransportPair({ vatId: "client" }, { vatId: "server" });
    const hook = (x: Server | Client | undefined) =>
      x === undefined ? undefined : () => (x instanceof Client ? x._live().addRef() : x._client());
    const sb = hook(serverBoot)!;
    const cb = hook(clientBoot);
    const serverConn = new Conn(b, { bootstrap: sb });
    const clientConn = new Conn(a, cb !== undefined ? { bootstrap: cb } : {});
    serverConn.start();
    clientConn.start();
    const boot = new TestBootstrap_Client(clientConn.bootstrap());
    const settle = () => settleConns(false, clientConn, serverConn);
    const close = async () => {
      clientConn.disconnect(
        new (await import("../../src/rpc/errors.js")).RpcError("disconnected", "test over"),
      );
      await settle();
      if (serverBoot instanceof Client) serverBoot.close();
      if (clientBoot instanceof Client) clientBoot.close();
    };
    return {
      counters,
      boot,
      clientConn,
      serverConn: () => serverConn,
      clientTransport: a,
      serverTransport: b,
      settle,
      close,
    };
  }
  const rt = Runtime.init();
  const server = rt.newServer(serverBoot);
  let serverConn: RpcConnection | null = null;
  server.onConnection = (c: TwoPartyClient) => {
    serverConn = c.rpcSystem.liveConnections[0] ?? null;
  };
  const address =
    mode === "tcp" ? "127.0.0.1:0" : `unix:${join(mkdtempSync(join(tmpdir(), "capnts-rpc-")), "sock")}`;
  const info = await server.listen(address);
  const client = await rt.connect(info.address, clientBoot !== undefined ? { bootstrap: clientBoot } : {});
  const clientConn = client.rpcSystem.liveConnections[0] ?? client.rpcSystem.connectionFor(client.network);
  const boot = client.bootstrap(TestBootstrap_Client);
  const settle = () => settleConns(true, clientConn, serverConn);
  // Wait for the server side to exist.
  for (let i = 0; i < 200 && serverConn === null; i++) await new Promise((r) => setTimeout(r, 1));
  const close = async () => {
    await rt.shutdown();
    if (serverBoot instanceof Client) serverBoot.close();
    if (clientBoot instanceof Client) clientBoot.close();
  };
  return {
    counters,
    boot,
    clientConn,
    serverConn: () => serverConn!,
    clientTransport: null,
    serverTransport: null,
    settle,
    close,
  };
}

/** Define `name` once per mode. */
export function rpcTest(name: string, fn: (ctx: Ctx) => Promise<void>, opts: RpcTestOptions = {}): void {
  for (const mode of opts.modes ?? ALL_MODES) {
    test(`${name} [${mode}]`, async () => {
      const baseline = liveServers();
      const s = await setup(mode, opts);
      const deferred: Disposable[] = [];
      const ctx: Ctx = {
        mode,
        counters: s.counters,
        boot: s.boot,
        clientConn: s.clientConn,
        get serverConn() {
          return s.serverConn();
        },
        clientTransport: s.clientTransport,
        serverTransport: s.serverTransport,
        settle: s.settle,
        defer(x) {
          deferred.push(x);
          return x;
        },
      };
      try {
        await fn(ctx);
        // What the test left behind, before it is released, and then after.
        checkInvariants(s.clientConn, s.serverConn());
        for (const d of deferred.reverse()) d[Symbol.dispose]();
        deferred.length = 0;
        s.boot.close();
        if (!opts.noLeakCheck) await waitEmpty(s.settle, s.clientConn, s.serverConn());
        checkInvariants(s.clientConn, s.serverConn());
      } finally {
        for (const d of deferred.reverse()) d[Symbol.dispose]();
        s.boot.close();
        await s.close();
      }
      // After a disconnect every table is empty, whatever was still held.
      assert.deepEqual(s.clientConn.tableSizes(), emptyTables());
      checkInvariants(s.clientConn);
      await expectServersReleased(baseline, "the test");
    });
  }
}
