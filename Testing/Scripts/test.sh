#!/usr/bin/env bash
# Installs what voxseg needs (Debian 12, as root), builds it with warnings as errors, fetches the
# Debian data packages the tests read, and runs the whole test suite. CI runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${VOXSEG_BUILD_DIR:-build}
# ccache hits across clones in different folders need paths relative to the checkout.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$PWD}
bash Testing/Scripts/setup-debian.sh
bash Testing/Scripts/fetch-debian-data.sh "$build/debian-data"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DVOXSEG_WERROR=ON -DVOXSEG_BUILD_TESTING=ON \
  -DVOXSEG_DEBIAN_DATA_DIR="$PWD/$build/debian-data" ${VOXSEG_CMAKE_ARGS:-}
cmake --build "$build" -j "$(nproc)"
ctest --test-dir "$build" --output-on-failure -j "$(nproc)" -LE benchmark
