#!/usr/bin/env bash
# A folder whose name is not UTF-8 (a Latin-1 share): the JSON outputs (segment --report, evaluate's
# metrics.json, info --json) are written with U+FFFD for the odd byte instead of failing with an internal
# error after the label map was written.
# Usage: non-utf8-path-test.sh <voxseg> <packed TorchScript model> <input volume> <work folder>
set -u
voxseg=$1 model=$2 input=$3 work=$4
rm -rf "$work" && mkdir -p "$work"
d="$work/"$'Sch\xe4del'
mkdir "$d" && cp "$input" "$d/img.nii.gz"
status=0
"$voxseg" -q segment -m "$model" -i "$d/img.nii.gz" -o "$d/lab.nii.gz" --report "$d/r.json" --threads 1 \
  --progress none || { echo "FAIL: segment --report, rc $?"; status=1; }
"$voxseg" -q evaluate "$d/lab.nii.gz" "$d/lab.nii.gz" -o "$d/ev" > /dev/null || { echo "FAIL: evaluate, rc $?"; status=1; }
"$voxseg" info "$d/img.nii.gz" --json > "$work/info.json" || { echo "FAIL: info --json, rc $?"; status=1; }
for f in "$d/r.json" "$d/ev/metrics.json" "$work/info.json"; do
  [ -s "$f" ] || { echo "FAIL: $f missing"; status=1; continue; }
  grep -q $'Sch\xef\xbf\xbddel' "$f" || { echo "FAIL: $f does not name the folder with U+FFFD"; status=1; }
done
[ $status -eq 0 ] && echo "JSON outputs written for a folder name that is not UTF-8"
exit $status
