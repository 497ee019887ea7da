# capnts interop test schema.
#
# Our own schema (not a copy of C++'s c++/src/capnp/test.capnp) with the *shapes* of the
# interfaces that C++'s rpc-test.c++ and rpc-twoparty-test.c++ use (their test-util.c++ objects;
# docs/PARITY.md lists the tests), so that a scenario written against these
# interfaces checks the same behaviour as the C++ test it mirrors. Method ordinals follow the C++
# 0.9.2 schema where an interface exists there; methods marked "capnts addition" do not exist in C++.
#
# C++'s tests restore each object by a SturdyRef object ID (`Bootstrap.deprecatedObjectId`). We use
# a plain bootstrap instead: the bootstrap object `TestBootstrap` (at the end) hands out the other
# objects and exposes the counters the C++ tests read from shared variables (this mirrors how the
# C++ v2 branch restructured its tests). Every connection gets its own `TestBootstrap` with its
# own counters, so each connection starts from the state a fresh C++ `TestContext` starts from.
#
# Used by: test/interop/cpp/*.c++ (C++ fixtures) and the TypeScript interop tests.

@0xefd944d10bcdbd3a;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("capnts::interop");

# ---------------------------------------------------------------------------------------------
# Payload struct

enum TestEnum {
  foo @0;
  bar @1;
  baz @2;
  qux @3;
}

struct TestAllTypes {
  # A smaller cousin of C++'s TestAllTypes: one field of every kind of type. Payload of
  # TestInterface.baz and TestExtends.grault/corge. The "canonical test message" is the constant
  # `canonicalAllTypes` below; both sides build and compare against it.
  voidField @0 :Void;
  boolField @1 :Bool;
  int8Field @2 :Int8;
  int16Field @3 :Int16;
  int32Field @4 :Int32;
  int64Field @5 :Int64;
  uInt8Field @6 :UInt8;
  uInt16Field @7 :UInt16;
  uInt32Field @8 :UInt32;
  uInt64Field @9 :UInt64;
  float32Field @10 :Float32;
  float64Field @11 :Float64;
  textField @12 :Text;
  dataField @13 :Data;
  structField @14 :TestAllTypes;
  enumField @15 :TestEnum;
  boolList @16 :List(Bool);
  int32List @17 :List(Int32);
  uInt64List @18 :List(UInt64);
  float64List @19 :List(Float64);
  textList @20 :List(Text);
  dataList @21 :List(Data);
  structList @22 :List(TestAllTypes);
  enumList @23 :List(TestEnum);
}

const canonicalAllTypes :TestAllTypes = (
  boolField = true,
  int8Field = -123,
  int16Field = -12345,
  int32Field = -12345678,
  int64Field = -123456789012345,
  uInt8Field = 234,
  uInt16Field = 45678,
  uInt32Field = 3456789012,
  uInt64Field = 12345678901234567890,
  float32Field = 1234.5,
  float64Field = -1.25e-123,
  textField = "foo",
  dataField = "bar",
  structField = (
    boolField = true,
    int32Field = -78,
    uInt64Field = 345678901234567890,
    textField = "nested",
    structField = (textField = "really nested"),
    enumField = baz,
  ),
  enumField = qux,
  boolList = [false, true, false, true, true],
  int32List = [12345678, -90123456, 0, 2147483647, -2147483648],
  uInt64List = [0, 1, 18446744073709551615],
  float64List = [0.0, 1.5, -2.25, 1e300],
  textList = ["plugh", "xyzzy", "thud"],
  dataList = ["oops", "exhausted", "rfc3092"],
  structList = [(textField = "x structlist 1"), (textField = "x structlist 2", int8Field = 7),
                (textField = "x structlist 3", enumList = [qux, foo])],
  enumList = [foo, bar, baz, qux],
);

# ---------------------------------------------------------------------------------------------
# Interfaces with the shapes of C++'s test.capnp

interface TestInterface {
  foo @0 (i :UInt32, j :Bool) -> (x :Text);
  # TestInterfaceImpl: counts the call, requires i == 123 and j == true, returns x = "foo".
  bar @1 () -> ();
  # Not implemented by any impl: the caller gets an UNIMPLEMENTED exception.
  baz @2 (s :TestAllTypes);
  # Counts the call, requires s == canonicalAllTypes.
}

interface TestExtends extends(TestInterface) {
  # TestExtendsImpl: foo requires i == 321 and j == false and returns x = "bar";
  # grault returns canonicalAllTypes. qux and corge are not implemented.
  qux @0 ();
  corge @1 TestAllTypes -> ();
  grault @2 () -> TestAllTypes;
}

