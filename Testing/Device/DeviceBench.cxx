// Sliding-window throughput of one network over a synthetic volume, per precision and window batch,
// beside the network alone (the same batches through forward() in a loop, nothing else), so the
// engine's own cost shows. With --labels (or --labels-out/--labels-ref) the labels are made and timed too, as
// voxseg segment makes them (on the device unless --device-labels 0, then argmax on the host), and compared
// with a reference run; --labels-check also makes them the other way in the same process (same cuDNN
// algorithms, so the same logits) and says how many agree.
// The last columns say where the host's time went: the input's upload, waiting for finished rows' copies,
// the consumer.
//   voxsegDeviceBench --network NET.pt --volume 256x256x256 --roi 128 [--tiling nnunet|monai] [--overlap 0.5]
//       [--precisions float32,float16,bfloat16] [--sw-batches 1,2,4] [--device cuda] [--threads N] [--reps 2]
//       [--cudnn-benchmark 0] [--jit-optimize 1] [--copy-overlap 1] [--channels-last] [--half-accumulation]
//       [--no-network-only]
//       [--labels] [--device-labels 1] [--labels-check] [--labels-out F] [--labels-ref F] [--leave-free-gb G]
// --leave-free-gb fills the device but G GB with ballast first (like another process holding the
// rest), so the engine's out-of-memory fallbacks run; the table says which ones ran.
#include "BenchSupport.h"
#include "NetworkImpl.h"
#include "voxseg/inference/SlidingWindow.h"
#include "voxseg/testing/Strf.h"

#include <torch/csrc/jit/runtime/graph_executor.h>

#include <sys/resource.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

using namespace voxseg;
using namespace voxseg::inference;
using voxseg::testing::strf;

namespace {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, sep);)
    if (!item.empty()) out.push_back(item);
  return out;
}

// Takes the finished slabs (the engine has copied them to the host already) and keeps nothing: the
// throughput rows time what plain_unet.py's loop does (logits to the host), not an argmax.
class DiscardConsumer : public SlabConsumer {
public:
  void consume(const SlabView&) override {}
};

double peakRssMb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_maxrss) / 1024.0;
}

// Smooth, deterministic "anatomy" from 1D tables (a 512x512x600 volume in well under a second):
// sin(0.05 x) + cos(0.07 y) sin(0.03 z + 0.5) + 0.5 sin(0.011 (x + y + z)); plain_unet.py has the same.
std::vector<float> syntheticVolume(const Shape3& s) {
  std::vector<float> sx(static_cast<std::size_t>(s[2])), cy(static_cast<std::size_t>(s[1])),
      sz(static_cast<std::size_t>(s[0])), diag(static_cast<std::size_t>(s[0] + s[1] + s[2]));
  for (std::size_t i = 0; i < sx.size(); ++i) sx[i] = float(std::sin(0.05 * double(i)));
  for (std::size_t i = 0; i < cy.size(); ++i) cy[i] = float(std::cos(0.07 * double(i)));
  for (std::size_t i = 0; i < sz.size(); ++i) sz[i] = float(std::sin(0.03 * double(i) + 0.5));
  for (std::size_t i = 0; i < diag.size(); ++i) diag[i] = float(0.5 * std::sin(0.011 * double(i)));
  std::vector<float> v(std::size_t(s[0] * s[1] * s[2]));
  float* p = v.data();
  for (std::int64_t z = 0; z < s[0]; ++z)
    for (std::int64_t y = 0; y < s[1]; ++y) {
      const float zy = cy[std::size_t(y)] * sz[std::size_t(z)];
      const float* d = diag.data() + z + y;
      for (std::int64_t x = 0; x < s[2]; ++x) *p++ = sx[std::size_t(x)] + zy + d[x];
    }
  return v;
}

} // namespace

