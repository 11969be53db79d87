#!/usr/bin/env bash
# Rendering benchmark (Documentation/performance.md): `voxseg render` on the 41-label TotalSegmentator
# example (../shared) and on the 512x512x300 10-label pair of the evaluation benchmark, whole process,
# three runs each. Needs an X display or Debian's xvfb (voxseg starts Xvfb itself).
#   bash Testing/Benchmarks/render/run.sh [shared folder]
set -euo pipefail
cd "$(dirname "$0")/../../.."
shared=${1:-../shared}
out=build/bench/render
mkdir -p "$out"
ts=$shared/data/totalsegmentator
for i in 1 2 3; do
  /usr/bin/time -f "totalsegmentator example (41 labels, 122x101x30), STL + 6 pictures + review: %e s, peak RSS %M KB" \
    build/bin/voxseg render "$ts/example_ct_sm.nii.gz" "$ts/example_seg.nii.gz" -o "$out/ts" --force 2>&1 | tail -2
done
/usr/bin/time -f "same, all mesh formats (STL, OBJ, PLY, VTP, glTF): %e s, peak RSS %M KB" \
  build/bin/voxseg render "$ts/example_ct_sm.nii.gz" "$ts/example_seg.nii.gz" -o "$out/ts_all" --force \
  --mesh-format stl --mesh-format obj --mesh-format ply --mesh-format vtp --mesh-format gltf 2>&1 | tail -2
[[ -f build/bench/ref300.nii.gz ]] || /usr/bin/python3 Testing/Benchmarks/evaluation/make_pair.py build/bench/ref300.nii.gz build/bench/pred300.nii.gz
for i in 1 2; do
  /usr/bin/time -f "512x512x300, 10 labels, STL + 6 pictures + review: %e s, peak RSS %M KB" \
    build/bin/voxseg render build/bench/pred300.nii.gz -o "$out/big" --force 2>&1 | tail -2
done
