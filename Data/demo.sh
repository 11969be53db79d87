#!/usr/bin/env bash
# The README's main command: on Debian 12, installs what voxseg needs (as root, or through sudo),
# builds voxseg, fetches the sample data from Debian's archive, and segments a T1 MRI the shipped
# model never saw (ITK's KmeansTest_T1UCharRaw, 2 x 2 x 3 mm, coronal voxel order) with the brain
# extraction model trained by `voxseg train` (Models/brain-t1). Writes into build/demo/ (or $1):
#   brain.nii.gz, brain.seg.nrrd   the brain mask on the input's exact grid, and for 3D Slicer
#   render/                        3D and slice pictures, brain surface (STL), review.html
#   evaluation/                    Dice, HD95, ... against ITK's skull-strip mask (metrics.csv/json)
#   bash Data/demo.sh [output folder]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-build/demo}
if [[ $(id -u) == 0 ]]; then bash Testing/Scripts/setup-debian.sh; else sudo bash Testing/Scripts/setup-debian.sh; fi
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build build -j "$(nproc)" --target voxseg
bash Testing/Scripts/fetch-debian-data.sh build/debian-data
data=build/debian-data/insighttoolkit5-examples/usr/share/doc/insighttoolkit5-examples/examples/Data
mkdir -p "$out"
v=build/bin/voxseg
$v segment -m Models/brain-t1 -i "$data/KmeansTest_T1UCharRaw.nii.gz" -o "$out/brain.nii.gz" \
  --render "$out/render" --report "$out/report.json" --force
$v convert "$out/brain.nii.gz" "$out/brain.seg.nrrd" --label-table Models/brain-t1/dataset.json --force
$v convert "$data/KmeansTest_T1RawSkullStrip.nii.gz" "$out/reference_brain.nii.gz" --binarize --force
mkdir -p "$out/evaluation"
$v evaluate "$out/brain.nii.gz" "$out/reference_brain.nii.gz" -o "$out/evaluation" --force
echo "demo: outputs in $out/ (open $out/render/review.html)"
