#!/usr/bin/env bash
# GPU checks, on the device machine, from the repository root (issue [9]). Needs .device-data/ (made by
# Testing/Device/prepare.sh here and carried along). Builds only Core + Inference + the check and
# benchmark programs against the machine's own CUDA LibTorch, then:
#   1. parity: CUDA against CPU on the fixture networks (float32, float16, bfloat16 autocast), and the
#      same networks in plain PyTorch, tile by tile, on the CPU and under CUDA autocast (autocast_reference.py:
#      how far the precision itself moves them);
#   2. throughput of nnU-Net's default 3d_fullres shape (PlainConvUNet, 6 stages, 32..320 features,
#      patch 128^3, random weights; Testing/Device/plain_unet.py traces it) per precision and window
#      batch, beside the network alone, and 3. the same sliding window in plain PyTorch (eager,
#      autocast) on the same GPU in the same run, with the ratio;
#   4. a 512x512x600 volume end to end (labels): one run (one-time costs included) with peak device memory;
#      after a warm-up, labels made on the device, then on the host (same process: compared) and as a
#      separate run; one run with cuDNN's algorithm search; the finished rows copied and consumed in turn
#      (no copy overlap); the device filled but 4, 2 and 1 GB (the out-of-memory fallbacks); labels compared;
#      plain PyTorch's loop on the same volume. The columns upload/wait/consume say where the host's time went.
#   5. nnU-Net's own predictor (nnunet_reference.py; its sources carried in $data/peers) against voxseg's
#      nnU-Net path (voxsegDeviceNnUNet) on the large volume: the same random-weight model folder of the default
#      3d_fullres network, the same array, no mirroring; labels compared;
#   then, time permitting, one engine setting changed at a time (cuDNN benchmark on, TorchScript
#   optimisation off, copies of finished rows in turn instead of overlapped, channels-last, float16
#   accumulators) against the defaults, and the network's forward call replayed from a CUDA graph against
#   called one by one.
# Every step, the build included, is capped by what is left of a budget (BUDGET_S, default 470 s: the
# issue's 8 minutes, under the device tool's 600 s per call); the summary table is printed last even when
# a step fails or is cut. Everything also goes to $OUT, packed into one device-results.tgz at the end (the
# device tool brings back at most 8 files).
#   SMOKE=1 bash Testing/Device/run.sh   checks this script here on the CPU with tiny sizes, using the
#                                        programs of build/ and Debian's python3-torch (no GPU needed)
#   STEPS="large knobs" bash ...          runs only those steps (of: parity reference throughput large nnunet knobs;
#                                        the build always), e.g. a second call in a session with little time left;
#                                        CAPS="4" caps the device memory only at 4 GB in the large step (default 4 2 1)
#   STEPS=nnunet bash ...                 nnU-Net's predictor against voxseg's nnU-Net path alone (the other steps
#                                        leave too little of the default budget for it); needs PEERS= at prepare.sh;
#                                        NNUNET_SPACING=1.5 NNUNET_VOLUME=300x512x512 NNUNET_REPS=0: a model whose
#                                        spacing is not the array's (resampling both ways, on the host in both tools)
set -uo pipefail
cd "$(dirname "$0")/../.."
data=${VOXSEG_DEVICE_DATA:-.device-data}
out=${OUT:-/tmp/voxseg-device}
work=/tmp/voxseg-device-work
mkdir -p "$out" "$work"
rm -f "$work"/{labels.bin,mem.txt,plain_unet.pt,nnunet_voxseg.u8} \
  "$out"/{parity,autocast_reference,throughput_voxseg,throughput_pytorch,knobs,graphs,large_*,nnunet_*,stamps,summary,machine}.txt
rm -rf "$work/nnunet_model"
steps=" ${STEPS:-parity reference throughput large nnunet knobs} "
want() { [[ $steps == *" $1 "* ]]; }
t0=$(date +%s)
deadline=$((t0 + ${BUDGET_S:-470}))
stamp() { echo "[$(($(date +%s) - t0)) s] $*" | tee -a "$out/stamps.txt"; }
# capped SECONDS COMMAND...: `timeout` with at most what is left of the budget; skipped when nothing is left
capped() {
  local want=$1 left=$((deadline - $(date +%s)))
  shift
  if ((left < 10)); then
    echo "skipped (time budget spent): $*" >&2
    return 124
  fi
  timeout $((want < left ? want : left)) "$@"
}

