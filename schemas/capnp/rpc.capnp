# capnts's copy of the Cap'n Proto schema `/capnp/rpc.capnp` (upstream: capnproto/capnproto,
# c++/src/capnp/rpc.capnp, 1.x, MIT licensed). Wire-identical to upstream: the same file ID, type
# IDs, names, fields, ordinals, defaults and annotations. The comments are capnts's own; where they
# describe behaviour, it is the behaviour of the C++ implementation (rpc.c++), which capnts follows.

@0xb312981b2552a250;
# The Cap'n Proto RPC protocol: the messages two vats exchange over one connection.
#
# A vat is a set of objects that share an event loop (usually one process). Vats talk over
# bilateral connections, and each end may hold capabilities (references to objects) hosted by the
# other and call methods on them; "client" and "server" are roles of the application, not of the
# protocol. Comments below say "sender" and "receiver" for the two ends of the message or field
# being described.
#
# A call whose result contains a capability can be used before it returns: the caller sends
# further calls addressed to "the capability at this path in the result of question N" (promise
# pipelining), saving a round trip per step.
#
# Ordering. Calls made on one reference are delivered in the order they were made (E-order).
# Messages on a connection are processed in order; where a reference changes path (a promise
# resolves to an object somewhere else) the protocol restores order with embargoes (see
# `Disembargo`).
#
# Levels. An implementation supports a subset:
#   level 0: calls on the bootstrap capability only, no object references;
#   level 1: object references, promise pipelining, promise resolution, embargoes, tail calls
#            (three or more parties only through proxies);
#   level 2: persistent capabilities (SturdyRefs; see persistent.capnp);
#   level 3: three-party handoff (`Provide`/`Accept`), so that a third vat connects directly;
#   level 4: joins (checking that capabilities reached through different paths are the same).
# capnts, like C++, implements level 1 on the two-party network (rpc-twoparty.capnp), where level
# 3 cannot arise; it answers `provide`, `accept`, `join`, `obsoleteSave` and `obsoleteDelete`
# with `unimplemented`.
#
# Security of a connection (authenticating the peer, encryption) belongs to the vat network, not
# to this protocol. Losing a connection loses all its state: outstanding questions fail, imported
# capabilities break, exports and answers are released. Only SturdyRefs (level 2) survive.

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("capnp::rpc");

# ========================================================================================
# Connection state: the four tables
#
# Each end of a connection keeps four tables, indexed by 32-bit IDs that mean something only on
# that connection (a new connection has no IDs):
#
#   questions  calls (and bootstraps) this end has sent and not yet finished;
#   answers    the peer's questions, as seen by this end;
#   exports    capabilities this end has sent to the peer;
#   imports    the peer's exports, as seen by this end.
#
# One end's questions are the other end's answers, and one end's exports the other's imports. The
# end that creates an entry chooses its ID: the caller for questions, the exporter for exports.
# Implementations reuse the lowest free ID (as Unix does for file descriptors): small numbers
# encode smaller. An ID is free for reuse only when both ends have stopped using it, which the
# messages below define for each kind.
#
# An export is either a settled capability (an object that lives in the exporter's vat) or a
# promise that the exporter will later resolve to another capability with `Resolve`. The
# resolution does not take over the promise's ID: it may already be exported under another ID, or
# live in another vat.

using QuestionId = UInt32;
# **(level 0)** A question, numbered by the caller: an entry in the sender's question table (the
# receiver's answer table). The caller may use it in its messages until it sends `Finish`, the
# callee until it sends `Return`; the caller may reuse it once both happened.

using AnswerId = QuestionId;
# **(level 0)** A question of the peer, seen from the side answering it: an entry in the sender's
# answer table. Same numbers as QuestionId; the field type names the sender's point of view.

