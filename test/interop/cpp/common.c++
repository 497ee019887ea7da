// Shared plumbing of the capnts C++ fixture programs. See common.h.

#include "common.h"

#include <kj/debug.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

namespace capnts_fixture {

// ---------------------------------------------------------------------------------------------
// Command line

std::string Args::get(const std::string& name, const std::string& fallback) const {
  auto it = values.find(name);
  return it == values.end() ? fallback : it->second;
}

long long Args::getInt(const std::string& name, long long fallback) const {
  auto it = values.find(name);
  if (it == values.end()) return fallback;
  char* end = nullptr;
  long long v = strtoll(it->second.c_str(), &end, 10);
  if (end == it->second.c_str() || *end != '\0') {
    fprintf(stderr, "%s: --%s wants an integer, got '%s'\n", program.c_str(), name.c_str(),
            it->second.c_str());
    exit(2);
  }
  return v;
}

Args parseArgs(int argc, char** argv, std::initializer_list<const char*> flags) {
  Args args;
  const char* slash = strrchr(argv[0], '/');
  args.program = slash ? slash + 1 : argv[0];
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    if (a.rfind("--", 0) != 0) {
      fprintf(stderr, "%s: unexpected argument '%s' (try --help)\n", args.program.c_str(),
              a.c_str());
      exit(2);
    }
    a = a.substr(2);
    auto eq = a.find('=');
    if (eq != std::string::npos) {
      args.values[a.substr(0, eq)] = a.substr(eq + 1);
      continue;
    }
    bool isFlag = false;
    for (auto f: flags) {
      if (a == f) isFlag = true;
    }
    if (isFlag) {
      args.values[a] = "1";
    } else if (i + 1 < argc) {
      args.values[a] = argv[++i];
    } else {
      fprintf(stderr, "%s: option --%s needs a value\n", args.program.c_str(), a.c_str());
      exit(2);
    }
  }
  return args;
}

void usageError(const std::string& program, const std::string& message, const char* usage) {
  fprintf(stderr, "%s: %s\n\n%s", program.c_str(), message.c_str(), usage);
  exit(2);
}

// ---------------------------------------------------------------------------------------------
// Addresses

