#!/usr/bin/env bash
# Builds the libFuzzer targets of Testing/Fuzz (clang, ASan+UBSan, every voxseg library instrumented) and
# runs each for a given time on a seed corpus made from the project's own test inputs, one after the other.
# Findings (crash-*, leak-*, timeout-*, oom-*) land in <build>/fuzz-artifacts/<target>/; the last line of
# each run's log gives executions and coverage.
# Usage: bash Testing/Fuzz/run.sh [seconds per target, default 600] [target ...]
#   env: VOXSEG_FUZZ_BUILD (default build-fuzz), VOXSEG_SHARED_DIR (default ../shared), VOXSEG_FUZZ_JOBS
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
seconds=${1:-600}
shift || true
build=${VOXSEG_FUZZ_BUILD:-build-fuzz}
shared=$(realpath -m "${VOXSEG_SHARED_DIR:-$repo/../shared}")
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(FuzzModelCard FuzzPickle FuzzLabelTable FuzzCsvManifest FuzzSegNrrd FuzzNnUNetPlans)

command -v clang++ > /dev/null || { apt-get update -qq && apt-get install -y -qq --no-install-recommends clang; }
if [ ! -f "$build/build.ninja" ]; then
  CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVOXSEG_FUZZ=ON \
    -DVOXSEG_BUILD_TESTING=OFF -DVOXSEG_BUILD_BENCHMARKS=OFF -DVOXSEG_INSTALL=OFF
fi
cmake --build "$build" --target fuzzers -j "${VOXSEG_FUZZ_JOBS:-$(nproc)}"

# Seed corpora: the inputs the tests already use (nothing is copied into the repository).
seeds=$build/fuzz-seeds
rm -rf "$seeds" && mkdir -p "$seeds"/{FuzzModelCard,FuzzPickle,FuzzLabelTable,FuzzCsvManifest,FuzzSegNrrd,FuzzNnUNetPlans}
cp Testing/Cards/*.json "$seeds/FuzzModelCard/"
cp Testing/Cards/*.json Models/brain-t1/dataset.json "$seeds/FuzzLabelTable/"
printf '0 Background 0 0 0 0\n1 liver 221 130 101 255\n2 spleen 144 238 144 255\n' > "$seeds/FuzzLabelTable/slicer.ctbl"
printf '# ITK-SNAP Label Description File\n    0     0    0    0        0  0  0    "Clear Label"\n    1   255    0    0        1  1  1    "tumor"\n' \
  > "$seeds/FuzzLabelTable/itksnap.txt"
printf 'case,image\ngood,a_0000.nii.gz\nbad,b.nii.gz\n' > "$seeds/FuzzCsvManifest/one.csv"
printf 'case,t1,t2\n"p 1",a.nii.gz,b.nii.gz\np2,c.nii.gz,d.nii.gz\n' > "$seeds/FuzzCsvManifest/two.csv"
python3 - "$seeds/FuzzPickle" Models/brain-t1/fold_0/checkpoint_final.pth \
  "$shared"/fixtures/nnunet/model/*/*/fold_0/checkpoint_final.pth <<'PY'
import sys, zipfile, os
out = sys.argv[1]
for i, path in enumerate(sys.argv[2:]):
    if not os.path.exists(path):
        continue
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.endswith("data.pkl"):
                open(os.path.join(out, "data%d.pkl" % i), "wb").write(z.read(name))
PY
sep=$'\n--dataset.json--\n'
{ cat Models/brain-t1/plans.json; printf '%s' "$sep"; cat Models/brain-t1/dataset.json; } > "$seeds/FuzzNnUNetPlans/brain-t1"
fold=
for m in "$shared"/fixtures/nnunet/model/*/*/; do
  [ -f "$m/plans.json" ] || continue
  { cat "$m/plans.json"; printf '%s' "$sep"; cat "$m/dataset.json"; } > "$seeds/FuzzNnUNetPlans/$(basename "$(dirname "$m")")"
  fold=$m/fold_0
done
for f in "$shared"/data/dcmqi/segmentations/*.seg.nrrd "$shared"/data/dcmqi/segmentations/*_seg.nrrd; do
  [ -f "$f" ] && head -c 65536 "$f" > "$seeds/FuzzSegNrrd/$(basename "$f")"
done
ls "$seeds/FuzzSegNrrd" | grep -q . || echo "note: no .seg.nrrd seeds (no shared data); FuzzSegNrrd starts from nothing"

summary=$build/fuzz-summary.txt
: > "$summary"
for t in "${targets[@]}"; do
  corpus=$build/fuzz-corpus/$t artifacts=$build/fuzz-artifacts/$t
  rm -rf "$artifacts" # findings of this run only (earlier ones are fixed or kept elsewhere)
  mkdir -p "$corpus" "$artifacts"
  env=()
  [ "$t" = FuzzNnUNetPlans ] && [ -n "$fold" ] && env=(VOXSEG_FUZZ_NNUNET_FOLD="$fold")
  echo "== $t: ${seconds} s"
  set +e
  env "${env[@]}" UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:suppressions=$repo/Testing/Scripts/ubsan.supp" \
    ASAN_OPTIONS="detect_leaks=1" LSAN_OPTIONS="suppressions=$repo/Testing/Scripts/lsan.supp" \
    "$build/bin/$t" "$corpus" "$seeds/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -max_len=65536 -print_final_stats=1 -artifact_prefix="$artifacts/" > "$build/fuzz-$t.log" 2>&1
  rc=$?
  set -e
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$build/fuzz-$t.log")
  cov=$(grep -E '^#[0-9]+' "$build/fuzz-$t.log" | grep -o 'cov: [0-9]* ft: [0-9]*' | tail -n 1)
  findings=$(find "$artifacts" -type f | wc -l)
  echo "$t: exit $rc, ${execs:-?} executions in ${seconds} s, ${cov:-no coverage line}, corpus $(ls "$corpus" | wc -l) inputs, $findings finding(s)" | tee -a "$summary"
done
echo "--- summary ($summary)"
cat "$summary"
! grep -q "exit [^0]\|[1-9][0-9]* finding" "$summary"
