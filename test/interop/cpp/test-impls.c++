// Implementations of the interop test interfaces. See test-impls.h.

#include "test-impls.h"

#include <capnp/any.h>
#include <kj/debug.h>

#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace capnts_fixture {

bool isCanonicalAllTypes(interop::TestAllTypes::Reader s) {
  auto a = capnp::AnyStruct::Reader(s).canonicalize();
  auto b = capnp::AnyStruct::Reader(interop::CANONICAL_ALL_TYPES.get()).canonicalize();
  return a.size() == b.size() && memcmp(a.begin(), b.begin(), a.size() * sizeof(capnp::word)) == 0;
}

namespace {

kj::Promise<void> expectFoo(interop::TestInterface::Client& cap) {
  // Calls cap.foo(123, true) and requires "foo", as TestPipelineImpl/TestMoreStuffImpl do.
  auto request = cap.fooRequest();
  request.setI(123);
  request.setJ(true);
  return request.send().then([](capnp::Response<interop::TestInterface::FooResults>&& response) {
    KJ_REQUIRE(response.getX() == "foo", "callback foo() returned the wrong text", response.getX());
  });
}

class CancelGuard {
  // Counts Shared::cancelCount when destroyed before done() — i.e. when the call's promise was
  // dropped (cancelled, or the connection went away) before it completed.
public:
  explicit CancelGuard(Shared& shared): shared(kj::addRef(shared)) {}
  ~CancelGuard() {
    if (!isDone) ++shared->cancelCount;
  }
  void done() { isDone = true; }

private:
  kj::Own<Shared> shared;
  bool isDone = false;
};

}  // namespace

// ---------------------------------------------------------------------------------------------

kj::Promise<void> TestInterfaceImpl::foo(FooContext context) {
  ++live.get().callCount;
  auto params = context.getParams();
  KJ_REQUIRE(params.getI() == 123 && params.getJ(),
             "TestInterface.foo expects i = 123, j = true", params.getI(), params.getJ());
  context.getResults().setX("foo");
  return kj::READY_NOW;
}

kj::Promise<void> TestInterfaceImpl::baz(BazContext context) {
  ++live.get().callCount;
  KJ_REQUIRE(isCanonicalAllTypes(context.getParams().getS()),
             "TestInterface.baz expects s = canonicalAllTypes");
  context.releaseParams();
  bool threw = kj::runCatchingExceptions([&]() { context.getParams(); }) != nullptr;
  KJ_REQUIRE(threw, "getParams() after releaseParams() should throw");
  return kj::READY_NOW;
}

kj::Promise<void> TestExtendsImpl::foo(FooContext context) {
  ++live.get().callCount;
  auto params = context.getParams();
  KJ_REQUIRE(params.getI() == 321 && !params.getJ(),
             "TestExtends.foo expects i = 321, j = false", params.getI(), params.getJ());
  context.getResults().setX("bar");
  return kj::READY_NOW;
}

kj::Promise<void> TestExtendsImpl::grault(GraultContext context) {
  ++live.get().callCount;
  context.releaseParams();
  context.setResults(interop::CANONICAL_ALL_TYPES.get());
  return kj::READY_NOW;
}

kj::Promise<void> TestPipelineImpl::getCap(GetCapContext context) {
  Shared& shared = live.get();
  ++shared.callCount;
  auto params = context.getParams();
  KJ_REQUIRE(params.getN() == 234, "TestPipeline.getCap expects n = 234", params.getN());
  auto cap = params.getInCap();
  context.releaseParams();
  return expectFoo(cap).then([context, shared = kj::addRef(shared)]() mutable {
    auto results = context.getResults();
    results.setS("bar");
    results.initOutBox().setCap(kj::heap<TestExtendsImpl>(*shared));
  });
}

