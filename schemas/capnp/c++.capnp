# capnts's copy of the Cap'n Proto schema `/capnp/c++.capnp` (upstream: capnproto/capnproto,
# c++/src/capnp/c++.capnp, 1.x, MIT licensed). Wire-identical to upstream: the same file ID,
# annotation IDs, names and targets. The comments are capnts's own.

@0xbdf87d7bb8304e81;
# Annotations for the C++ code generator. `namespace` and `name` only shape generated C++ code;
# capnts's generator ignores them. `allowCancellation` is a runtime behaviour, and capnts honours
# it the same way C++ does (generated server method info carries it).

$namespace("capnp::annotations");

annotation namespace(file): Text;
# The C++ namespace (`::`-separated) that the generated C++ declarations of this file live in.

annotation name(field, enumerant, struct, enum, interface, method, param, group, union): Text;
# Renames a declaration in the generated C++ code, e.g. to avoid a C++ keyword. The schema name
# (and so the text format and reflection) is unchanged.

annotation allowCancellation(interface, method, file) :Void;
# Lets a Finish that arrives while a call is running cancel the server's implementation of the
# call. Without it, C++ delivers the call and lets it run to completion even when the caller has
# cancelled it (also for local calls); the caller still sees its promise rejected. On an interface
# it covers every method of the interface; on a file, every method declared in the file.
#
# Only opt in when the implementation is safe to abort at any point where it waits: a cancelled
# call stops there (in capnts, its context's AbortSignal fires). Added in Cap'n Proto 1.0, together with
# `Finish.requireEarlyCancellationWorkaround` in rpc.capnp.
