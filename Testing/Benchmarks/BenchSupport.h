#pragma once
// Shared by the benchmark programs that include LibTorch anyway (BenchArgs.h: arguments, timing): useful
// convolution FLOPs of one forward pass counted on the dispatcher, and the machine's ceiling (one large conv3d).
#include "BenchArgs.h"
#include "TorchCompat.h"

#include <ATen/record_function.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <iostream>
#include <map>
#include <set>
#include <stdexcept>
#include <string>

namespace voxseg::bench {

inline double& countedFlops() {
  static double flops = 0;
  return flops;
}

// Counts the multiply-adds of every convolution (aten::_convolution is on every conv's dispatch path).
inline std::unique_ptr<at::ObserverContext> countConvolution(const at::RecordFunction& fn) {
  if (std::string(fn.name()) != "aten::_convolution") return nullptr;
  const auto in = fn.inputs();
  if (in.size() < 9 || !in[0].isTensor() || !in[1].isTensor()) return nullptr;
  const auto x = in[0].toTensor().sizes(), w = in[1].toTensor().sizes();
  const bool transposed = in[6].toBool();
  const auto stride = in[3].toIntVector(), pad = in[4].toIntVector(), dil = in[5].toIntVector();
  double f = 2.0 * double(x[0]);
  for (std::size_t i = 2; i < w.size(); ++i) f *= double(w[i]);
  f *=
      double(w[0]) * double(w[1]); // Cout x Cin/groups per output voxel (transposed: Cin x Cout/groups per input voxel)
  for (std::size_t i = 2; i < x.size(); ++i) {
    if (transposed) {
      f *= double(x[i]);
      continue;
    }
    const std::size_t a = i - 2;
    const auto s = stride[std::min(a, stride.size() - 1)], p = pad[std::min(a, pad.size() - 1)],
               d = dil[std::min(a, dil.size() - 1)];
    f *= double((x[i] + 2 * p - d * (w[i] - 1) - 1) / s + 1);
  }
  countedFlops() += f;
  return nullptr;
}

/// Convolution FLOPs of one call of `forward`.
inline double convolutionFlops(const std::function<void()>& forward) {
  countedFlops() = 0;
  auto handle = at::addGlobalCallback(at::RecordFunctionCallback(countConvolution).needsInputs(true));
  forward();
  at::removeCallback(handle);
  return countedFlops();
}

/// GFLOP/s of one large conv3d (1x32x64^3 -> 64 channels, 3^3 kernel) in the precision under test
/// (CUDA: TF32 only for "tf32", float16/bfloat16 as such; CPU: float32), best of three after a warm-up.
inline double convCeilingGflops(const torch::Device& dev, const std::string& precision) {
  if (dev.is_cuda()) voxseg::inference::compat::setTf32(precision == "tf32");
  const auto type = !dev.is_cuda()            ? torch::kFloat
                    : precision == "float16"  ? torch::kHalf
                    : precision == "bfloat16" ? torch::kBFloat16
                                              : torch::kFloat;
  const auto opts = torch::TensorOptions().device(dev).dtype(type);
  const auto x = torch::randn({1, 32, 64, 64, 64}, opts), w = torch::randn({64, 32, 3, 3, 3}, opts);
  const auto sync = [&] {
    if (dev.is_cuda()) torch::cuda::synchronize();
  };
  torch::conv3d(x, w, {}, 1, 1);
  sync();
  double best = 1e30;
  for (int i = 0; i < 3; ++i)
    best = std::min(best, secondsOf([&] {
                      torch::conv3d(x, w, {}, 1, 1);
                      sync();
                    }));
  return 2.0 * 32 * 64 * 27 * 64.0 * 64 * 64 / best / 1e9;
}

} // namespace voxseg::bench