summary_table() {
  echo
  echo "=== summary ($(($(date +%s) - t0)) s) ==="
  [[ -f $out/parity.txt ]] && grep -h "parity" "$out/parity.txt"
  [[ -f $out/autocast_reference.txt ]] && grep -h "bfloat16\|^torch" "$out/autocast_reference.txt"
  [[ -f $out/throughput_voxseg.txt ]] && head -n 1 "$out/throughput_voxseg.txt"
  [[ -f $out/throughput_pytorch.txt ]] && head -n 1 "$out/throughput_pytorch.txt"
  $py - "$out" <<'PY'
import os, sys, pathlib
out = pathlib.Path(sys.argv[1])
def not_run(label, f):  # a row that has no numbers: the file's last line says why
    last = f.read_text().strip().splitlines() if f.exists() else []
    print(f"{label} failed or not run: {last[-1] if last else 'no output'}")
def rows(name):
    r, f = {}, out / name
    for line in f.read_text().splitlines() if f.exists() else []:
        t = line.split()
        if len(t) >= 5 and t[0] in ("float32", "float16", "bfloat16") and t[1].isdigit():
            r[(t[0], int(t[1]))] = t
    return r
v, p = rows("throughput_voxseg.txt"), rows("throughput_pytorch.txt")
if v or p:
    print(f"{'precision':<9} {'batch':>5} {'voxseg w/s':>10} {'pytorch w/s':>11} {'ratio':>6} {'voxseg net-only':>15} "
          f"{'engine':>6} {'conv ceiling':>12}")
    for k in sorted(set(v) | set(p)):
        vs = float(v[k][4]) if k in v else float("nan")
        ps = float(p[k][4]) if k in p else float("nan")
        vo = v[k][5] if k in v else "-"
        eng = v[k][6] if k in v else "-"
        ceil = v[k][8] if k in v else "-"
        print(f"{k[0]:<9} {k[1]:>5} {vs:>10.2f} {ps:>11.2f} {vs / ps:>5.2f}x {vo:>15} {eng:>6} {ceil:>12}")
if any((out / f"large_{n}.txt").exists() for n in ("plain", "steady", "bench", "pytorch")):
    print()
    print("large volume: plain, bench and the capped runs are one run each, one-time costs (cuDNN's search, TorchScript's "
          "profiling) included; steady and pytorch are timed after a warm-up run")
    print(f"{'large volume':<17} {'seconds':>7} {'windows':>7} {'batch':>5} {'fallback':>8} {'labels equal':>12} "
          f"{'staged':>6} {'upload':>7} {'wait':>7} {'consume':>8} {'labels@':>7}")
    checks = []
    for name in ("plain", "steady", "bench", "cap4gb", "cap2gb", "cap1gb"):
        f = out / f"large_{name}.txt"
        lines = f.read_text().splitlines() if f.exists() else []
        r = [l.split() for l in lines if l.split() and l.split()[0] in ("float32", "float16", "bfloat16")]
        eq = [l.split(":", 1)[1].strip().split()[0] for l in lines if l.startswith("labels:")]
        checks += [f"{name}: {l}" for l in lines if l.startswith("labels on the")]
        if r:
            t = r[0] + ["-"] * 18
            print(f"voxseg {name:<10} {float(t[3]):>7.2f} {t[2]:>7} {t[9]:>5} {t[10]:>8} {eq[0] if eq else '-':>12} "
                  f"{t[13]:>6} {t[14]:>7} {t[15]:>7} {t[16]:>8} {t[17]:>7}")
        else:
            not_run(f"voxseg {name:<10}", f)
    for k, f in rows("large_pytorch.txt").items():
        print(f"{'pytorch':<17} {float(f[3]):>7.2f} {f[2]:>7} {f[1]:>5} {'-':>8} {'-':>12}   (argmax on the device)")
    for c in checks:
        print(c)
knobs, name = [], None
kf = out / "knobs.txt"
for line in kf.read_text().splitlines() if kf.exists() else []:
    if line.startswith("knob: "):
        name = line[6:]
    elif name is not None:  # the run's last line: its row, or why it has none (an error, the budget)
        t = line.split()
        numeric = len(t) > 4 and t[0] in ("float32", "float16", "bfloat16")
        knobs.append((name, float(t[4]) if numeric else None, line.strip()))
        name = None
if name is not None:
    knobs.append((name, None, "no output"))
def table_rows(name, first):
    f = out / name
    return [l.split() for l in (f.read_text().splitlines() if f.exists() else []) if l.split()[:1] == [first]]
vn, nn, ns = table_rows("nnunet_voxseg.txt", "voxseg-nnunet"), table_rows("nnunet_reference.txt", "nnunet"), \
    table_rows("nnunet_reference.txt", "nnunet-steps")
nf = out / "nnunet_reference.txt"
if nf.exists():
    print()
    print("nnU-Net's predictor against voxseg's nnU-Net path: same model folder, same array, step 0.5, no mirroring, "
          "each with its own defaults (nnU-Net: cuDNN benchmark on; voxseg: off); reading and writing files in "
          "neither; loading the model in neither (nnU-Net's runs load its weights into the network each time); the "
          "first run includes the one-time costs; the array at 1 mm, the model at "
          f"{os.environ.get('NNUNET_SPACING', '1')} mm")
    print(f"{'run':<14} {'first s':>7} {'then s':>7}  where the time went (last run)")
    vh = table_rows("nnunet_voxseg_hostlabels.txt", "voxseg-nnunet")
    for label, r, name in (("voxseg", vn, "nnunet_voxseg.txt"), ("  host labels", vh, "nnunet_voxseg_hostlabels.txt")):
        if name.endswith("hostlabels.txt") and not (out / name).exists():
            continue  # not run: the model resamples back, so labels are made on the host anyway
        if r:
            print(f"{label:<14} {float(r[0][2]):>7.2f} {float(r[-1][2]):>7.2f}  crop {r[-1][3]} s, preprocess "
                  f"{r[-1][4]} s, sliding window with export {r[-1][5]} s (consumer {r[-1][8]} s, labels on the "
                  f"{r[-1][9]})")
        else:
            not_run(f"{label:<14}", out / name)
    if nn:
        steps = f"preprocess {ns[0][3]} s, predict {ns[0][4]} s, export {ns[0][5]} s" if ns else "-"
        print(f"{'nnU-Net':<14} {float(nn[0][2]):>7.2f} {float(nn[-1][2]):>7.2f}  {steps}")
    else:
        not_run(f"{'nnU-Net':<14}", nf)
    if vn and nn:
        print(f"nnU-Net / voxseg: {float(nn[-1][2]) / float(vn[-1][2]):.2f}x (then), "
              f"{float(nn[0][2]) / float(vn[0][2]):.2f}x (first)")
    for l in nf.read_text().splitlines():
        if l.startswith("labels:"):
            print(l)
gf = out / "graphs.txt"
for l in gf.read_text().splitlines() if gf.exists() else []:
    print(l)
if knobs:
    base = next((ws for n, ws, _ in knobs if n == "default"), None)
    print()
    print(f"{'setting (one change)':<22} {'windows/s':>10} {'vs default':>10}")
    for name, ws, line in knobs:
        if ws is None:
            print(f"{name:<22} failed or not run: {line[:90]}")
        else:
            print(f"{name:<22} {ws:>10.2f} {ws / base if base else float('nan'):>9.2f}x")
PY
  echo "peak device memory (nvidia-smi memory.used, whole device, uncapped large run): ${peak:-n/a} MiB"
}

