#!/usr/bin/env bash
# The whole test suite under AddressSanitizer + UndefinedBehaviorSanitizer (Debug build in
# build-asan/). Longer than CI allows alongside the normal build, so it is a separate script.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash Testing/Scripts/setup-debian.sh
bash Testing/Scripts/fetch-debian-data.sh build-asan/debian-data
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DVOXSEG_SANITIZE=address,undefined \
  -DVOXSEG_DEBIAN_DATA_DIR="$PWD/build-asan/debian-data"
cmake --build build-asan -j "$(nproc)"
export LSAN_OPTIONS="suppressions=$PWD/Testing/Scripts/lsan.supp"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:suppressions=$PWD/Testing/Scripts/ubsan.supp"
ctest --test-dir build-asan --output-on-failure -j "$(nproc)" -LE benchmark