using ExportId = UInt32;
# **(level 1)** An entry in the sender's export table (the receiver's import table), numbered by
# the exporter. Exporting a capability that is already exported reuses its ID. Every time the ID
# is sent in a `CapDescriptor` (`senderHosted`, `senderPromise`) the export's reference count goes
# up by one; the importer lowers it with `Release`, usually once, with the total, when it drops
# its last reference. Both ends count, because a new reference may be in flight while a Release
# travels the other way. The entry (and its ID) goes away when the count reaches zero.

using ImportId = ExportId;
# **(level 1)** An export of the peer, seen from the importing side: an entry in the sender's
# import table. Same numbers as ExportId. The importer may use it until its `Release`s have taken
# the count to zero.

# ========================================================================================
# Messages

struct Message {
  # One message on a connection. A connection carries a stream of these in each direction.

  union {
    unimplemented @0 :Message;
    # A message the sender received and does not implement, sent back unchanged. For an echoed
    # `Resolve`, the original sender releases what the promise resolved to (the receiver never
    # imported it). For an echoed message that asked a question, the question can be treated as
    # failed. capnts, like C++, handles an echoed Resolve that way and treats any other echo as a
    # fatal protocol error (it aborts the connection).

    abort @1 :Exception;
    # The sender is closing the connection because of an unrecoverable error (typically a
    # protocol violation by the receiver). It sends nothing more and closes the stream soon
    # after. The receiver fails the connection with this exception: outstanding questions reject
    # with it and imported capabilities break.

    # Level 0 -----------------------------------------------------------------------

    bootstrap @8 :Bootstrap;  # Ask for the peer's bootstrap capability.
    call @2 :Call;            # Call a method.
    return @3 :Return;        # Answer a question (Call or Bootstrap).
    finish @4 :Finish;        # Done with a question: release its answer, or cancel it.

    # Level 1 -----------------------------------------------------------------------

    resolve @5 :Resolve;      # An exported promise resolved.
    release @6 :Release;      # Drop references to an imported capability.
    disembargo @13 :Disembargo;  # Embargo handshake that keeps E-order across a resolution.

    # Level 2 -----------------------------------------------------------------------

    obsoleteSave @7 :AnyPointer;
    # Unused. An early design for saving a capability as a SturdyRef; never implemented,
    # replaced by the `Persistent` interface (persistent.capnp).

    obsoleteDelete @9 :AnyPointer;
    # Unused. An early design for deleting a SturdyRef; never implemented.

    # Level 3 -----------------------------------------------------------------------

    provide @10 :Provide;     # Make a capability available to a third vat.
    accept @11 :Accept;       # Pick up a capability provided by a third vat.

    # Level 4 -----------------------------------------------------------------------

    join @12 :Join;           # One part of a join of capabilities reached by different paths.
  }
}

# Level 0 messages -----------------------------------------------------------------------

struct Bootstrap {
  # **(level 0)**
  #
  # Asks for the receiver's bootstrap capability: the object a vat offers to anyone who connects
  # (in capnts, what `TwoPartyServer`/`RpcSystem` was given as bootstrap). The answer is a
  # `Return` whose `results.content` is a capability pointer (index 0), not a struct, with a
  # one-entry cap table; the question still needs a `Finish`. A vat without a bootstrap
  # capability returns an exception. Calls may be pipelined on the answer at once
  # (`PromisedAnswer` with an empty transform), which level 0 must support.
  #
  # Applications should offer one bootstrap interface and reach everything else through its
  # methods; in a fully capability-based network, connections would be made through
  # introductions (level 3) and bootstrap would not be needed.

  questionId @0 :QuestionId;
  # The question this request opens; the bootstrap capability comes back in its `Return`.

  deprecatedObjectId @1 :AnyPointer;
  # Deprecated since 0.5; leave null. Before 0.5 this message was `Restore` and could ask for one
  # of several named exports of a vat (a Text name, or a SturdyRef object ID). Null asks for the
  # bootstrap capability. C++ (and capnts) reject a non-null value unless the application
  # installed a restorer for it.
}