summary() { # the table on stdout and in the results
  summary_table 2>&1 | tee "$out/summary.txt"
  if [[ -n ${OUT:-} ]]; then # the device tool brings back at most 8 files from $OUT: one archive of them all
    tar -czf "$work/device-results.tgz" -C "$out" --exclude device-results.tgz . 2>/dev/null &&
      find "$out" -mindepth 1 -maxdepth 1 ! -name device-results.tgz -exec rm -rf {} + &&
      mv "$work/device-results.tgz" "$out/" && echo "results: \$OUT/device-results.tgz"
  fi
}

if [[ ${SMOKE:-0} == 1 ]]; then
  bin=build/bin py=/usr/bin/python3 dev=cpu threads=2
  roi=32 stages=4 vol=48x64x64 large=64x96x96 nvol=48x64x64 precisions=float32 batches=1,2 reps=0
else
  bin=build-device/bin py=python3 dev=cuda threads=$(nproc)
  roi=128 stages=6 vol=256x256x256 large=600x512x512 nvol=$large precisions=float32,float16,bfloat16 batches=1,2,4 reps=1
fi
peak=
trap summary EXIT

if [[ ${SMOKE:-0} != 1 ]]; then
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$out/machine.txt"
  # what the build needs, said in the first seconds rather than after a failed configure
  [[ -f $data/include/json/nlohmann/json.hpp && -f $data/monai/cases.json ]] ||
    { echo "$data is missing: run Testing/Device/prepare.sh here and call run with carry [\"$data\"]"; exit 1; }
  command -v nvcc >/dev/null || export PATH=/usr/local/cuda/bin:$PATH
  command -v nvcc >/dev/null || { echo "no nvcc on PATH (LibTorch's CMake enables CUDA with it)"; exit 1; }
  { read -r prefix; read -r version; } < <($py -c 'import torch;print(torch.utils.cmake_prefix_path);print(
    "torch", torch.__version__, "cuda", torch.version.cuda, "cxx11 abi", int(torch.compiled_with_cxx11_abi()))')
  echo "$version; $(cmake --version | head -1); $(nvcc --version | tail -1)" | tee -a "$out/machine.txt"
  capped 150 cmake -S . -B build-device -G Ninja -DCMAKE_BUILD_TYPE=Release -DVOXSEG_MINIMAL=ON \
    -DVOXSEG_BUILD_TESTING=OFF -DVOXSEG_HEADER_ONLY_DEPS="$PWD/$data/include" -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_CUDA_ARCHITECTURES=90 >"$out/configure.log" 2>&1 || { tail -40 "$out/configure.log"; exit 1; }
  # One program at a time, so that one that does not build costs only its own steps; voxsegDeviceBench once
  # more without its CUDA-graph code (CUDA-only headers, compiled nowhere else) if that is what failed.
  for target in voxsegDeviceCheck voxsegDeviceBench voxsegDeviceNnUNet; do
    capped 300 cmake --build build-device -j "$(nproc)" --target $target >>"$out/build.log" 2>&1 && continue
    echo "build of $target failed:"
    grep -E "error" -A3 "$out/build.log" | head -30
    if [[ $target == voxsegDeviceBench ]]; then
      echo "building voxsegDeviceBench again without --cuda-graphs"
      capped 60 cmake build-device -DVOXSEG_DEVICE_CUDA_GRAPHS=OFF >>"$out/configure.log" 2>&1 &&
        capped 300 cmake --build build-device -j "$(nproc)" --target $target >>"$out/build.log" 2>&1
    fi
  done
  stamp "built: $(cd build-device/bin 2>/dev/null && ls voxsegDevice* 2>/dev/null | tr '\n' ' ')"
  # 1. parity, then how far PyTorch's own autocast moves the same networks (is a miss voxseg's or the precision's?)
  if want parity; then
    capped 150 $bin/voxsegDeviceCheck "$data" --device cuda --threads "$threads" >"$out/parity.txt" 2>&1
    echo "parity exit code $?" >>"$out/parity.txt"
    grep -E "FAIL" "$out/parity.txt" | tail -n 12
    stamp "parity"
  fi
  if want reference; then
    capped 60 $py Testing/Device/autocast_reference.py "$data" --device cuda >"$out/autocast_reference.txt" 2>&1
    stamp "autocast reference"
  fi
