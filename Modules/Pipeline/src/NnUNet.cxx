#include "voxseg/pipeline/NnUNet.h"

#include "NnUNetExport.h"

#include "voxseg/core/Error.h"
#include "voxseg/core/Log.h"
#include "voxseg/inference/NnUNetFolder.h"
#include "voxseg/processing/Crop.h"
#include "voxseg/processing/NnUNetResampling.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

namespace fs = std::filesystem;

namespace voxseg::pipeline {
namespace {

using nlohmann::json;
using processing::Shape3;

// DefaultPreprocessor._normalize for one channel, in float32 as NumPy does it.
void normalizeChannel(std::vector<float>& v, const std::string& scheme, bool useMask, const json& props,
                      const std::vector<std::uint8_t>& mask, const std::string& source) {
  if (scheme == "CTNormalization") {
    const float lo = props.at("percentile_00_5").get<float>(), hi = props.at("percentile_99_5").get<float>();
    const float mean = props.at("mean").get<float>();
    const float sd = float(std::max(props.at("std").get<double>(), 1e-8));
    for (float& x : v) x = (std::clamp(x, lo, hi) - mean) / sd;
  } else if (scheme == "ZScoreNormalization") {
    double sum = 0, sq = 0;
    std::size_t n = 0;
    for (std::size_t i = 0; i < v.size(); ++i)
      if (!useMask || mask[i]) {
        sum += v[i];
        ++n;
      }
    const double mean = n ? sum / double(n) : 0.0;
    for (std::size_t i = 0; i < v.size(); ++i)
      if (!useMask || mask[i]) sq += (v[i] - mean) * (v[i] - mean);
    const double sd = std::max(n ? std::sqrt(sq / double(n)) : 0.0, 1e-8);
    for (std::size_t i = 0; i < v.size(); ++i)
      if (!useMask || mask[i]) v[i] = float((v[i] - mean) / sd);
  } else if (scheme == "RescaleTo01Normalization") {
    float lo = v.empty() ? 0 : *std::min_element(v.begin(), v.end());
    float hi = v.empty() ? 0 : *std::max_element(v.begin(), v.end());
    for (float& x : v) x = (x - lo) / std::max(hi - lo, 1e-8f);
  } else if (scheme != "NoNormalization") {
    throw Error(ExitCode::Model,
                source + ": normalization scheme '" + scheme +
                    "' is not supported (CTNormalization, ZScoreNormalization, RescaleTo01Normalization, "
                    "NoNormalization)");
  }
}

} // namespace

NnUNetModel loadNnUNet(const NnUNetOptions& options, const SegmenterOptions& run) {
  inference::setThreads(run.threads);
  const inference::NnUNetFolder folder = inference::readNnUNetFolder(options.folder); // read once for every fold
  NnUNetModel m;
  m.options = options;
  m.plans = folder.plans;
  m.dataset = folder.dataset;
  m.configuration = folder.configuration;
  const fs::path dir(options.folder);
  const auto identity = json::array({0, 1, 2});
  if (m.plans.value("transpose_forward", identity) != identity)
    throw Error(ExitCode::Model, (dir / "plans.json").string() + ": transpose_forward " +
                                     m.plans["transpose_forward"].dump() + " is not supported yet (only [0, 1, 2])");
  if (m.dataset.contains("regions_class_order"))
    throw Error(ExitCode::Model, (dir / "dataset.json").string() + ": region-based models are not supported yet");
  if (!m.configuration.contains("patch_size") || m.configuration["patch_size"].size() != 3)
    throw Error(ExitCode::Model, options.folder + ": only 3D configurations are supported");
  for (int fold : options.folds)
    m.folds.push_back(inference::Network::loadNnUNetFold(folder, fold, options.checkpoint, run.device));
  return m;
}

NnUNetResult segmentNnUNet(const NnUNetModel& m, const std::vector<io::Volume>& channels, const SegmenterOptions& run,
                           bool keepProbabilities, const inference::ProgressFn& progress) {
  const json& cfg = m.configuration;
  const auto& names = m.dataset.at("channel_names");
  if (channels.size() != names.size())
    throw usageError("the nnU-Net model needs " + std::to_string(names.size()) +
                     " input volume(s) (one per channel_names "
                     "entry of dataset.json), got " +
                     std::to_string(channels.size()));
  const Geometry g = channels.front().geometry();
  for (const auto& c : channels)
    if (c.geometry().size != g.size) throw inputError(c.source, "not the same size as " + channels.front().source);
  // nnU-Net's array: (z, y, x) = ITK's buffer; spacing reversed.
  const Shape3 full{std::int64_t(g.size[2]), std::int64_t(g.size[1]), std::int64_t(g.size[0])};
  const processing::Spacing3 spacing{g.spacing[2], g.spacing[1], g.spacing[0]};
  std::vector<itk::Image<float, 3>::Pointer> floats;
  std::vector<const float*> ptrs;
  for (const auto& c : channels) {
    floats.push_back(c.toFloat());
    ptrs.push_back(floats.back()->GetBufferPointer());
  }
  const processing::Box box = processing::nonzeroBox(ptrs, full);
  const Shape3 cropShape = box.size();
  std::vector<std::uint8_t> mask;
  const processing::Spacing3 target{cfg["spacing"][0].get<double>(), cfg["spacing"][1].get<double>(),
                                    cfg["spacing"][2].get<double>()};
  const Shape3 netShape = processing::nnunetNewShape(cropShape, spacing, target);
  const json kw = cfg.value("resampling_fn_data_kwargs", json::object());
  const int order = kw.value("order", 3), orderZ = kw.value("order_z", 0);
  processing::SeparateZ sep = processing::nnunetSeparateZ(spacing, target);
  if (kw.contains("force_separate_z") && !kw["force_separate_z"].is_null()) {
    sep = {};
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
  }
  std::vector<std::vector<float>> pre;
  for (std::size_t c = 0; c < channels.size(); ++c) {
    auto v = processing::crop(ptrs[c], full, box);
    const bool useMask = cfg["use_mask_for_norm"][c].get<bool>();
    if (useMask && mask.empty()) mask = processing::nonzeroMask(ptrs, full, box); // crop_to_nonzero's seg >= 0
    const json props = m.plans["foreground_intensity_properties_per_channel"].value(std::to_string(c), json::object());
    normalizeChannel(v, cfg["normalization_schemes"][c].get<std::string>(), useMask, props, mask, m.options.folder);
    pre.push_back(processing::nnunetResample(v.data(), cropShape, netShape, order, sep, orderZ));
  }

  inference::EngineOptions o;
  for (int a = 0; a < 3; ++a) o.patch[std::size_t(a)] = cfg["patch_size"][a].get<std::int64_t>();
  o.tiling.rule = Tiling::Rule::NnUNet;
  o.tiling.step = m.options.step;
  o.importance.type = ImportanceMap::Type::GaussianNnUNet;
  o.importance.sigmaScale = 0.125;
  o.halfAccumulation = true;
  if (m.options.tta) o.mirrorAxes = m.folds.front().allowedMirrorAxes();
  o.precision = run.precision;
  inference::InputVolume in;
  in.zyx = netShape;
  for (const auto& p : pre) in.channels.push_back(p.data());
  std::vector<const inference::Network*> nets;
  for (const auto& n : m.folds) nets.push_back(&n);
  NnUNetStreamingExport exporter(netShape, box, full, target, spacing, keepProbabilities);
  NnUNetResult r;
  r.stats = inference::slidingWindow(nets, in, AxisOrder::ZYX, o, exporter, progress);
  exporter.finish();
  r.labels = io::makeVolume(PixelType::UInt8, g);
  std::copy(exporter.labels.begin(), exporter.labels.end(), r.labels.as<std::uint8_t>()->GetBufferPointer());
  r.labels.source = channels.front().source;
  r.channels = exporter.channels;
  if (keepProbabilities) r.probabilities = std::move(exporter.probabilities);
  return r;
}

} // namespace voxseg::pipeline