struct Call {
  # **(level 0)**
  #
  # Calls a method on a capability of the receiver. Opens a question.

  questionId @0 :QuestionId;
  # Chosen by the caller, unique among the caller's open questions (the peer's questions are
  # another ID space). The answer arrives in a `Return` with this `answerId`; the caller ends the
  # question with `Finish`.

  target @1 :MessageTarget;
  # The capability called: an import, or a capability inside the answer of a question.

  interfaceId @2 :UInt64;
  # Type ID of the interface that declares the method (an object may implement many interfaces,
  # through inheritance). An object that does not implement it answers with an `unimplemented`
  # exception.

  methodId @3 :UInt16;
  # The method's ordinal within that interface.

  allowThirdPartyTailCall @8 :Bool = false;
  # **(level 3)** The caller accepts a `Return` with `acceptFromThirdParty`. Without it, a callee
  # that tail-calls a third vat has to proxy the results.

  noPromisePipelining @9 :Bool = false;
  # (Added after 0.9.2.) The caller will not pipeline calls on this call's results, so the callee
  # need not keep them for pipelining after returning. A pipelined call made anyway may fail.
  # Callers set it when the results can contain no capability.

  onlyPromisePipeline @10 :Bool = false;
  # (Added after 0.9.2.) The caller wants the results only to pipeline on them, not the results
  # themselves: the callee may skip the `Return` (it may also send one). The caller releases the
  # question when it sends `Finish`. Since a Return may still arrive, reusing the question ID needs
  # care: C++ takes such IDs from a separate range (top bit set), cycling through it, and stops
  # setting the hint after seeing a peer return anyway. Ignored when `sendResultsTo` is not
  # `caller`.

  params @4 :Payload;
  # The parameters: `params.content` is the method's parameter struct.

  sendResultsTo :union {
    # Where the results go.

    caller @5 :Void;
    # To the caller, in a `Return` (normal case).

    yourself @6 :Void;
    # **(level 1)** Keep the results; the caller will claim them. The callee still sends a
    # `Return`, with `resultsSentElsewhere`. The caller (the sender of this Call) uses this when
    # it forwards a call to the receiver on behalf of the receiver itself: it answers the
    # receiver's original question with `Return.takeFromOtherQuestion` = this question, so the
    # results never travel back and forth.
    #
    # Typical case (a tail call across a resolved promise): vat A calls foo() on a promise in vat
    # B and pipelines bar() on its result. foo()'s result turns out to be an object in vat A. B
    # forwards bar() to A as a new Call with `yourself`, and at once answers A's bar() with
    # `takeFromOtherQuestion` naming that Call. A delivers the forwarded call locally, answers it
    # with `resultsSentElsewhere`, and uses its results for its own bar(). A then finishes bar(),
    # and B finishes the forwarded call.

    thirdParty @7 :RecipientId;
    # **(level 3)** Send the results to a third vat, which will pick them up with `Accept`; the
    # caller gets a `Return` with `acceptFromThirdParty`, the callee's Return says
    # `resultsSentElsewhere`.
  }
}

struct Return {
  # **(level 0)**
  #
  # The callee's answer to a question (`Call`, `Bootstrap`, and at level 3 `Provide`, `Accept`,
  # `Join`). Every question gets exactly one Return, unless the Call set `onlyPromisePipeline`.
  # After the Return the callee no longer uses the ID; the answer stays available for pipelined
  # calls until the caller's `Finish`.

  answerId @0 :AnswerId;
  # The `questionId` of the question answered.

  releaseParamCaps @1 :Bool = true;
  # The callee releases the capabilities of the call's params: the caller treats each
  # CapDescriptor it sent in `params.capTable` as released once. When false, the callee imported
  # them like any others and sends `Release` itself. The default suits a level 0 callee, which
  # keeps nothing; C++ and capnts send false.

