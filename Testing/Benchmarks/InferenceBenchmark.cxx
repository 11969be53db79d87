// Sliding-window throughput against the machine's own conv3d ceiling, in one process.
//   voxsegBenchInference --network bench_unet.pt --input bench_input.npy [--threads 2] [--roi 96]
//                        [--overlaps 0.25,0.5] [--sw-batch 4] [--device cpu] [--precision float32]
// Prints one table: seconds, windows/s, useful conv GFLOP/s, ratio to the ceiling, peak RSS, and the
// largest difference between the original and the optimized network's outputs.
#include "NetworkImpl.h"
#include "TorchCompat.h"
#include "voxseg/inference/SlidingWindow.h"
#include "voxseg/testing/Npy.h"
#include "voxseg/testing/Strf.h"

#include <ATen/record_function.h>

#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <iostream>

using namespace voxseg;
using namespace voxseg::inference;

namespace {

using voxseg::testing::strf;

std::atomic<double> gFlops{0};

// Counts the multiply-adds of every convolution (aten::_convolution is on every conv's dispatch path).
std::unique_ptr<at::ObserverContext> countConv(const at::RecordFunction& fn) {
  if (std::string(fn.name()) != "aten::_convolution") return nullptr;
  const auto in = fn.inputs();
  if (in.size() < 9 || !in[0].isTensor() || !in[1].isTensor()) return nullptr;
  const auto x = in[0].toTensor().sizes(), w = in[1].toTensor().sizes();
  const bool transposed = in[6].toBool();
  const auto stride = in[3].toIntVector(), pad = in[4].toIntVector(), dil = in[5].toIntVector();
  const std::int64_t groups = in[8].toInt();
  double f = 2.0 * double(x[0]);
  double k = 1;
  for (std::size_t i = 2; i < w.size(); ++i) k *= double(w[i]);
  if (transposed) {
    f *= double(w[0]) * double(w[1]) * k; // Cin x Cout/groups x k per input voxel
    for (std::size_t i = 2; i < x.size(); ++i) f *= double(x[i]);
  } else {
    f *= double(w[0]) * double(w[1]) * k; // Cout x Cin/groups x k per output voxel
    for (std::size_t i = 2; i < x.size(); ++i) {
      const std::size_t a = i - 2;
      const auto s = stride[std::min(a, stride.size() - 1)], p = pad[std::min(a, pad.size() - 1)],
                 d = dil[std::min(a, dil.size() - 1)];
      f *= double((x[i] + 2 * p - d * (w[i] - 1) - 1) / s + 1);
    }
  }
  (void)groups;
  gFlops = gFlops + f;
  return nullptr;
}

double peakRssMb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_maxrss) / 1024.0;
}

double seconds(const std::function<void()>& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

} // namespace

