#include "voxseg/evaluation/Evaluate.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>

namespace voxseg::evaluation {

nlohmann::json metricJson(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  return value;
}

nlohmann::json toJson(const LabelResult& r) {
  nlohmann::json j;
  if (r.region.empty())
    j["label"] = r.label;
  else
    j["region"] = r.region;
  const VoxelCounts& c = r.counts;
  j["voxel_counts"] = {{"reference", c.reference},
                       {"prediction", c.prediction},
                       {"intersection", c.intersection},
                       {"true_positives", c.truePositives()},
                       {"false_positives", c.falsePositives()},
                       {"false_negatives", c.falseNegatives()},
                       {"true_negatives", c.trueNegatives()}};
  const OverlapMetrics& o = r.overlap;
  nlohmann::json overlap = nlohmann::json::object();
  overlap["dice"] = metricJson(o.dice);
  overlap["iou"] = metricJson(o.iou);
  overlap["voxel_accuracy"] = metricJson(o.voxelAccuracy);
  overlap["volumetric_similarity"] = metricJson(o.volumetricSimilarity);
  overlap["sensitivity"] = metricJson(o.sensitivity);
  overlap["precision"] = metricJson(o.precision);
  overlap["specificity"] = metricJson(o.specificity);
  overlap["reference_volume_ml"] = metricJson(o.referenceMl);
  overlap["prediction_volume_ml"] = metricJson(o.predictionMl);
  overlap["relative_volume_difference"] = metricJson(o.relativeVolumeDifference);
  j["overlap"] = overlap;
  for (const PresetMetrics& p : r.presets) {
    nlohmann::json block = nlohmann::json::object();
    for (const Metric& m : p.metrics) // counts (num_surfels_*) as JSON integers (they read 12232.0)
      block[m.name] = m.name.rfind("num_", 0) == 0 && std::isfinite(m.value)
                          ? nlohmann::json(static_cast<std::int64_t>(m.value))
                          : metricJson(m.value);
    j[presetName(p.preset)] = block;
  }
  return j;
}

nlohmann::json caseToJson(const std::string& caseId, const std::vector<LabelResult>& results,
                          const EvaluationOptions& options) {
  nlohmann::json j;
  j["case"] = caseId;
  nlohmann::json presets = nlohmann::json::array();
  bool monai = false;
  for (Preset p : options.presets) {
    presets.push_back(presetName(p));
    monai = monai || p == Preset::Monai;
  }
  j["options"] = {{"presets", presets}, {"percentile", options.percentile}, {"tolerances_mm", options.tolerancesMm}};
  if (options.ignoreLabel >= 0) j["options"]["ignore_label"] = options.ignoreLabel;
  nlohmann::json labels = nlohmann::json::array();
  for (const LabelResult& r : results) labels.push_back(toJson(r));
  j["labels"] = labels;
  if (monai) {
    nlohmann::json level = nlohmann::json::object();
    for (const Metric& m : monaiCaseLevel(results)) level[m.name] = metricJson(m.value);
    j["monai_case_level"] = level;
  }
  return j;
}

} // namespace voxseg::evaluation
