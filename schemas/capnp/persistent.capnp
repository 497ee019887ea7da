# capnts's copy of the Cap'n Proto schema `/capnp/persistent.capnp` (upstream: capnproto/capnproto,
# c++/src/capnp/persistent.capnp, 1.x, MIT licensed). Wire-identical to upstream: the same file
# ID, type IDs, names, fields and ordinals. The comments are capnts's own.

@0xb8630836983feed7;
# Level 2 of the RPC protocol (persistent capabilities) as an ordinary interface. The protocol
# itself has no save/restore messages (rpc.capnp's `obsoleteSave`/`obsoleteDelete` are unused):
# saving is a method call, and restoring is whatever the application's realm defines, typically a
# method on a restorer object obtained through `Bootstrap`.

$import "/capnp/c++.capnp".namespace("capnp");

interface Persistent@0xc8cb212fcd9f5691(SturdyRef, Owner) {
  # A capability that can be saved as a `SturdyRef`: a token that can be stored (on disk, in a
  # database) and later turned back into a live capability over a new connection, after the
  # connection that carried the original is gone.
  #
  # Both type parameters belong to the "realm": the set of vats that agree on one format for
  # SturdyRefs and owners. The schema leaves them open; a realm binds them. A vat that talks to
  # several realms translates refs as they cross.
  #
  # Being saveable is usually a property of a particular object rather than of its interface, so
  # interfaces normally do not extend Persistent; a client casts a capability to Persistent when
  # it wants to save it (the call fails with `unimplemented` when the object cannot be saved). An
  # interface whose objects are always persistent says so with `$persistent` instead of extending
  # this (its realm's parameters are not the interface's business).
  #
  # Sealing: a SturdyRef may be bound to an owner, so that whoever steals the token (a leaked
  # database, say) still cannot restore it without proving, by means the realm defines, that they
  # are that owner. An owner is a coarse identity (an organisation, a machine's operator), best
  # an identifier mapped to keys elsewhere, so that a compromised key can be replaced without
  # invalidating every stored ref.

  save @0 SaveParams -> SaveResults;
  # Produce a SturdyRef for this capability. Objects that cannot be saved reject the call.

  struct SaveParams {
    sealFor @0 :Owner;
    # Who may restore the ref. Whether null (anyone may) is accepted is up to the realm.
  }
  struct SaveResults {
    sturdyRef @0 :SturdyRef;
    # The token; restoring it yields a capability to the same object.
  }
}

annotation persistent(interface, field) :Void;
# Marks an interface whose objects are all persistent (saveable through `Persistent`), or a
# capability field that always holds a persistent capability. Absence means nothing: objects of
# an unmarked type may still be persistent.
