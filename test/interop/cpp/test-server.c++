// test-server: serves interop::TestBootstrap (test/interop/schema/test.capnp) over TCP or a Unix
// socket, with the behaviour of C++'s test impls (test-impls.h). Each connection gets its own
// TestBootstrap and its own counters, like a fresh TestContext in rpc-test.c++.
//
//   test-server --listen tcp:127.0.0.1:0 | --listen unix:/path [--timeout-ms 60000] [--ignore-stdin]
//               [--max-fds N]
//
// With --max-fds N (Unix sockets only) every connection passes FDs with its messages, keeping at
// most N of those received with one message, as rpc-twoparty-test.c++'s "send FD over RPC" (2)
// and "FD per message limit" (1) set up their TwoPartyServer.
//
// Prints "LISTENING <address>" once ready; exits when stdin closes; exits 124 after the timeout.

#include "common.h"
#include "test-impls.h"

#include <kj/debug.h>

namespace capnts_fixture {
namespace {

const char USAGE[] =
    "usage: test-server --listen ADDRESS [--timeout-ms N] [--ignore-stdin] [--max-fds N]\n"
    "  ADDRESS: tcp:HOST:PORT (port 0 = any), HOST:PORT or unix:PATH\n"
    "  Prints 'LISTENING <address>' when ready; exits when stdin closes (unless --ignore-stdin)\n"
    "  or with status 124 after --timeout-ms (default 60000; 0 = never).\n"
    "  --max-fds N (unix: only): pass FDs (SCM_RIGHTS), keeping at most N per received message.\n";

class TestBootstrapImpl final: public interop::TestBootstrap::Server {
  // The bootstrap object: hands out new objects sharing this connection's counters (as C++'s
  // TestRestorer does on each restore()), reports the counters, and remembers the VatId that the
  // BootstrapFactory was given (TwoPartyNetwork.BootstrapFactory).
public:
  TestBootstrapImpl(ServerConnection& conn, kj::Timer& timer,
                    capnp::rpc::twoparty::VatId::Reader peer)
      : conn(conn), shared(kj::refcounted<Shared>(timer)), peerSide(peer.getSide()) {}

protected:
  kj::Promise<void> getCallerId(GetCallerIdContext context) override {
    context.getResults().initCaller().setSide(
        peerSide == capnp::rpc::twoparty::Side::CLIENT ? interop::Side::CLIENT
                                                       : interop::Side::SERVER);
    return kj::READY_NOW;
  }
  kj::Promise<void> testInterface(TestInterfaceContext context) override {
    context.getResults().setCap(kj::heap<TestInterfaceImpl>(*shared));
    return kj::READY_NOW;
  }
  kj::Promise<void> testExtends(TestExtendsContext context) override {
    context.getResults().setCap(kj::heap<TestExtendsImpl>(*shared));
    return kj::READY_NOW;
  }
  kj::Promise<void> testPipeline(TestPipelineContext context) override {
    context.getResults().setCap(kj::heap<TestPipelineImpl>(*shared));
    return kj::READY_NOW;
  }
  kj::Promise<void> testCallOrder(TestCallOrderContext context) override {
    context.getResults().setCap(kj::heap<TestCallOrderImpl>(*shared));
    return kj::READY_NOW;
  }
  kj::Promise<void> testTailCallee(TestTailCalleeContext context) override {
    context.getResults().setCap(kj::heap<TestTailCalleeImpl>(*shared));
    return kj::READY_NOW;
  }
  kj::Promise<void> testTailCaller(TestTailCallerContext context) override {
    context.getResults().setCap(kj::heap<TestTailCallerImpl>(*shared));
    return kj::READY_NOW;
  }
  kj::Promise<void> testRacingTailCaller(TestRacingTailCallerContext context) override {
    auto gate = kj::refcounted<RacingGate>();
    auto results = context.getResults();
    results.setCap(kj::heap<TestRacingTailCallerImpl>(*shared, *gate));
    results.setControl(kj::heap<TestRacingControlImpl>(*shared, *gate));
    return kj::READY_NOW;
  }
  kj::Promise<void> testFlowSink(TestFlowSinkContext context) override {
    context.getResults().setCap(
        kj::heap<TestFlowSinkImpl>(*shared, context.getParams().getDelayMs()));
    return kj::READY_NOW;
  }
  kj::Promise<void> setFlowLimit(SetFlowLimitContext context) override {
    // Each connection has its own RpcSystem (ServerConnection), so this limits this one only.
    conn.rpcSystem().setFlowLimit(context.getParams().getWords());
    return kj::READY_NOW;
  }
  kj::Promise<void> testMoreStuff(TestMoreStuffContext context) override {
    context.getResults().setCap(kj::heap<TestMoreStuffImpl>(*shared));
    return kj::READY_NOW;
  }
  kj::Promise<void> testStreaming(TestStreamingContext context) override {
    auto params = context.getParams();
    auto state = kj::refcounted<StreamState>(params.getHoldCalls(), params.getJShouldThrow());
    auto results = context.getResults();
    results.setCap(kj::heap<TestStreamingImpl>(*shared, *state));
    results.setControl(kj::heap<TestStreamingControlImpl>(*shared, *state));
    return kj::READY_NOW;
  }
  kj::Promise<void> getCounters(GetCountersContext context) override {
    auto r = context.getResults();
    r.setCallCount(shared->callCount);
    r.setHandleCount(shared->handleCount);
    r.setCancelCount(shared->cancelCount);
    r.setLiveObjects(shared->liveObjects);
    return kj::READY_NOW;
  }
  kj::Promise<void> resetCounters(ResetCountersContext context) override {
    // liveObjects and handleCount count live objects; only the event counters are reset.
    shared->callCount = 0;
    shared->cancelCount = 0;
    return kj::READY_NOW;
  }
  kj::Promise<void> setTraceEncoder(SetTraceEncoderContext context) override {
    // The connection's encoder (installed when it was accepted) is switched on or off; see
    // ServerConnection::setTraceEnabled for why it cannot be installed here.
    conn.setTraceEnabled(context.getParams().getEnabled());
    return kj::READY_NOW;
  }

private:
  ServerConnection& conn;  // outlives this object: the RpcSystem is destroyed first
  kj::Own<Shared> shared;
  capnp::rpc::twoparty::Side peerSide;
};

}  // namespace
}  // namespace capnts_fixture

int main(int argc, char** argv) {
  using namespace capnts_fixture;
  return runServerMain(argc, argv, USAGE, 60000, /* withTraceEncoder = */ true, [](kj::AsyncIoContext& io) -> BootstrapMaker {
    kj::Timer& timer = io.provider->getTimer();
    return [&timer](ServerConnection& conn, capnp::rpc::twoparty::VatId::Reader peer)
               -> capnp::Capability::Client {
      return kj::heap<TestBootstrapImpl>(conn, timer, peer);
    };
  });
}
