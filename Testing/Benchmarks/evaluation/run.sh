#!/usr/bin/env bash
# Evaluation benchmark (Documentation/performance.md): `voxseg evaluate` beside google-deepmind/surface-distance
# on a 512x512x300 pair with 10 labels. The peer is never part of the project: give the folder of a
# checkout (its surface_distance package) as $1. Needs Debian's python3-numpy, python3-scipy, python3-nibabel.
#   bash Testing/Benchmarks/evaluation/run.sh /path/to/surface-distance
set -euo pipefail
cd "$(dirname "$0")/../../.."
peer=${1:?give the folder of a google-deepmind/surface-distance checkout}
out=build/bench
mkdir -p "$out"
here=Testing/Benchmarks/evaluation
[[ -f $out/ref300.nii.gz ]] || /usr/bin/python3 $here/make_pair.py "$out/ref300.nii.gz" "$out/pred300.nii.gz"
PYTHONPATH=$peer /usr/bin/time -f "DeepMind surface-distance (whole process): %e s, peak RSS %M KB" \
  /usr/bin/python3 $here/deepmind_reference.py "$out/ref300.nii.gz" "$out/pred300.nii.gz" >"$out/deepmind.jsonl"
head -n 1 "$out/deepmind.jsonl"
/usr/bin/time -f "voxseg evaluate --preset deepmind (whole process): %e s, peak RSS %M KB" \
  build/bin/voxseg -vv evaluate "$out/pred300.nii.gz" "$out/ref300.nii.gz" --preset deepmind -o "$out" --force \
  2>&1 >/dev/null | grep -E "read in|whole process" # the debug line times reading and metrics apart
/usr/bin/python3 $here/compare.py "$out/deepmind.jsonl" "$out/metrics.json"
/usr/bin/time -f "voxseg evaluate, both presets (whole process): %e s, peak RSS %M KB" \
  build/bin/voxseg -q evaluate "$out/pred300.nii.gz" "$out/ref300.nii.gz" --preset deepmind --preset monai >/dev/null
