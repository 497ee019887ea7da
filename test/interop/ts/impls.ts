/**
 * TypeScript implementations of the interop test interfaces (test/interop/schema/test.capnp) with
 * the behaviour of the C++ fixture impls (test/interop/cpp/test-impls.c++, modelled on C++'s
 * test-util.c++): counters shared per connection, held capabilities, hanging calls that record
 * their cancellation through the call's AbortSignal, echo, tail calls back into the caller,
 * streaming sums and FD passing (writeToFd, TestFdCap). The TS test server (server.ts) serves them to the C++ test-client; the TS
 * interop client tests use the client-side ones (TestCapDestructor, TestHangingTailCallee, ...)
 * as the C++ tests do.
 *
 * Where a C++ impl records a failed EXPECT and goes on, ours throws, so the caller sees it.
 */

import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getClient, setClient } from "capnts/codegenv1";
import { type Client, RpcError, type Server } from "capnts/rpc";
import { canonicalizeStruct } from "capnts/serialize";
import type { StructView } from "capnts/wire";
import {
  canonicalAllTypes,
  Side,
  TestBootstrap,
  type TestBootstrap_Server,
  TestCallOrder,
  type TestCallOrder_Server,
  TestExtends,
  type TestExtends_Server,
  TestFlowSink,
  type TestFlowSink_Server,
  TestHandle,
  TestInterface,
  type TestInterface_Client,
  type TestInterface_Server,
  TestMoreStuff,
  type TestMoreStuff_Server,
  TestPipeline,
  type TestPipeline_Server,
  TestRacingControl,
  type TestRacingControl_Server,
  TestStreaming,
  type TestStreaming_Server,
  TestStreamingControl,
  type TestStreamingControl_Server,
  TestTailCallee,
  type TestTailCallee_Server,
  TestTailCaller,
  type TestTailCaller_Server,
} from "../gen/test.capnp.js";

/** The counters C++'s tests share with their impls (one set per connection). */
export class Shared {
  callCount = 0;
  handleCount = 0;
  cancelCount = 0;
  liveObjects = 0;
}

