# capnts's copy of the Cap'n Proto schema `/capnp/stream.capnp` (upstream: capnproto/capnproto,
# c++/src/capnp/stream.capnp, 1.x, MIT licensed). Wire-identical to upstream: the same file ID,
# type ID and names. The comments are capnts's own.

@0x86c366a91393f3f8;
# The result type behind `-> stream` methods. The schema language lets a method be declared
# `write @0 (data :Data) -> stream;`; the compiler records that as a method whose result struct is
# `StreamResult`, so a code generator that knows nothing of streaming still produces working
# (non-streaming) code.

$import "/capnp/c++.capnp".namespace("capnp");

struct StreamResult @0x995f9a3377c0b16e {
  # The (empty) result of a streaming method. A generator that recognises this result type gives
  # the method a streaming signature instead of returning a StreamResult:
  #
  # - Client side: the call returns a promise with no value. It is flow control, not an
  #   acknowledgement: the RPC system resolves it at once while few enough calls are in flight and
  #   holds it back when the window is full, so `await`ing each write paces the writer. A failed
  #   streaming call makes later calls on the same capability fail.
  # - Server side: while a streaming call runs, later calls to the same object (streaming or
  #   not) wait, so the implementation sees one streaming call at a time and in order.
  #
  # On the wire a streaming call is an ordinary Call whose Return carries an empty struct.
}
