#!/usr/bin/env bash
# Integration test on a real Slurm installation (issue 11): installs Debian's slurm-wlm and munge,
# starts a private munged, slurmctld and slurmd on this host, submits the sbatch script of
# Documentation/cluster.md as an array job over 6 cases, merges the shard summaries in a dependent
# job (as the document says) and checks every output, the per-task logs and the merged report.
# Usage (as root): bash Testing/Cluster/run.sh <voxseg executable> [work dir, default /tmp/voxseg-slurm]
# shellcheck disable=SC2015,SC2016,SC2034 # `a && b || fail` is meant; check() evals single-quoted conditions
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
[ $# -ge 1 ] || { echo "usage: $0 <voxseg> [work dir]" >&2; exit 2; }
voxseg=$(realpath "$1")
work=${2:-/tmp/voxseg-slurm}
shared=$(realpath -m "${VOXSEG_SHARED_DIR:-$repo/../shared}")
nnunet=$shared/fixtures/nnunet
model=$nnunet/model/Dataset990_Phantom/nnUNetTrainer__nnUNetPlans__3d_fullres
tasks=3 ncases=6 timeout=${VOXSEG_SLURM_TIMEOUT:-600}
# Exit 77 (ctest's skip code for cluster.slurm_array) when the test cannot run here.
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (installs packages, runs slurmd)"; exit 77; }
[ -d "$model" ] || { echo "SKIP: no shared test data (no model at $model)"; exit 77; }
[ -x "$voxseg" ] || { echo "FAIL: no voxseg at $1"; exit 2; }

# 1. Packages (a no-op when they are installed).
if ! command -v slurmctld > /dev/null || ! command -v slurmd > /dev/null || ! command -v munged > /dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurm-wlm munge > /dev/null
fi

# 2. A fresh work dir (only one this script made earlier is removed).
if [ -e "$work" ]; then
  [ -e "$work/.voxseg-slurm-test" ] || { echo "FAIL: $work exists and was not made by this test"; exit 2; }
  rm -rf "$work"
fi
mkdir -p "$work"/{bin,munge,slurm/state,slurm/spool,cases,results,logs}
touch "$work/.voxseg-slurm-test"
# The jobs run a copy, so that a rebuild of the tree during the test cannot pull the binary away.
cp "$voxseg" "$work/bin/voxseg" && voxseg=$work/bin/voxseg
chmod 755 "$work"
pids=() jobs=()
cleanup() { # cancel our jobs, then stop the daemons we started (by pid), newest first
  local rc=$?
  [ ${#jobs[@]} -gt 0 ] && scancel "${jobs[@]}" 2> /dev/null && sleep 2
  for ((k = ${#pids[@]} - 1; k >= 0; k--)); do kill "${pids[k]}" 2> /dev/null || true; done
  for p in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2> /dev/null || break; sleep 0.2; done
    kill -9 "$p" 2> /dev/null || true
  done
  if [ $rc -ne 0 ]; then
    for f in "$work"/munge/munged.out "$work"/slurm/*.out "$work"/slurm/*.log "$work"/logs/*.log; do
      [ -f "$f" ] && { echo "===== $f"; tail -n 60 "$f"; }
    done
    echo "FAIL: Slurm integration test (work dir $work)"
  fi
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# 3. munged: a private instance (own key, socket, log) as the munge user; /etc/munge is not touched.
chown munge:munge "$work/munge" && chmod 755 "$work/munge" # munged wants x for all on the socket dir
setpriv --reuid=munge --regid=munge --clear-groups mungekey --create --keyfile="$work/munge/munge.key"
chmod 400 "$work/munge/munge.key"
setpriv --reuid=munge --regid=munge --clear-groups munged --foreground --socket="$work/munge/munge.socket" \
  --key-file="$work/munge/munge.key" --pid-file="$work/munge/munged.pid" --log-file="$work/munge/munged.log" \
  --seed-file="$work/munge/munged.seed" > "$work/munge/munged.out" 2>&1 &
pids+=($!)
for _ in $(seq 50); do [ -S "$work/munge/munge.socket" ] && break; sleep 0.2; done
munge -S "$work/munge/munge.socket" -n | unmunge -S "$work/munge/munge.socket" > /dev/null || fail "munge does not work"

# 4. slurm.conf from the template: the node as slurmd -C sees it (NodeName is this host's short name).
node=$(hostname -s)
nodeline=$(slurmd -C | head -n 1)
[[ $nodeline == "NodeName=$node "* ]] || fail "slurmd -C: '$nodeline' (expected NodeName=$node)"
cpus=$(sed -n 's/.*CPUs=\([0-9]*\).*/\1/p' <<< "$nodeline")
export SLURM_CONF=$work/slurm/slurm.conf
sed -e "s|@WORK@|$work|g" -e "s|@NODE@|$node|g" -e "s|@NODELINE@|$nodeline|" \
  -e "s|@CTLD_PORT@|${VOXSEG_SLURMCTLD_PORT:-16817}|" -e "s|@SLURMD_PORT@|${VOXSEG_SLURMD_PORT:-16818}|" \
  "$here/slurm.conf.in" > "$SLURM_CONF"
slurmctld -D -c -f "$SLURM_CONF" > "$work/slurm/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D -f "$SLURM_CONF" > "$work/slurm/slurmd.out" 2>&1 &
pids+=($!)
state=
for _ in $(seq 60); do
  state=$(sinfo -h -N -o %t 2> /dev/null || true)
  [ "$state" = idle ] && break
  sleep 1
done
[ "$state" = idle ] || fail "node $node not idle after 60 s (sinfo: '${state:-no answer}')"
echo "slurm up: node $node, $cpus CPUs, partition debug"

# 5. Six cases: the three phantoms under six ids (nnU-Net channel names, so case ids are case1..case6).
for i in $(seq $ncases); do
  ln -s "$nnunet/inputs/phantom$(echo A B C | cut -d' ' -f$(( (i - 1) % 3 + 1 )))_0000.nii.gz" "$work/cases/case${i}_0000.nii.gz"
done

# 6. The sbatch script and the merge command, taken from Documentation/cluster.md with the paths,
#    array size and resources of this test substituted.
doc=$repo/Documentation/cluster.md
sed -n '/^## sbatch script/,/^and after the array/p' "$doc" | sed -n 's/^    //p' | sed \
  -e "s|^VOXSEG=[^ ]*|VOXSEG=$voxseg|" -e "s|^MODEL=[^ ]*|MODEL=$model|" \
  -e "s|^CASES=[^ ]*|CASES=$work/cases|" -e "s|^OUT=[^ ]*|OUT=$work/results|" \
  -e "s|--array=[0-9-]*|--array=1-$tasks|" -e "s|--cpus-per-task=[0-9]*|--cpus-per-task=1|" \
  -e "s|--mem=[0-9A-Z]*|--mem=1G|" > "$work/voxseg.sbatch"
merge=$(sed -n 's/^    voxseg report merge /report merge /p' "$doc" | sed -e "s|/data/results|$work/results|g" -e "s|-of-[0-9]*|-of-$tasks|")
grep -q "^#SBATCH --array=1-$tasks$" "$work/voxseg.sbatch" && grep -q "^VOXSEG=$voxseg " "$work/voxseg.sbatch" &&
  grep -q '"$VOXSEG" segment' "$work/voxseg.sbatch" && [ -n "$merge" ] || fail "cannot take the sbatch script from $doc"
cd "$work" # --output=logs/... is relative to the submit folder
job=$(sbatch --parsable "$work/voxseg.sbatch") && jobs+=("$job")
mjob=$(sbatch --parsable --dependency=afterany:"$job" --job-name=voxseg-merge --output=logs/merge-%j.log \
  --wrap "$voxseg $merge") && jobs+=("$mjob")
echo "submitted array job $job (1-$tasks) and merge job $mjob"

# 7. Wait until neither job is pending or running.
start=$SECONDS
while [ -n "$(squeue -h -j "$job,$mjob" -o %i 2> /dev/null)" ]; do
  [ $((SECONDS - start)) -lt "$timeout" ] || fail "jobs not finished after $timeout s"
  sleep 2
done
echo "jobs finished in $((SECONDS - start)) s"

# 8. Checks: every task and the merge COMPLETED with exit 0, logs, outputs, merged summary.
errors=0
check() { if eval "$2"; then echo "  ok    $1"; else echo "  FAIL  $1"; errors=$((errors + 1)); fi; }
jobinfo=$(scontrol -o show job "$job"; scontrol -o show job "$mjob")
check "$tasks array tasks + merge job COMPLETED, exit 0:0" \
  '[ "$(grep -c "JobState=COMPLETED .*ExitCode=0:0" <<< "$jobinfo")" -eq $((tasks + 1)) ]'
for t in $(seq $tasks); do
  check "task log logs/voxseg-${job}_$t.log (shard $t of $tasks)" \
    'grep -q "shard $t of $tasks" "logs/voxseg-${job}_$t.log"'
  check "shard summary summary.shard-$t-of-$tasks.json" '[ -s results/summary.shard-$t-of-$tasks.json ]'
done
for i in $(seq $ncases); do
  check "case$i: labels read back, report written" \
    '"$voxseg" -q info results/case$i.nii.gz > /dev/null && [ -s results/case$i.json ]'
done
check "merge log: $ncases cases from $tasks summaries, all ok" \
  'grep -q "$ncases cases from $tasks summaries: $ncases ok, 0 skipped, 0 failed" logs/merge-$mjob.log'
check "summary.csv lists case1..case$ncases, all ok" \
  '[ "$(grep -scE "^case[1-$ncases],ok," results/summary.csv)" = $ncases ] && [ "$(wc -l < results/summary.csv)" = $((ncases + 1)) ]'
check "summary.json written" '[ -s results/summary.json ]'
[ $errors -eq 0 ] || fail "$errors check(s) failed"
echo "PASS: Slurm integration test: $ncases cases in $tasks array tasks, merged summary all ok (work dir $work)"
