#pragma once
// Metrics of every requested label of one case (a reference and a prediction label map on one grid),
// with presets that reproduce DeepMind surface-distance and MONAI 1.4 (Documentation/evaluation.md).

#include "voxseg/evaluation/LabelMap.h"
#include "voxseg/evaluation/Overlap.h"

#include <nlohmann/json_fwd.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace voxseg::evaluation {

enum class Preset {
  DeepMind, ///< google-deepmind/surface-distance (the default)
  Monai,    ///< MONAI 1.4 monai.metrics
};

/// "deepmind", "monai".
std::string presetName(Preset preset);
/// Inverse of presetName; throws Error(Usage) naming the accepted values.
Preset parsePreset(const std::string& name);
/// The name of a preset's percentile Hausdorff distance: "robust_hausdorff_95" (deepmind),
/// "hausdorff_95" (monai), with the percentile as given (100 names the maximum).
std::string hausdorffMetricName(Preset preset, double percentile);

struct EvaluationOptions {
  std::vector<Preset> presets{Preset::DeepMind};
  double percentile = 95;                 ///< the robust Hausdorff distance's percentile (HD95)
  std::vector<double> tolerancesMm{1, 2}; ///< surface Dice and surface overlap tolerances
  int threads = 0;                        ///< threads (labels at once, then within a label); 0: one per hardware thread
  /// nnU-Net's ignore label: voxels the reference holds this value are left out of every mask and count (TN
  /// included), in both maps, as nnU-Net's compute_metrics leaves them out (it counts voxels only; here the
  /// surfaces see those voxels as background). 1..65535, or -1: none. It cannot be evaluated itself.
  int ignoreLabel = -1;
};

struct Metric {
  std::string name;
  double value = 0;
};

/// One preset's metrics of one label, named and ordered as the tool's own results
/// (e.g. "robust_hausdorff_95", "surface_dice_at_1mm"; MONAI: "hausdorff_95", "surface_dice_1_subvoxels_false").
struct PresetMetrics {
  Preset preset = Preset::DeepMind;
  std::vector<Metric> metrics;
  /// The value of `name`; throws Error(Internal) if the preset has no such metric.
  double at(std::string_view name) const;
};

struct LabelResult {
  int label = 0;           ///< the label evaluated (0 for a region)
  std::vector<int> region; ///< evaluateRegions: the region's labels, ascending; empty for a label
  VoxelCounts counts;
  OverlapMetrics overlap;
  std::vector<PresetMetrics> presets; ///< in the order of EvaluationOptions::presets
};

/// Evaluates each label of `labels` (absent labels included: their empty-mask values follow each
/// preset). Throws Error(Usage) if the grids differ or options are out of range.
std::vector<LabelResult> evaluateLabels(const LabelMap& reference, const LabelMap& prediction,
                                        const std::vector<int>& labels, const EvaluationOptions& options = {});

/// Evaluates each region as one mask: the voxels holding any of its labels, in both maps. nnU-Net's
/// region-based datasets score regions so (BraTS's whole tumor {1, 2, 3}, tumor core {2, 3}, enhancing
/// tumor {3}: `compute_metrics_on_folder` with `foreground_regions`). Results in the order given, each
/// with `region` set (ascending) and `label` 0. Throws Error(Usage) for an empty region, a label outside
/// 1..65535 or given twice in a region, a region given twice (in any order), or the evaluateLabels errors.
std::vector<LabelResult> evaluateRegions(const LabelMap& reference, const LabelMap& prediction,
                                         const std::vector<std::vector<int>>& regions,
                                         const EvaluationOptions& options = {});

/// Labels ({value}) and regions (two labels or more) in one call, results in the order given: the labels side by
/// side (evaluateLabels: one pass over the maps for all of them), the regions as evaluateRegions scores them. A
/// one-label target is that label (its counts are the one-label region's). Throws what those two throw.
std::vector<LabelResult> evaluateTargets(const LabelMap& reference, const LabelMap& prediction,
                                         const std::vector<std::vector<int>>& targets,
                                         const EvaluationOptions& options = {});

/// One preset's metrics from precomputed overlap counts and the masks' surfaces; what evaluateLabels
/// runs per label. Masks are non-zero inside, `size` voxels, x fastest.
PresetMetrics presetMetrics(Preset preset, const VoxelCounts& counts, const std::uint8_t* reference,
                            const std::uint8_t* prediction, const Size3& size, const Vec3& spacing,
                            const EvaluationOptions& options);

/// MONAI's case-level DiceMetric(reduction="mean") over the labels' Dice values (the mean of the
/// non-NaN values, 0 when all are NaN): "DiceMetric_mean_ignore_empty_true" and "..._false".
/// Requires the monai preset in every result.
std::vector<Metric> monaiCaseLevel(const std::vector<LabelResult>& results);

/// A metric value as JSON: a number, or the strings "inf", "-inf", "nan".
nlohmann::json metricJson(double value);

/// {"label" (or "region": [labels] for a region), "voxel_counts": {...}, "overlap": {...}, "<preset>": {name: value,
/// ...}, ...}.
nlohmann::json toJson(const LabelResult& result);

/// {"case", "options": {...}, "labels": [toJson(label), ...], "monai_case_level": {...} when monai ran}.
nlohmann::json caseToJson(const std::string& caseId, const std::vector<LabelResult>& results,
                          const EvaluationOptions& options);

} // namespace voxseg::evaluation
