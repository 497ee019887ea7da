# capnts RPC benchmark schema: the workloads of the RPC benchmarks (issue 7), the same for every
# implementation measured (C++ client and server in bench/cpp/, TypeScript ones in bench/).

@0x843166c19f044f37;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("capnts::bench");

interface Echo {
  echo @0 (data :Data) -> (data :Data);
  # Returns its argument. Sequential round trips (latency) and many outstanding (throughput).

  next @1 (n :UInt32) -> (echo :Echo, n :UInt32);
  # Returns this same object and n + 1. A chain e.next().echo.next().echo.next() can be sent
  # pipelined (one round trip) or awaited call by call (three round trips).

  write @2 (data :Data) -> stream;
  # Streaming sink: counts calls and bytes. Flow-controlled on the client side.

  finish @3 () -> (bytes :UInt64, writes :UInt64);
  # Returns what write() has counted since the previous finish() and resets the counters.
  # Being an ordinary call on the same object, it returns after every earlier write() completed.
}