fi

# 2./3. throughput, voxseg then plain PyTorch, on the same traced network (made only for the steps using it)
if want throughput || want large || want knobs; then
  $py Testing/Device/plain_unet.py make "$work/plain_unet.pt" --stages $stages --roi $roi >"$out/make.txt" 2>&1 ||
    { cat "$out/make.txt"; exit 1; }
fi
if want throughput; then
capped 120 $bin/voxsegDeviceBench --network "$work/plain_unet.pt" --volume $vol --roi $roi --device $dev \
  --threads "$threads" --precisions $precisions --sw-batches $batches --reps $reps >"$out/throughput_voxseg.txt" 2>&1
capped 120 $py Testing/Device/plain_unet.py bench "$work/plain_unet.pt" --volume $vol --roi $roi --device $dev \
  --precisions $precisions --sw-batches $batches --reps $reps >"$out/throughput_pytorch.txt" 2>&1
stamp "throughput"
fi

# 4. the large volume end to end (float16 autocast, 2 windows per call), peak device memory sampled
lp=float16
[[ $dev == cpu ]] && lp=float32
large_run() { # name, reps, extra options...
  local name=$1 reps=$2
  shift 2
  capped 90 $bin/voxsegDeviceBench --network "$work/plain_unet.pt" --volume $large --roi $roi --device $dev \
    --threads "$threads" --precisions $lp --sw-batches 2 --reps "$reps" --no-network-only "$@" >"$out/large_$name.txt" 2>&1
}
if want large; then
  sampler=
  if [[ $dev == cuda ]]; then # nvidia-smi itself in the background (no subshell), killed after the run
    nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 100 >"$work/mem.txt" 2>/dev/null </dev/null &
    sampler=$!
  fi
  large_run plain 0 --labels-out "$work/labels.bin" # one run: one-time costs included
  [[ -n $sampler ]] && kill "$sampler" 2>/dev/null && wait "$sampler" 2>/dev/null
  peak=$(sort -n "$work/mem.txt" 2>/dev/null | tail -1)
  # after a warm-up run: labels made on the device (the default), then on the host in the same process (the
  # engine before; same logits, so the labels must be equal)
  large_run steady 1 --labels-check
  large_run bench 0 --labels-ref "$work/labels.bin" --cudnn-benchmark 1 # one run with cuDNN's search (nnU-Net's)
  for gb in ${CAPS-4 2 1}; do large_run "cap${gb}gb" 0 --labels-ref "$work/labels.bin" --leave-free-gb $gb; done
  capped 90 $py Testing/Device/plain_unet.py bench "$work/plain_unet.pt" --volume $large --roi $roi --device $dev \
    --precisions $lp --sw-batches 2 --reps 1 --labels --no-network-only >"$out/large_pytorch.txt" 2>&1
  stamp "large volume"
