// bench-echo-server: the C++ side of the RPC benchmarks (issue 7). Serves capnts::bench::Echo
// (bench/schema/bench.capnp); every connection gets its own Echo object.
//
//   bench-echo-server --listen tcp:127.0.0.1:0 | --listen unix:/path [--timeout-ms 600000]
//                     [--ignore-stdin]
//
// Same conventions as the interop fixtures (test/interop/README.md): prints
// "LISTENING <address>" once ready, exits when stdin closes, exits 124 after the timeout.

#include "bench.capnp.h"
#include "common.h"

namespace capnts_fixture {
namespace {

using capnts::bench::Echo;

const char USAGE[] =
    "usage: bench-echo-server --listen ADDRESS [--timeout-ms N] [--ignore-stdin]\n"
    "  ADDRESS: tcp:HOST:PORT (port 0 = any), HOST:PORT or unix:PATH\n"
    "  Prints 'LISTENING <address>' when ready; exits when stdin closes (unless --ignore-stdin)\n"
    "  or with status 124 after --timeout-ms (default 600000; 0 = never).\n";

class EchoImpl final: public Echo::Server {
protected:
  kj::Promise<void> echo(EchoContext context) override {
    context.getResults().setData(context.getParams().getData());
    return kj::READY_NOW;
  }

  kj::Promise<void> next(NextContext context) override {
    auto results = context.getResults();
    results.setEcho(thisCap());
    results.setN(context.getParams().getN() + 1);
    return kj::READY_NOW;
  }

  kj::Promise<void> write(WriteContext context) override {
    bytes += context.getParams().getData().size();
    ++writes;
    return kj::READY_NOW;
  }

  kj::Promise<void> finish(FinishContext context) override {
    auto results = context.getResults();
    results.setBytes(bytes);
    results.setWrites(writes);
    bytes = 0;
    writes = 0;
    return kj::READY_NOW;
  }

private:
  uint64_t bytes = 0;
  uint64_t writes = 0;
};

}  // namespace
}  // namespace capnts_fixture

int main(int argc, char** argv) {
  using namespace capnts_fixture;
  return runServerMain(argc, argv, USAGE, 600000, /* withTraceEncoder = */ false,
                       [](kj::AsyncIoContext&) -> BootstrapMaker {
                         return [](ServerConnection&, capnp::rpc::twoparty::VatId::Reader)
                                    -> capnp::Capability::Client {
                           return kj::heap<EchoImpl>();
                         };
                       });
}
