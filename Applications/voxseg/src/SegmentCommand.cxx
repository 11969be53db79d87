#include "Commands.h"

#include "voxseg/core/Error.h"
#include "voxseg/io/AtomicOutput.h"

#include <spdlog/spdlog.h>

#include <cmath>

namespace voxseg::cli {
namespace {

// Softmax over channels (sigmoid per channel for region models), [K][N] layout, in place.
void toProbabilities(std::vector<float>& v, std::int64_t k, bool regions) {
  const std::size_t n = v.size() / std::size_t(k);
  for (std::size_t i = 0; i < n; ++i) {
    if (regions) {
      for (std::int64_t c = 0; c < k; ++c) {
        float& x = v[std::size_t(c) * n + i];
        x = 1.0f / (1.0f + std::exp(-x));
      }
      continue;
    }
    float mx = v[i];
    for (std::int64_t c = 1; c < k; ++c) mx = std::max(mx, v[std::size_t(c) * n + i]);
    double sum = 0;
    for (std::int64_t c = 0; c < k; ++c) sum += std::exp(double(v[std::size_t(c) * n + i] - mx));
    for (std::int64_t c = 0; c < k; ++c) {
      float& x = v[std::size_t(c) * n + i];
      x = static_cast<float>(std::exp(double(x - mx)) / sum);
    }
  }
}

} // namespace

int runSegment(const SegmentArgs& args) {
  // Every destination is checked before any work.
  for (const std::string* out : {&args.output, &args.saveLogits, &args.saveProbabilities})
    if (!out->empty()) io::AtomicOutput probe(*out, args.force);

  std::int64_t lastDecile = -1;
  const auto progress = [&](std::int64_t done, std::int64_t total) {
    const std::int64_t decile = done * 10 / std::max<std::int64_t>(total, 1);
    if (decile != lastDecile) spdlog::info("windows {}/{}", done, total);
    lastDecile = decile;
  };
  io::WriteOptions w;
  w.overwrite = args.force;

  if (!args.nnunet.empty()) { // nnU-Net v2 folder: its own preprocessing, sliding window and export
    if (!args.models.empty() || !args.card.empty()) throw usageError("--nnunet replaces --model and --card");
    if (!args.saveLogits.empty())
      throw usageError("--save-logits is not available with --nnunet (use --save-probabilities)");
    pipeline::NnUNetOptions o = args.nnunetOptions;
    o.folder = args.nnunet;
    const pipeline::NnUNetModel model = pipeline::loadNnUNet(o, args.options);
    std::vector<io::Volume> inputs;
    for (const auto& path : args.inputs) inputs.push_back(io::readVolume(path, args.read));
    const pipeline::NnUNetResult r =
        pipeline::segmentNnUNet(model, inputs, args.options, !args.saveProbabilities.empty(), progress);
    spdlog::info("{} windows, {} forward calls on {} in {:.2f} s", r.stats.windows, r.stats.forwardCalls,
                 r.stats.device, r.stats.seconds);
    io::writeVolume(r.labels, args.output, w);
    if (!args.saveProbabilities.empty())
      io::writeComponents(r.probabilities, r.channels, r.labels.geometry(), args.saveProbabilities, w);
    spdlog::info("wrote {}", args.output);
    return 0;
  }
  if (args.models.empty()) throw usageError("give a model with --model (TorchScript) or --nnunet (nnU-Net v2 folder)");

  const pipeline::Model model = pipeline::loadModel(args.models, args.card, args.overrides, args.options);
  std::vector<io::Volume> inputs;
  for (const auto& path : args.inputs) inputs.push_back(io::readVolume(path, args.read));

  const bool keep = !args.saveLogits.empty() || !args.saveProbabilities.empty();
  pipeline::Segmentation seg = pipeline::segment(model, inputs, args.options, keep, progress);
  spdlog::info("{} windows, {} forward calls on {} in {:.2f} s", seg.stats.windows, seg.stats.forwardCalls,
               seg.stats.device, seg.stats.seconds);

  io::writeVolume(seg.labels, args.output, w);
  const Geometry g = seg.labels.geometry();
  if (!args.saveLogits.empty()) io::writeComponents(seg.logits, seg.channels, g, args.saveLogits, w);
  if (!args.saveProbabilities.empty()) {
    toProbabilities(seg.logits, seg.channels, !model.card.regions.empty());
    io::writeComponents(seg.logits, seg.channels, g, args.saveProbabilities, w);
  }
  spdlog::info("wrote {}", args.output);
  return 0;
}

} // namespace voxseg::cli
