// bench-echo-client: the C++ client of the RPC benchmarks (issue 7). Connects to an Echo server
// (bench/schema/bench.capnp: bench-echo-server, or the TypeScript one) and measures:
//
//   echo-sequential   one echo(data) at a time (latency)
//   echo-outstanding  --outstanding echo calls kept in flight (throughput)
//   chain-pipelined   e.next().echo.next().echo.next(): 3 calls sent pipelined, one wait
//   chain-awaited     the same 3 calls, each awaited before the next
//   stream-1k         write(1 KiB) streaming calls (flow-controlled send()), then finish()
//   stream-64k        write(64 KiB) likewise
//
//   bench-echo-client --connect ADDRESS [--only NAME[,NAME...]] [--quick] [--duration-ms 2000]
//                     [--warmup-ms 200] [--outstanding 64] [--payload 16] [--timeout-ms 600000]
//
// Each benchmark runs for --duration-ms after a warm-up of --warmup-ms (--quick: 200 and 50) and
// prints one JSON object on one line, e.g.
//   {"bench":"echo-sequential","client":"c++","transport":"tcp","payloadBytes":16,
//    "ops":29000,"seconds":2.0001,"opsPerSec":14499.3,"usPerOp":68.97}
// Common keys: bench, client ("c++"), transport ("tcp"|"unix"), ops, seconds, opsPerSec,
// usPerOp. Extra keys: payloadBytes (echo), outstanding (echo-outstanding), chainLength (chain),
// writeBytes and mbPerSec (stream). Exit status 0 unless a benchmark failed (a line
// {"bench":...,"error":"..."} is printed then).

#include "bench.capnp.h"
#include "common.h"

#include <kj/debug.h>
#include <kj/time.h>

#include <cstdio>
#include <string>
#include <unistd.h>
#include <vector>

namespace capnts_fixture {
namespace {

using capnts::bench::Echo;

const char USAGE[] =
    "usage: bench-echo-client --connect ADDRESS [--only NAME[,NAME...]] [--quick]\n"
    "                         [--duration-ms N] [--warmup-ms N] [--outstanding N]\n"
    "                         [--payload BYTES] [--timeout-ms N]\n"
    "  NAME: echo-sequential, echo-outstanding, chain-pipelined, chain-awaited, stream-1k,\n"
    "  stream-64k. Prints one JSON object per benchmark per line.\n";

const char* const ALL[] = {"echo-sequential", "chain-pipelined", "chain-awaited",
                           "echo-outstanding", "stream-1k", "stream-64k"};

struct Bench {
  kj::WaitScope& ws;
  Echo::Client echo;
  const kj::MonotonicClock& clock = kj::systemPreciseMonotonicClock();
  std::string transport;
  long long durationMs;
  long long warmupMs;
  uint32_t outstanding;
  size_t payloadBytes;

  kj::TimePoint now() { return clock.now(); }

  void print(const char* bench, uint64_t ops, double seconds, const std::string& extra) {
    double opsPerSec = seconds > 0 ? ops / seconds : 0;
    double usPerOp = ops > 0 ? seconds * 1e6 / ops : 0;
    printf("{\"bench\":\"%s\",\"client\":\"c++\",\"transport\":\"%s\"%s,\"ops\":%llu,"
           "\"seconds\":%.4f,\"opsPerSec\":%.1f,\"usPerOp\":%.2f}\n",
           bench, transport.c_str(), extra.c_str(), static_cast<unsigned long long>(ops), seconds,
           opsPerSec, usPerOp);
    fflush(stdout);
  }

  static double toSeconds(kj::Duration d) { return d / kj::NANOSECONDS * 1e-9; }

  kj::Array<kj::byte> payload(size_t n) {
    auto a = kj::heapArray<kj::byte>(n);
    for (size_t i = 0; i < n; i++) a[i] = static_cast<kj::byte>(i * 7 + 1);
    return a;
  }