  noFinishNeeded @8 :Bool = false;
  # (Added after 0.9.2.) The callee already forgot the answer: the caller need not send `Finish`
  # (one sent anyway is ignored). Only possible when the results carry no capabilities, since Finish
  # is what releases them from pipelining.

  union {
    results @2 :Payload;
    # Success. For a Call, `results.content` is the method's result struct. For a Bootstrap (or
    # Accept), it is the capability itself: a capability pointer to cap table entry 0.

    exception @3 :Exception;
    # The call failed.

    canceled @4 :Void;
    # The call was cancelled because the caller sent `Finish` before it completed.

    resultsSentElsewhere @5 :Void;
    # Answer to a Call whose `sendResultsTo` was not `caller`: the results went where asked.
    # Carries no information (C++ sends it when the call completes).

    takeFromOtherQuestion @6 :QuestionId;
    # The results are those of the sender's own question with this ID: a Call it sent earlier
    # with `sendResultsTo.yourself`. A question may be named this way only once.

    acceptFromThirdParty @7 :ThirdPartyCapId;
    # **(level 3)** The results are waiting in a third vat: send it an `Accept` with this to get
    # them. Only if the Call set `allowThirdPartyTailCall`.
  }
}

struct Finish {
  # **(level 0)**
  #
  # The caller is done with a question. From now on the caller no longer uses the ID (no more
  # pipelined calls on its answer), and the callee may drop the answer. If the call has not
  # returned yet, this asks the callee to cancel it: it may stop the call and answer `canceled`,
  # or let it run to completion and return normally (C++ stops it only where the method allows
  # cancellation, see c++.capnp `allowCancellation`). A Finish for an ID the callee no longer
  # knows is ignored (it may have sent `noFinishNeeded`, or its Return crossed the Finish).

  questionId @0 :QuestionId;
  # The question being finished.

  releaseResultCaps @1 :Bool = true;
  # The capabilities in the results are released along with the answer: the caller will send no
  # `Release` for them. When false the caller has imported them and releases them itself. C++
  # and capnts set it true only when finishing before the Return arrived (cancelling: the
  # results will be ignored), false otherwise.

  requireEarlyCancellationWorkaround @2 :Bool = true;
  # (Added in 1.0.) When the Finish arrives before the call has been delivered to the object (e.g.
  # still queued behind a promise), the callee must deliver it first and cancel it only afterwards,
  # so the method can still refuse cancellation. Before 1.0, C++ behaved that way by accident and
  # programs came to rely on it; 1.0 and later (and capnts) send false, and honour true from older
  # peers, which never set the field.
}

# Level 1 messages -----------------------------------------------------------------------

struct Resolve {
  # **(level 1)**
  #
  # An exported promise has settled: to a capability (possibly another promise) or to an error.
  # Sent once per promise export, whatever the number of times its ID was sent.
  #
  # Promises can reach a level 0 peer inside params or results; it answers the Resolve with
  # `unimplemented`, and the sender then releases what the promise resolved to.
  #
  # After a Resolve, calls made on the promise before it, and calls made on the resolution after
  # it, may travel different paths; see `Disembargo` for how order is kept.

  promiseId @0 :ExportId;
  # The promise that settled. Unlike other ExportIds sent by the exporter, this one does not add a
  # reference; the importer normally releases the promise soon after. The exporter does not send
  # this ID again until it has been released and reused for a new export, which then is a new
  # promise.
  #
  # The importer may have released the promise while the Resolve was in flight; a Resolve for an
  # unknown ID is answered by releasing the capability it carries.

  union {
    cap @1 :CapDescriptor;
    # The promise's resolution. From now on the exporter forwards everything sent to the promise to
    # exactly this capability, even if that capability is itself a promise that resolves later
    # (so a Disembargo sent towards the promise comes back through this capability, not its later
    # resolution). See "The Tribble 4-way race" under `Disembargo`.

    exception @2 :Exception;
    # The promise broke: calls on it fail with this exception.
  }
}

