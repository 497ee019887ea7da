// Shared plumbing of the capnts C++ fixture programs (test/interop/cpp, bench/cpp):
// command-line parsing, addresses, the "LISTENING <address>" / exit-on-stdin-EOF / hard-timeout
// conventions, a server that gives every connection its own bootstrap object, and a byte stream
// wrapper that counts writes. Built against Debian's libcapnp-dev 0.9.2.

#pragma once

#include <capnp/rpc-twoparty.h>
#include <kj/async-io.h>
#include <kj/function.h>

#include <cstdint>
#include <map>
#include <string>

namespace capnts_fixture {

// ---------------------------------------------------------------------------------------------
// Command line

struct Args {
  // "--name value" and "--name=value"; names listed as flags take no value ("--name" alone).
  std::string program;
  std::map<std::string, std::string> values;

  bool has(const std::string& name) const { return values.count(name) > 0; }
  std::string get(const std::string& name, const std::string& fallback = "") const;
  long long getInt(const std::string& name, long long fallback) const;
};

// Parses argv. Unknown options are kept (each program checks what it needs). Exits with status 2
// and a message on stderr when an option that takes a value has none.
Args parseArgs(int argc, char** argv, std::initializer_list<const char*> flags = {});

[[noreturn]] void usageError(const std::string& program, const std::string& message,
                             const char* usage);

// ---------------------------------------------------------------------------------------------
// Addresses: "tcp:HOST:PORT", "HOST:PORT" (TCP) or "unix:PATH".

struct Endpoint {
  bool isUnix = false;
  std::string host;  // TCP only
  int port = 0;      // TCP only
  std::string path;  // Unix only

  std::string kjAddress() const;  // what kj::Network::parseAddress() takes
  std::string display() const;    // "tcp:HOST:PORT" or "unix:PATH"
  const char* transport() const { return isUnix ? "unix" : "tcp"; }
};

// Throws a kj::Exception on a malformed address.
Endpoint parseEndpoint(const std::string& text);

// ---------------------------------------------------------------------------------------------
// Process conventions

// Installs a hard deadline: after `ms` milliseconds the process prints
// "<program>: TIMEOUT after <ms> ms" on stderr and exits with status 124, whatever it is doing
// (SIGALRM). 0 disables it. Also ignores SIGPIPE.
void installHardTimeout(const char* program, long long ms);

// Resolves when standard input reaches end-of-file (or fails). If stdin is not something the event
// loop can watch (a regular file, /dev/null), it is read synchronously first: for /dev/null the
// promise is therefore ready at once.
kj::Promise<void> whenStdinClosed(kj::AsyncIoContext& io);

// One line on stderr for an exception: "<type>: <description>".
std::string describe(const kj::Exception& e);
const char* typeName(kj::Exception::Type type);

// ---------------------------------------------------------------------------------------------
// Server side

class ServerConnection;

// Called once per connection, on the connection's first Bootstrap message, with the peer's VatId.
using BootstrapMaker =
    kj::Function<capnp::Capability::Client(ServerConnection& conn,
                                           capnp::rpc::twoparty::VatId::Reader peer)>;

class ServerConnection final: public capnp::BootstrapFactory<capnp::rpc::twoparty::VatId> {
  // One accepted connection: its stream, TwoPartyVatNetwork (side SERVER) and RpcSystem. The
  // bootstrap object is made once per connection (C++'s BootstrapFactory is asked on every
  // Bootstrap message; we cache its answer), so all bootstrap() calls of one client see the same
  // object and each connection has its own state.
public:
  // `maxFds` > 0: the stream must be a Unix socket; the connection then passes FDs with its
  // messages (TwoPartyVatNetwork over an AsyncCapabilityStream) and keeps at most `maxFds` of
  // those received with one message (C++ `maxFdsPerMessage`).
  ServerConnection(kj::Own<kj::AsyncIoStream>&& stream, BootstrapMaker& maker,
                   bool withTraceEncoder, uint maxFds = 0);

  capnp::RpcSystem<capnp::rpc::twoparty::VatId>& rpcSystem() { return rpc; }
  capnp::TwoPartyVatNetwork& vatNetwork() { return *network; }

