#include "NnUNetPredict.h"

#include "voxseg/core/Error.h"
#include "voxseg/core/Parallel.h"
#include "voxseg/processing/NnUNetNormalization.h"
#include "voxseg/processing/NnUNetResampling.h"

#include <algorithm>
#include <cstdint>
#include <sstream>

namespace voxseg::pipeline {

using nlohmann::json;
using processing::Shape3;

namespace {

// resampling_fn_*_kwargs' separate-z choice: nnU-Net's rule for force_separate_z null, none when false or absent
// (resample_data_or_seg_to_shape's default is False: an absent key took the rule until 2026-11-29).
processing::SeparateZ separateZ(const json& kw, const processing::Spacing3& spacing,
                                const processing::Spacing3& target) {
  if (kw.contains("force_separate_z") && kw["force_separate_z"].is_null())
    return processing::nnunetSeparateZ(spacing, target);
  processing::SeparateZ sep;
  if (!kw.contains("force_separate_z")) return sep;
  if (kw["force_separate_z"].get<bool>()) { // the single lowest-resolution axis of the current spacing
    const double mx = *std::max_element(spacing.begin(), spacing.end());
    int count = 0;
    for (int a = 0; a < 3; ++a)
      if (mx / spacing[std::size_t(a)] == 1.0) {
        sep.axis = a;
        ++count;
      }
    sep.separate = count == 1;
    if (count != 1) sep.axis = -1;
  }
  return sep;
}

// A cascade stage's extra channels (nnU-Net's preprocessing of the previous stage's segmentation, then
// convert_labelmap_to_one_hot over the foreground labels): the labels resampled as a segmentation
// (resampling_fn_seg: each value's mask, larger values winning where several reach 0.5), one float 0/1 channel
// per label of m.cascadeLabels. Values 0 (and nnU-Net's -1 outside the non-zero mask) lose to every label.
std::vector<std::vector<float>> previousStageChannels(const NnUNetModel& m, const std::vector<std::uint16_t>& prev,
                                                      const Shape3& cropShape, const Shape3& netShape,
                                                      const processing::Spacing3& spacing,
                                                      const processing::Spacing3& target, unsigned workers) {
  const json kw = m.configuration.value("resampling_fn_seg_kwargs", json::object());
  const int order = kw.value("order", 3), orderZ = kw.value("order_z", 0); // the function's defaults
  const processing::SeparateZ sep = separateZ(kw, spacing, target);
  const std::vector<std::uint16_t> labels =
      processing::nnunetResampleLabels(prev.data(), cropShape, netShape, order, sep, orderZ, workers);
  std::vector<std::vector<float>> out(m.cascadeLabels.size());
  for (std::size_t k = 0; k < out.size(); ++k) {
    auto& c = out[k];
    c.assign(labels.size(), 0.0f);
    const auto v = std::uint16_t(m.cascadeLabels[k]);
    parallelRanges(c.size(), workers, 1 << 16, [&](std::size_t b, std::size_t e) {
      for (std::size_t i = b; i < e; ++i) c[i] = labels[i] == v ? 1.0f : 0.0f;
    });
  }
  return out;
}

} // namespace

NnUNetPrediction predictCropped(const NnUNetModel& m, NnUNetCropped in, const processing::Shape3& full,
                                const processing::Spacing3& spacing, const std::string& source,
                                const NnUNetRunSettings& settings, const std::function<LabelBuffer()>& labels,
                                const inference::ProgressFn& progress) {
  const bool keepProbabilities = settings.keepProbabilities;
  const json& cfg = m.configuration;
  const Shape3 cropShape = in.box.size();
  // A 2D configuration's spacing is (y, x): nnU-Net keeps the spacing between slices as it is.
  const json& sp = cfg["spacing"];
  const processing::Spacing3 target =
      m.slices ? processing::Spacing3{spacing[0], sp[0].get<double>(), sp[1].get<double>()}
               : processing::Spacing3{sp[0].get<double>(), sp[1].get<double>(), sp[2].get<double>()};
  const Shape3 netShape = processing::nnunetNewShape(cropShape, spacing, target);
  for (std::size_t a = 0; a < 3; ++a)
    if (netShape[a] < 1) { // nnU-Net rounds the new shape: one 1 mm slice at 2 mm is 0 voxels
      std::ostringstream why;
      why << "too thin for this model: " << cropShape[a] << " voxel(s) of " << spacing[a] << " mm along axis " << a
          << " (of " << cropShape[0] << "x" << cropShape[1] << "x" << cropShape[2]
          << " after cropping, in the model's axis order) become none at its " << target[a] << " mm spacing";
      throw inputError(source, why.str());
    }
  const json kw = cfg.value("resampling_fn_data_kwargs", json::object());
  const int order = kw.value("order", 3), orderZ = kw.value("order_z", 0);
  const processing::SeparateZ sep = separateZ(kw, spacing, target);
  // The host's work (resampling, export) on as many threads as LibTorch's (--threads).
  const unsigned workers = workerCount(inference::threadCount(), SIZE_MAX);
  // per channel; nnU-Net still takes the older key (a const operator[] on a missing key was undefined behaviour)
  json intensities = m.plans.value("foreground_intensity_properties_per_channel",
                                   m.plans.value("foreground_intensity_properties_by_modality", json::object()));
  if (!intensities.is_object()) intensities = json::object();
  std::vector<std::vector<float>> pre;
  for (std::size_t c = 0; c < in.channels.size(); ++c) {
    auto& v = in.channels[c];
    const bool useMask = cfg["use_mask_for_norm"][c].get<bool>();
    const json props = intensities.value(std::to_string(c), json::object());
    processing::nnunetNormalize(v, cfg["normalization_schemes"][c].get<std::string>(), useMask, props, in.mask,
                                m.options.folder, workers);
    if (netShape == cropShape) {
      pre.push_back(std::move(v)); // nnU-Net skips resampling when the shape does not change
    } else {
      pre.push_back(processing::nnunetResample(v.data(), cropShape, netShape, order, sep, orderZ, workers));
      std::vector<float>().swap(v);
    }
  }
  if (!m.cascadeLabels.empty()) { // after the normalized image channels, as nnU-Net stacks them
    if (in.previous.size() != std::size_t(cropShape[0] * cropShape[1] * cropShape[2]))
      throw Error(ExitCode::Internal, "predictCropped: a cascade stage without the previous stage's labels");
    for (auto& c : previousStageChannels(m, in.previous, cropShape, netShape, spacing, target, workers))
      pre.push_back(std::move(c));
    std::vector<std::uint16_t>().swap(in.previous);
  }

  inference::EngineOptions o;
  const json& patch = cfg["patch_size"];
  o.patch = m.slices ? Shape3{1, patch[0].get<std::int64_t>(), patch[1].get<std::int64_t>()}
                     : Shape3{patch[0].get<std::int64_t>(), patch[1].get<std::int64_t>(), patch[2].get<std::int64_t>()};
  o.tiling.rule = Tiling::Rule::NnUNet;
  o.everySlice = m.slices;
  o.tiling.step = m.options.step;
  o.importance.type = ImportanceMap::Type::GaussianNnUNet;
  o.importance.sigmaScale = 0.125;
  o.halfAccumulation = true;
  if (m.options.tta) o.mirrorAxes = m.folds.front().allowedMirrorAxes();
  o.precision = settings.precision;
  o.cudnnBenchmark = settings.cudnnBenchmark;
  o.deviceLabels = settings.deviceLabels;
  inference::InputVolume input;
  input.zyx = netShape;
  for (const auto& p : pre) input.channels.push_back(p.data());
  std::vector<const inference::Network*> nets;
  for (const auto& n : m.folds) nets.push_back(&n);
  NnUNetStreamingExport exporter(netShape, in.box, full, target, spacing, keepProbabilities, labels(),
                                 m.regionsClassOrder);
  exporter.workers = workers;
  if (m.regionsClassOrder.empty()) exporter.offerLabelRule(std::size_t(m.numClasses));
  NnUNetPrediction r;
  r.stats = inference::slidingWindow(nets, input, AxisOrder::ZYX, o, exporter, progress);
  exporter.finish();
  r.channels = exporter.channels;
  if (keepProbabilities) r.probabilities = std::move(exporter.probabilities);
  return r;
}

} // namespace voxseg::pipeline