struct Release {
  # **(level 1)**
  #
  # Drops references to an import. The receiver lowers the export's reference count and frees the
  # export (and its ID) when it reaches zero. Releasing more references than the export has is a
  # protocol error.

  id @0 :ImportId;
  # The export (the receiver's) to release.

  referenceCount @1 :UInt32;
  # How many references to drop: the number of times the importer received the ID (in
  # CapDescriptors) and has not released yet, when it drops its last reference.
}

struct Disembargo {
  # **(level 1)**
  #
  # Keeps E-order when a promise resolves to an object on a shorter path.
  #
  # The problem: Alice in vat A holds promise P, exported by vat B, and calls foo() on it; the
  # Call goes to B. P then resolves to Carol, who lives in vat A. Alice now calls bar(). If A
  # delivered bar() to Carol directly, bar() could overtake foo(), which is still on its way
  # through B and back. So A embargoes the resolved reference: it queues bar() and every later
  # call, and sends a Disembargo (`senderLoopback`) along the old path, to P in B. B sends it back
  # (`receiverLoopback`) after everything it had queued for P, i.e. after it has forwarded foo().
  # When the Disembargo returns, foo() has arrived in A; A lifts the embargo and delivers the
  # queued calls.
  #
  # An embargo is needed whenever a reference whose calls went to the peer (an import promise, or a
  # capability in a question's not-yet-returned answer) resolves to a capability that does not live
  # in the peer (on a two-party connection: one hosted by the side holding the reference), and calls
  # were made on the old path. A resolution to something in the peer needs none (the path does not
  # change). Resolutions arrive both in `Resolve` messages and in `Return`s (for capabilities in
  # answers); both may need embargoes. (At level 3, with Carol in a third vat, the `Accept` is
  # embargoed instead: see `Accept.embargo`.)
  #
  # The Tribble 4-way race. An embargo shortens a path by one hop and cannot shorten two at once.
  # If P resolved to R, itself a promise that meanwhile resolved to Bob, a Disembargo along P's
  # path would not account for calls queued in R. So the rule: once an exporter has sent a
  # Resolve of P to R, everything addressed to P is forwarded to R, and never directly to R's own
  # resolution. The race needs only that each resolution crosses a connection, so it concerns
  # level 1 implementations with two vats too.

  target @0 :MessageTarget;
  # For `senderLoopback` and `accept`: the promise whose old path the Disembargo follows. For
  # `receiverLoopback`: what that promise resolved to (a capability hosted by the receiver). For
  # `provide`: the provided capability.

  using EmbargoId = UInt32;
  # Chosen by the side that embargoes, to find its embargo when the Disembargo comes back.

  context :union {
    senderLoopback @1 :EmbargoId;
    # Sent by the side that embargoes, towards a promise that resolved to one of its own
    # capabilities. The receiver waits until every call it had queued for the target has been
    # sent on, then returns the Disembargo with `receiverLoopback` = the same ID, addressed to
    # the resolution. It is a protocol error if the target does not resolve to a capability
    # hosted by the sender (the receiver then aborts the connection).

    receiverLoopback @2 :EmbargoId;
    # The reflection of a `senderLoopback` this receiver sent: the embargo with this ID can be
    # lifted.

    accept @3 :Void;
    # **(level 3)** Towards a promise that resolved to a capability in a third vat, which the
    # sender is picking up with an embargoed `Accept`. The receiver, which sent the `Provide` for
    # it, forwards the Disembargo to the third vat with `provide` set.

    provide @4 :QuestionId;
    # **(level 3)** Sent to the vat hosting a provided capability: the embargo on the `Accept`
    # matching the `Provide` with this question ID (of the sender) can be lifted.
  }
}

# Level 2 messages -----------------------------------------------------------------------

# None: persistence is the `Persistent` interface of persistent.capnp.

# Level 3 messages -----------------------------------------------------------------------

