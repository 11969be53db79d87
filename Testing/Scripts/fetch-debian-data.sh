#!/usr/bin/env bash
# Fetches real data that voxseg's tests and demos use from Debian's archive into DIR
# (default: build/debian-data): `apt-get download` + `dpkg -x`, nothing installed system-wide.
# Idempotent: a package already unpacked is skipped. Nothing fetched here is committed.
set -euo pipefail
dir=${1:-build/debian-data}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
packages=(mricron-data insighttoolkit5-examples python3-pydicom python3-nibabel)
updated=0
for p in "${packages[@]}"; do
  if [ -f "$dir/.done-$p" ]; then continue; fi
  tmp=$(mktemp -d)
  if ! (cd "$tmp" && apt-get download -q "$p" >/dev/null 2>&1); then
    if [ "$updated" = 0 ]; then apt-get update -qq && updated=1; fi
    (cd "$tmp" && apt-get download -q "$p" >/dev/null)
  fi
  dpkg -x "$tmp"/*.deb "$dir/$p"
  rm -rf "$tmp"
  touch "$dir/.done-$p"
  echo "voxseg data: unpacked $p into $dir/$p"
done