interface TestPipeline {
  getCap @0 (n :UInt32, inCap :TestInterface) -> (s :Text, outBox :Box);
  # Requires n == 234; calls inCap.foo(123, true), expects "foo", then returns s = "bar" and
  # outBox.cap = a new TestExtends.
  testPointers @1 (cap :TestInterface, obj :AnyPointer, list :List(TestInterface)) -> ();
  # Not implemented (as in C++'s TestPipelineImpl).
  getAnyCap @2 (n :UInt32, inCap :Capability) -> (s :Text, outBox :AnyBox);
  # Like getCap with an untyped capability.
  getCapPipelineOnly @3 () -> (outBox :Box);
  # Never returns, but sets the pipeline (context.setPipeline) so that outBox.cap is usable.

  struct Box {
    cap @0 :TestInterface;
  }
  struct AnyBox {
    cap @0 :Capability;
  }
}

interface TestCallOrder {
  getCallSequence @0 (expected :UInt32) -> (n :UInt32);
  # The first call returns 0, the next 1, ... `expected` is ignored (it helps reading logs).
}

interface TestTailCallee {
  struct TailResult {
    i @0 :UInt32;
    t @1 :Text;
    c @2 :TestCallOrder;
  }

  foo @0 (i :Int32, t :Text) -> TailResult;
  # TestTailCalleeImpl: counts the call, returns i, t and c = a new TestCallOrder.
}

interface TestTailCaller {
  foo @0 (i :Int32, callee :TestTailCallee) -> TestTailCallee.TailResult;
  # TestTailCallerImpl: counts the call, then tail-calls callee.foo(i, "from TestTailCaller").
}

interface TestRacingControl {
  # capnts addition, for rpc-test.c++ TEST(Rpc, TailCallCancelRace) over a socket: the test body
  # there fulfils the racing caller's promise; here the client does it through this object.
  unblock @0 () -> ();
  # Lets the TestTailCaller handed out with this object go on (once).
}

interface TestFlowSink {
  # capnts addition, for RpcSystem::setFlowLimit over a socket: every take() stays in flight for
  # the delay the sink was made with, and the sink records how many were in flight at once.
  take @0 (data :Data) -> ();
  getState @1 () -> (completed :UInt32, maxInFlight :UInt32, bytes :UInt64);
  # completed: take() calls that returned; maxInFlight: most take() calls running at once.
}

interface TestHandle {}
# getHandle() hands these out; the server counts live handles (Counters.handleCount).

interface TestStreaming {
  doStreamI @0 (i :UInt32) -> stream;
  doStreamJ @1 (j :UInt32) -> stream;
  # Fails with "throw requested" when the object was created with jShouldThrow.
  finishStream @2 () -> (totalI :UInt32, totalJ :UInt32);
  # Returns the sums of the values streamed so far.
  doStreamData @3 (data :Data) -> stream;
  # capnts addition: counts bytes (TestStreamingControl.getState().dataBytes), for window tests.
}

interface TestStreamingControl {
  # capnts addition. C++'s "Streaming over RPC" test completes the server's pending stream calls
  # one at a time from the test body; over a socket the client does it through this object.
  # Created together with a TestStreaming by TestBootstrap.testStreaming(holdCalls = true): every
  # stream call (doStreamI/J/Data) then stays pending until a release credit is available.
  release @0 (count :UInt32) -> ();
  # Adds `count` release credits; each pending or later stream call consumes one and completes.
  getState @1 () -> (iSum :UInt32, jSum :UInt32, dataBytes :UInt64, delivered :UInt32,
                     completed :UInt32, pending :UInt32);
  # delivered: stream calls that reached the object; completed: those that returned;
  # pending: delivered but waiting for a credit.
}

interface TestMoreStuff extends(TestCallOrder) {
  # TestMoreStuffImpl. getCallSequence (inherited) returns n = callCount++ using the connection's
  # shared call counter (unlike TestCallOrderImpl, whose counter is per object).