  void echoSequential() {
    auto data = payload(payloadBytes);
    auto step = [&]() -> uint64_t {
      auto req = echo.echoRequest();
      req.setData(data);
      auto resp = req.send().wait(ws);
      KJ_REQUIRE(resp.getData().size() == data.size(), "echo returned the wrong size");
      return 1;
    };
    run("echo-sequential", step, ",\"payloadBytes\":" + std::to_string(payloadBytes));
  }

  template <typename Step>
  void run(const char* name, Step& step, const std::string& extra) {
    auto w = now() + warmupMs * kj::MILLISECONDS;
    while (now() < w) step();
    auto start = now();
    auto deadline = start + durationMs * kj::MILLISECONDS;
    uint64_t ops = 0;
    while (now() < deadline) ops += step();
    print(name, ops, toSeconds(now() - start), extra);
  }

  kj::Promise<void> echoLoop(kj::ArrayPtr<const kj::byte> data, kj::TimePoint deadline,
                             uint64_t& count) {
    auto req = echo.echoRequest();
    req.setData(data);
    return req.send().then([this, data, deadline, &count](
                               capnp::Response<Echo::EchoResults>&& resp) -> kj::Promise<void> {
      KJ_REQUIRE(resp.getData().size() == data.size(), "echo returned the wrong size");
      ++count;
      if (now() < deadline) return echoLoop(data, deadline, count);
      return kj::READY_NOW;
    });
  }

  void echoOutstanding() {
    auto data = payload(payloadBytes);
    auto burst = [&](long long ms) -> std::pair<uint64_t, double> {
      uint64_t count = 0;
      auto start = now();
      auto deadline = start + ms * kj::MILLISECONDS;
      auto loops = kj::heapArrayBuilder<kj::Promise<void>>(outstanding);
      for (uint32_t i = 0; i < outstanding; i++) loops.add(echoLoop(data, deadline, count));
      kj::joinPromises(loops.finish()).wait(ws);
      return {count, toSeconds(now() - start)};
    };
    burst(warmupMs);
    auto result = burst(durationMs);
    print("echo-outstanding", result.first, result.second,
          ",\"payloadBytes\":" + std::to_string(payloadBytes) +
              ",\"outstanding\":" + std::to_string(outstanding));
  }

  void chainPipelined() {
    auto step = [&]() -> uint64_t {
      auto r1 = echo.nextRequest();
      r1.setN(0);
      auto p1 = r1.send();
      auto r2 = p1.getEcho().nextRequest();
      r2.setN(1);
      auto p2 = r2.send();
      auto r3 = p2.getEcho().nextRequest();
      r3.setN(2);
      auto resp = r3.send().wait(ws);
      KJ_REQUIRE(resp.getN() == 3, "chain returned the wrong n");
      return 1;
    };
    run("chain-pipelined", step, ",\"chainLength\":3");
  }

  void chainAwaited() {
    auto step = [&]() -> uint64_t {
      auto r1 = echo.nextRequest();
      r1.setN(0);
      auto a = r1.send().wait(ws);
      auto r2 = a.getEcho().nextRequest();
      r2.setN(a.getN());
      auto b = r2.send().wait(ws);
      auto r3 = b.getEcho().nextRequest();
      r3.setN(b.getN());
      auto c = r3.send().wait(ws);
      KJ_REQUIRE(c.getN() == 3, "chain returned the wrong n");
      return 1;
    };
    run("chain-awaited", step, ",\"chainLength\":3");
  }