  // With `withTraceEncoder`, the connection has a trace encoder from the start (C++ 0.9.2 hands a
  // connection its encoder when the connection is set up; one set later is never used by it). It
  // returns "trace for <description>" while enabled and "" while disabled (0.9.2 cannot send no
  // trace at all once an encoder is installed).
  void setTraceEnabled(bool enabled) { traceEnabled = enabled; }

  capnp::Capability::Client createFor(capnp::rpc::twoparty::VatId::Reader clientId) override;

private:
  kj::Own<kj::AsyncIoStream> stream;
  kj::Own<capnp::TwoPartyVatNetwork> network;
  capnp::RpcSystem<capnp::rpc::twoparty::VatId> rpc;
  BootstrapMaker& maker;
  bool traceEnabled = false;
  kj::Maybe<capnp::Capability::Client> bootstrap;
};

// The main() of a fixture server: parses --listen ADDRESS (required), --timeout-ms N (default
// `defaultTimeoutMs`; 0 = none), --ignore-stdin and --max-fds N (Unix sockets only: every
// connection passes FDs, keeping at most N per received message; see ServerConnection); listens; prints exactly one line
// "LISTENING <address>" (the real port for TCP) on stdout and flushes; serves each connection with
// its own bootstrap from `maker`; exits 0 when stdin closes (unless --ignore-stdin), 124 on the
// hard timeout, 1 when listening fails. Unix socket files are unlinked before listening (if they
// are sockets) and at exit. `setup` runs once with the event loop up, before listening.
// `withTraceEncoder`: see ServerConnection.
int runServerMain(int argc, char** argv, const char* usage, long long defaultTimeoutMs,
                  bool withTraceEncoder,
                  kj::Function<BootstrapMaker(kj::AsyncIoContext& io)> setup);

// ---------------------------------------------------------------------------------------------
// Client side

kj::Promise<kj::Own<kj::AsyncIoStream>> connectTo(kj::AsyncIoContext& io, const Endpoint& ep);

// The stream of a Unix socket connection as the AsyncCapabilityStream it is (what
// TwoPartyVatNetwork needs to pass FDs). Throws a kj::Exception if it is not one (e.g. TCP).
kj::Own<kj::AsyncCapabilityStream> asCapabilityStream(kj::Own<kj::AsyncIoStream>&& stream);

// Most FDs one SCM_RIGHTS message may carry on Linux (SCM_MAX_FD); the bound of --max-fds.
constexpr uint MAX_FDS_PER_MESSAGE = 253;

class CountingStream final: public kj::AsyncIoStream {
  // Forwards everything to `inner` and counts write() calls. TwoPartyVatNetwork (0.9.2) writes
  // each outgoing RPC message with exactly one write() call, so `writes` counts messages sent.
public:
  explicit CountingStream(kj::Own<kj::AsyncIoStream> inner): inner(kj::mv(inner)) {}

  uint64_t writes = 0;
  uint64_t bytesWritten = 0;
  kj::AsyncIoStream& getInner() { return *inner; }

  kj::Promise<size_t> read(void* buffer, size_t minBytes, size_t maxBytes) override;
  kj::Promise<size_t> tryRead(void* buffer, size_t minBytes, size_t maxBytes) override;
  kj::Maybe<uint64_t> tryGetLength() override;
  kj::Promise<uint64_t> pumpTo(kj::AsyncOutputStream& output, uint64_t amount) override;
  kj::Promise<void> write(const void* buffer, size_t size) override;
  kj::Promise<void> write(kj::ArrayPtr<const kj::ArrayPtr<const kj::byte>> pieces) override;
  kj::Maybe<kj::Promise<uint64_t>> tryPumpFrom(kj::AsyncInputStream& input,
                                               uint64_t amount) override;
  kj::Promise<void> whenWriteDisconnected() override;
  void shutdownWrite() override;
  void abortRead() override;
  void getsockopt(int level, int option, void* value, uint* length) override;
  void setsockopt(int level, int option, const void* value, uint length) override;
  void getsockname(struct sockaddr* addr, uint* length) override;
  void getpeername(struct sockaddr* addr, uint* length) override;

private:
  kj::Own<kj::AsyncIoStream> inner;
};

}  // namespace capnts_fixture