kj::Promise<void> TestPipelineImpl::getAnyCap(GetAnyCapContext context) {
  Shared& shared = live.get();
  ++shared.callCount;
  auto params = context.getParams();
  KJ_REQUIRE(params.getN() == 234, "TestPipeline.getAnyCap expects n = 234", params.getN());
  auto cap = params.getInCap().castAs<interop::TestInterface>();
  context.releaseParams();
  return expectFoo(cap).then([context, shared = kj::addRef(shared)]() mutable {
    auto results = context.getResults();
    results.setS("bar");
    results.initOutBox().setCap(
        capnp::Capability::Client(kj::heap<TestExtendsImpl>(*shared)));
  });
}

kj::Promise<void> TestPipelineImpl::getCapPipelineOnly(GetCapPipelineOnlyContext context) {
  Shared& shared = live.get();
  ++shared.callCount;
  capnp::PipelineBuilder<GetCapPipelineOnlyResults> pipeline;
  pipeline.initOutBox().setCap(kj::heap<TestExtendsImpl>(shared));
  context.setPipeline(pipeline.build());
  return kj::NEVER_DONE;
}

kj::Promise<void> TestCallOrderImpl::getCallSequence(GetCallSequenceContext context) {
  context.getResults().setN(count++);
  return kj::READY_NOW;
}

kj::Promise<void> TestTailCalleeImpl::foo(FooContext context) {
  Shared& shared = live.get();
  ++shared.callCount;
  auto params = context.getParams();
  auto results = context.getResults();
  results.setI(params.getI());
  results.setT(params.getT());
  results.setC(kj::heap<TestCallOrderImpl>(shared));
  return kj::READY_NOW;
}

kj::Promise<void> TestTailCallerImpl::foo(FooContext context) {
  ++live.get().callCount;
  auto params = context.getParams();
  auto tailRequest = params.getCallee().fooRequest();
  tailRequest.setI(params.getI());
  tailRequest.setT("from TestTailCaller");
  return context.tailCall(kj::mv(tailRequest));
}

kj::Promise<void> TestRacingTailCallerImpl::foo(FooContext context) {
  return gate->promise.addBranch().then([context]() mutable {
    auto tailRequest = context.getParams().getCallee().fooRequest();
    return context.tailCall(kj::mv(tailRequest));
  });
}

kj::Promise<void> TestRacingControlImpl::unblock(UnblockContext context) {
  gate->fulfiller->fulfill();
  return kj::READY_NOW;
}

kj::Promise<void> TestFlowSinkImpl::take(TakeContext context) {
  state->bytes += context.getParams().getData().size();
  state->maxInFlight = kj::max(state->maxInFlight, ++state->inFlight);
  return live.get().timer.afterDelay(delayMs * kj::MILLISECONDS)
      .then([state = kj::addRef(*state)]() mutable {
        --state->inFlight;
        ++state->completed;
      });
}

kj::Promise<void> TestFlowSinkImpl::getState(GetStateContext context) {
  auto r = context.getResults();
  r.setCompleted(state->completed);
  r.setMaxInFlight(state->maxInFlight);
  r.setBytes(state->bytes);
  return kj::READY_NOW;
}

// ---------------------------------------------------------------------------------------------
// TestMoreStuffImpl

kj::Promise<void> TestMoreStuffImpl::getCallSequence(GetCallSequenceContext context) {
  context.getResults().setN(live.get().callCount++);
  return kj::READY_NOW;
}

kj::Promise<void> TestMoreStuffImpl::callFoo(CallFooContext context) {
  ++live.get().callCount;
  auto cap = context.getParams().getCap();
  return expectFoo(cap).then([context]() mutable { context.getResults().setS("bar"); });
}

kj::Promise<void> TestMoreStuffImpl::callFooWhenResolved(CallFooWhenResolvedContext context) {
  ++live.get().callCount;
  auto cap = context.getParams().getCap();
  return cap.whenResolved().then([cap, context]() mutable {
    return expectFoo(cap).then([context]() mutable { context.getResults().setS("bar"); });
  });
}

