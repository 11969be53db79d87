#include "Presets.h"

#include "Surfaces.h"

#include "voxseg/core/Error.h"
#include "voxseg/evaluation/SurfaceDistance.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <optional>
#include <sstream>

namespace voxseg::evaluation {
namespace {

constexpr double kNan = std::numeric_limits<double>::quiet_NaN();

// 1 -> "1", 2.5 -> "2.5": the tools' key suffixes for tolerances and percentiles, 15 significant digits, or more
// where the text would not read back as the same double (15 named 1 and 1.000000000000001 alike: one tolerance's
// metrics replaced the other's).
std::string number(double v) {
  char b[40];
  for (int p = 15; p <= 17; ++p) {
    std::snprintf(b, sizeof b, "%.*g", p, v);
    if (std::strtod(b, nullptr) == v) break;
  }
  return b;
}

// MONAI returns float32 tensors.
double f32(double v) { return static_cast<float>(v); }

// MONAI compute_dice: 2 sum(y * y_pred) / (sum(y) + sum(y_pred)) in float32 when y is not empty.
double monaiDice(const VoxelCounts& c, bool ignoreEmpty) {
  if (c.reference == 0) {
    if (ignoreEmpty) return kNan;
    return c.prediction == 0 ? 1.0 : 0.0;
  }
  const float num = 2.0f * static_cast<float>(c.intersection);
  return num / (static_cast<float>(c.reference) + static_cast<float>(c.prediction));
}

std::vector<Metric> deepMind(const VoxelCounts& c, const SurfaceDistances& s, const EvaluationOptions& o) {
  const SurfaceConventions conv = SurfaceConventions::deepMind();
  std::vector<Metric> m;
  m.push_back({"dice", dice(c, EmptyDiceRule::NanWhenBothEmpty)});
  m.push_back({"average_surface_distance_gt_to_pred", averageDistance(s.referenceToPrediction)});
  m.push_back({"average_surface_distance_pred_to_gt", averageDistance(s.predictionToReference)});
  m.push_back({"robust_hausdorff_100", hausdorffDistance(s, 100, conv)});
  if (o.percentile != 100)
    m.push_back({hausdorffMetricName(Preset::DeepMind, o.percentile), hausdorffDistance(s, o.percentile, conv)});
  for (double tol : o.tolerancesMm) {
    m.push_back({"surface_overlap_gt_at_" + number(tol) + "mm", surfaceOverlap(s.referenceToPrediction, tol, conv)});
    m.push_back({"surface_overlap_pred_at_" + number(tol) + "mm", surfaceOverlap(s.predictionToReference, tol, conv)});
  }
  for (double tol : o.tolerancesMm) m.push_back({"surface_dice_at_" + number(tol) + "mm", surfaceDice(s, tol, conv)});
  m.push_back({"num_surfels_gt", static_cast<double>(s.referencePoints)});
  m.push_back({"num_surfels_pred", static_cast<double>(s.predictionPoints)});
  m.push_back({"surface_area_gt_mm2", s.referenceArea});
  m.push_back({"surface_area_pred_mm2", s.predictionArea});
  return m;
}

std::vector<Metric> monai(const VoxelCounts& c, const SurfaceDistances& edges, const SurfaceDistances& subvoxels,
                          const EvaluationOptions& o) {
  const SurfaceConventions conv = SurfaceConventions::monai();
  const SurfaceConventions sub = SurfaceConventions::monaiSubvoxels();
  std::vector<Metric> m;
  m.push_back({"dice_ignore_empty_true", monaiDice(c, true)});
  m.push_back({"dice_ignore_empty_false", monaiDice(c, false)});
  m.push_back({"DiceMetric_ignore_empty_true", monaiDice(c, true)});
  m.push_back({"DiceMetric_ignore_empty_false", monaiDice(c, false)});
  m.push_back({"hausdorff_100", f32(maximumHausdorffDistance(edges))});
  if (o.percentile != 100)
    m.push_back({hausdorffMetricName(Preset::Monai, o.percentile), f32(hausdorffDistance(edges, o.percentile, conv))});
  m.push_back({"hausdorff_100_directed_pred_to_gt", f32(maximumDistance(edges.predictionToReference))});
  m.push_back({"average_surface_distance_symmetric_false", f32(averageDistance(edges.predictionToReference))});
  m.push_back({"average_surface_distance_symmetric_true", f32(averageDistanceBoth(edges))});
  for (double tol : o.tolerancesMm) {
    m.push_back({"surface_dice_" + number(tol) + "_subvoxels_false", f32(surfaceDice(edges, tol, conv))});
    m.push_back({"surface_dice_" + number(tol) + "_subvoxels_true", f32(surfaceDice(subvoxels, tol, sub))});
  }
  return m;
}

} // namespace

namespace detail {

void validateOptions(const EvaluationOptions& o) {
  if (!(o.percentile >= 0 && o.percentile <= 100))
    throw usageError("percentile " + number(o.percentile) + " is outside 0..100");
  for (double tol : o.tolerancesMm)
    if (!(std::isfinite(tol) && tol >= 0))
      throw usageError("tolerance " + number(tol) + " mm is not a finite non-negative number");
  if (o.ignoreLabel != -1 && (o.ignoreLabel < 1 || o.ignoreLabel > 65535))
    throw usageError("ignore label " + std::to_string(o.ignoreLabel) + " is outside 1..65535");
}

std::vector<PresetMetrics> evaluateMasks(const VoxelCounts& counts, const std::uint8_t* reference,
                                         const std::uint8_t* prediction, const Size3& size, const Vec3& spacing,
                                         const EvaluationOptions& options, int threads) {
  std::optional<RawSurfaces> corners, edges;
  std::vector<PresetMetrics> out;
  for (Preset preset : options.presets) {
    if (!corners) corners = rawSurfaces(reference, prediction, size, spacing, SurfaceModel::CornerSurfels, threads);
    PresetMetrics pm;
    pm.preset = preset;
    if (preset == Preset::DeepMind) {
      pm.metrics = deepMind(counts, finishSurfaces(*corners, spacing, SurfaceConventions::deepMind()), options);
    } else {
      if (!edges) edges = rawSurfaces(reference, prediction, size, spacing, SurfaceModel::EdgeVoxels, threads);
      pm.metrics = monai(counts, finishSurfaces(*edges, spacing, SurfaceConventions::monai()),
                         finishSurfaces(*corners, spacing, SurfaceConventions::monaiSubvoxels()), options);
    }
    out.push_back(std::move(pm));
  }
  return out;
}

} // namespace detail

std::string hausdorffMetricName(Preset preset, double percentile) {
  return (preset == Preset::DeepMind ? "robust_hausdorff_" : "hausdorff_") + number(percentile);
}

std::string presetName(Preset preset) { return preset == Preset::DeepMind ? "deepmind" : "monai"; }

Preset parsePreset(const std::string& name) {
  if (name == "deepmind") return Preset::DeepMind;
  if (name == "monai") return Preset::Monai;
  throw usageError("unknown metrics preset '" + name + "' (expected deepmind or monai)");
}

double PresetMetrics::at(std::string_view name) const {
  for (const Metric& m : metrics)
    if (m.name == name) return m.value;
  throw Error(ExitCode::Internal, "preset " + presetName(preset) + " has no metric '" + std::string(name) + "'");
}

PresetMetrics presetMetrics(Preset preset, const VoxelCounts& counts, const std::uint8_t* reference,
                            const std::uint8_t* prediction, const Size3& size, const Vec3& spacing,
                            const EvaluationOptions& options) {
  detail::validateOptions(options);
  EvaluationOptions one = options;
  one.presets = {preset};
  return detail::evaluateMasks(counts, reference, prediction, size, spacing, one, options.threads).front();
}

std::vector<Metric> monaiCaseLevel(const std::vector<LabelResult>& results) {
  std::vector<Metric> out;
  for (const char* key : {"DiceMetric_ignore_empty_true", "DiceMetric_ignore_empty_false"}) {
    // do_metric_reduction("mean"): NaN entries are left out; no value left gives 0.
    float sum = 0, count = 0;
    for (const LabelResult& r : results)
      for (const PresetMetrics& p : r.presets)
        if (p.preset == Preset::Monai) {
          const double v = p.at(key);
          if (std::isnan(v)) continue;
          sum += static_cast<float>(v);
          count += 1;
        }
    const std::string name = std::string("DiceMetric_mean_") + (key + std::string("DiceMetric_").size());
    out.push_back({name, count > 0 ? static_cast<double>(sum / count) : 0.0});
  }
  return out;
}

} // namespace voxseg::evaluation
