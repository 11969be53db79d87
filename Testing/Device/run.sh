#!/usr/bin/env bash
# GPU checks, on the device machine, from the repository root. Needs .device-data/ (made by
# Testing/Device/prepare.sh here and carried along). Builds only Core + Inference + the two check
# programs against the machine's own CUDA LibTorch, then: CUDA vs CPU parity on the fixture
# networks (fp32, fp16, bf16), the sliding-window benchmark per precision, the same sliding window
# in plain PyTorch on the same GPU, and a short table last. Results also go to $OUT.
set -uo pipefail
cd "$(dirname "$0")/../.."
data=${VOXSEG_DEVICE_DATA:-.device-data}
out=${OUT:-/tmp/voxseg-device}
mkdir -p "$out"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
prefix=$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)')
python3 -c 'import torch;print("torch", torch.__version__, "cuda", torch.version.cuda)'
t0=$(date +%s)
cmake -S . -B build-device -G Ninja -DCMAKE_BUILD_TYPE=Release -DVOXSEG_MINIMAL=ON -DVOXSEG_BUILD_TESTING=OFF \
  -DVOXSEG_HEADER_ONLY_DEPS="$PWD/$data/include" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_CUDA_ARCHITECTURES=90 \
  >"$out/configure.log" 2>&1 || { tail -40 "$out/configure.log"; exit 1; }
cmake --build build-device -j "$(nproc)" --target voxsegDeviceCheck voxsegBenchInference >"$out/build.log" 2>&1 ||
  { grep -E "error" -A3 "$out/build.log" | head -60; exit 1; }
echo "build: $(($(date +%s) - t0)) s"
timeout 200 build-device/bin/voxsegDeviceCheck "$data" --device cuda --threads 16 >"$out/parity.txt" 2>&1
parity=$?
grep -E "FAIL|nnunet_phantomA|parity:" "$out/parity.txt" | tail -n 12
for p in float32 tf32 float16 bfloat16; do
  timeout 120 build-device/bin/voxsegBenchInference --network "$data/bench/bench_unet.pt" --input "$data/bench/bench_input.npy" \
    --device cuda --threads 16 --precision $p --overlaps 0.25,0.5 --sw-batch 4 >"$out/bench_$p.txt" 2>&1
done
timeout 120 python3 Testing/Device/torch_sliding_window.py "$data/bench/bench_unet.pt" "$data/bench/bench_input.npy" 96 4 \
  >"$out/pytorch.txt" 2>&1
echo
echo "=== summary (parity exit code $parity) ==="
grep -h "parity:" "$out/parity.txt"
head -n 3 "$out/bench_float32.txt"
for p in float32 tf32 float16 bfloat16; do grep -hE "^(original|optimized)" "$out/bench_$p.txt" | sed "s/^/$p /"; done
cat "$out/pytorch.txt"