struct Provide {
  # **(level 3)**
  #
  # Offers one of the receiver's capabilities to a third vat, which will connect to the receiver
  # directly and pick it up with `Accept`, so that it does not have to call through the sender.
  # (CapTP has these as methods of a per-vat object; here they are messages.)

  questionId @0 :QuestionId;
  # Stays open until the third vat has picked the capability up; then it returns. The sender
  # `Finish`es it as any question, and finishing early cancels the offer.

  target @1 :MessageTarget;
  # The capability offered.

  recipient @2 :RecipientId;
  # Who may pick it up.
}

struct Accept {
  # **(level 3)**
  #
  # Picks up a capability that a third vat offered to the sender with `Provide`, or the results
  # of a call redirected by `Return.acceptFromThirdParty`. Opens a question answered with the
  # capability (or the results).

  questionId @0 :QuestionId;
  # The question this opens.

  provision @1 :ProvisionId;
  # What to pick up.

  embargo @2 :Bool;
  # Hold the `Return` and any calls pipelined on it until a `Disembargo` with `context.provide`
  # (sent by the providing vat) names the matching `Provide`. The sender sets it when it made calls
  # on the promise that resolved to this capability, which may still be on their way through the
  # providing vat; it also sends a `Disembargo` with `context.accept` along the promise's old path.
  # The providing vat forwards that Disembargo behind the old calls, so they arrive first.
}

# Level 4 messages -----------------------------------------------------------------------

struct Join {
  # **(level 4)**
  #
  # One part of a join: given capabilities expected to designate the same object through
  # different (transparent) proxies, find that object and connect to it directly. The joiner
  # sends one Join per capability, each with a part of a key. Proxies forward the Join; the
  # object's host collects all parts, answers each with a `JoinResult`, and uses the combined key
  # to accept a direct, authenticated connection from the joiner, which no proxy can fake (the
  # proxies saw one part each). Results that disagree (different hosts) mean the capabilities are
  # not the same object, and the join fails before any connection is made.

  questionId @0 :QuestionId;
  # Answered with a `Return` whose results are a `JoinResult` (possibly translated by the network
  # on the way back). The ID covers one part on one hop. The joiner must not finish it before it
  # has connected to the host (or given up), and a vat relaying the Join must not finish its own
  # question before the Return it relayed is finished: that way the host learns when a join is
  # abandoned.

  target @1 :MessageTarget;
  # The capability this part is about.

  keyPart @2 :JoinKeyPart;
  # This part of the join key.
}

# ========================================================================================
# Structures used in messages

struct MessageTarget {
  # A capability addressed by a message (`Call`, `Disembargo`, ...).

  union {
    importedCap @0 :ImportId;
    # A capability (or promise) the sender imported from the receiver.

    promisedAnswer @1 :PromisedAnswer;
    # A capability in the (future) answer of one of the sender's questions: promise pipelining.
    # Level 0 supports this only on the answer of a `Bootstrap`.
  }
}

struct Payload {
  # Parameters or results: a message body with capabilities in it.

  content @0 :AnyPointer;
  # The body (a struct for calls; a capability pointer for Bootstrap answers). Its capability
  # pointers are indexes into `capTable`.

  capTable @1 :List(CapDescriptor);
  # What each capability pointer in `content` designates.
}

struct CapDescriptor {
  # **(level 1)**
  #
  # How a capability in a payload is sent: which table entry on which side designates it.
  # Applications never see these; the RPC system turns them into capability clients. Sending an
  # ExportId here adds a reference to it (see `ExportId`).
  #
  # A broken capability (an error) cannot be sent as such: the sender exports a new promise
  # (`senderPromise`) and follows the message with a `Resolve` to the exception.

  union {
    none @0 :Void;
    # An empty slot: no capability pointer in the content uses it (e.g. the application removed a
    # capability after inserting it). Null capability pointers do not need one.

