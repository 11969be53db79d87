#!/usr/bin/env bash
# On the development machine: gathers what Testing/Device/run.sh needs on the GPU machine, which
# has no Debian -dev packages and no ../shared, into .device-data/ (git-ignored, carried by the
# device tool, never committed): nlohmann-json/fmt/spdlog headers and the fixture files it reads.
#   PEERS=DIR bash Testing/Device/prepare.sh   also copies nnU-Net's Python sources for run.sh's nnunet step
#     from DIR, which holds clones of MIC-DKFZ's nnUNet, dynamic-network-architectures, acvl_utils,
#     batchgenerators and batchgeneratorsv2 (e.g. made from the `fetch` tool's mirrors); nothing is installed.
set -euo pipefail
cd "$(dirname "$0")/../.."
shared=${VOXSEG_SHARED_DIR:-../shared}
d=.device-data
rm -rf "$d" && mkdir -p "$d/include/json" "$d/include/fmt" "$d/include/spdlog" "$d/monai" "$d/nnunet"
# One folder per library: LibTorch bundles another fmt, which must not meet Debian's in one include path.
cp -r /usr/include/nlohmann "$d/include/json/"
cp -r /usr/include/fmt "$d/include/fmt/"
cp -r /usr/include/spdlog "$d/include/spdlog/"
cp "$shared"/fixtures/monai/{cases.json,net_unet.pt,net_segresnet.pt,img_a.npy,img_b.npy,img_c.npy} "$d/monai/"
cp "$shared"/fixtures/nnunet/torchscript/network_fold0.pt "$shared"/fixtures/nnunet/preprocessed/phantom{A,B,C}.npy "$d/nnunet/"
# the trained-model folder with fold 0 only (voxsegDeviceCheck loads no other): the upload stays small
m=nnUNetTrainer__nnUNetPlans__3d_fullres
mkdir -p "$d/nnunet/$m"
cp "$shared"/fixtures/nnunet/model/Dataset990_Phantom/$m/{plans.json,dataset.json} "$d/nnunet/$m/"
cp -r "$shared"/fixtures/nnunet/model/Dataset990_Phantom/$m/fold_0 "$d/nnunet/$m/"
if [[ -n ${PEERS:-} ]]; then
  for r in nnUNet:nnunetv2 dynamic-network-architectures:dynamic_network_architectures acvl_utils:acvl_utils \
    batchgenerators:batchgenerators batchgeneratorsv2:batchgeneratorsv2; do
    mkdir -p "$d/peers/${r%%:*}"
    cp -r "$PEERS/${r%%:*}/${r#*:}" "$d/peers/${r%%:*}/"
    { (cd "$PEERS/${r%%:*}" && git log -1 --format="${r%%:*} %H %cs" 2>/dev/null) &&
      grep -m1 -E '^version *=' "$PEERS/${r%%:*}/pyproject.toml" 2>/dev/null; } >>"$d/peers/versions.txt" || true
  done
  find "$d/peers" -name __pycache__ -prune -exec rm -rf {} +
fi
du -sh "$d"
