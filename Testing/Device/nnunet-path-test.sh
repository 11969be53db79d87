#!/usr/bin/env bash
# voxsegDeviceNnUNet (run.sh's nnunet step: `voxseg segment`'s nnU-Net path on an array, for the GPU machine,
# whose build has no ITK) must give exactly the labels that `voxseg segment --nnunet` writes for the same volume
# and model folder: both run the same code from the crop on. On the CPU, float32, one fold, no mirroring; the
# fixture model's 2.5 x 0.9 x 0.9 mm spacing makes both resample the 1 mm volume there and back.
#   nnunet-path-test.sh VOXSEG_DEVICE_NNUNET VOXSEG MODEL_FOLDER WORK_DIR
# Debian's /usr/bin/python3 (numpy, nibabel: Testing/Scripts/setup-debian.sh). Exit 77 (skipped) when the model
# folder (../shared) is absent.
set -euo pipefail
devnn=$1 voxseg=$2 folder=$3 work=$4
[[ -f $folder/plans.json ]] || { echo "skipped: no nnU-Net model folder at $folder (../shared absent)"; exit 77; }
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$work" && mkdir -p "$work"
shape=24x40x44
/usr/bin/python3 - "$here" "$work/in.nii.gz" "$shape" <<'PY'
import sys
import nibabel as nib
import numpy as np
sys.path.insert(0, sys.argv[1])
from synthetic import synthetic  # voxsegDeviceNnUNet's volume, bit for bit
v = synthetic(tuple(int(s) for s in sys.argv[3].split("x"))) * np.float32(40) + np.float32(110)  # (z, y, x), CT-like
nib.save(nib.Nifti1Image(np.ascontiguousarray(v.transpose(2, 1, 0)), np.eye(4)), sys.argv[2])
PY
"$devnn" --folder "$folder" --volume $shape --device cpu --precision float32 --threads 1 --reps 0 \
  --scale 40 --offset 110 --labels-out "$work/device.u8"
"$voxseg" segment --nnunet "$folder" --folds 0 --disable-tta --device cpu --threads 1 -i "$work/in.nii.gz" \
  -o "$work/cli.nii.gz"
/usr/bin/python3 - "$work/cli.nii.gz" "$work/device.u8" <<'PY'
import sys
import nibabel as nib
import numpy as np
cli = np.asarray(nib.load(sys.argv[1]).dataobj).transpose(2, 1, 0).astype(np.uint8).reshape(-1)
dev = np.fromfile(sys.argv[2], dtype=np.uint8)
counts = np.bincount(cli, minlength=3).tolist()
print(f"labels: voxseg segment {counts}, voxsegDeviceNnUNet {np.bincount(dev, minlength=3).tolist()}")
if dev.size != cli.size or (dev != cli).any():
    sys.exit(f"the labels differ in {int((dev != cli).sum()) if dev.size == cli.size else 'size'} voxel(s)")
if sum(1 for c in counts if c) < 2:
    sys.exit("only one label in the result: the comparison would prove nothing")
print("equal in every voxel")
PY