int main(int argc, char** argv) try {
  const bench::Args args(argc, argv,
                         {"--network", "--volume", "--roi", "--tiling", "--overlap", "--precisions", "--sw-batches",
                          "--device", "--threads", "--reps", "--cudnn-benchmark", "--jit-optimize", "--copy-overlap",
                          "--labels-out", "--labels-ref", "--leave-free-gb", "--device-labels"},
                         {"--no-network-only", "--channels-last", "--half-accumulation", "--labels", "--labels-check"});
  const std::string networkPath = args.get("--network"), device = args.get("--device", "cuda"),
                    tiling = args.get("--tiling", "nnunet"), labelsOut = args.get("--labels-out"),
                    labelsRef = args.get("--labels-ref");
  const std::string precisionsText = args.get("--precisions", "float32,float16,bfloat16"),
                    batchesText = args.get("--sw-batches", "1,2,4"), volumeText = args.get("--volume", "256x256x256");
  const int threads = args.getInt("--threads", 0), roi = args.getInt("--roi", 128), reps = args.getInt("--reps", 2);
  const double overlap = args.getDouble("--overlap", 0.5), leaveFreeGb = args.getDouble("--leave-free-gb", -1);
  const bool labelsCheck = args.has("--labels-check"), deviceLabels = args.getInt("--device-labels", 1) != 0;
  const bool wantLabels = args.has("--labels") || labelsCheck || !labelsOut.empty() || !labelsRef.empty();
  const bool cudnnBenchmark = args.getInt("--cudnn-benchmark", 0) != 0,
             jitOptimize = args.getInt("--jit-optimize", 1) != 0, networkOnly = !args.has("--no-network-only"),
             copyOverlap = args.getInt("--copy-overlap", 1) != 0;
  if (networkPath.empty()) throw std::runtime_error("--network is required");
  const auto dims = split(volumeText, 'x');
  if (dims.size() != 3) throw std::runtime_error("--volume ZxYxX");
  const Shape3 shape{std::stoll(dims[0]), std::stoll(dims[1]), std::stoll(dims[2])};

  std::cout << std::unitbuf; // every row reaches the file even when `timeout` stops the program
  setThreads(threads);
  torch::jit::setGraphExecutorOptimize(jitOptimize);
  c10::InferenceMode guard;
  const torch::Device dev = resolveDevice({device});
  const auto sync = [&] {
    if (dev.is_cuda()) torch::cuda::synchronize();
  };
  Network net = Network::loadTorchScript(networkPath, DeviceSpec{device});
  const bool channelsLast = args.has("--channels-last") && net.useChannelsLast();
  const bool halfAccumulation = args.has("--half-accumulation");
  const double flopsPerWindow = bench::convolutionFlops([&] {
    net.impl().forward(torch::zeros({1, 1, roi, roi, roi}, torch::TensorOptions().device(dev)));
  });
  ModelCard card; // labels 0..K-1 for the network's K output channels
  const auto probe = net.probeOutputShape(1, {roi, roi, roi});
  for (std::int64_t k = 0; k < probe.at(1); ++k) {
    LabelInfo label;
    label.value = int(k);
    label.name = "class " + std::to_string(k);
    card.labels.push_back(label);
  }
  const std::vector<float> volume = syntheticVolume(shape);
  InputVolume in;
  in.zyx = shape;
  in.channels = {volume.data()};

  std::vector<torch::Tensor> ballast; // the device but leaveFreeGb, held for the whole run
  if (leaveFreeGb >= 0 && dev.is_cuda()) {
    // One forward call per precision first, as a process that ran before the memory got short: the kernels are
    // loaded and cuDNN's workspaces found outside the cap (memory taken outside PyTorch's allocator fails with
    // cuDNN errors, not as "out of memory", and would not take the fallbacks under test).
    // cuDNN's algorithm search (benchmark mode) runs in that call too, as in the engine.
    compat::setCudnnBenchmark(cudnnBenchmark);
    std::int64_t batch = 1;
    for (const std::string& b : split(batchesText, ',')) batch = std::max<std::int64_t>(batch, std::stoll(b));
    for (const std::string& precision : split(precisionsText, ',')) {
      const bool autocast = precision == "float16" || precision == "bfloat16";
      compat::AutocastGuard ag(autocast, precision == "bfloat16" ? at::kBFloat16 : at::kHalf);
      net.impl().forward(torch::randn({batch, 1, roi, roi, roi}, torch::TensorOptions().device(dev))).to(torch::kFloat);
    }
    sync();
    const std::int64_t chunk = std::int64_t(256) << 20;
    try {
      for (;;) ballast.push_back(torch::empty({chunk}, torch::TensorOptions().device(dev).dtype(torch::kByte)));
    } catch (const c10::Error&) {
    }
    const auto release = std::size_t(std::llround(leaveFreeGb * 4));
    for (std::size_t i = 0; i < release && !ballast.empty(); ++i) ballast.pop_back(); // cached, usable
    std::cout << strf("ballast: %.2f GB held, %.2f GB left to the run\n", double(ballast.size()) / 4.0, leaveFreeGb);
  }

  std::cout << strf("device %s, LibTorch %s, network %s: %.1f GFLOP per %d^3 window; volume %lldx%lldx%lld, "
                    "%s tiling, overlap %.2f; cudnn benchmark %d, jit optimize %d, channels-last %d, float16 "
                    "accumulators %d, copy overlap %d\n",
                    dev.str().c_str(), torchVersion().c_str(), networkPath.c_str(), flopsPerWindow / 1e9, roi,
                    (long long)shape[0], (long long)shape[1], (long long)shape[2], tiling.c_str(), overlap,
                    int(cudnnBenchmark), int(jitOptimize), int(channelsLast), int(halfAccumulation), int(copyOverlap));
  std::cout << strf("%-9s %5s %7s %8s %10s %12s %7s %9s %8s %6s %9s %10s %9s %8s %8s %9s %9s\n", "precision", "batch",
                    "windows", "seconds", "windows/s", "net-only w/s", "engine", "GFLOP/s", "ceiling", "final",
                    "fallback", "peak RSS", "staged", "upload", "wait", "consume", "labels@");
  for (const std::string& precision : split(precisionsText, ',')) {
    const double ceiling = bench::convCeilingGflops(dev, precision);
    for (const std::string& batchText : split(batchesText, ',')) {
      EngineOptions o;
      o.patch = {roi, roi, roi};
      o.tiling.rule = tiling == "monai" ? Tiling::Rule::Monai : Tiling::Rule::NnUNet;
      o.tiling.overlap = overlap;
      o.importance.type = tiling == "monai" ? ImportanceMap::Type::GaussianMonai : ImportanceMap::Type::GaussianNnUNet;
      o.swBatch = std::stoi(batchText);
      o.precision = precision;
      o.cudnnBenchmark = cudnnBenchmark;
      o.halfAccumulation = halfAccumulation;
      o.copyOverlap = copyOverlap ? CopyOverlap::Device : CopyOverlap::Off;
      o.deviceLabels = deviceLabels ? DeviceLabels::Device : DeviceLabels::Off;
      std::vector<std::uint16_t> labels;
      RunStats st;
      double best = 1e30;
      for (int rep = 0; rep < reps + 1; ++rep) { // the first run warms up (cuDNN's search, the JIT's profiling)
        LabelConsumer argmax(card);
        DiscardConsumer discard;
        SlabConsumer& consumer = wantLabels ? static_cast<SlabConsumer&>(argmax) : discard;
        const double s = bench::secondsOf([&] {
          st = slidingWindow({&net}, in, AxisOrder::ZYX, o, consumer);
          sync();
        });
        if (wantLabels) labels = std::move(argmax.labels);
        if (rep > 0 || reps == 0) best = std::min(best, s);
      }
      // The network alone: the same number of forward calls of the same batch, in the same precision.
      double netOnly = 0;
      if (networkOnly) {
        const auto x = torch::randn({o.swBatch, 1, roi, roi, roi}, torch::TensorOptions().device(dev));
        const bool autocast = dev.is_cuda() && (precision == "float16" || precision == "bfloat16");
        const auto run = [&] {
          for (std::int64_t w = 0; w < st.windows; w += o.swBatch) {
            compat::AutocastGuard ag(autocast, precision == "bfloat16" ? at::kBFloat16 : at::kHalf);
            net.impl().forward(x).to(torch::kFloat);
          }
          sync();
        };
        run();
        netOnly = double(st.windows) / bench::secondsOf(run);
      }
      const std::string fallback = std::string(st.inputOnHost ? "I" : "") + (st.accumulatorOnHost ? "A" : "");
      const std::string staged = std::to_string(st.overlappedSlabs) + "/" + std::to_string(st.slabs);
      const std::string labelsWhere = !wantLabels ? "-" : st.deviceLabelSlabs == st.slabs ? "device" : "host";
      std::cout << strf("%-9s %5d %7lld %8.2f %10.2f %12.2f %6.0f%% %9.1f %7.0f%% %6d %9s %7.0f MB %9s %7.2fs %7.2fs "
                        "%8.2fs %9s\n",
                        precision.c_str(), o.swBatch, (long long)st.windows, best, double(st.windows) / best, netOnly,
                        networkOnly ? 100.0 * double(st.windows) / best / netOnly : 0.0,
                        double(st.windows) * flopsPerWindow / best / 1e9,
                        100.0 * double(st.windows) * flopsPerWindow / best / 1e9 / ceiling, st.swBatch,
                        fallback.empty() ? "-" : fallback.c_str(), peakRssMb(), staged.c_str(), st.uploadSeconds,
                        st.waitSeconds, st.consumeSeconds, labelsWhere.c_str());
      if (labelsCheck) { // the other way, same process: the same logits
        LabelConsumer other(card);
        EngineOptions p = o;
        p.deviceLabels = deviceLabels ? DeviceLabels::Off : DeviceLabels::Device;
        const RunStats ot = slidingWindow({&net}, in, AxisOrder::ZYX, p, other);
        sync();
        std::size_t differ = labels.size() == other.labels.size() ? 0 : labels.size();
        for (std::size_t i = 0; i < labels.size() && i < other.labels.size(); ++i)
          differ += labels[i] != other.labels[i];
        std::cout << strf("labels on the %s: %zu of %zu voxels differ (%.2f s, %lld of %lld slabs as labels)\n",
                          deviceLabels ? "host" : "device", differ, labels.size(), ot.seconds,
                          (long long)ot.deviceLabelSlabs, (long long)ot.slabs);
      }
      if (!labelsOut.empty())
        std::ofstream(labelsOut, std::ios::binary)
            .write(reinterpret_cast<const char*>(labels.data()), std::streamsize(labels.size() * sizeof(labels[0])));
      if (!labelsRef.empty()) {
        std::error_code ec;
        if (std::filesystem::file_size(labelsRef, ec) != labels.size() * sizeof(labels[0]) || ec) {
          std::cout << strf("labels: no reference (%s missing or of another size)\n", labelsRef.c_str());
        } else {
          std::vector<std::uint16_t> ref(labels.size());
          std::ifstream(labelsRef, std::ios::binary)
              .read(reinterpret_cast<char*>(ref.data()), std::streamsize(ref.size() * sizeof(ref[0])));
          std::size_t same = 0;
          for (std::size_t i = 0; i < labels.size(); ++i) same += ref[i] == labels[i];
          std::cout << strf("labels: %.4f%% of %zu voxels equal to %s\n", 100.0 * double(same) / double(labels.size()),
                            labels.size(), labelsRef.c_str());
        }
      }
    }
  }
  return 0;
} catch (const std::invalid_argument& e) {
  std::cerr << (*e.what() ? std::string("voxsegDeviceBench: ") + e.what() + "\n" : std::string())
            << "usage: see the comment at the top of Testing/Device/DeviceBench.cxx\n";
  return *e.what() ? 2 : 0;
} catch (const std::exception& e) {
  std::cerr << "voxsegDeviceBench: " << e.what() << "\n";
  return 1;
}