kj::Promise<void> TestMoreStuffImpl::neverReturn(NeverReturnContext context) {
  Shared& shared = live.get();
  ++shared.callCount;
  auto cap = context.getParams().getCap();
  // Keep `cap` alive in the pending promise and in the results, so that a cancellation that
  // fails to release either shows up as a leaked capability on the caller's side.
  context.getResults().setCapCopy(cap);
  context.allowCancellation();
  return kj::Promise<void>(kj::NEVER_DONE).attach(kj::mv(cap), kj::heap<CancelGuard>(shared));
}

kj::Promise<void> TestMoreStuffImpl::hold(HoldContext context) {
  ++live.get().callCount;
  clientToHold = context.getParams().getCap();
  return kj::READY_NOW;
}

kj::Promise<void> TestMoreStuffImpl::callHeld(CallHeldContext context) {
  ++live.get().callCount;
  return expectFoo(clientToHold).then([context]() mutable { context.getResults().setS("bar"); });
}

kj::Promise<void> TestMoreStuffImpl::getHeld(GetHeldContext context) {
  ++live.get().callCount;
  context.getResults().setCap(clientToHold);
  return kj::READY_NOW;
}

kj::Promise<void> TestMoreStuffImpl::echo(EchoContext context) {
  ++live.get().callCount;
  context.getResults().setCap(context.getParams().getCap());
  return kj::READY_NOW;
}

namespace {
kj::Promise<void> loopUntilCancelled(kj::Timer& timer, kj::TimePoint giveUpAt) {
  // C++'s TestMoreStuffImpl::loop re-schedules itself each turn and gives up after 100 turns.
  // Over a socket the cancellation takes longer than 100 turns to arrive, so we re-schedule every
  // millisecond and give up after 30 s.
  if (timer.now() >= giveUpAt) {
    return KJ_EXCEPTION(FAILED, "expectCancel: looped too long, giving up");
  }
  return timer.afterDelay(1 * kj::MILLISECONDS).then([&timer, giveUpAt]() {
    return loopUntilCancelled(timer, giveUpAt);
  });
}
}  // namespace

kj::Promise<void> TestMoreStuffImpl::expectCancel(ExpectCancelContext context) {
  Shared& shared = live.get();
  auto cap = context.getParams().getCap();
  context.allowCancellation();
  auto guard = kj::heap<CancelGuard>(shared);
  auto& g = *guard;
  return loopUntilCancelled(shared.timer, shared.timer.now() + 30 * kj::SECONDS)
      .then([&g]() { g.done(); }, [&g](kj::Exception&& e) {
        g.done();
        kj::throwFatalException(kj::mv(e));
      })
      .attach(kj::mv(cap), kj::mv(guard));
}

kj::Promise<void> TestMoreStuffImpl::getHandle(GetHandleContext context) {
  context.getResults().setHandle(kj::heap<HandleImpl>(live.get()));
  return kj::READY_NOW;
}

kj::Promise<void> TestMoreStuffImpl::getNull(GetNullContext context) {
  return kj::READY_NOW;
}

kj::Promise<void> TestMoreStuffImpl::getEnormousString(GetEnormousStringContext context) {
  context.getResults().initStr(100000000);  // 100 MB: must fail to send
  return kj::READY_NOW;
}

kj::Promise<void> TestMoreStuffImpl::writeToFd(WriteToFdContext context) {
  // test-util.c++ (0.9.2) TestMoreStuffImpl::writeToFd: "foo" through fdCap1's FD, "bar" through
  // fdCap2's if it came (secondFdPresent says whether), and fdCap3 = a pipe's read end holding
  // "baz" (its write end closed, so the reader sees EOF after "baz"). Not counted in callCount.
  auto params = context.getParams();
  auto promises = kj::heapArrayBuilder<kj::Promise<void>>(2);
  promises.add(params.getFdCap1().getFd().then([](kj::Maybe<int> fd) {
    KJ_IF_MAYBE(f, fd) {
      kj::FdOutputStream(*f).write("foo", 3);
    } else {
      KJ_FAIL_REQUIRE("writeToFd: fdCap1 arrived without its FD");
    }
  }));
  promises.add(params.getFdCap2().getFd().then([context](kj::Maybe<int> fd) mutable {
    context.getResults().setSecondFdPresent(fd != nullptr);
    KJ_IF_MAYBE(f, fd) {
      kj::FdOutputStream(*f).write("bar", 3);
    }
  }));
  int pair[2];
  KJ_SYSCALL(pipe2(pair, O_CLOEXEC));
  kj::AutoCloseFd in(pair[0]);
  kj::FdOutputStream(kj::AutoCloseFd(pair[1])).write("baz", 3);
  context.getResults().setFdCap3(kj::heap<TestFdCap>(kj::mv(in)));
  return kj::joinPromises(promises.finish());
}

