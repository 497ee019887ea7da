/**
 * The flow-control window of streaming calls over sockets. C++ TwoPartyVatNetwork::getWindow()
 * uses the socket's SO_SNDBUF (RpcFlowController::newVariableWindowController), and only a stream
 * without one (a kj pipe, as in rpc-twoparty-test.c++ "Streaming over RPC") gets
 * DEFAULT_WINDOW_SIZE, 64 KiB. Node has no getsockopt, so the Node transport reports what Linux
 * grants such a socket (src/transport/node.ts).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { Runtime } from "capnts/node";
import { whenIdle } from "capnts/testing";
import { DEFAULT_WINDOW_SIZE } from "../../src/rpc/flow-control.js";
import { newByteStreamPair, TwoPartyVatNetwork } from "../../src/rpc/two-party.js";
import { nodeNet } from "../../src/transport/node.js";
import { TestStreaming, TestStreaming_Client } from "../interop/gen/test.capnp.js";

const linux = process.platform === "linux";
const MODES = ["tcp", "unix"] as const;

function address(mode: "tcp" | "unix"): string {
  return mode === "tcp"
    ? "127.0.0.1:0"
    : `unix:${join(tmpdir(), `capnts-sw-${process.pid}-${Math.random().toString(36).slice(2)}.sock`)}`;
}

/** What getsockopt(SO_SNDBUF) reports on Linux for a socket of this kind (see node.ts). */
function kernelSendBuffer(mode: "tcp" | "unix"): number {
  return mode === "tcp"
    ? Number(readFileSync("/proc/sys/net/ipv4/tcp_wmem", "utf8").trim().split(/\s+/)[2])
    : Number(readFileSync("/proc/sys/net/core/wmem_default", "utf8").trim());
}

for (const mode of MODES) {
  test(`a socket's streaming window is the kernel's send buffer, as C++ TwoPartyVatNetwork::getWindow() reads SO_SNDBUF; an explicit streamWindow wins [${mode}]`, {
    skip: linux ? false : "reads Linux's /proc/sys/net",
  }, async () => {
    const accepted: Promise<import("../../src/rpc/two-party.js").ByteStream>[] = [];
    let got!: (s: import("../../src/rpc/two-party.js").ByteStream) => void;
    accepted.push(new Promise((r) => (got = r)));
    const l = await nodeNet.listen(address(mode), (s) => got(s));
    const a = await nodeNet.connect(l.address);
    const b = await accepted[0]!;
    try {
      const expected = kernelSendBuffer(mode);
      assert.ok(expected > DEFAULT_WINDOW_SIZE / 2, `kernel buffer ${expected}`);
      assert.equal(new TwoPartyVatNetwork(a, "client").streamWindow, expected);
      assert.equal(new TwoPartyVatNetwork(b, "server").streamWindow, expected);
      assert.equal(new TwoPartyVatNetwork(a, "client", { streamWindow: 1000 }).streamWindow, 1000);
    } finally {
      await a.end();
      await b.end();
      await l.close();
    }
  });
}

test("a byte stream without a send buffer (an in-memory pipe) leaves the window to the RPC default, 64 KiB", () => {
  const [x] = newByteStreamPair();
  assert.equal(new TwoPartyVatNetwork(x, "client").streamWindow, undefined);
});

/** Whether `p` settles without any peer activity: admission by the window is decided locally. */
async function admittedAtOnce(p: Promise<void>): Promise<boolean> {
  let settled = false;
  void p.then(() => (settled = true));
  await whenIdle();
  await new Promise((r) => setImmediate(r));
  await whenIdle();
  return settled;
}

for (const window of [undefined, DEFAULT_WINDOW_SIZE] as const) {
  const what = window === undefined ? "the kernel's window admits" : "a 64 KiB streamWindow blocks";
  test(`over TCP, with the server holding every call, ${what} 256 KiB of 16 KiB streaming calls`, {
    skip: linux ? false : "reads Linux's /proc/sys/net",
  }, async () => {
    const held: (() => void)[] = [];
    await Runtime.run(async (rt) => {
      const server = rt.newServer(
        TestStreaming.server({
          doStreamI() {},
          doStreamJ() {},
          finishStream() {},
          doStreamData() {
            // Hold every call: nothing is acknowledged while the client fills its window.
            return new Promise<void>((r) => held.push(r));
          },
        }),
      );
      const { address: addr } = await server.listen(address("tcp"));
      const client = await rt.connect(addr, window === undefined ? {} : { streamWindow: window });
      using cap = client.bootstrap(TestStreaming_Client);
      await cap.whenResolved();
      const chunk = new Uint8Array(16 * 1024);
      const limit = 4 * DEFAULT_WINDOW_SIZE;
      const pending: Promise<void>[] = [];
      let sentBytes = 0;
      let blocked = false;
      while (sentBytes < limit && !blocked) {
        const p = cap.doStreamData((x) => (x.data = chunk));
        pending.push(p);
        sentBytes += chunk.byteLength;
        blocked = !(await admittedAtOnce(p));
      }
      if (window === undefined) {
        assert.ok(kernelSendBuffer("tcp") >= limit);
        assert.equal(blocked, false, `blocked after ${sentBytes} bytes`);
      } else {
        // C++ WindowFlowController: ready while window + largest message > bytes in flight.
        assert.equal(blocked, true);
        assert.ok(
          sentBytes <= DEFAULT_WINDOW_SIZE + 2 * chunk.byteLength,
          `blocked after ${sentBytes} bytes`,
        );
      }
      // Let them all complete so the connection closes cleanly.
      while (pending.length > 0) {
        await whenIdle();
        while (held.length > 0) held.shift()!();
        await pending.shift();
      }
    });
  });
}
