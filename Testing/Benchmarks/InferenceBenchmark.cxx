// Sliding-window throughput against the machine's own conv3d ceiling, in one process.
//   voxsegBenchInference --network bench_unet.pt --input bench_input.npy [--threads 2] [--roi 96]
//                        [--overlaps 0.25,0.5] [--sw-batch 4] [--device cpu] [--precision float32]
// Prints one table: seconds, windows/s, useful conv GFLOP/s, ratio to the ceiling, peak RSS, and the
// largest difference between the original and the optimized network's outputs.
#include "BenchSupport.h"
#include "NetworkImpl.h"
#include "voxseg/inference/SlidingWindow.h"
#include "voxseg/testing/Npy.h"
#include "voxseg/testing/Strf.h"

#include <sys/resource.h>

#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <iostream>
#include <optional>

using namespace voxseg;
using namespace voxseg::inference;

namespace {

using voxseg::testing::strf;

double peakRssMb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_maxrss) / 1024.0;
}

} // namespace

int main(int argc, char** argv) {
  const char* usage =
      "usage: voxsegBenchInference --network NET.pt --input VOL.npy [--threads 2] [--roi 96] [--sw-batch 4]\n"
      "       [--overlaps 0.25,0.5] [--device cpu|cuda] [--precision float32|tf32|float16|bfloat16] "
      "[--skip-original]\n";
  std::optional<bench::Args> parsed;
  try {
    parsed.emplace(argc, argv,
                   std::set<std::string>{"--network", "--input", "--threads", "--roi", "--sw-batch", "--overlaps",
                                         "--device", "--precision"},
                   std::set<std::string>{"--skip-original"});
  } catch (const std::invalid_argument& e) {
    std::cerr << (*e.what() ? std::string("voxsegBenchInference: ") + e.what() + "\n" : std::string()) << usage;
    return *e.what() ? 2 : 0;
  }
  const bench::Args& args = *parsed;
  const std::string networkPath = args.get("--network"), inputPath = args.get("--input"),
                    device = args.get("--device", "cpu"), precision = args.get("--precision", "float32"),
                    overlapsText = args.get("--overlaps", "0.25,0.5");
  const int threads = args.getInt("--threads", 2), roi = args.getInt("--roi", 96),
            swBatch = args.getInt("--sw-batch", 4);
  const bool skipOriginal = args.has("--skip-original");
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

  // The machine's ceiling: one large conv3d, in the precision under test.
  const double ceiling = bench::convCeilingGflops(dev, precision);

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
  const double flopsPerWindow = bench::convolutionFlops([&] {
    original.impl().forward(torch::zeros({1, 1, roi, roi, roi}, torch::TensorOptions().device(dev)));
  });

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
        s = std::min(s, bench::secondsOf([&] {
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