  void stream(const char* name, size_t size) {
    auto data = payload(size);
    auto burst = [&](long long ms) -> std::pair<uint64_t, double> {
      auto start = now();
      auto deadline = start + ms * kj::MILLISECONDS;
      uint64_t writes = 0;
      while (now() < deadline) {
        auto req = echo.writeRequest();
        req.setData(data);
        req.send().wait(ws);  // resolves when the flow-control window has room
        ++writes;
      }
      auto totals = echo.finishRequest().send().wait(ws);  // after every write() completed
      KJ_REQUIRE(totals.getWrites() == writes && totals.getBytes() == writes * size,
                 "server counted a different number of writes", totals.getWrites(), writes);
      return {writes, toSeconds(now() - start)};
    };
    burst(warmupMs);
    auto result = burst(durationMs);
    double mb = result.first * static_cast<double>(size) / (1024.0 * 1024.0);
    char extra[128];
    snprintf(extra, sizeof(extra), ",\"writeBytes\":%zu,\"mbPerSec\":%.1f", size,
             result.second > 0 ? mb / result.second : 0.0);
    print(name, result.first, result.second, extra);
  }

  void runOne(const std::string& name) {
    if (name == "echo-sequential") {
      echoSequential();
    } else if (name == "echo-outstanding") {
      echoOutstanding();
    } else if (name == "chain-pipelined") {
      chainPipelined();
    } else if (name == "chain-awaited") {
      chainAwaited();
    } else if (name == "stream-1k") {
      stream("stream-1k", 1024);
    } else if (name == "stream-64k") {
      stream("stream-64k", 65536);
    } else {
      KJ_FAIL_REQUIRE("unknown benchmark", name);
    }
  }
};

std::string jsonEscape(const std::string& s) {
  std::string out;
  for (char c: s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace
}  // namespace capnts_fixture

int main(int argc, char** argv) {
  using namespace capnts_fixture;
  Args args = parseArgs(argc, argv, {"quick", "help"});
  if (args.has("help")) {
    fputs(USAGE, stdout);
    return 0;
  }
  if (!args.has("connect")) usageError(args.program, "--connect is required", USAGE);
  installHardTimeout(args.program.c_str(), args.getInt("timeout-ms", 600000));
  Endpoint ep;
  KJ_IF_MAYBE(e, kj::runCatchingExceptions([&]() { ep = parseEndpoint(args.get("connect")); })) {
    usageError(args.program, e->getDescription().cStr(), USAGE);
  }
  bool quick = args.has("quick");

  std::vector<std::string> names;
  std::string only = args.get("only", "");
  if (only.empty()) {
    for (auto n: ALL) names.push_back(n);
  } else {
    size_t start = 0;
    while (start <= only.size()) {
      auto comma = only.find(',', start);
      if (comma == std::string::npos) comma = only.size();
      if (comma > start) names.push_back(only.substr(start, comma - start));
      start = comma + 1;
    }
  }
  for (auto& n: names) {
    bool known = false;
    for (auto a: ALL) known = known || n == a;
    if (!known) usageError(args.program, "unknown benchmark '" + n + "'", USAGE);
  }

  auto io = kj::setupAsyncIo();
  int status = 0;
  KJ_IF_MAYBE(e, kj::runCatchingExceptions([&]() {
        auto stream = connectTo(io, ep).wait(io.waitScope);
        capnp::TwoPartyClient client(*stream);
        Bench bench{io.waitScope, client.bootstrap().castAs<capnts::bench::Echo>()};
        bench.transport = ep.transport();
        bench.durationMs = args.getInt("duration-ms", quick ? 200 : 2000);
        bench.warmupMs = args.getInt("warmup-ms", quick ? 50 : 200);
        bench.outstanding = static_cast<uint32_t>(args.getInt("outstanding", 64));
        bench.payloadBytes = static_cast<size_t>(args.getInt("payload", 16));
        for (auto& n: names) {
          KJ_IF_MAYBE(err, kj::runCatchingExceptions([&]() { bench.runOne(n); })) {
            printf("{\"bench\":\"%s\",\"client\":\"c++\",\"error\":\"%s\"}\n", n.c_str(),
                   jsonEscape(describe(*err)).c_str());
            fflush(stdout);
            status = 1;
          }
        }
      })) {
    printf("{\"bench\":\"connect\",\"client\":\"c++\",\"error\":\"%s\"}\n",
           jsonEscape(describe(*e)).c_str());
    status = 1;
  }
  fflush(stdout);
  _exit(status);
}
