#!/usr/bin/env bash
# Retrains the shipped brain-extraction model (Models/brain-t1) from Debian's mricron-data:
# the Colin27 T1 (ch2.nii.gz) and its brain mask (ch2bet.nii.gz > 0). Deterministic on CPU for a given
# seed and thread count. Writes into $1 (default build/brain-t1-model); copy plans.json, dataset.json
# and fold_0/checkpoint_final.pth over Models/brain-t1 to replace the shipped model.
#   bash Models/brain-t1/train.sh [output folder]
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-build/brain-t1-model}
data=build/debian-data
[[ -f $data/mricron-data/usr/share/mricron/templates/ch2.nii.gz ]] || bash Testing/Scripts/fetch-debian-data.sh "$data"
ds=build/Dataset100_BrainT1
mkdir -p "$ds/imagesTr" "$ds/labelsTr"
build/bin/voxseg -q convert "$data/mricron-data/usr/share/mricron/templates/ch2.nii.gz" "$ds/imagesTr/colin27_0000.nii.gz" --force
build/bin/voxseg -q convert "$data/mricron-data/usr/share/mricron/templates/ch2bet.nii.gz" "$ds/labelsTr/colin27.nii.gz" --binarize --force
cat > "$ds/dataset.json" <<'JSON'
{"channel_names": {"0": "T1"}, "labels": {"background": 0, "brain": 1}, "numTraining": 1,
 "file_ending": ".nii.gz", "name": "Dataset100_BrainT1"}
JSON
build/bin/voxseg train "$ds" -o "$out" --epochs 60 --iterations 25 --batch 2 --spacing 2,2,2 \
  --features 8 --max-features 64 --max-stages 5 --max-patch-voxels 262144 --threads 2 --seed 27 \
  --validate-every 10 --checkpoint-every 10 --force
