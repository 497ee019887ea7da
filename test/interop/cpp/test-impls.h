// Implementations of the interop test interfaces (test/interop/schema/test.capnp), written to
// behave like the C++ test impls of c++/src/capnp/test-util.c++ (v0.9.2) that the RPC tests use.
// Shared by test-server (which serves them) and test-client (which runs some of them locally, as
// the C++ tests do for the capabilities they pass to the server).
//
// Where a C++ impl records a failed expectation (EXPECT_EQ) and carries on, ours throws, so that
// a remote caller sees the failure.

#pragma once

#include "test.capnp.h"

#include <capnp/capability.h>
#include <kj/async.h>
#include <kj/io.h>
#include <kj/refcount.h>
#include <kj/timer.h>

#include <deque>

namespace capnts_fixture {

namespace interop = ::capnts::interop;

struct Shared final: public kj::Refcounted {
  // The counters C++'s tests share with their impls (TestRestorer's callCount/handleCount), plus
  // the ones capnts adds so that a remote test can see cancellations and releases.
  explicit Shared(kj::Timer& timer): timer(timer) {}
  kj::Timer& timer;
  int callCount = 0;
  int handleCount = 0;
  int cancelCount = 0;
  int liveObjects = 0;
};

class LiveObject {
  // Counts an object in Shared::liveObjects while it lives.
public:
  explicit LiveObject(Shared& shared): shared(kj::addRef(shared)) { ++this->shared->liveObjects; }
  ~LiveObject() { --shared->liveObjects; }
  KJ_DISALLOW_COPY(LiveObject);
  Shared& get() { return *shared; }

private:
  kj::Own<Shared> shared;
};

// True if `s` equals interop::CANONICAL_ALL_TYPES (compared in canonical form).
bool isCanonicalAllTypes(interop::TestAllTypes::Reader s);

class TestInterfaceImpl final: public interop::TestInterface::Server {
  // foo: ++callCount; requires i == 123 && j; returns "foo". baz: ++callCount; requires the
  // canonical struct; releaseParams(). bar: unimplemented.
public:
  explicit TestInterfaceImpl(Shared& shared): live(shared) {}

protected:
  kj::Promise<void> foo(FooContext context) override;
  kj::Promise<void> baz(BazContext context) override;

private:
  LiveObject live;
};

class TestExtendsImpl final: public interop::TestExtends::Server {
  // foo: ++callCount; requires i == 321 && !j; returns "bar". grault: ++callCount; returns the
  // canonical struct. qux, corge, bar, baz: unimplemented.
public:
  explicit TestExtendsImpl(Shared& shared): live(shared) {}

protected:
  kj::Promise<void> foo(FooContext context) override;
  kj::Promise<void> grault(GraultContext context) override;

private:
  LiveObject live;
};

class TestPipelineImpl final: public interop::TestPipeline::Server {
public:
  explicit TestPipelineImpl(Shared& shared): live(shared) {}

protected:
  kj::Promise<void> getCap(GetCapContext context) override;
  kj::Promise<void> getAnyCap(GetAnyCapContext context) override;
  kj::Promise<void> getCapPipelineOnly(GetCapPipelineOnlyContext context) override;

private:
  LiveObject live;
};

class TestCallOrderImpl final: public interop::TestCallOrder::Server {
  // getCallSequence: returns count++ (per object, starting at 0).
public:
  explicit TestCallOrderImpl(Shared& shared): live(shared) {}
  uint32_t getCount() const { return count; }

protected:
  kj::Promise<void> getCallSequence(GetCallSequenceContext context) override;

private:
  LiveObject live;
  uint32_t count = 0;
};

class TestTailCalleeImpl final: public interop::TestTailCallee::Server {
  // foo: ++callCount; returns i, t and a new TestCallOrderImpl.
public:
  explicit TestTailCalleeImpl(Shared& shared): live(shared) {}

protected:
  kj::Promise<void> foo(FooContext context) override;

private:
  LiveObject live;
};

class TestTailCallerImpl final: public interop::TestTailCaller::Server {
  // foo: ++callCount; tail-calls callee.foo(i, "from TestTailCaller").
public:
  explicit TestTailCallerImpl(Shared& shared): live(shared) {}

protected:
  kj::Promise<void> foo(FooContext context) override;

private:
  LiveObject live;
};

class TestFdCap final: public interop::TestInterface::Server {
  // test-util.h TestFdCap: a TestInterface with no methods whose getFd() is the FD it owns, so
  // that the RPC system attaches the FD to every CapDescriptor it writes for it (SCM_RIGHTS).
public:
  explicit TestFdCap(kj::AutoCloseFd fd): fd(kj::mv(fd)) {}
  kj::Maybe<int> getFd() override { return fd.get(); }

private:
  kj::AutoCloseFd fd;
};

struct RacingGate final: public kj::Refcounted {
  // What a TestRacingTailCallerImpl waits for and its TestRacingControlImpl opens.
  RacingGate(): RacingGate(kj::newPromiseAndFulfiller<void>()) {}
  explicit RacingGate(kj::PromiseFulfillerPair<void> paf)
      : promise(paf.promise.fork()), fulfiller(kj::mv(paf.fulfiller)) {}
  kj::ForkedPromise<void> promise;
  kj::Own<kj::PromiseFulfiller<void>> fulfiller;
};

class TestRacingTailCallerImpl final: public interop::TestTailCaller::Server {
  // rpc-test.c++ TestRacingTailCaller: foo waits for the gate, then tail-calls callee.foo(). Like
  // 0.9.2's, it does not allow cancellation, so the tail call is made even when the caller's
  // Finish came first, and must then be cancelled. Not counted.
public:
  TestRacingTailCallerImpl(Shared& shared, RacingGate& gate)
      : live(shared), gate(kj::addRef(gate)) {}

protected:
  kj::Promise<void> foo(FooContext context) override;

private:
  LiveObject live;
  kj::Own<RacingGate> gate;
};

class TestRacingControlImpl final: public interop::TestRacingControl::Server {
public:
  TestRacingControlImpl(Shared& shared, RacingGate& gate): live(shared), gate(kj::addRef(gate)) {}

protected:
  kj::Promise<void> unblock(UnblockContext context) override;

private:
  LiveObject live;
  kj::Own<RacingGate> gate;
};

struct FlowState final: public kj::Refcounted {
  uint32_t completed = 0;
  uint32_t inFlight = 0;
  uint32_t maxInFlight = 0;
  uint64_t bytes = 0;
};

class TestFlowSinkImpl final: public interop::TestFlowSink::Server {
  // take(): in flight for `delayMs`, then returns; getState(): completed, maxInFlight, bytes.
  // With the connection's flow limit set, maxInFlight stays about limit / call size.
public:
  TestFlowSinkImpl(Shared& shared, uint32_t delayMs)
      : live(shared), delayMs(delayMs), state(kj::refcounted<FlowState>()) {}

protected:
  kj::Promise<void> take(TakeContext context) override;
  kj::Promise<void> getState(GetStateContext context) override;

private:
  LiveObject live;
  uint32_t delayMs;
  kj::Own<FlowState> state;  // shared with the calls in flight
};

class HandleImpl final: public interop::TestHandle::Server {
public:
  explicit HandleImpl(Shared& shared): shared(kj::addRef(shared)) { ++this->shared->handleCount; }
  ~HandleImpl() { --shared->handleCount; }

private:
  kj::Own<Shared> shared;
};

class TestMoreStuffImpl final: public interop::TestMoreStuff::Server {
public:
  explicit TestMoreStuffImpl(Shared& shared): live(shared) {}

protected:
  kj::Promise<void> getCallSequence(GetCallSequenceContext context) override;
  kj::Promise<void> callFoo(CallFooContext context) override;
  kj::Promise<void> callFooWhenResolved(CallFooWhenResolvedContext context) override;
  kj::Promise<void> neverReturn(NeverReturnContext context) override;
  kj::Promise<void> hold(HoldContext context) override;
  kj::Promise<void> callHeld(CallHeldContext context) override;
  kj::Promise<void> getHeld(GetHeldContext context) override;
  kj::Promise<void> echo(EchoContext context) override;
  kj::Promise<void> expectCancel(ExpectCancelContext context) override;
  kj::Promise<void> getHandle(GetHandleContext context) override;
  kj::Promise<void> getNull(GetNullContext context) override;
  kj::Promise<void> getEnormousString(GetEnormousStringContext context) override;
  kj::Promise<void> writeToFd(WriteToFdContext context) override;
  kj::Promise<void> throwException(ThrowExceptionContext context) override;
  kj::Promise<void> throwRemoteException(ThrowRemoteExceptionContext context) override;
  kj::Promise<void> throwExceptionWithDetail(ThrowExceptionWithDetailContext context) override;

private:
  LiveObject live;
  interop::TestInterface::Client clientToHold = nullptr;
};

struct StreamState final: public kj::Refcounted {
  // State shared by a TestStreamingImpl and its TestStreamingControlImpl.
  StreamState(bool holdCalls, bool jShouldThrow): holdCalls(holdCalls), jShouldThrow(jShouldThrow) {}

