/**
 * Two vats connected directly, both able to export a bootstrap (C++ tests that build
 * TwoPartyClient pairs by hand: peer-to-peer, proxies, loops). Modes: an in-memory message pair,
 * or the two-party network over a real TCP socket.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nodeNet } from "capnts/node";
import { Client, type Server } from "capnts/rpc";
import { RpcConnection as Conn, type RpcConnection } from "../../src/rpc/connection.js";
import { newMemoryTransportPair } from "../../src/rpc/memory-transport.js";
import { type ByteStream, TwoPartyVatNetwork } from "../../src/rpc/two-party.js";
import type { Mode } from "./harness.js";

export type Boot = Server | Client | undefined;

function hook(x: Boot) {
  if (x === undefined) return {};
  return { bootstrap: () => (x instanceof Client ? x._live().addRef() : x._client()) };
}

export interface Link {
  a: RpcConnection;
  b: RpcConnection;
  close(): Promise<void>;
}

/** Two connected byte streams over a real socket (TCP or Unix), and how to close the listener. */
export async function streamPair(mode: Mode): Promise<[ByteStream, ByteStream, () => Promise<void>]> {
  let accepted!: (s: ByteStream) => void;
  const got = new Promise<ByteStream>((r) => (accepted = r));
  const address =
    mode === "tcp" ? "127.0.0.1:0" : `unix:${join(mkdtempSync(join(tmpdir(), "capnts-link-")), "s")}`;
  const l = await nodeNet.listen(address, (s) => accepted(s));
  const a = await nodeNet.connect(l.address);
  const b = await got;
  return [a, b, () => l.close()];
}

/** Vat A (client side) ⇄ vat B (server side). */
export async function link(
  mode: Mode,
  bootA: Boot,
  bootB: Boot,
  opts: { streamWindow?: number } = {},
): Promise<Link> {
  const w = opts.streamWindow !== undefined ? { streamWindow: opts.streamWindow } : {};
  if (mode === "memory") {
    const [x, y] = newMemoryTransportPair({ vatId: "client", ...w }, { vatId: "server", ...w });
    const a = new Conn(x, hook(bootA));
    const b = new Conn(y, hook(bootB));
    a.start();
    b.start();
    return {
      a,
      b,
      async close() {
        a.disconnect(new (await import("../../src/rpc/errors.js")).RpcError("disconnected", "done"));
      },
    };
  }
  const [sa, sb, closeListener] = await streamPair(mode);
  const a = new Conn(new TwoPartyVatNetwork(sa, "client", w), hook(bootA));
  const b = new Conn(new TwoPartyVatNetwork(sb, "server", w), hook(bootB));
  a.start();
  b.start();
  return {
    a,
    b,
    async close() {
      a.disconnect(new (await import("../../src/rpc/errors.js")).RpcError("disconnected", "done"));
      await a.whenShutDown();
      await closeListener();
    },
  };
}