std::string Endpoint::kjAddress() const {
  if (isUnix) return "unix:" + path;
  bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string Endpoint::display() const {
  if (isUnix) return "unix:" + path;
  return "tcp:" + kjAddress();
}

Endpoint parseEndpoint(const std::string& text) {
  Endpoint ep;
  std::string rest = text;
  if (rest.rfind("unix:", 0) == 0) {
    ep.isUnix = true;
    ep.path = rest.substr(5);
    KJ_REQUIRE(!ep.path.empty(), "empty Unix socket path", text);
    return ep;
  }
  if (rest.rfind("tcp:", 0) == 0) rest = rest.substr(4);
  auto colon = rest.rfind(':');
  KJ_REQUIRE(colon != std::string::npos && colon > 0 && colon + 1 < rest.size(),
             "address must be tcp:HOST:PORT, HOST:PORT or unix:PATH", text);
  ep.host = rest.substr(0, colon);
  if (ep.host.size() >= 2 && ep.host.front() == '[' && ep.host.back() == ']') {
    ep.host = ep.host.substr(1, ep.host.size() - 2);
  }
  std::string port = rest.substr(colon + 1);
  char* end = nullptr;
  long p = strtol(port.c_str(), &end, 10);
  KJ_REQUIRE(*end == '\0' && p >= 0 && p <= 65535, "bad port", text);
  ep.port = static_cast<int>(p);
  return ep;
}

// ---------------------------------------------------------------------------------------------
// Process conventions

namespace {
char timeoutMessage[256];
size_t timeoutMessageLength = 0;

void onAlarm(int) {
  ssize_t ignored = write(STDERR_FILENO, timeoutMessage, timeoutMessageLength);
  (void)ignored;
  _exit(124);
}
}  // namespace

void installHardTimeout(const char* program, long long ms) {
  signal(SIGPIPE, SIG_IGN);
  if (ms <= 0) return;
  int n = snprintf(timeoutMessage, sizeof(timeoutMessage), "%s: TIMEOUT after %lld ms\n",
                   program, ms);
  timeoutMessageLength = n < 0 ? 0 : std::min<size_t>(n, sizeof(timeoutMessage) - 1);
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = &onAlarm;
  sigaction(SIGALRM, &sa, nullptr);
  struct itimerval t;
  memset(&t, 0, sizeof(t));
  t.it_value.tv_sec = ms / 1000;
  t.it_value.tv_usec = (ms % 1000) * 1000;
  setitimer(ITIMER_REAL, &t, nullptr);
}

namespace {
kj::Promise<void> readUntilEof(kj::Own<kj::AsyncInputStream> in) {
  auto buffer = kj::heapArray<kj::byte>(4096);
  auto promise = in->tryRead(buffer.begin(), 1, buffer.size());
  return promise.then(
      [in = kj::mv(in), buffer = kj::mv(buffer)](size_t n) mutable -> kj::Promise<void> {
        if (n == 0) return kj::READY_NOW;
        return readUntilEof(kj::mv(in));
      },
      [](kj::Exception&&) -> kj::Promise<void> { return kj::READY_NOW; });
}
}  // namespace

kj::Promise<void> whenStdinClosed(kj::AsyncIoContext& io) {
  struct stat st;
  if (fstat(STDIN_FILENO, &st) != 0) return kj::READY_NOW;
  bool pollable = S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) ||
                  (S_ISCHR(st.st_mode) && isatty(STDIN_FILENO));
  if (!pollable) {
    // Regular file or /dev/null: epoll cannot watch it; it ends when read to the end.
    char buf[4096];
    while (read(STDIN_FILENO, buf, sizeof(buf)) > 0) {
    }
    return kj::READY_NOW;
  }
  kj::Own<kj::AsyncInputStream> in;
  KJ_IF_MAYBE(e, kj::runCatchingExceptions([&]() {
        in = io.lowLevelProvider->wrapInputFd(STDIN_FILENO);
      })) {
    fprintf(stderr, "cannot watch stdin (%s); treating it as closed\n", describe(*e).c_str());
    return kj::READY_NOW;
  }
  return readUntilEof(kj::mv(in));
}

const char* typeName(kj::Exception::Type type) {
  switch (type) {
    case kj::Exception::Type::FAILED: return "FAILED";
    case kj::Exception::Type::OVERLOADED: return "OVERLOADED";
    case kj::Exception::Type::DISCONNECTED: return "DISCONNECTED";
    case kj::Exception::Type::UNIMPLEMENTED: return "UNIMPLEMENTED";
  }
  return "UNKNOWN";
}