  bool holdCalls;
  bool jShouldThrow;
  uint32_t iSum = 0;
  uint32_t jSum = 0;
  uint64_t dataBytes = 0;
  uint32_t delivered = 0;
  uint32_t completed = 0;
  uint32_t credits = 0;
  std::deque<kj::Own<kj::PromiseFulfiller<void>>> waiting;

  kj::Promise<void> gate();     // a stream call arrived: completes now or when released
  void release(uint32_t count);
  uint32_t pending();
};

class TestStreamingImpl final: public interop::TestStreaming::Server {
  // doStreamI/J/Data add to the sums when they arrive (as C++'s TestStreamingImpl does) and
  // complete at once, or, with holdCalls, when TestStreamingControl.release() allows.
  // doStreamJ is cancellable and fails with "throw requested" when jShouldThrow.
public:
  explicit TestStreamingImpl(Shared& shared, StreamState& state)
      : live(shared), state(kj::addRef(state)) {}

protected:
  kj::Promise<void> doStreamI(DoStreamIContext context) override;
  kj::Promise<void> doStreamJ(DoStreamJContext context) override;
  kj::Promise<void> finishStream(FinishStreamContext context) override;
  kj::Promise<void> doStreamData(DoStreamDataContext context) override;

private:
  LiveObject live;
  kj::Own<StreamState> state;
};

class TestStreamingControlImpl final: public interop::TestStreamingControl::Server {
public:
  explicit TestStreamingControlImpl(Shared& shared, StreamState& state)
      : live(shared), state(kj::addRef(state)) {}

protected:
  kj::Promise<void> release(ReleaseContext context) override;
  kj::Promise<void> getState(GetStateContext context) override;

private:
  LiveObject live;
  kj::Own<StreamState> state;
};

}  // namespace capnts_fixture