fi

# 5. nnU-Net's predictor against voxseg's nnU-Net path, same folder, same array (float16 autocast on a GPU)
if want nnunet; then
  export NNUNET_PEERS=${NNUNET_PEERS:-$data/peers}
  if [[ ! -d $NNUNET_PEERS/nnUNet/nnunetv2 ]]; then
    echo "skipped: no nnU-Net sources in $NNUNET_PEERS (PEERS=DIR bash Testing/Device/prepare.sh)" >"$out/nnunet_reference.txt"
  else
    # NNUNET_SPACING=1.5 (with a smaller NNUNET_VOLUME, e.g. 300x512x512: nnU-Net resamples on one thread)
    # makes both tools resample the 1 mm array to the model's grid and the logits back
    nsp=${NNUNET_SPACING:-1} nvol=${NNUNET_VOLUME:-$nvol} nreps=${NNUNET_REPS:-1}
    capped 60 $py Testing/Device/nnunet_reference.py make "$work/nnunet_model" --roi $roi --stages $stages \
      --spacing "$nsp" >"$out/nnunet_make.txt" 2>&1
    capped 120 $bin/voxsegDeviceNnUNet --folder "$work/nnunet_model" --volume $nvol --device $dev --threads "$threads" \
      --precision $lp --reps "$nreps" --labels-out "$work/nnunet_voxseg.u8" >"$out/nnunet_voxseg.txt" 2>&1
    capped 200 $py Testing/Device/nnunet_reference.py predict "$work/nnunet_model" --volume $nvol --device $dev \
      --reps "$nreps" --labels-ref "$work/nnunet_voxseg.u8" >"$out/nnunet_reference.txt" 2>&1
    # the same with the labels made on the host (the export before 2026-11-28): the device labels' gain (only
    # where labels can be made on the device: nothing resampled back)
    if [[ $nsp == 1 || $nsp == 1.0 ]]; then
      capped 90 $bin/voxsegDeviceNnUNet --folder "$work/nnunet_model" --volume $nvol --device $dev --threads "$threads" \
        --precision $lp --reps "$nreps" --device-labels 0 >"$out/nnunet_voxseg_hostlabels.txt" 2>&1
    fi
  fi
  stamp "nnunet"
fi

# one change at a time against the defaults, float16 autocast, 2 windows per call (before/after per knob)
if want knobs; then
for knob in default "--cudnn-benchmark 1" "--jit-optimize 0" "--copy-overlap 0" --channels-last --half-accumulation; do
  opts=$knob
  [[ $knob == default ]] && opts=
  echo "knob: $knob" >>"$out/knobs.txt"
  capped 40 $bin/voxsegDeviceBench --network "$work/plain_unet.pt" --volume $vol --roi $roi --device $dev \
    --threads "$threads" --precisions $lp --sw-batches 2 --reps 1 --no-network-only $opts 2>&1 | tail -n 1 >>"$out/knobs.txt"
done
# the forward call of a window batch replayed from a CUDA graph against called one by one (network alone)
capped 60 $bin/voxsegDeviceBench --network "$work/plain_unet.pt" --volume $vol --roi $roi --device $dev \
  --threads "$threads" --precisions $lp --sw-batches 1,2 --reps 0 --cuda-graphs 2>&1 | grep "cuda graph" >"$out/graphs.txt"
stamp "knobs"
fi
