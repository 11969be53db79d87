#!/usr/bin/env bash
# kill -9 in the middle of a batch, then the same command with --skip-existing: the batch completes,
# every output reads back, nothing partial or temporary is left.
# Usage: kill-resume-test.sh <voxseg> <nnU-Net model folder> <folder of input volumes> <work folder>
set -u
voxseg=$1 model=$2 inputs=$3 work=$4
rm -rf "$work" && mkdir -p "$work/in" "$work/out"
cp "$inputs"/*.nii.gz "$work/in/"
n=$(ls "$work/in" | wc -l)
args=(segment --nnunet "$model" --batch "$work/in" -o "$work/out/{case}.nii.gz" --threads 1 --progress none)
"$voxseg" "${args[@]}" > "$work/first.log" 2>&1 &
pid=$! # voxseg itself, not a subshell
# kill as soon as the first case is written (the second is then under way)
for _ in $(seq 1 3000); do
  [ "$(ls "$work/out" | grep -c '^phantom.*\.nii\.gz$')" -ge 1 ] && break
  sleep 0.01
done
kill -9 $pid
wait $pid 2>/dev/null
done_before=$(ls "$work/out" | grep -c '^phantom.*\.nii\.gz$')
echo "killed with $done_before of $n outputs written; left: $(ls -A "$work/out" | tr '\n' ' ')"
[ "$done_before" -lt "$n" ] || { echo "the batch finished before it was killed"; exit 1; }
for f in "$work"/out/phantom*.nii.gz; do "$voxseg" -q info "$f" > /dev/null || { echo "corrupt: $f"; exit 1; }; done
"$voxseg" "${args[@]}" --skip-existing > "$work/second.log" 2>&1 || { cat "$work/second.log"; exit 1; }
cat "$work/second.log" | grep -E "skipped|removed|batch:" || true
after=$(ls "$work/out" | grep -c '^phantom.*\.nii\.gz$')
left=$(ls -A "$work/out" | grep -c '^\.voxseg-tmp' || true)
for f in "$work"/out/phantom*.nii.gz; do "$voxseg" -q info "$f" > /dev/null || { echo "corrupt: $f"; exit 1; }; done
echo "after the rerun: $after of $n outputs, $left temporary files"
[ "$after" -eq "$n" ] && [ "$left" -eq 0 ] && grep -q "skipped" "$work/out/summary.csv"
