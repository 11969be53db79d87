#pragma once
// Shared by the benchmark programs (they include LibTorch anyway): "--key value" arguments, useful
// convolution FLOPs of one forward pass counted on the dispatcher, and the machine's ceiling (one large conv3d).
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

/// "--key value" pairs and bare "--flag"s; plain parsing, because these programs also build where CLI11
/// is not installed (the GPU machine). Unknown keys are an error (std::invalid_argument).
class Args {
public:
  Args(int argc, char** argv, const std::set<std::string>& keys, const std::set<std::string>& flags = {}) {
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      if (flags.count(a)) {
        values_[a] = "1";
      } else if (keys.count(a) && i + 1 < argc) {
        values_[a] = argv[++i];
      } else {
        throw std::invalid_argument(a == "--help" ? "" : a + (keys.count(a) ? " needs a value" : ": unknown option"));
      }
    }
  }
  bool has(const std::string& key) const { return values_.count(key) > 0; }
  std::string get(const std::string& key, const std::string& fallback = "") const {
    const auto it = values_.find(key);
    return it == values_.end() ? fallback : it->second;
  }
  int getInt(const std::string& key, int fallback) const { return has(key) ? std::stoi(get(key)) : fallback; }
  double getDouble(const std::string& key, double fallback) const { return has(key) ? std::stod(get(key)) : fallback; }

private:
  std::map<std::string, std::string> values_;
};

/// main() of a benchmark program: runs `body`; a usage error (std::invalid_argument, as Args throws) prints the
/// problem and where the usage is written (exit 2; --help: exit 0), any other error its message (exit 1).
inline int runMain(const std::string& name, const std::string& usageAt, const std::function<int()>& body) {
  try {
    return body();
  } catch (const std::invalid_argument& e) {
    std::cerr << (*e.what() ? name + ": " + e.what() + "\n" : std::string()) << "usage: see the comment at the top of "
              << usageAt << "\n";
    return *e.what() ? 2 : 0;
  } catch (const std::exception& e) {
    std::cerr << name << ": " << e.what() << "\n";
    return 1;
  }
}

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

inline double secondsOf(const std::function<void()>& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
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