/** Counts an object in `shared.liveObjects` from construction until its capability is released. */
abstract class Live implements Disposable {
  readonly shared: Shared;
  private alive = true;
  constructor(shared: Shared) {
    this.shared = shared;
    shared.liveObjects++;
  }
  [Symbol.dispose](): void {
    if (!this.alive) return;
    this.alive = false;
    this.shared.liveObjects--;
  }
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

let canonicalBytes: Uint8Array | null = null;

/** True if `s` equals the schema constant canonicalAllTypes (compared in canonical form). */
export function isCanonicalAllTypes(s: StructView): boolean {
  canonicalBytes ??= canonicalizeStruct(canonicalAllTypes);
  return bytesEqual(canonicalizeStruct(s), canonicalBytes);
}

/** Closes `c` (if any) and ignores a double close. */
function closeQuietly(c: Client | null | undefined): void {
  try {
    c?.close();
  } catch {
    // already closed
  }
}

/** A new capability served by `impl` (C++ `kj::heap<Impl>(...)` converted to a Client). */
export function serve<C extends Client, I>(
  iface: { Client: new (source: Server<C>) => C; server(impl: I): Server<C> },
  impl: I,
): C {
  return new iface.Client(iface.server(impl));
}

/** Stores a new capability with `set` (which takes its own reference), then drops ours. */
export function put<C extends Client>(set: (c: C) => void, c: C): void {
  try {
    set(c);
  } finally {
    c.close();
  }
}

/** Calls cap.foo(123, true) and requires "foo", as TestPipelineImpl/TestMoreStuffImpl do. */
export async function expectFoo(cap: TestInterface_Client): Promise<void> {
  const r = cap.foo((p) => {
    p.i = 123;
    p.j = true;
  });
  try {
    const x = (await r).x;
    if (x !== "foo") throw RpcError.failed(`callback foo() returned the wrong text: ${JSON.stringify(x)}`);
  } finally {
    r.cancel();
  }
}

/** A promise that never settles unless `signal` aborts; then it rejects and `onAbort` runs. */
function hangUntilAborted(signal: AbortSignal, onAbort: () => void): Promise<never> {
  return new Promise<never>((_resolve, reject) => {
    const abort = () => {
      onAbort();
      reject(signal.reason ?? RpcError.failed("Call was canceled."));
    };
    if (signal.aborted) abort();
    else signal.addEventListener("abort", abort, { once: true });
  });
}

// ---------------------------------------------------------------------------------------------

export class TestInterfaceImpl extends Live implements TestInterface_Server {
  foo: NonNullable<TestInterface_Server["foo"]> = (ctx) => {
    this.shared.callCount++;
    const { i, j } = ctx.params;
    if (!(i === 123 && j))
      throw RpcError.failed(`TestInterface.foo expects i = 123, j = true; got i = ${i}, j = ${j}`);
    ctx.results.x = "foo";
  };
  baz: NonNullable<TestInterface_Server["baz"]> = (ctx) => {
    this.shared.callCount++;
    if (!isCanonicalAllTypes(ctx.params.s))
      throw RpcError.failed("TestInterface.baz expects s = canonicalAllTypes");
    ctx.releaseParams();
    let threw = false;
    try {
      ctx.getParams();
    } catch {
      threw = true;
    }
    if (!threw) throw RpcError.failed("getParams() after releaseParams() should throw");
  };
}

export class TestExtendsImpl extends Live implements TestExtends_Server {
  foo: NonNullable<TestExtends_Server["foo"]> = (ctx) => {
    this.shared.callCount++;
    const { i, j } = ctx.params;
    if (!(i === 321 && !j))
      throw RpcError.failed(`TestExtends.foo expects i = 321, j = false; got i = ${i}, j = ${j}`);
    ctx.results.x = "bar";
  };
  grault: NonNullable<TestExtends_Server["grault"]> = (ctx) => {
    this.shared.callCount++;
    ctx.releaseParams();
    // C++ context.setResults(CANONICAL_ALL_TYPES); CallContext has no setResults, so copy
    // through the results pointer.
    ctx._hook.getResults().setStruct(canonicalAllTypes);
  };
}

export class TestPipelineImpl extends Live implements TestPipeline_Server {
  getCap: NonNullable<TestPipeline_Server["getCap"]> = async (ctx) => {
    this.shared.callCount++;
    const n = ctx.params.n;
    if (n !== 234) throw RpcError.failed(`TestPipeline.getCap expects n = 234, got ${n}`);
    const cap = ctx.params.inCap;
    ctx.releaseParams();
    try {
      await expectFoo(cap);
    } finally {
      cap.close();
    }
    ctx.results.s = "bar";
    put((c) => (ctx.results.initOutBox().cap = c), serve(TestExtends, new TestExtendsImpl(this.shared)));
  };
  getAnyCap: NonNullable<TestPipeline_Server["getAnyCap"]> = async (ctx) => {
    this.shared.callCount++;
    const n = ctx.params.n;
    if (n !== 234) throw RpcError.failed(`TestPipeline.getAnyCap expects n = 234, got ${n}`);
    // `inCap :Capability`: the generator reads it as an AnyPointer (no client getter), so take
    // the capability from pointer field 0 directly.
    const cap = getClient(ctx.params, 0, TestInterface.Client);
    ctx.releaseParams();
    try {
      await expectFoo(cap);
    } finally {
      cap.close();
    }
    ctx.results.s = "bar";
    // AnyBox.cap is `:Capability` (no client setter generated): set pointer field 0 directly.
    const box = ctx.results.initOutBox();
    put((c) => setClient(box, 0, c), serve(TestExtends, new TestExtendsImpl(this.shared)));
  };
  getCapPipelineOnly: NonNullable<TestPipeline_Server["getCapPipelineOnly"]> = (ctx) => {
    this.shared.callCount++;
    ctx.setPipeline((r) => {
      put((c) => (r.initOutBox().cap = c), serve(TestExtends, new TestExtendsImpl(this.shared)));
    });
    return new Promise<void>(() => {}); // never returns (C++ kj::NEVER_DONE)
  };
}

export class TestCallOrderImpl extends Live implements TestCallOrder_Server {
  count = 0;
  getCallSequence: NonNullable<TestCallOrder_Server["getCallSequence"]> = (ctx) => {
    ctx.results.n = this.count++;
  };
}

export class TestTailCalleeImpl extends Live implements TestTailCallee_Server {
  foo: NonNullable<TestTailCallee_Server["foo"]> = (ctx) => {
    this.shared.callCount++;
    const r = ctx.results;
    r.i = ctx.params.i;
    r.t = ctx.params.t;
    put((c) => (r.c = c), serve(TestCallOrder, new TestCallOrderImpl(this.shared)));
  };
}

export class TestTailCallerImpl extends Live implements TestTailCaller_Server {
  foo: NonNullable<TestTailCaller_Server["foo"]> = (ctx) => {
    this.shared.callCount++;
    const callee = ctx.params.callee;
    const req = callee.fooRequest();
    req.params.i = ctx.params.i;
    req.params.t = "from TestTailCaller";
    callee.close();
    return ctx.tailCall(req);
  };
}

/** What a TestRacingTailCallerImpl waits for and its TestRacingControlImpl opens. */
export class RacingGate {
  readonly opened: Promise<void>;
  open!: () => void;
  constructor() {
    this.opened = new Promise<void>((resolve) => (this.open = resolve));
  }
}

/**
 * rpc-test.c++ TestRacingTailCaller: foo waits for the gate, then tail-calls callee.foo(). Like
 * 0.9.2's, it does not allow cancellation, so the tail call is made even when the caller's Finish
 * came first, and must then be cancelled. Not counted.
 */
export class TestRacingTailCallerImpl extends Live implements TestTailCaller_Server {
  private readonly gate: RacingGate;
  constructor(shared: Shared, gate: RacingGate) {
    super(shared);
    this.gate = gate;
  }
  foo: NonNullable<TestTailCaller_Server["foo"]> = async (ctx) => {
    await this.gate.opened;
    const callee = ctx.params.callee;
    const req = callee.fooRequest();
    callee.close();
    return ctx.tailCall(req);
  };
}

export class TestRacingControlImpl extends Live implements TestRacingControl_Server {
  private readonly gate: RacingGate;
  constructor(shared: Shared, gate: RacingGate) {
    super(shared);
    this.gate = gate;
  }
  unblock: NonNullable<TestRacingControl_Server["unblock"]> = () => {
    this.gate.open();
  };
}

/**
 * take(): in flight for `delayMs`, then returns; getState(): completed, maxInFlight, bytes. With
 * the connection's flow limit set, maxInFlight stays about limit / call size.
 */
export class TestFlowSinkImpl extends Live implements TestFlowSink_Server {
  private readonly delayMs: number;
  private completed = 0;
  private inFlight = 0;
  private maxInFlight = 0;
  private bytes = 0n;
  constructor(shared: Shared, delayMs: number) {
    super(shared);
    this.delayMs = delayMs;
  }
  take: NonNullable<TestFlowSink_Server["take"]> = async (ctx) => {
    this.bytes += BigInt(ctx.params.data.length);
    this.maxInFlight = Math.max(this.maxInFlight, ++this.inFlight);
    await new Promise((r) => setTimeout(r, this.delayMs));
    this.inFlight--;
    this.completed++;
  };
  getState: NonNullable<TestFlowSink_Server["getState"]> = (ctx) => {
    ctx.results.completed = this.completed;
    ctx.results.maxInFlight = this.maxInFlight;
    ctx.results.bytes = this.bytes;
  };
}

/** rpc-test.c++ TestHangingTailCallee: counts the call, never returns, counts its cancellation. */
export class TestHangingTailCallee implements TestTailCallee_Server {
  readonly shared: Shared;
  constructor(shared: Shared) {
    this.shared = shared;
  }
  foo: NonNullable<TestTailCallee_Server["foo"]> = (ctx) => {
    ctx.allowCancellation();
    this.shared.callCount++;
    return hangUntilAborted(ctx.signal, () => {
      this.shared.cancelCount++;
    });
  };
}

export class HandleImpl implements Disposable {
  private readonly shared: Shared;
  private alive = true;
  constructor(shared: Shared) {
    this.shared = shared;
    shared.handleCount++;
  }
  [Symbol.dispose](): void {
    if (!this.alive) return;
    this.alive = false;
    this.shared.handleCount--;
  }
}

/**
 * test-util.h TestCapDestructor: a TestInterface (foo as TestInterfaceImpl, without counting)
 * that records its own release, which is how the tests see that the peer released a capability.
 */
export class TestCapDestructor implements TestInterface_Server, Disposable {
  destroyed = false;
  foo: NonNullable<TestInterface_Server["foo"]> = (ctx) => {
    const { i, j } = ctx.params;
    if (!(i === 123 && j)) throw RpcError.failed("foo expects i = 123, j = true");
    ctx.results.x = "foo";
  };
  [Symbol.dispose](): void {
    this.destroyed = true;
  }
}

/**
 * test-util.h TestFdCap: a TestInterface with no methods whose getFd() is the FD it owns, so that
 * the RPC system attaches the FD to the CapDescriptors it writes for it. Closes the FD when the
 * capability is released.
 */
class TestFdCap implements TestInterface_Server, Disposable {
  private fd: number | null;
  constructor(fd: number) {
    this.fd = fd;
  }
  getFd(): number | null {
    return this.fd;
  }
  [Symbol.dispose](): void {
    if (this.fd === null) return;
    closeSync(this.fd);
    this.fd = null;
  }
}

/** A new TestFdCap capability owning `fd`. */
export function fdCap(fd: number): TestInterface_Client {
  return serve(TestInterface, new TestFdCap(fd));
}

/**
 * An FD open for reading on a file holding `text`. C++'s writeToFd returns a pipe; Node cannot
 * make one, so the fixture uses a file, unlinked at once: it lives exactly as long as its FD.
 */
function fdReading(text: string): number {
  const dir = mkdtempSync(join(tmpdir(), "capnts-interop-fd-"));
  try {
    const path = join(dir, "f");
    writeFileSync(path, text);
    return openSync(path, "r");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export class TestMoreStuffImpl extends Live implements TestMoreStuff_Server {
  private held: TestInterface_Client | null = null;

  getCallSequence: NonNullable<TestMoreStuff_Server["getCallSequence"]> = (ctx) => {
    ctx.results.n = this.shared.callCount++;
  };
  callFoo: NonNullable<TestMoreStuff_Server["callFoo"]> = async (ctx) => {
    this.shared.callCount++;
    const cap = ctx.params.cap;
    try {
      await expectFoo(cap);
    } finally {
      cap.close();
    }
    ctx.results.s = "bar";
  };
  callFooWhenResolved: NonNullable<TestMoreStuff_Server["callFooWhenResolved"]> = async (ctx) => {
    this.shared.callCount++;
    const cap = ctx.params.cap;
    try {
      await cap.whenResolved();
      await expectFoo(cap);
    } finally {
      cap.close();
    }
    ctx.results.s = "bar";
  };
  neverReturn: NonNullable<TestMoreStuff_Server["neverReturn"]> = (ctx) => {
    this.shared.callCount++;
    const cap = ctx.params.cap;
    // Keep `cap` alive in the pending call and in the results, so that a cancellation that fails
    // to release either shows up as a leaked capability on the caller's side.
    ctx.results.capCopy = cap;
    ctx.allowCancellation();
    return hangUntilAborted(ctx.signal, () => {
      cap.close();
      this.shared.cancelCount++;
    });
  };
  hold: NonNullable<TestMoreStuff_Server["hold"]> = (ctx) => {
    this.shared.callCount++;
    const old = this.held;
    this.held = ctx.params.cap;
    closeQuietly(old);
  };
  callHeld: NonNullable<TestMoreStuff_Server["callHeld"]> = async (ctx) => {
    this.shared.callCount++;
    if (this.held === null) throw RpcError.failed("callHeld: nothing held");
    await expectFoo(this.held);
    ctx.results.s = "bar";
  };
  getHeld: NonNullable<TestMoreStuff_Server["getHeld"]> = (ctx) => {
    this.shared.callCount++;
    ctx.results.cap = this.held;
  };
  echo: NonNullable<TestMoreStuff_Server["echo"]> = (ctx) => {
    this.shared.callCount++;
    const cap = ctx.params.cap;
    ctx.results.cap = cap;
    cap.close();
  };
  expectCancel: NonNullable<TestMoreStuff_Server["expectCancel"]> = (ctx) => {
    // Not counted. Holds `cap` and re-schedules itself every millisecond until cancelled (C++:
    // every turn, giving up after 100 turns; the fixture gives up after 30 s).
    const cap = ctx.params.cap;
    ctx.allowCancellation();
    const signal = ctx.signal;
    const giveUpAt = Date.now() + 30_000;
    return new Promise<void>((_resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const stop = () => {
        if (timer !== undefined) clearTimeout(timer);
        cap.close();
      };
      const onAbort = () => {
        stop();
        this.shared.cancelCount++;
        reject(signal.reason ?? RpcError.failed("Call was canceled."));
      };
      const loop = () => {
        if (Date.now() >= giveUpAt) {
          signal.removeEventListener("abort", onAbort);
          stop();
          reject(RpcError.failed("expectCancel: looped too long, giving up"));
          return;
        }
        timer = setTimeout(loop, 1);
      };
      if (signal.aborted) onAbort();
      else {
        signal.addEventListener("abort", onAbort, { once: true });
        loop();
      }
    });
  };
  getHandle: NonNullable<TestMoreStuff_Server["getHandle"]> = (ctx) => {
    put((c) => (ctx.results.handle = c), serve(TestHandle, new HandleImpl(this.shared)));
  };
  getNull: NonNullable<TestMoreStuff_Server["getNull"]> = () => {};
  getEnormousString: NonNullable<TestMoreStuff_Server["getEnormousString"]> = (ctx) => {
    ctx.results.str = "x".repeat(100_000_000); // 100 MB: must fail to send
  };
  throwException: NonNullable<TestMoreStuff_Server["throwException"]> = () => {
    throw RpcError.failed("test exception");
  };
  throwRemoteException: NonNullable<TestMoreStuff_Server["throwRemoteException"]> = () => {
    throw RpcError.failed("remote exception: test exception");
  };
  throwExceptionWithDetail: NonNullable<TestMoreStuff_Server["throwExceptionWithDetail"]> = () => {
    throw new RpcError("failed", "test exception", {
      details: [{ id: 1n, data: new TextEncoder().encode("foo") }],
    });
  };
  writeToFd: NonNullable<TestMoreStuff_Server["writeToFd"]> = async (ctx) => {
    // test-util.c++ (0.9.2): "foo" through fdCap1's FD, "bar" through fdCap2's if it came
    // (secondFdPresent says whether), fdCap3 = an FD reading "baz". Not counted.
    const cap1 = ctx.params.fdCap1;
    const cap2 = ctx.params.fdCap2;
    try {
      const [fd1, fd2] = await Promise.all([cap1.getFd(), cap2.getFd()]);
      if (fd1 === null) throw RpcError.failed("writeToFd: fdCap1 arrived without its FD");
      writeSync(fd1, "foo");
      ctx.results.secondFdPresent = fd2 !== null;
      if (fd2 !== null) writeSync(fd2, "bar");
    } finally {
      cap1.close();
      cap2.close();
    }
    put((c) => (ctx.results.fdCap3 = c), fdCap(fdReading("baz")));
  };
  // methodWithDefaults, methodWithNullDefault: unimplemented (as in the C++ fixture).

  override [Symbol.dispose](): void {
    const h = this.held;
    this.held = null;
    closeQuietly(h);
    super[Symbol.dispose]();
  }
}

// ---------------------------------------------------------------------------------------------
// Streaming

/** State shared by a TestStreamingImpl and its TestStreamingControlImpl. */
export class StreamState {
  iSum = 0;
  jSum = 0;
  dataBytes = 0n;
  delivered = 0;
  completed = 0;
  private credits = 0;
  private readonly waiting: { resolve: () => void; signal: AbortSignal | null }[] = [];
  readonly holdCalls: boolean;
  readonly jShouldThrow: boolean;

  constructor(holdCalls: boolean, jShouldThrow: boolean) {
    this.holdCalls = holdCalls;
    this.jShouldThrow = jShouldThrow;
  }

  /** A stream call arrived: completes now, or (holdCalls) when a release credit is available. */
  async gate(signal: AbortSignal | null = null): Promise<void> {
    this.delivered++;
    if (this.holdCalls) {
      if (this.credits > 0) this.credits--;
      else await new Promise<void>((resolve) => this.waiting.push({ resolve, signal }));
    }
    this.completed++;
  }

  release(count: number): void {
    this.credits += count;
    while (this.credits > 0 && this.waiting.length > 0) {
      const w = this.waiting.shift()!;
      if (w.signal?.aborted) continue;
      this.credits--;
      w.resolve();
    }
  }

  get pending(): number {
    let n = 0;
    for (const w of this.waiting) if (!w.signal?.aborted) n++;
    return n;
  }
}

export class TestStreamingImpl extends Live implements TestStreaming_Server {
  readonly state: StreamState;
  constructor(shared: Shared, state: StreamState) {
    super(shared);
    this.state = state;
  }
  doStreamI: NonNullable<TestStreaming_Server["doStreamI"]> = (ctx) => {
    this.state.iSum = (this.state.iSum + ctx.params.i) >>> 0;
    return this.state.gate();
  };
  doStreamJ: NonNullable<TestStreaming_Server["doStreamJ"]> = (ctx) => {
    ctx.allowCancellation();
    this.state.jSum = (this.state.jSum + ctx.params.j) >>> 0;
    if (this.state.jShouldThrow) {
      this.state.delivered++;
      throw RpcError.failed("throw requested");
    }
    return this.state.gate(ctx.signal);
  };
  doStreamData: NonNullable<TestStreaming_Server["doStreamData"]> = (ctx) => {
    this.state.dataBytes += BigInt(ctx.params.data.length);
    return this.state.gate();
  };
  finishStream: NonNullable<TestStreaming_Server["finishStream"]> = (ctx) => {
    ctx.results.totalI = this.state.iSum;
    ctx.results.totalJ = this.state.jSum;
  };
}

export class TestStreamingControlImpl extends Live implements TestStreamingControl_Server {
  readonly state: StreamState;
  constructor(shared: Shared, state: StreamState) {
    super(shared);
    this.state = state;
  }
  release: NonNullable<TestStreamingControl_Server["release"]> = (ctx) => {
    this.state.release(ctx.params.count);
  };
  getState: NonNullable<TestStreamingControl_Server["getState"]> = (ctx) => {
    const r = ctx.results;
    const s = this.state;
    r.iSum = s.iSum;
    r.jSum = s.jSum;
    r.dataBytes = s.dataBytes;
    r.delivered = s.delivered;
    r.completed = s.completed;
    r.pending = s.pending;
  };
}

// ---------------------------------------------------------------------------------------------
// Bootstrap

export interface TestBootstrapOptions {
  /** The side the server's BootstrapFactory saw for the peer ("client" for a two-party client). */
  peerSide: "client" | "server";
  /** Switches this connection's trace encoder on or off (TestBootstrap.setTraceEncoder). */
  setTraceEncoder: (enabled: boolean) => void;
  /** Sets this connection's flow limit in words (TestBootstrap.setFlowLimit). */
  setFlowLimit: (words: number) => void;
}

/**
 * The bootstrap object of the interop test server: hands out new objects sharing this
 * connection's counters, reports the counters, and reports the VatId its factory was given.
 */
export class TestBootstrapImpl implements TestBootstrap_Server {
  readonly shared = new Shared();
  private readonly options: TestBootstrapOptions;
  constructor(options: TestBootstrapOptions) {
    this.options = options;
  }
  getCallerId: NonNullable<TestBootstrap_Server["getCallerId"]> = (ctx) => {
    ctx.results.initCaller().side = this.options.peerSide === "client" ? Side.client : Side.server;
  };
  testInterface: NonNullable<TestBootstrap_Server["testInterface"]> = (ctx) => {
    put((c) => (ctx.results.cap = c), serve(TestInterface, new TestInterfaceImpl(this.shared)));
  };
  testExtends: NonNullable<TestBootstrap_Server["testExtends"]> = (ctx) => {
    put((c) => (ctx.results.cap = c), serve(TestExtends, new TestExtendsImpl(this.shared)));
  };
  testPipeline: NonNullable<TestBootstrap_Server["testPipeline"]> = (ctx) => {
    put((c) => (ctx.results.cap = c), serve(TestPipeline, new TestPipelineImpl(this.shared)));
  };
  testCallOrder: NonNullable<TestBootstrap_Server["testCallOrder"]> = (ctx) => {
    put((c) => (ctx.results.cap = c), serve(TestCallOrder, new TestCallOrderImpl(this.shared)));
  };
  testTailCallee: NonNullable<TestBootstrap_Server["testTailCallee"]> = (ctx) => {
    put((c) => (ctx.results.cap = c), serve(TestTailCallee, new TestTailCalleeImpl(this.shared)));
  };
  testTailCaller: NonNullable<TestBootstrap_Server["testTailCaller"]> = (ctx) => {
    put((c) => (ctx.results.cap = c), serve(TestTailCaller, new TestTailCallerImpl(this.shared)));
  };
  testRacingTailCaller: NonNullable<TestBootstrap_Server["testRacingTailCaller"]> = (ctx) => {
    const gate = new RacingGate();
    put((c) => (ctx.results.cap = c), serve(TestTailCaller, new TestRacingTailCallerImpl(this.shared, gate)));
    put(
      (c) => (ctx.results.control = c),
      serve(TestRacingControl, new TestRacingControlImpl(this.shared, gate)),
    );
  };
  testFlowSink: NonNullable<TestBootstrap_Server["testFlowSink"]> = (ctx) => {
    put(
      (c) => (ctx.results.cap = c),
      serve(TestFlowSink, new TestFlowSinkImpl(this.shared, ctx.params.delayMs)),
    );
  };
  setFlowLimit: NonNullable<TestBootstrap_Server["setFlowLimit"]> = (ctx) => {
    this.options.setFlowLimit(Number(ctx.params.words));
  };
  testMoreStuff: NonNullable<TestBootstrap_Server["testMoreStuff"]> = (ctx) => {
    put((c) => (ctx.results.cap = c), serve(TestMoreStuff, new TestMoreStuffImpl(this.shared)));
  };
  testStreaming: NonNullable<TestBootstrap_Server["testStreaming"]> = (ctx) => {
    const state = new StreamState(ctx.params.holdCalls, ctx.params.jShouldThrow);
    put((c) => (ctx.results.cap = c), serve(TestStreaming, new TestStreamingImpl(this.shared, state)));
    put(
      (c) => (ctx.results.control = c),
      serve(TestStreamingControl, new TestStreamingControlImpl(this.shared, state)),
    );
  };
  getCounters: NonNullable<TestBootstrap_Server["getCounters"]> = (ctx) => {
    const r = ctx.results;
    const s = this.shared;
    r.callCount = s.callCount;
    r.handleCount = s.handleCount;
    r.cancelCount = s.cancelCount;
    r.liveObjects = s.liveObjects;
  };
  resetCounters: NonNullable<TestBootstrap_Server["resetCounters"]> = () => {
    // liveObjects and handleCount count live objects; only the event counters are reset.
    this.shared.callCount = 0;
    this.shared.cancelCount = 0;
  };
  setTraceEncoder: NonNullable<TestBootstrap_Server["setTraceEncoder"]> = (ctx) => {
    this.options.setTraceEncoder(ctx.params.enabled);
  };
}

/** A new TestBootstrap server (one per connection). */
export function newTestBootstrap(options: TestBootstrapOptions): { impl: TestBootstrapImpl; server: Server } {
  const impl = new TestBootstrapImpl(options);
  return { impl, server: TestBootstrap.server(impl) };
}

/** The trace text the fixtures use: C++ test "method throws exception with trace encoder". */
export function traceFor(error: Error): string {
  return `trace for ${error instanceof RpcError ? error.reason : error.message}`;
}