std::string describe(const kj::Exception& e) {
  std::string s = typeName(e.getType());
  s += ": ";
  s += e.getDescription().cStr();
  for (auto& c: s) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// Server side

namespace {
kj::Own<capnp::TwoPartyVatNetwork> newServerNetwork(kj::Own<kj::AsyncIoStream>& stream,
                                                    uint maxFds) {
  auto side = capnp::rpc::twoparty::Side::SERVER;
  if (maxFds == 0) return kj::heap<capnp::TwoPartyVatNetwork>(*stream, side);
  auto capStream = asCapabilityStream(kj::mv(stream));
  auto network = kj::heap<capnp::TwoPartyVatNetwork>(*capStream, maxFds, side);
  stream = kj::mv(capStream);  // same object, kept alive (and owned) by the connection
  return network;
}
}  // namespace

ServerConnection::ServerConnection(kj::Own<kj::AsyncIoStream>&& streamParam,
                                   BootstrapMaker& maker, bool withTraceEncoder, uint maxFds)
    : stream(kj::mv(streamParam)),
      network(newServerNetwork(stream, maxFds)),
      rpc(*network, static_cast<capnp::BootstrapFactory<capnp::rpc::twoparty::VatId>&>(*this)),
      maker(maker) {
  if (withTraceEncoder) {
    // Must happen before the event loop runs: the RpcSystem creates the connection state (which
    // keeps a reference to the encoder, or none) on its first turn.
    rpc.setTraceEncoder([this](const kj::Exception& e) -> kj::String {
      if (!traceEnabled) return kj::str("");
      return kj::str("trace for ", e.getDescription());
    });
  }
}

capnp::Capability::Client ServerConnection::createFor(
    capnp::rpc::twoparty::VatId::Reader clientId) {
  KJ_IF_MAYBE(b, bootstrap) {
    return *b;
  }
  auto cap = maker(*this, clientId);
  bootstrap = cap;
  return cap;
}

namespace {

class Acceptor final: private kj::TaskSet::ErrorHandler {
public:
  Acceptor(BootstrapMaker& maker, bool withTraceEncoder, uint maxFds)
      : maker(maker), withTraceEncoder(withTraceEncoder), maxFds(maxFds), tasks(*this) {}

  kj::Promise<void> listen(kj::ConnectionReceiver& listener) {
    return listener.accept().then([this, &listener](kj::Own<kj::AsyncIoStream>&& stream) {
      auto conn = kj::heap<ServerConnection>(kj::mv(stream), maker, withTraceEncoder, maxFds);
      auto done = conn->vatNetwork().onDisconnect();
      tasks.add(done.attach(kj::mv(conn)));
      return listen(listener);
    });
  }

private:
  BootstrapMaker& maker;
  bool withTraceEncoder;
  uint maxFds;
  kj::TaskSet tasks;

  void taskFailed(kj::Exception&& exception) override {
    fprintf(stderr, "connection failed: %s\n", describe(exception).c_str());
  }
};

bool isSocketFile(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode);
}

}  // namespace

int runServerMain(int argc, char** argv, const char* usage, long long defaultTimeoutMs,
                  bool withTraceEncoder,
                  kj::Function<BootstrapMaker(kj::AsyncIoContext& io)> setup) {
  Args args = parseArgs(argc, argv, {"ignore-stdin", "help"});
  if (args.has("help")) {
    fputs(usage, stdout);
    return 0;
  }
  if (!args.has("listen")) usageError(args.program, "--listen is required", usage);
  installHardTimeout(args.program.c_str(), args.getInt("timeout-ms", defaultTimeoutMs));

  Endpoint ep;
  KJ_IF_MAYBE(e, kj::runCatchingExceptions([&]() { ep = parseEndpoint(args.get("listen")); })) {
    usageError(args.program, e->getDescription().cStr(), usage);
  }
  long long maxFds = args.getInt("max-fds", 0);
  if (maxFds < 0 || maxFds > MAX_FDS_PER_MESSAGE) {
    usageError(args.program, "--max-fds must be between 0 and 253", usage);
  }
  if (maxFds > 0 && !ep.isUnix) {
    usageError(args.program, "--max-fds needs a unix: address (FDs pass over Unix sockets only)",
               usage);
  }

  auto io = kj::setupAsyncIo();
  BootstrapMaker maker = setup(io);

  if (ep.isUnix && isSocketFile(ep.path)) unlink(ep.path.c_str());
  kj::Own<kj::ConnectionReceiver> listener;
  KJ_IF_MAYBE(e, kj::runCatchingExceptions([&]() {
        auto addr = io.provider->getNetwork().parseAddress(ep.kjAddress()).wait(io.waitScope);
        listener = addr->listen();
      })) {
    fprintf(stderr, "%s: cannot listen on %s: %s\n", args.program.c_str(), ep.display().c_str(),
            describe(*e).c_str());
    return 1;
  }
  if (!ep.isUnix) ep.port = static_cast<int>(listener->getPort());

  printf("LISTENING %s\n", ep.display().c_str());
  fflush(stdout);

  Acceptor acceptor(maker, withTraceEncoder, static_cast<uint>(maxFds));
  bool acceptFailed = false;
  auto accepting = acceptor.listen(*listener).then(
      []() {},
      [&](kj::Exception&& e) {
        fprintf(stderr, "%s: accept failed: %s\n", args.program.c_str(), describe(e).c_str());
        acceptFailed = true;
      });

  kj::Promise<void> stop = args.has("ignore-stdin") ? kj::Promise<void>(kj::NEVER_DONE)
                                                     : whenStdinClosed(io);
  stop.exclusiveJoin(kj::mv(accepting)).wait(io.waitScope);

  if (ep.isUnix && isSocketFile(ep.path)) unlink(ep.path.c_str());
  fflush(stdout);
  fflush(stderr);
  // Skip destructors: live connections and pending calls need no orderly teardown here.
  _exit(acceptFailed ? 1 : 0);
}

