#!/usr/bin/env bash
# Two unsharded batches with --skip-existing on one output folder at once: a case both compute is written by
# both (atomic renames: the later replaces the earlier), never failed; both exit 0 and every output is
# readable. (Before, the later writer failed the case with "output file exists" on its label map, report or
# probabilities. Which run writes which case varies; the check does not.)
# Usage: concurrent-batches-test.sh <voxseg> <model> <input volume> <work folder>
set -u
voxseg=$1 model=$2 input=$3 work=$4
rm -rf "$work" && mkdir -p "$work/cases"
for i in 1 2 3 4; do cp "$input" "$work/cases/c$i.nii.gz"; done
run() {
  "$voxseg" segment -m "$model" --batch "$work/cases" -o "$work/out/{case}.nii.gz" --report "$work/out/{case}.json" \
    --save-probabilities "$work/out/{case}_p.nii.gz" --skip-existing --threads 1 --progress none > "$work/$1.log" 2>&1
  echo $? > "$work/$1.rc"
}
run a & run b & wait
status=0
for r in a b; do
  cat "$work/$r.log"
  [ "$(cat "$work/$r.rc")" = 0 ] || { echo "FAIL: run $r exit code $(cat "$work/$r.rc")"; status=1; }
  grep -q " 0 failed" "$work/$r.log" || { echo "FAIL: run $r reports failed cases"; status=1; }
done
for i in 1 2 3 4; do
  "$voxseg" -q info "$work/out/c$i.nii.gz" > /dev/null || { echo "FAIL: c$i.nii.gz unreadable"; status=1; }
  for f in "c${i}_p.nii.gz" "c$i.json"; do # probabilities: several components, which info does not read
    [ -s "$work/out/$f" ] || { echo "FAIL: $f missing"; status=1; }
  done
done
[ $status -eq 0 ] && echo "two batches on one folder: no case failed, every output readable"
exit $status
