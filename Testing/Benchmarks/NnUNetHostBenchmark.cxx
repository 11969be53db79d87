// The host's share of voxseg's nnU-Net path on a large volume, one worker against N in the same run. On a GPU the
// network takes about 5 s for 600x512x512 (Documentation/performance.md); what the host does around it, on its
// own threads, decides the end-to-end time there (and is a large part of it on the CPU):
//   crop         nonzeroBox + crop of the array (nothing is zero in it: the box is the whole array)
//   zscore       ZScoreNormalization of the cropped array
//   resample-in  the array resampled (spline order 3) from 1 mm to the model's spacing (--spacing)
//   export-same  K-channel logits to labels, network grid = input grid (labels made on the host)
//   export-back  the same from the model's grid, resampled back to the input's (order 1), row by row
//   labels       labels made by a GPU put into the full array (the consumer's only work then)
// Every stage's output with N workers is compared with one worker's: they must be equal in every bit.
//   voxsegBenchNnUNetHost [--volume 600x512x512] [--spacing 1.5] [--workers N] [--classes 3] [--labels-out F]
// --workers: default every core. Exit 1 when an output differs. --labels-out writes the export-back labels (uint8,
// z y x) for Testing/Device/nnunet_reference.py host, which runs nnU-Net's own code on the same arrays.
#include "BenchArgs.h"
#include "NnUNetExport.h"
#include "Synthetic.h"
#include "voxseg/core/Memory.h"
#include "voxseg/core/Parallel.h"
#include "voxseg/processing/Crop.h"
#include "voxseg/processing/NnUNetNormalization.h"
#include "voxseg/processing/NnUNetResampling.h"
#include "voxseg/testing/Slabs.h"
#include "voxseg/testing/Strf.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <iostream>
#include <thread>

using namespace voxseg;
using voxseg::testing::strf;

