#!/usr/bin/env bash
# nnU-Net folder benchmarks on the CPU (Documentation/performance.md): end-to-end time and peak RSS of
# `voxseg segment` on large synthetic cases with the fixture model, and the 105-class memory case.
# Needs Debian's python3-torch, python3-nibabel (generators only) and ../shared. Writes into build/bench.
#   bash Testing/Benchmarks/nnunet/run.sh [--with-1000]   (the 1000-slice 105-class run takes ~40 min)
set -euo pipefail
cd "$(dirname "$0")/../../.."
shared=${VOXSEG_SHARED_DIR:-$PWD/../shared}
model=$shared/fixtures/nnunet/model/Dataset990_Phantom/nnUNetTrainer__nnUNetPlans__3d_fullres
out=build/bench
mkdir -p "$out"
py=/usr/bin/python3
[[ -f $out/case50.nii.gz ]] || $py Testing/Benchmarks/nnunet/make_large_case.py "$out/case50.nii.gz" --shape 512 512 50
[[ -f $out/case200.nii.gz ]] || $py Testing/Benchmarks/nnunet/make_large_case.py "$out/case200.nii.gz" --shape 512 512 200
wide=$out/wide105/Dataset991_Wide/nnUNetTrainer__nnUNetPlans__3d_fullres
[[ -d $wide ]] || $py Testing/Benchmarks/nnunet/make_wide_model.py "$model" "$wide" --classes 105
run() { # label, then voxseg arguments
  local label=$1; shift
  /usr/bin/time -f "$label: %e s, peak RSS %M KB" build/bin/voxseg -q segment "$@" --disable-tta --threads 2 --force
}
run "fixture model, 512x512x50" -m "$model" -i "$out/case50.nii.gz" -o "$out/vx50.nii.gz"
run "fixture model, 512x512x200" -m "$model" -i "$out/case200.nii.gz" -o "$out/vx200.nii.gz"
if [[ ${1:-} == --with-1000 ]]; then
  [[ -f $out/case1000.nii.gz ]] || $py Testing/Benchmarks/nnunet/make_large_case.py "$out/case1000.nii.gz" --shape 512 512 1000
  run "105 classes, 512x512x1000" -m "$wide" -i "$out/case1000.nii.gz" -o "$out/vx105_1000.nii.gz"
fi