    senderHosted @1 :ExportId;
    # A settled capability in the sender's export table, newly exported or not.

    senderPromise @2 :ExportId;
    # A promise in the sender's export table. The sender will send one `Resolve` for it (one in
    # all, however many times the ID was sent), unless it is released first, in which case the
    # sender may skip it.

    receiverHosted @3 :ImportId;
    # A capability the receiver exported: the receiver finds it in its own export table.

    receiverAnswer @4 :PromisedAnswer;
    # A capability in the answer of one of the sender's questions to the receiver (the answer
    # may not be ready yet).

    thirdPartyHosted @5 :ThirdPartyCapDescriptor;
    # **(level 3)** A capability in a third vat. A receiver that does not do level 3 uses the
    # `vineId` in it as if it were `senderHosted`.
  }

  attachedFd @6 :UInt8 = 0xff;
  # (0.8+) Index of a file descriptor, among those that came with this message (Unix sockets:
  # an SCM_RIGHTS control message sent with the message's bytes), that belongs to this
  # capability. An index out of range means no FD: the default 0xff always is (at most 253 FDs
  # fit in one message on Linux), and the receiver may have accepted fewer FDs than were sent, or
  # none. Senders need not know whether the receiver accepts FDs: the kernel closes FDs nobody
  # receives.
  #
  # What an FD means is up to the application (e.g. an open file handed to a sandboxed process
  # as a faster path than an RPC file interface, which should remain available as a fallback).
  # Usually set with `senderHosted`; with `thirdPartyHosted` the sender forwards an FD it got from
  # the third vat, and the receiver keeps the first FD it gets for a capability. Each FD of a
  # message belongs to at most one CapDescriptor. Receivers limit how many FDs a message may
  # carry (C++ and capnts: `maxFdsPerMessage` of the two-party network).
}

struct PromisedAnswer {
  # **(mostly level 1)**
  #
  # A capability inside the answer of a question: the answer's content, followed along a path of
  # pointer fields. Used to call it before the answer arrives (pipelining) or to pass it in
  # another call. At level 0 only the answer of a `Bootstrap` is addressed, with an empty path.

  questionId @0 :QuestionId;
  # The question (of the sender; the receiver's answer) whose answer holds the capability.

  transform @1 :List(Op);
  # The path from the answer's content to the capability. Empty: the content itself is the
  # capability (Bootstrap).

  struct Op {
    # One step of the path.

    union {
      noop @0 :Void;
      # Does nothing (exists so that `Op` is a union with room for more operations).

      getPointerField @1 :UInt16;
      # Follow pointer number N of the current struct. N is an index into the pointer section,
      # not a field ordinal, so the receiver needs no schema to follow it.
    }
  }
}

struct ThirdPartyCapDescriptor {
  # **(level 3)**
  #
  # A capability in a third vat, which the receiver should pick up from there directly.

  id @0 :ThirdPartyCapId;
  # Which vat, and which capability in it.

  vineId @1 :ExportId;
  # An export of the sender that proxies the capability (a "vine", in CapTP terms). A receiver
  # without level 3 calls it instead; a receiver with level 3 keeps it until it has picked the
  # capability up from the third vat, so that the sender keeps the offer open meanwhile. The
  # sender closes its `Provide` to the third vat as soon as a call or release reaches the vine.
}

struct Exception {
  # **(level 0)**
  #
  # Why an operation (a call, a question, a connection) failed. Exceptions report faults (bugs,
  # bad input, configuration, network trouble, lack of resources, version skew); results a client
  # is expected to handle belong in the method's results, not in exceptions. capnts surfaces them
  # as `RpcError`, with `type` below.

  reason @0 :Text;
  # A human-readable description.

  type @3 :Type;
  # What the caller can do about it (not what went wrong).

  enum Type {
    failed @0;
    # Retrying unchanged would fail again. Log it or show it.