  callFoo @0 (cap :TestInterface) -> (s :Text);
  # Counts; calls cap.foo(123, true), expects "foo", returns s = "bar".
  callFooWhenResolved @1 (cap :TestInterface) -> (s :Text);
  # Like callFoo, after cap.whenResolved().
  neverReturn @2 (cap :TestInterface) -> (capCopy :TestInterface);
  # Counts; holds cap, never returns; cancellable. Cancellation is counted in Counters.cancelCount.
  hold @3 (cap :TestInterface) -> ();
  # Counts; keeps cap.
  callHeld @4 () -> (s :Text);
  # Counts; calls held.foo(123, true), returns s = "bar".
  getHeld @5 () -> (cap :TestInterface);
  # Counts; returns the held cap.
  echo @6 (cap :TestCallOrder) -> (cap :TestCallOrder);
  # Counts; returns its argument.
  expectCancel @7 (cap :TestInterface) -> ();
  # Not counted; holds cap and stays pending (re-scheduling itself) until cancelled, which is
  # counted in Counters.cancelCount. Gives up with an error after 30 s.
  methodWithDefaults @8 (a :Text, b :UInt32 = 123, c :Text = "foo") -> (d :Text, e :Text = "bar");
  # Not implemented (C++ uses it to send a huge request).
  getHandle @9 () -> (handle :TestHandle);
  # Returns a new TestHandle (Counters.handleCount goes up; down when it is released).
  getNull @10 () -> (nullCap :TestMoreStuff);
  # Returns a null capability.
  getEnormousString @11 () -> (str :Text);
  # Tries to return a 100 000 000-byte text; the send must fail and become an exception.
  methodWithNullDefault @12 (a :Text, b :TestInterface = null);
  # Not implemented.
  writeToFd @13 (fdCap1 :TestInterface, fdCap2 :TestInterface)
             -> (fdCap3 :TestInterface, secondFdPresent :Bool);
  # FD passing shape of C++ 0.9.2 (not of master, whose layout differs). Not counted. Writes "foo"
  # through fdCap1's FD and "bar" through fdCap2's if it came (secondFdPresent says whether);
  # fdCap3 comes with an FD reading "baz". Needs a connection that passes FDs (--max-fds).
  throwException @14 ();
  # Fails with FAILED "test exception".
  throwRemoteException @15 ();
  # (C++ master) Fails with FAILED "remote exception: test exception".
  throwExceptionWithDetail @16 ();
  # (C++ master) Fails with FAILED "test exception" carrying detail 1 = "foo" (rpc.capnp
  # Exception.details).
}

# ---------------------------------------------------------------------------------------------
# Bootstrap

enum Side {
  # Same values as rpc-twoparty.capnp Side.
  server @0;
  client @1;
}

struct VatId {
  # Same layout as rpc-twoparty.capnp VatId (one UInt16 enum at offset 0), declared here so that
  # this schema imports nothing but c++.capnp.
  side @0 :Side;
}

interface TestAuthenticatedBootstrap {
  # Shape of C++'s TestAuthenticatedBootstrap(rpc.twoparty.VatId), without the generic parameter.
  getCallerId @0 () -> (caller :VatId);
  # The VatId the server's BootstrapFactory was given for this connection (side = client).
}

struct Counters {
  # What C++'s tests read from the variables they share with the test impls.
  callCount @0 :Int32;
  # Calls counted by the impls (C++ TestRestorer's callCount), shared by every object this
  # connection's TestBootstrap handed out. TestMoreStuff.getCallSequence reads and bumps it.
  handleCount @1 :Int32;
  # Live TestHandle objects.
  cancelCount @2 :Int32;
  # Server calls cancelled before they completed (neverReturn, expectCancel).
  liveObjects @3 :Int32;
  # Live objects handed out by TestBootstrap (and objects they created), handles excluded.
}

interface TestBootstrap extends(TestAuthenticatedBootstrap) {
  # The bootstrap interface of the interop test server. Each testX() call returns a new object
  # sharing this connection's counters (as C++'s TestRestorer does for each restore()).
  testInterface @0 () -> (cap :TestInterface);
  testExtends @1 () -> (cap :TestExtends);
  testPipeline @2 () -> (cap :TestPipeline);
  testCallOrder @3 () -> (cap :TestCallOrder);
  testTailCallee @4 () -> (cap :TestTailCallee);
  testTailCaller @5 () -> (cap :TestTailCaller);
  testMoreStuff @6 () -> (cap :TestMoreStuff);
  testStreaming @7 (holdCalls :Bool, jShouldThrow :Bool)
                -> (cap :TestStreaming, control :TestStreamingControl);
  getCounters @8 () -> Counters;
  resetCounters @9 () -> ();
  setTraceEncoder @10 (enabled :Bool) -> ();
  # When enabled, exceptions this connection sends carry Exception.trace =
  # "trace for " + <exception description> (C++: RpcSystem::setTraceEncoder).
  testRacingTailCaller @11 () -> (cap :TestTailCaller, control :TestRacingControl);
  # capnts addition: C++'s TestRacingTailCaller. cap.foo waits until control.unblock(), then
  # tail-calls callee.foo() (no parameters set); it is not cancellable (as in 0.9.2), so a Finish
  # that arrives first cannot stop the tail call, which must then be cancelled. Not counted.
  testFlowSink @12 (delayMs :UInt32) -> (cap :TestFlowSink);
  # capnts addition: a new TestFlowSink whose take() calls each return after delayMs.
  setFlowLimit @13 (words :UInt64) -> ();
  # C++ RpcSystem::setFlowLimit for this connection (every connection has its own RpcSystem):
  # once the calls received and not yet returned add up to more than `words`, the server stops
  # reading the connection until enough of them returned.
}
