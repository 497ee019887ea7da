#!/bin/sh
# Regenerates the contenders' generated code in bench/serialization/gen/ from the schemas:
#   gen/capnp-es/*.js  capnp-es's own compiler (npm capnp-es, needs the `capnp` tool on PATH)
#   gen/pb/*_pb.ts     protoc-gen-es through buf (fetched by npx at the pinned version)
# capnts's accessors are hand-written for now (bench/serialization/capnts/); when
# bin/capnpc-capnts works on these schemas, generate them here into gen/capnts/ instead:
#   capnp compile -o../../bin/capnpc-capnts:gen/capnts --src-prefix=../schema ../schema/*.capnp
# Run from anywhere: sh bench/serialization/regen.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"
rm -rf "$here/gen/capnp-es" "$here/gen/pb"
mkdir -p "$here/gen/capnp-es"
# JavaScript, not TypeScript: see contenders/capnp-es.js for why no .ts file may import capnp-es.
npx capnp-es bench/schema/carsales.capnp bench/schema/catrank.capnp bench/schema/eval.capnp \
  --src-prefix=bench/schema -ojs:bench/serialization/gen/capnp-es
cd "$here/proto"
npx -y @bufbuild/buf@1.75.0 generate
