/**
 * FD passing over a Unix socket (SCM_RIGHTS through the optional `usocket` package), mirroring
 * rpc-twoparty-test.c++ KJ_TEST("send FD over RPC") and KJ_TEST("FD per message limit").
 *
 * C++ uses pipes; Node cannot make a bare pipe, so these use temporary files: a capability
 * (C++ TestFdCap) wraps a file's FD, the server writes through the FD it received, and the test
 * reads the files back. The FDs really cross the socket: the server sees different FD numbers
 * than the client sent. After each test every FD is closed again (the process's FD count is
 * back where it started): received FDs that no capability claimed, those the receiver's limit
 * dropped, and those owned by released imports.
 *
 * Where FD passing is unavailable (usocket missing or not built, or not Linux) the tests skip
 * and say why, unless CAPNTS_REQUIRE_FD_PASSING=1 (then they fail).
 */
import assert from "node:assert/strict";
import {
  closeSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { Client, type Server, TwoPartyClient, TwoPartyServer } from "capnts/rpc";
import { whenIdle } from "capnts/testing";
import {
  fdPassingUnavailableReason,
  newFdSocketPair,
  writeKeepingFds,
} from "../../src/transport/fd-socket.js";
import {
  TestInterface,
  TestInterface_Client,
  TestMoreStuff,
  TestMoreStuff_Client,
  type TestMoreStuff_Server,
} from "../interop/gen/test.capnp.js";

const unavailable = await fdPassingUnavailableReason();
const required = process.env.CAPNTS_REQUIRE_FD_PASSING === "1";
const skip = unavailable !== null && !required ? `FD passing unavailable: ${unavailable}` : false;

/**
 * The process's open FDs, number -> what it is (/proc/self/fd). A leak is an FD open after the
 * test that was not open before, with the same target: counting alone also "fails" when some
 * FD opened before the test (the test runner's, tsx's) is closed during it.
 */
function openFds(): Map<string, string> {
  const fds = new Map<string, string>();
  for (const n of readdirSync("/proc/self/fd")) {
    try {
      fds.set(n, readlinkSync(`/proc/self/fd/${n}`));
    } catch {
      // Closed between the listing and the read (the listing's own FD, for one).
    }
  }
  return fds;
}

function newFds(before: Map<string, string>): string[] {
  const added: string[] = [];
  for (const [n, target] of openFds()) if (before.get(n) !== target) added.push(`${n} -> ${target}`);
  return added;
}

/** C++ TestFdCap (test-util.h): a TestInterface with no methods whose getFd() is `fd`; owns it. */
function testFdCap(fd: number): Server<TestInterface_Client> {
  return TestInterface.server({
    getFd: () => fd,
    [Symbol.dispose]() {
      closeSync(fd);
    },
  });
}

interface Seen {
  /** FD numbers the server's writeToFd got for fdCap1 / fdCap2. */
  fd1: number | null;
  fd2: number | null;
}

/** TestMoreStuffImpl::writeToFd (test-util.c++), over files instead of pipes. */
function moreStuff(dir: string, seen: Seen): Server<TestMoreStuff_Client> {
  return TestMoreStuff.server({
    // Only here to put `fill` bytes on the wire before writeToFd (master's `fill` parameter).
    methodWithDefaults(ctx) {
      ctx.results.d = ctx.params.a;
    },
    async writeToFd(ctx) {
      using cap1 = ctx.params.fdCap1;
      using cap2 = ctx.params.fdCap2;
      const [fd1, fd2] = await Promise.all([cap1.getFd(), cap2.getFd()]);
      seen.fd1 = fd1;
      seen.fd2 = fd2;
      assert.notEqual(fd1, null, "the first FD must arrive");
      writeSync(fd1!, "foo");
      ctx.results.secondFdPresent = fd2 !== null;
      if (fd2 !== null) writeSync(fd2, "bar");
      // C++ makes a pipe holding "baz" and returns its read end; we use a file.
      const f3 = join(dir, "3");
      writeFileSync(f3, "baz");
      using fdCap3 = new TestInterface_Client(testFdCap(openSync(f3, "r")));
      ctx.results.fdCap3 = fdCap3;
    },
  } as TestMoreStuff_Server);
}

async function runFdTest(
  maxFds: number,
  fill: number,
): Promise<{ secondFdPresent: boolean; file1: string; file2: string }> {
  const before = openFds();
  const dir = mkdtempSync(join(tmpdir(), "capnts-fdtest-"));
  const seen: Seen = { fd1: null, fd2: null };
  const [a, b] = await newFdSocketPair();
  // C++: server.accept(kj::mv(pipe.ends[0]), maxFds); TwoPartyClient client(*pipe.ends[1], maxFds).
  const server = new TwoPartyServer(moreStuff(dir, seen), { maxFdsPerMessage: maxFds });
  const served = server.accept(a);
  const client = new TwoPartyClient(b, undefined, "client", { maxFdsPerMessage: maxFds });
  let result: { secondFdPresent: boolean; file1: string; file2: string };
  const f1 = join(dir, "1");
  const f2 = join(dir, "2");
  try {
    using cap = client.bootstrap(TestMoreStuff_Client);
    writeFileSync(f1, "");
    writeFileSync(f2, "");
    const out1 = openSync(f1, "w");
    const out2 = openSync(f2, "w");
    {
      // C++ master sends `fill` bytes in the same message to check that FDs survive fragmented
      // reads; our 0.9.2 schema has no `fill`, so a `fill`-byte call goes out in the same turn,
      // right before the call carrying the FDs (and its result comes back before fdCap3).
      using big = cap.methodWithDefaults((p) => {
        p.a = "x".repeat(fill);
      });
      // "Order reversal intentional, just trying to mix things up."
      using fdCap1 = new TestInterface_Client(testFdCap(out2));
      using fdCap2 = new TestInterface_Client(testFdCap(out1));
      using promise = cap.writeToFd((p) => {
        p.fdCap1 = fdCap1;
        p.fdCap2 = fdCap2;
      });
      // The FD of the *pipelined* capability (C++ promise.getFdCap3().getFd()).
      {
        using fdCap3 = promise.pipeline.fdCap3;
        const in3 = await fdCap3.getFd();
        assert.notEqual(in3, null, "fdCap3 must come with its FD");
        assert.equal(readFileSync(in3!, "utf8"), "baz");
      }
      const response = await promise;
      result = { secondFdPresent: response.secondFdPresent, file1: "", file2: "" };
      assert.equal((await big).d.length, fill);
    }
    // The FDs crossed the socket: the server held other FD numbers than the ones we sent.
    assert.ok(seen.fd1 !== null && seen.fd1 !== out2, "fdCap1's FD was passed, not shared");
    if (seen.fd2 !== null) assert.notEqual(seen.fd2, out1);
  } finally {
    await client.close();
    await served;
    await whenIdle();
  }
  result.file1 = readFileSync(f1, "utf8");
  result.file2 = readFileSync(f2, "utf8");
  rmSync(dir, { recursive: true, force: true });
  // Everything was released: every FD opened or received along the way is closed again.
  for (let i = 0; i < 50 && newFds(before).length > 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(newFds(before), [], "no FD leaked");
  return result;
}

/** C++ master's loop: FDs must survive reads fragmented by this much data around them. */
const FILLS = [1 << 20, 1 << 16, 1 << 13, 0];

test('send FD over RPC (rpc-twoparty-test.c++ KJ_TEST("send FD over RPC"))', { skip }, async () => {
  for (const fill of FILLS) {
    const r = await runFdTest(2, fill);
    assert.equal(r.secondFdPresent, true, `fill ${fill}`);
    // fdCap2 wrapped file 1, fdCap1 wrapped file 2 (C++: in1 reads "bar", in2 reads "foo").
    assert.equal(r.file1, "bar", `fill ${fill}`);
    assert.equal(r.file2, "foo", `fill ${fill}`);
  }
});

test('FD per message limit (rpc-twoparty-test.c++ KJ_TEST("FD per message limit"))', { skip }, async () => {
  for (const fill of FILLS) {
    const r = await runFdTest(1, fill);
    // The second FD of the call was dropped by the receiver's limit (its attachedFd is past the
    // one FD kept), so the server saw no FD for fdCap2; the returned fdCap3 still got its FD.
    assert.equal(r.secondFdPresent, false, `fill ${fill}`);
    assert.equal(r.file1, "", `fill ${fill}`);
    assert.equal(r.file2, "foo", `fill ${fill}`);
  }
});

test("FD passing: a plain capability has no FD; Client.getFd() of a local server", { skip }, async () => {
  using plain = new TestInterface_Client(TestInterface.server({}));
  assert.equal(await plain.getFd(), null);
  const dir = mkdtempSync(join(tmpdir(), "capnts-fdtest-"));
  const fd = openSync(join(dir, "x"), "w");
  {
    using c = new TestInterface_Client(testFdCap(fd));
    assert.equal(await c.getFd(), fd);
    assert.ok(c instanceof Client);
  }
  rmSync(dir, { recursive: true, force: true });
});

// usocket 1.1.0's native wrappers free their libuv handle when garbage-collected, even while it
// is open or still closing; the process then aborts in libuv (uv__finish_close). This ran into CI
// as an intermittent abort of the TS test server. Collect garbage right after each way a socket
// ends (our end(), the peer's end seen as EOF) before the loop's closing phase, in a child
// process so that an abort is reported rather than taking the test runner down.
test("FD sockets: garbage collection right after close does not abort the process (usocket handle lifetime)", {
  skip,
}, async () => {
  const { spawnSync } = await import("node:child_process");
  const module = new URL("../../src/transport/fd-socket.ts", import.meta.url).href;
  const script = `
    import { newFdSocketPair, liveFdSocketHandlesForTesting } from ${JSON.stringify(module)};
    const churn = () => { const junk = []; for (let j = 0; j < 2000; j++) junk.push(Buffer.alloc(64, 0xff)); return junk.length; };
    for (let i = 0; i < 40; i++) {
      let [a, b] = await newFdSocketPair();
      a.start(() => {}, () => {});
      const peerEnded = new Promise((r) => b.start(() => {}, () => r()));
      await a.end();
      a = null;
      globalThis.gc(); churn();
      await peerEnded;
      b = null;
      globalThis.gc(); churn();
      await new Promise((r) => setImmediate(r));
      globalThis.gc();
    }
    await new Promise((r) => setTimeout(r, 20));
    console.log("live " + liveFdSocketHandlesForTesting());
  `;
  const r = spawnSync(
    process.execPath,
    ["--expose-gc", "--import", "tsx", "--input-type=module", "-e", script],
    {
      encoding: "utf8",
      timeout: 60_000,
    },
  );
  assert.equal(r.status, 0, `child exited with ${r.status} (signal ${r.signal})\n${r.stderr}`);
  // Every wrapper was closed and released again: none left open (an FD leak) or held for ever.
  assert.equal(r.stdout.trim(), "live 0");
});

// usocket 1.1.0 retries a short write without its FDs, which loses them when the kernel refused
// the first sendmsg outright (EAGAIN, nothing sent). Our _write keeps them for that retry, and
// only for that one. A fake native wrapper plays the kernel: no usocket needed.
test("FD sockets: a write the kernel refuses at once is retried with its FDs; after a partial write, without", () => {
  const calls: { bytes: number; fds: number[] | undefined }[] = [];
  const results: number[] = [0, 3, 5]; // refused, then 3 of 8 bytes (FDs go with them), then the rest
  const wrap = {
    close() {},
    drain: null as (() => void) | null,
    write(data: Uint8Array, fds: number[] | undefined): number {
      calls.push({ bytes: data.length, fds });
      return results.shift()!;
    },
  };
  let done = 0;
  writeKeepingFds.call({ _wrap: wrap }, { data: Buffer.alloc(8), fds: [7, 9] }, null, (e) => {
    assert.equal(e ?? null, null);
    done++;
  });
  assert.deepEqual(calls, [{ bytes: 8, fds: [7, 9] }]);
  assert.equal(done, 0);
  wrap.drain!(); // writable again: the whole message again, FDs included
  assert.deepEqual(calls[1], { bytes: 8, fds: [7, 9] });
  wrap.drain!(); // the rest, without the FDs already sent
  assert.deepEqual(calls[2], { bytes: 5, fds: undefined });
  assert.equal(done, 1);
  // A failed sendmsg is the write's error.
  const failing = { close() {}, write: () => new Error("EPIPE") };
  let err: Error | null | undefined;
  writeKeepingFds.call({ _wrap: failing }, { data: Buffer.alloc(1) }, null, (e) => (err = e));
  assert.equal(err?.message, "EPIPE");
});
