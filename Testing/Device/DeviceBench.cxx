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
//       [--no-network-only] [--cuda-graphs]
//       [--labels] [--device-labels 1] [--labels-check] [--labels-out F] [--labels-ref F] [--leave-free-gb G]
// --cuda-graphs also captures one forward call of the window batch in a CUDA graph and times its replays
// against the same calls made one by one (only when built against a CUDA LibTorch).
// --leave-free-gb fills the device but G GB with ballast first (like another process holding the
// rest), so the engine's out-of-memory fallbacks run; the table says which ones ran.
#include "BenchSupport.h"
#include "NetworkImpl.h"
#include "Synthetic.h"
#include "voxseg/inference/SlidingWindow.h"
#include "voxseg/testing/Strf.h"

#include <torch/csrc/jit/runtime/graph_executor.h>
#if VOXSEG_TORCH_CUDA
#include <ATen/autocast_mode.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

#include <sys/resource.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
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

// Windows per second of `calls` forward calls of batch `x` replayed from one CUDA graph, against the same calls
// made one by one, and how far the graph's output is from a call's; "" where not built for CUDA.
std::string cudaGraphRow(Network& net, const torch::Tensor& x, std::int64_t calls, bool autocast,
                         at::ScalarType dtype) {
#if VOXSEG_TORCH_CUDA
  try {
    const auto timed = [&](const std::function<void()>& call) {
      double best = 1e30;
      for (int rep = 0; rep < 3; ++rep)
        best = std::min(best, bench::secondsOf([&] {
                          for (std::int64_t i = 0; i < calls; ++i) call();
                          torch::cuda::synchronize();
                        }));
      return double(calls) * double(x.size(0)) / best;
    };
    torch::Tensor eagerOut;
    const auto eager = [&] {
      compat::AutocastGuard ag(autocast, dtype);
      eagerOut = net.impl().forward(x).to(torch::kFloat);
    };
    const double eagerRate = timed(eager);
    // Captured on a side stream after warm-up calls there, autocast's weight cache off (PyTorch's recipe).
    // An error inside the capture ends it and restores the cache setting, so later rows are not disturbed.
    at::cuda::CUDAGraph graph;
    torch::Tensor graphOut;
    {
      c10::cuda::CUDAStreamGuard side(c10::cuda::getStreamFromPool());
      struct CacheOff {
        bool was = at::autocast::is_autocast_cache_enabled();
        CacheOff() { at::autocast::set_autocast_cache_enabled(false); }
        ~CacheOff() { at::autocast::set_autocast_cache_enabled(was); }
      } cacheOff;
      for (int i = 0; i < 3; ++i) eager();
      c10::cuda::getCurrentCUDAStream().synchronize();
      graph.capture_begin();
      try {
        compat::AutocastGuard ag(autocast, dtype);
        graphOut = net.impl().forward(x).to(torch::kFloat);
      } catch (...) {
        try {
          graph.capture_end();
        } catch (...) {
        }
        throw;
      }
      graph.capture_end();
    }
    const double graphRate = timed([&] { graph.replay(); });
    eager();
    torch::cuda::synchronize();
    const double diff = (graphOut - eagerOut).abs().max().item<double>();
    return strf("cuda graph: batch %lld, %lld calls: %.2f windows/s replayed vs %.2f called (%.3fx), max |diff| %.3g",
                (long long)x.size(0), (long long)calls, graphRate, eagerRate, graphRate / eagerRate, diff);
  } catch (const c10::Error& e) {
    return std::string("cuda graph: capture failed: ") + e.what_without_backtrace();
  }
#else
  (void)net, (void)x, (void)calls, (void)autocast, (void)dtype;
  return "cuda graph: not built (no CUDA LibTorch)";
#endif
}

} // namespace

int run(int argc, char** argv) {
  const bench::Args args(
      argc, argv,
      {"--network", "--volume", "--roi", "--tiling", "--overlap", "--precisions", "--sw-batches", "--device",
       "--threads", "--reps", "--cudnn-benchmark", "--jit-optimize", "--copy-overlap", "--labels-out", "--labels-ref",
       "--leave-free-gb", "--device-labels"},
      {"--no-network-only", "--channels-last", "--half-accumulation", "--labels", "--labels-check", "--cuda-graphs"});
  const std::string networkPath = args.get("--network"), device = args.get("--device", "cuda"),
                    tiling = args.get("--tiling", "nnunet"), labelsOut = args.get("--labels-out"),
                    labelsRef = args.get("--labels-ref");
  const std::string precisionsText = args.get("--precisions", "float32,float16,bfloat16"),
                    batchesText = args.get("--sw-batches", "1,2,4");
  const int threads = args.getInt("--threads", 0), roi = args.getInt("--roi", 128), reps = args.getInt("--reps", 2);
  const double overlap = args.getDouble("--overlap", 0.5), leaveFreeGb = args.getDouble("--leave-free-gb", -1);
  const bool labelsCheck = args.has("--labels-check"), deviceLabels = args.getInt("--device-labels", 1) != 0;
  const bool wantLabels = args.has("--labels") || labelsCheck || !labelsOut.empty() || !labelsRef.empty();
  const bool cudnnBenchmark = args.getInt("--cudnn-benchmark", 0) != 0,
             jitOptimize = args.getInt("--jit-optimize", 1) != 0, networkOnly = !args.has("--no-network-only"),
             copyOverlap = args.getInt("--copy-overlap", 1) != 0;
  if (networkPath.empty()) throw std::runtime_error("--network is required");
  const Shape3 shape = args.getShape("--volume", "256x256x256");

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
  const std::vector<float> volume = device::syntheticVolume(shape);
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
        if (args.has("--cuda-graphs") && dev.is_cuda())
          std::cout << cudaGraphRow(net, x, (st.windows + o.swBatch - 1) / o.swBatch, autocast,
                                    precision == "bfloat16" ? at::kBFloat16 : at::kHalf)
                    << "\n";
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
}

int main(int argc, char** argv) {
  return bench::runMain("voxsegDeviceBench", "Testing/Device/DeviceBench.cxx", [&] { return run(argc, argv); });
}
