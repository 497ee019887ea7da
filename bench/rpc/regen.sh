#!/bin/sh
# Regenerates bench/rpc/gen/bench.capnp.ts from bench/schema/bench.capnp with capnts's code
# generator (bin/capnpc-capnts, from source), importing the runtime by relative path
# (CAPNTS_RUNTIME), so no build of dist/ is needed. Needs the `capnp` tool on PATH.
# Run from anywhere: sh bench/rpc/regen.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"
mkdir -p "$here/gen"
CAPNTS_FROM_SOURCE=1 CAPNTS_RUNTIME="$root/src" capnp compile -o"$root/bin/capnpc-capnts:bench/rpc/gen" \
  --src-prefix=bench/schema bench/schema/bench.capnp