// ---------------------------------------------------------------------------------------------
// Client side

kj::Promise<kj::Own<kj::AsyncIoStream>> connectTo(kj::AsyncIoContext& io, const Endpoint& ep) {
  return io.provider->getNetwork().parseAddress(ep.kjAddress())
      .then([](kj::Own<kj::NetworkAddress>&& addr) {
        auto promise = addr->connect();
        return promise.attach(kj::mv(addr));
      });
}

kj::Own<kj::AsyncCapabilityStream> asCapabilityStream(kj::Own<kj::AsyncIoStream>&& stream) {
  // KJ's Unix-socket streams (accepted or connected through kj::Network) are AsyncStreamFds,
  // which implement AsyncCapabilityStream; upstream's TwoPartyServer::listenCapStreamReceiver
  // relies on the same downcast. Checked here so that a TCP stream fails with a message.
  KJ_REQUIRE(dynamic_cast<kj::AsyncCapabilityStream*>(stream.get()) != nullptr,
             "this connection cannot pass FDs (not a Unix socket)");
  return stream.downcast<kj::AsyncCapabilityStream>();
}

kj::Promise<size_t> CountingStream::read(void* buffer, size_t minBytes, size_t maxBytes) {
  return inner->read(buffer, minBytes, maxBytes);
}
kj::Promise<size_t> CountingStream::tryRead(void* buffer, size_t minBytes, size_t maxBytes) {
  return inner->tryRead(buffer, minBytes, maxBytes);
}
kj::Maybe<uint64_t> CountingStream::tryGetLength() { return inner->tryGetLength(); }
kj::Promise<uint64_t> CountingStream::pumpTo(kj::AsyncOutputStream& output, uint64_t amount) {
  return inner->pumpTo(output, amount);
}
kj::Promise<void> CountingStream::write(const void* buffer, size_t size) {
  ++writes;
  bytesWritten += size;
  return inner->write(buffer, size);
}
kj::Promise<void> CountingStream::write(kj::ArrayPtr<const kj::ArrayPtr<const kj::byte>> pieces) {
  ++writes;
  for (auto& p: pieces) bytesWritten += p.size();
  return inner->write(pieces);
}
kj::Maybe<kj::Promise<uint64_t>> CountingStream::tryPumpFrom(kj::AsyncInputStream& input,
                                                             uint64_t amount) {
  return nullptr;  // keep writes countable: fall back to read()/write()
}
kj::Promise<void> CountingStream::whenWriteDisconnected() {
  return inner->whenWriteDisconnected();
}
void CountingStream::shutdownWrite() { inner->shutdownWrite(); }
void CountingStream::abortRead() { inner->abortRead(); }
void CountingStream::getsockopt(int level, int option, void* value, uint* length) {
  inner->getsockopt(level, option, value, length);
}
void CountingStream::setsockopt(int level, int option, const void* value, uint length) {
  inner->setsockopt(level, option, value, length);
}
void CountingStream::getsockname(struct sockaddr* addr, uint* length) {
  inner->getsockname(addr, length);
}
void CountingStream::getpeername(struct sockaddr* addr, uint* length) {
  inner->getpeername(addr, length);
}

}  // namespace capnts_fixture
