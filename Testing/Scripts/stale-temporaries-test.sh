#!/usr/bin/env bash
# Temporaries that a killed batch left in per-case folders (-o out/{case}/labels.nii.gz) and in the shared
# output folder and the per-case --split folder are removed by the next run; one of a process that still runs is
# kept, and so is one of another host (a cluster's shared folder: that pid means nothing here).
# Usage: stale-temporaries-test.sh <voxseg> <nnU-Net model folder> <input volume *_0000.nii.gz> <work folder>
set -u
voxseg=$1 model=$2 input=$3 work=$4
rm -rf "$work" && mkdir -p "$work/in" "$work/out/phantomA" "$work/masks/phantomA"
cp "$input" "$work/in/phantomA_0000.nii.gz"
sh -c 'exit 0' &
dead=$!
wait $dead # a process id that no longer runs
host=$(uname -n | cut -d. -f1 | cut -c1-32 | tr -c 'A-Za-z0-9\n' '_') # as voxseg's io::hostTag()
host=${host:-host}
tmp=".voxseg-tmp-$host"
echo junk > "$work/out/phantomA/$tmp-$dead-0-labels.nii.gz"
echo junk > "$work/out/$tmp-$dead-1-summary.csv"
echo junk > "$work/masks/phantomA/$tmp-$dead-2-organA.nii.gz"
echo junk > "$work/out/phantomA/$tmp-$$-0-labels.nii.gz" # this script: alive
echo junk > "$work/out/.voxseg-tmp-${host}x-$dead-1-summary.csv" # another host's
"$voxseg" segment --nnunet "$model" --folds 0 --disable-tta --batch "$work/in" -o "$work/out/{case}/labels.nii.gz" \
  --split "$work/masks/{case}" --threads 1 --progress none > "$work/run.log" 2>&1 || { cat "$work/run.log"; exit 1; }
cat "$work/run.log"
status=0
[ -e "$work/out/phantomA/$tmp-$dead-0-labels.nii.gz" ] && { echo "FAIL: per-case temporary kept"; status=1; }
[ -e "$work/out/$tmp-$dead-1-summary.csv" ] && { echo "FAIL: shared-folder temporary kept"; status=1; }
[ -e "$work/masks/phantomA/$tmp-$dead-2-organA.nii.gz" ] && { echo "FAIL: --split folder temporary kept"; status=1; }
[ -e "$work/out/phantomA/$tmp-$$-0-labels.nii.gz" ] || { echo "FAIL: a live process's temporary removed"; status=1; }
[ -e "$work/out/.voxseg-tmp-${host}x-$dead-1-summary.csv" ] || { echo "FAIL: another host's temporary removed"; status=1; }
grep -q "removed $work/out/phantomA/$tmp-$dead-0-labels.nii.gz left by an earlier run" "$work/run.log" ||
  { echo "FAIL: no warning for the per-case temporary"; status=1; }
"$voxseg" -q info "$work/out/phantomA/labels.nii.gz" > /dev/null || { echo "FAIL: no readable output"; status=1; }
rm -f "$work/out/phantomA/$tmp-$$-0-labels.nii.gz"
[ $status -eq 0 ] && echo "stale temporaries removed, live one and another host's kept"
exit $status