    overloaded @1;
    # Temporary lack of resources (CPU, memory, disk, a timeout). Retry later, with backoff, not
    # at once.

    disconnected @2;
    # A capability needed for the operation was lost: its connection broke, or it was revoked.
    # Drop the affected capabilities, obtain them again (reconnect, restore SturdyRefs, repeat
    # the calls that made them) and retry. Another `disconnected` while doing so should be
    # treated as `overloaded`.

    unimplemented @3;
    # The object does not implement the method (or interface). Try an alternative if there is
    # one; otherwise treat as `failed`.
  }

  obsoleteIsCallersFault @1 :Bool;
  # Obsolete; ignored.

  obsoleteDurability @2 :UInt16;
  # Obsolete; replaced by `type`.

  trace @4 :Text;
  # (0.8+) A stack trace from the remote side, in no particular format. Off unless the
  # application enables it (in capnts and C++, `setTraceEncoder`).

  details @5 :List(Detail);
  # (1.x) Application-defined extra information, each piece tagged with its own 64-bit ID (make
  # one with `capnp id`); an exception rarely carries more than one or two. Used, for example,
  # to carry an exception of another system (a JavaScript error, serialized) through Cap'n
  # Proto. A peer that does not know the field ignores it.

  struct Detail {
    detailId @0 :UInt64;
    # Which kind of detail this is.

    data @1 :Data;
    # The detail itself, in the format its ID stands for.
  }
}

# ========================================================================================
# Network-specific parameters
#
# Some things depend on the vat network: how vats are named and authenticated, how a third vat is
# introduced, how a join key is built. The protocol leaves them as the AnyPointer aliases below;
# each network fixes their types, and all vats of one network must agree on them (gateways
# translate between networks). rpc-twoparty.capnp defines them for the two-party network, where
# most are empty structs since three-party interactions never occur.

using SturdyRef = AnyPointer;
# **(level 2)** A saved capability (see persistent.capnp), restorable on a later connection.
# Usually it says how to reach the hosting vat, how to authenticate it, and an unguessable ID of
# the object there; some networks make it opaque and hand it to a restorer service.

using ProvisionId = AnyPointer;
# **(level 3)** In an `Accept`: which provided capability is picked up. E.g. the provider vat's
# key fingerprint and the nonce it was given in the matching `RecipientId`.

using RecipientId = AnyPointer;
# **(level 3)** In a `Provide`: who may pick the capability up. E.g. the recipient's key
# fingerprint and a nonce; on one machine, an FD (one end of a new socketpair) attached with
# SCM_RIGHTS, whose other end went to the recipient in the `ThirdPartyCapId`.

using ThirdPartyCapId = AnyPointer;
# **(level 3)** How to reach a third vat and which provided capability to pick up there: e.g. its
# key fingerprint, connection hints, and the nonce of the `Provide`.

using JoinKeyPart = AnyPointer;
# **(level 4)** One part of a join key, sent along one path. The host combines all parts (e.g.
# XORs fixed-length values) into a secret used to authenticate the joiner's direct connection;
# each part should also say how many parts there are and carry a hash of the secret to match them
# up. Where each pair of vats has at most one connection and nothing is proxied, a join reduces to
# comparing connection and ID.

using JoinResult = AnyPointer;
# **(level 4)** The answer to a `Join`: what the joiner needs to connect to the host (e.g. its
# address; the key is already shared), plus something that exposes parts that reached different
# objects (e.g. a sequence number per host: two results numbered 0 cannot come from one object).

# ========================================================================================
# The vat network, as an implementation sees it
#
# An RPC system runs over a vat network that connects to vats by VatId, accepts connections, and
# sends and receives `Message`s on each connection, in order. At level 3 and 4 it also introduces
# vats to each other and forms join connections. These are interfaces of the implementation, not
# schema types: in capnts, `VatNetwork` and its two-party implementation `TwoPartyVatNetwork`
# (src/rpc), as in C++.
