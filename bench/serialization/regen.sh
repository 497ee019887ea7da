#!/bin/sh
# Regenerates the contenders' generated code in bench/serialization/gen/ from the schemas:
#   gen/capnts/*.capnp.ts  capnts's code generator (bin/capnpc-capnts), importing the runtime by
#                          relative path (CAPNTS_RUNTIME), so no build of dist/ is needed
#   gen/capnp-es/*.js      capnp-es's own compiler (npm capnp-es)
#   gen/pb/*_pb.ts         protoc-gen-es through buf (fetched by npx at the pinned version)
# Needs the `capnp` tool on PATH. Run from anywhere: sh bench/serialization/regen.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"
rm -rf "$here/gen/capnts" "$here/gen/capnp-es" "$here/gen/pb"
mkdir -p "$here/gen/capnts" "$here/gen/capnp-es"
CAPNTS_RUNTIME="$root/src" capnp compile -o"$root/bin/capnpc-capnts:bench/serialization/gen/capnts" \
  --src-prefix=bench/schema bench/schema/carsales.capnp bench/schema/catrank.capnp bench/schema/eval.capnp
# JavaScript, not TypeScript: see contenders/capnp-es.js for why no .ts file may import capnp-es.
npx capnp-es bench/schema/carsales.capnp bench/schema/catrank.capnp bench/schema/eval.capnp \
  --src-prefix=bench/schema -ojs:bench/serialization/gen/capnp-es
cd "$here/proto"
npx -y @bufbuild/buf@1.75.0 generate
