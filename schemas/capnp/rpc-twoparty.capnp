# capnts's copy of the Cap'n Proto schema `/capnp/rpc-twoparty.capnp` (upstream:
# capnproto/capnproto, c++/src/capnp/rpc-twoparty.capnp, 1.x, MIT licensed). Wire-identical to
# upstream: the same file ID, type IDs, names, fields, ordinals and annotations. The comments are
# capnts's own.

@0xa184c7885cdaf2a1;
# The network parameters of rpc.capnp for a network of exactly two vats: the two ends of one
# byte stream (a TCP or Unix socket, a pipe, a WebSocket, a MessagePort). This is the network
# capnts implements (`TwoPartyVatNetwork`), as C++'s rpc-twoparty.c++ does.
#
# Each end sees every capability it receives as hosted by the other end, even when the other end
# merely proxies it from elsewhere. Consequences:
#
# - No three-party handoff ever happens (level 3 does not arise): a vat that forwards a third
#   party's capability proxies it. `RecipientId` and `ThirdPartyCapId` are therefore empty.
# - There is no need to open connections on demand, so the network needs nothing but an
#   established stream. One side calls itself the client, the other the server (`Side`); the
#   protocol itself is symmetric, and either side may serve a bootstrap capability.
# - Joins (level 4) are simple: the stream separates the two vats' other networks, so all parts
#   of a join that crosses it cross it together (see `JoinKeyPart`).
#
# On a byte stream each rpc.capnp `Message` is written with the standard stream framing (segment
# table, then segments). The protocol defines no SturdyRef format for this network; an
# application that saves capabilities defines its own.

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("capnp::rpc::twoparty");

enum Side {
  # Which end of the connection: the only thing that tells the two vats apart.

  server @0;
  # The end that accepted the connection, or the supervisor of a sandboxed (confined) peer. In a
  # saved ref, the object lives on this end, and only this end can interpret the ref. A
  # supervisor that confines its peer should hand it substitute refs, never the raw bytes it
  # could leak.

  client @1;
  # The end that opened the connection, or the confined app. In a saved ref, the object lives on
  # this end, and the ref is opaque to the server. Few clients can save capabilities at all.
}

struct VatId {
  # Names one of the two vats by its side. The network's `connect(vatId)` returns the connection
  # for the other side's VatId and nothing (the vat itself) for its own.

  side @0 :Side;
}

struct ProvisionId {
  # Identifies a provided capability in an `Accept`. Three-party handoffs never happen here, so
  # only joins use it.

  joinId @0 :UInt32;
  # The `JoinKeyPart.joinId` of the join being completed.
}

struct RecipientId {}
# Unused: with two parties there is never a third recipient for `Provide`.

struct ThirdPartyCapId {}
# Unused: with two parties there is never a third-party host to pick a capability up from.

struct JoinKeyPart {
  # One part of a `Join` on a two-party connection.
  #
  # A two-party connection splits the world in two, with no other path between the halves, so
  # if any part of a join crosses it, every part does. The vat forwarding a join off another
  # network therefore answers each part itself as it arrives (so the joiner never hangs if some
  # parts went elsewhere), waits for all of them, and, when they do not all address one of its
  # own objects, starts one new join across the connection for the capabilities they address. The
  # receiving vat likewise waits for every part and then joins the targets locally. A vat that is
  # on no other network may reject every incoming join.

  joinId @0 :UInt32;
  # Chosen by the sender to tie the parts of one join together. It may be reused once every
  # `Join` of the join has been finished.

  partCount @1 :UInt16;
  # How many capabilities are being joined (the number of parts).

  partNum @2 :UInt16;
  # The index of this part, in [0, partCount).
}

struct JoinResult {
  # The result of each `Join` part.

  joinId @0 :UInt32;
  # The join this answers, as in `JoinKeyPart.joinId`.

  succeeded @1 :Bool;
  # Whether the join succeeded: whether all parts addressed the same object. Every result of one
  # join carries the same value, as the receiver answers only after it has seen all parts.

  cap @2 :Capability;
  # The joined capability, set in exactly one of the results (null in the others).
}