int main(int argc, char** argv) {
  std::string networkPath, inputPath, device = "cpu", precision = "float32", overlapsText = "0.25,0.5";
  int threads = 2, roi = 96, swBatch = 4;
  bool skipOriginal = false;
  // Plain "--key value" parsing: this program also builds where CLI11 is not installed (GPU machine).
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(a + " needs a value");
      return argv[++i];
    };
    if (a == "--network")
      networkPath = value();
    else if (a == "--input")
      inputPath = value();
    else if (a == "--threads")
      threads = std::stoi(value());
    else if (a == "--roi")
      roi = std::stoi(value());
    else if (a == "--sw-batch")
      swBatch = std::stoi(value());
    else if (a == "--overlaps")
      overlapsText = value();
    else if (a == "--device")
      device = value();
    else if (a == "--precision")
      precision = value();
    else if (a == "--skip-original")
      skipOriginal = true;
    else {
      std::cerr
          << "usage: voxsegBenchInference --network NET.pt --input VOL.npy [--threads 2] [--roi 96] [--sw-batch 4]\n"
             "       [--overlaps 0.25,0.5] [--device cpu|cuda] [--precision float32|float16|bfloat16] "
             "[--skip-original]\n";
      return a == "--help" ? 0 : 2;
    }
  }
  if (networkPath.empty() || inputPath.empty()) {
    std::cerr << "voxsegBenchInference: --network and --input are required\n";
    return 2;
  }

  setThreads(threads);
  c10::InferenceMode guard;
  const torch::Device dev = resolveDevice({device});
  auto sync = [&] {
    if (dev.is_cuda()) torch::cuda::synchronize();
  };

  // The machine's ceiling: one large conv3d (32 -> 64 channels, 3^3 kernel, 64^3 voxels).
  // On CUDA the ceiling is measured in the precision under test (TF32 on only for "tf32").
  if (dev.is_cuda()) voxseg::inference::compat::setTf32(precision == "tf32");
  const auto ceilType = !dev.is_cuda()            ? torch::kFloat
                        : precision == "float16"  ? torch::kHalf
                        : precision == "bfloat16" ? torch::kBFloat16
                                                  : torch::kFloat;
  const auto cx = torch::randn({1, 32, 64, 64, 64}, torch::TensorOptions().device(dev).dtype(ceilType));
  const auto cw = torch::randn({64, 32, 3, 3, 3}, torch::TensorOptions().device(dev).dtype(ceilType));
  const double ceilFlops = 2.0 * 32 * 64 * 27 * 64.0 * 64 * 64;
  torch::conv3d(cx, cw, {}, 1, 1);
  sync();
  double best = 1e30;
  for (int i = 0; i < 3; ++i)
    best = std::min(best, seconds([&] {
                      torch::conv3d(cx, cw, {}, 1, 1);
                      sync();
                    }));
  const double ceiling = ceilFlops / best / 1e9;

  const auto npy = voxseg::testing::readNpy(inputPath);
  InputVolume in;
  const std::size_t nd = npy.shape.size(); // (D, H, W) or (1, 1, D, H, W)
  if (nd < 3) throw std::runtime_error(inputPath + ": expected a 3D or 5D array");
  in.zyx = {npy.shape[nd - 3], npy.shape[nd - 2], npy.shape[nd - 1]};
  in.channels = {npy.data.data()};

  Network original = Network::loadTorchScript(networkPath, DeviceSpec{device});
  Network optimized = Network::loadTorchScript(networkPath, DeviceSpec{device});
  const int rewritten = optimized.optimizeTransposedConvolutions();

  // Useful conv FLOPs of one window, counted on the original graph.
  auto handle = at::addGlobalCallback(at::RecordFunctionCallback(countConv).needsInputs(true));
  original.impl().forward(torch::zeros({1, 1, roi, roi, roi}, torch::TensorOptions().device(dev)));
  at::removeCallback(handle);
  const double flopsPerWindow = gFlops;

  std::vector<double> overlaps;
  for (std::size_t pos = 0; pos < overlapsText.size();) {
    const auto comma = overlapsText.find(',', pos);
    overlaps.push_back(std::stod(overlapsText.substr(pos, comma - pos)));
    pos = comma == std::string::npos ? overlapsText.size() : comma + 1;
  }

  std::cout << strf("device %s (%d threads), LibTorch %s, precision %s\n", dev.str().c_str(), threads,
                    torchVersion().c_str(), precision.c_str());
  std::cout << strf(
      "conv3d ceiling: %.1f GFLOP/s (1x32x64^3 -> 64 channels, 3^3 kernel, in the precision under test)\n", ceiling);
  std::cout << strf("network: %.2f GFLOP per %d^3 window; %d transposed convolution(s) rewritten\n",
                    flopsPerWindow / 1e9, roi, rewritten);
  std::cout << strf("%-10s %7s %8s %9s %10s %9s %9s %11s %12s\n", "network", "overlap", "windows", "seconds",
                    "windows/s", "GFLOP/s", "ceiling", "peak RSS", "max|diff|");
  for (double overlap : overlaps) {
    EngineOptions o;
    o.patch = {roi, roi, roi};
    o.tiling.rule = Tiling::Rule::Monai;
    o.tiling.overlap = overlap;
    o.importance.type = ImportanceMap::Type::GaussianMonai;
    o.swBatch = swBatch;
    o.precision = precision;
    LogitCollector reference;
    for (int variant = skipOriginal ? 1 : 0; variant < 2; ++variant) {
      const Network& net = variant == 0 ? original : optimized;
      if (dev.is_cuda()) { // untimed warm-up: cuDNN picks its algorithms per shape on first use
        LogitCollector warm;
        slidingWindow({&net}, in, AxisOrder::ZYX, o, warm);
        sync();
      }
      LogitCollector out;
      RunStats st;
      double s = 1e30;
      for (int rep = 0; rep < (dev.is_cuda() ? 3 : 1); ++rep) { // CUDA runs are short: best of three
        out = LogitCollector();
        s = std::min(s, seconds([&] {
                       st = slidingWindow({&net}, in, AxisOrder::ZYX, o, out);
                       sync();
                     }));
      }
      double diff = 0;
      if (variant == 0) {
        reference = std::move(out);
      } else if (!reference.logits.empty()) {
        for (std::size_t i = 0; i < out.logits.size(); ++i)
          diff = std::max(diff, double(std::fabs(out.logits[i] - reference.logits[i])));
      }
      const std::string diffText = variant == 0 || reference.logits.empty() ? std::string("-") : strf("%.2e", diff);
      std::cout << strf("%-10s %7.2f %8lld %9.2f %10.2f %9.1f %8.0f%% %8.0f MB %12s\n",
                        variant == 0 ? "original" : "optimized", overlap, (long long)st.windows, s,
                        double(st.windows) / s, double(st.windows) * flopsPerWindow / s / 1e9,
                        100.0 * double(st.windows) * flopsPerWindow / s / 1e9 / ceiling, peakRssMb(), diffText.c_str());
    }
  }
  return 0;
}