kj::Promise<void> TestMoreStuffImpl::throwException(ThrowExceptionContext context) {
  return KJ_EXCEPTION(FAILED, "test exception");
}

kj::Promise<void> TestMoreStuffImpl::throwRemoteException(ThrowRemoteExceptionContext context) {
  return KJ_EXCEPTION(FAILED, "remote exception: test exception");
}

kj::Promise<void> TestMoreStuffImpl::throwExceptionWithDetail(
    ThrowExceptionWithDetailContext context) {
  // Master's test-util.c++ attaches detail 1 = "foo"; kj 0.9.2's Exception has no details.
  return KJ_EXCEPTION(FAILED, "test exception");
}

// ---------------------------------------------------------------------------------------------
// Streaming

kj::Promise<void> StreamState::gate() {
  ++delivered;
  kj::Promise<void> ready = nullptr;
  if (!holdCalls) {
    ready = kj::READY_NOW;
  } else if (credits > 0) {
    --credits;
    ready = kj::READY_NOW;
  } else {
    auto paf = kj::newPromiseAndFulfiller<void>();
    waiting.push_back(kj::mv(paf.fulfiller));
    ready = kj::mv(paf.promise);
  }
  return ready.then([self = kj::addRef(*this)]() mutable { ++self->completed; });
}

void StreamState::release(uint32_t count) {
  credits += count;
  while (credits > 0 && !waiting.empty()) {
    auto f = kj::mv(waiting.front());
    waiting.pop_front();
    if (f->isWaiting()) {
      --credits;
      f->fulfill();
    }
  }
}

uint32_t StreamState::pending() {
  uint32_t n = 0;
  for (auto& f: waiting) {
    if (f->isWaiting()) ++n;
  }
  return n;
}

kj::Promise<void> TestStreamingImpl::doStreamI(DoStreamIContext context) {
  state->iSum += context.getParams().getI();
  return state->gate();
}

kj::Promise<void> TestStreamingImpl::doStreamJ(DoStreamJContext context) {
  context.allowCancellation();
  state->jSum += context.getParams().getJ();
  if (state->jShouldThrow) {
    ++state->delivered;
    return KJ_EXCEPTION(FAILED, "throw requested");
  }
  return state->gate();
}

kj::Promise<void> TestStreamingImpl::doStreamData(DoStreamDataContext context) {
  state->dataBytes += context.getParams().getData().size();
  return state->gate();
}

kj::Promise<void> TestStreamingImpl::finishStream(FinishStreamContext context) {
  auto results = context.getResults();
  results.setTotalI(state->iSum);
  results.setTotalJ(state->jSum);
  return kj::READY_NOW;
}

kj::Promise<void> TestStreamingControlImpl::release(ReleaseContext context) {
  state->release(context.getParams().getCount());
  return kj::READY_NOW;
}

kj::Promise<void> TestStreamingControlImpl::getState(GetStateContext context) {
  auto r = context.getResults();
  r.setISum(state->iSum);
  r.setJSum(state->jSum);
  r.setDataBytes(state->dataBytes);
  r.setDelivered(state->delivered);
  r.setCompleted(state->completed);
  r.setPending(state->pending());
  return kj::READY_NOW;
}

}  // namespace capnts_fixture
