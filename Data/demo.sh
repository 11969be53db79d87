#!/usr/bin/env bash
# The main job on an embedded default: installs and builds voxseg, fetches a real T1 MRI (the
# Colin27 template from Debian's mricron-data), shows its geometry, and converts it to NRRD in
# LPS orientation, losslessly. Outputs land in build/demo/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash Testing/Scripts/setup-debian.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc)" --target voxseg
bash Testing/Scripts/fetch-debian-data.sh build/debian-data
t1=build/debian-data/mricron-data/usr/share/mricron/templates/ch2.nii.gz
mkdir -p build/demo
set -x
build/bin/voxseg info "$t1"
build/bin/voxseg convert --force "$t1" build/demo/ch2_LPS.nrrd --orient LPS
build/bin/voxseg info build/demo/ch2_LPS.nrrd