namespace {

// K channels of logits that give every class some voxels: channel k peaks where the volume is near k's level;
// float16 values, as nnU-Net's accumulators hand them over (Testing/Device/nnunet_reference.py's logits_of).
std::vector<float> logitsOf(const std::vector<float>& volume, std::int64_t classes) {
  const std::size_t n = volume.size();
  std::vector<float> out(std::size_t(classes) * n);
  for (std::int64_t k = 0; k < classes; ++k) {
    const float level = -2.0f + 4.0f * float(k) / float(std::max<std::int64_t>(classes - 1, 1));
    for (std::size_t i = 0; i < n; ++i)
      out[std::size_t(k) * n + i] = processing::roundToHalf(-std::fabs(volume[i] - level) * 3.0f);
  }
  return out;
}

// The export fed as the engine feeds it: slabs of whole network rows, about 64 MB each.
std::vector<std::uint8_t> exportLabels(const std::vector<float>& logits, std::int64_t classes,
                                       const processing::Shape3& net, const processing::Shape3& full,
                                       const processing::Spacing3& target, unsigned workers) {
  std::vector<std::uint8_t> labels(std::size_t(full[0] * full[1] * full[2]), 0);
  pipeline::LabelBuffer out;
  out.u8 = labels.data();
  pipeline::NnUNetStreamingExport ex(net, processing::Box{{0, 0, 0}, full}, full, target, {1.0, 1.0, 1.0}, false, out);
  ex.workers = workers;
  const std::int64_t rows = std::max<std::int64_t>(1, (std::int64_t(64) << 20) / (classes * net[1] * net[2] * 4));
  voxseg::testing::feedSlabs(ex, logits, classes, net, rows);
  ex.finish();
  return labels;
}

std::vector<std::uint8_t> handOverLabels(const std::vector<std::uint16_t>& engineLabels, std::int64_t classes,
                                         const processing::Shape3& full, unsigned workers) {
  std::vector<std::uint8_t> labels(std::size_t(full[0] * full[1] * full[2]), 0);
  pipeline::LabelBuffer out;
  out.u8 = labels.data();
  pipeline::NnUNetStreamingExport ex(full, processing::Box{{0, 0, 0}, full}, full, {1.0, 1.0, 1.0}, {1.0, 1.0, 1.0},
                                     false, out);
  ex.workers = workers;
  ex.offerLabelRule(std::size_t(classes));
  const std::int64_t plane = full[1] * full[2],
                     rows = std::max<std::int64_t>(1, (std::int64_t(64) << 20) / (plane * 2));
  for (std::int64_t z = 0; z < full[0]; z += rows) {
    inference::SlabView v;
    v.shape = full;
    v.begin = z;
    v.end = std::min(z + rows, full[0]);
    v.channels = classes;
    v.labels = engineLabels.data() + z * plane;
    ex.consume(v);
  }
  ex.finish();
  return labels;
}

int run(int argc, char** argv) {
  const bench::Args args(argc, argv, {"--volume", "--spacing", "--workers", "--classes", "--labels-out"});
  const processing::Shape3 full = args.getShape("--volume", "600x512x512");
  const double spacing = args.getDouble("--spacing", 1.5);
  const std::int64_t classes = args.getInt("--classes", 3);
  const unsigned workers = workerCount(args.getInt("--workers", 0), SIZE_MAX);
  if (classes < 2 || classes > 255 || spacing <= 0) throw std::invalid_argument("--classes 2..255, --spacing > 0");
  const processing::Spacing3 target{spacing, spacing, spacing};
  const processing::Shape3 net = processing::nnunetNewShape(full, {1.0, 1.0, 1.0}, target);
  std::cout << strf("volume %lldx%lldx%lld at 1 mm, model grid %lldx%lldx%lld at %.2f mm, %lld classes, %u workers "
                    "against 1 (%u cores)\n",
                    (long long)full[0], (long long)full[1], (long long)full[2], (long long)net[0], (long long)net[1],
                    (long long)net[2], spacing, (long long)classes, workers,
                    std::max(1u, std::thread::hardware_concurrency()));
  const std::vector<float> volume = device::syntheticVolume(full);
  std::cout << strf("%-12s %10s %10s %8s %6s\n", "stage", "1 worker", "N workers", "speed-up", "equal");
  bool allEqual = true;
  const auto row = [&](const char* stage, double one, double many, bool equal, bool serial = false) {
    std::cout << strf("%-12s %9.3fs %9.3fs %7.2fx %6s%s\n", stage, one, many, one / many, equal ? "yes" : "NO",
                      serial ? "  (one thread in both)" : "");
    allEqual = allEqual && equal;
  };
  // The better of two runs each, alternating (1, N, 1, N): the first touch of fresh memory does not favour either.
  const auto timed = [](const std::function<void()>& one, const std::function<void()>& many) {
    double a = 1e30, b = 1e30;
    for (int rep = 0; rep < 2; ++rep) {
      a = std::min(a, bench::secondsOf(one));
      b = std::min(b, bench::secondsOf(many));
    }
    return std::pair<double, double>{a, b};
  };
  { // crop: nonzeroBox scans, crop copies (the input stays, as a float input's buffer does)
    processing::Box a, b;
    std::vector<float> ca, cb;
    const auto [one, many] = timed(
        [&] {
          a = processing::nonzeroBox({volume.data()}, full);
          ca = processing::crop(volume.data(), full, a);
        },
        [&] {
          b = processing::nonzeroBox({volume.data()}, full, workers);
          cb = processing::crop(volume.data(), full, b, workers);
        });
    row("crop", one, many, a.begin == b.begin && a.end == b.end && ca == cb);
  }
  { // z-score, twice on the same array each (the same work the second time)
    std::vector<float> a = volume, b = volume;
    const auto zscore = [](std::vector<float>& v, unsigned n) {
      processing::nnunetNormalize(v, "ZScoreNormalization", false, nlohmann::json::object(), {}, "benchmark", n);
    };
    const auto [one, many] = timed([&] { zscore(a, 1); }, [&] { zscore(b, workers); });
    row("zscore", one, many, a == b);
  }
  {
    const auto sepZ = processing::nnunetSeparateZ({1.0, 1.0, 1.0}, target);
    std::vector<float> a, b;
    const auto [one, many] =
        timed([&] { a = processing::nnunetResample(volume.data(), full, net, 3, sepZ, 0, 1); },
              [&] { b = processing::nnunetResample(volume.data(), full, net, 3, sepZ, 0, workers); });
    row("resample-in", one, many, a == b);
  }
  {
    const auto logits = logitsOf(volume, classes);
    std::vector<std::uint8_t> a, b;
    const auto [one, many] = timed(
        [&] {
          a = exportLabels(logits, classes, full, full, {1.0, 1.0, 1.0}, 1);
        },
        [&] {
          b = exportLabels(logits, classes, full, full, {1.0, 1.0, 1.0}, workers);
        });
    row("export-same", one, many, a == b);
    const std::vector<std::uint16_t> engine(a.begin(), a.end()); // as a GPU would have made them
    std::vector<std::uint8_t> c, d;
    const auto [hand1, handN] = timed([&] { c = handOverLabels(engine, classes, full, 1); },
                                      [&] { d = handOverLabels(engine, classes, full, workers); });
    row("labels", hand1, handN, a == c && a == d);
  }
  {
    const auto logits = logitsOf(device::syntheticVolume(net), classes);
    std::vector<std::uint8_t> a, b;
    const auto [one, many] = timed([&] { a = exportLabels(logits, classes, net, full, target, 1); },
                                   [&] { b = exportLabels(logits, classes, net, full, target, workers); });
    row("export-back", one, many, a == b);
    if (args.has("--labels-out")) { // for nnunet_reference.py host --labels-ref
      std::ofstream f(args.get("--labels-out"), std::ios::binary);
      f.write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
      if (!f) throw std::runtime_error(args.get("--labels-out") + ": cannot write");
    }
  }
  if (!allEqual) std::cerr << "voxsegBenchNnUNetHost: an output with several workers differs from one worker's\n";
  return allEqual ? 0 : 1;
}

} // namespace

int main(int argc, char** argv) {
  voxseg::tuneHeapForInference(); // as the voxseg command does: large buffers reused, not mapped and unmapped
  return bench::runMain("voxsegBenchNnUNetHost", "Testing/Benchmarks/NnUNetHostBenchmark.cxx",
                        [&] { return run(argc, argv); });
}
