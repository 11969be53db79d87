#!/usr/bin/env bash
# Installs every Debian 12 package that voxseg's build, tests and demos need.
# Idempotent: packages already present are left alone. Run as root.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libinsighttoolkit5-dev libgdcm-dev
  libvtk9-dev
  libtorch-dev
  libdcmtk-dev dcmtk dicom3tools
  libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev nlohmann-json3-dev libfmt-dev libspdlog-dev libtbb-dev
  zlib1g-dev libssl-dev
  xvfb xauth
  slurm-wlm munge
  python3 python3-nibabel
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "voxseg setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "voxseg setup: all ${#packages[@]} packages already installed"
fi
