#pragma once
// Instance-style (lesion-wise) evaluation of one label: the 26-connected components of the
// prediction mask and of the reference mask, matched one-to-one by IoU, with lesion-wise detection
// counts, per-lesion Dice and panoptic quality (Kirillov et al. 2019). Documentation/evaluation.md.

#include "voxseg/evaluation/LabelMap.h"

#include <nlohmann/json_fwd.hpp>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace voxseg::evaluation {

struct InstanceOptions {
  double iouThreshold = 0.5; ///< a pair matches when its IoU is strictly above this
};

/// Connected components of a mask (non-zero inside, `size` voxels, x fastest), 26-connectivity.
/// Returns one id per voxel: 0 outside, 1..count inside, numbered in raster order of each
/// component's first voxel; `count` receives the number of components.
std::vector<std::uint32_t> connectedComponents(const std::uint8_t* mask, const Size3& size, std::size_t& count);

struct MatchedLesion {
  std::size_t reference = 0;  ///< component id in the reference (1-based)
  std::size_t prediction = 0; ///< component id in the prediction (1-based)
  double iou = 0;
  double dice = 0;
};

struct InstanceMetrics {
  std::size_t referenceComponents = 0;
  std::size_t predictionComponents = 0;
  std::size_t truePositives = 0;      ///< matched pairs
  std::size_t falsePositives = 0;     ///< unmatched prediction components
  std::size_t falseNegatives = 0;     ///< unmatched reference components
  double detectionSensitivity = 0;    ///< TP / reference components (nan without reference components)
  double detectionPrecision = 0;      ///< TP / prediction components (nan without prediction components)
  double detectionF1 = 0;             ///< 2TP / (2TP + FP + FN) (nan when both are empty)
  double meanLesionDice = 0;          ///< mean Dice of the matched pairs (nan without matches)
  double sq = 0;                      ///< mean IoU of the matched pairs (0 without matches; nan when both are empty)
  double rq = 0;                      ///< TP / (TP + FP/2 + FN/2) (nan when both are empty)
  double pq = 0;                      ///< SQ x RQ (nan when both are empty)
  std::vector<MatchedLesion> matches; ///< by IoU, descending
};

/// Instance metrics from two masks on one grid (non-zero inside, `size` voxels, x fastest).
/// Matching is greedy by IoU, descending (ties: lower reference then prediction id first); with a
/// threshold >= 0.5 it is the unique one-to-one matching of pairs with IoU above the threshold.
InstanceMetrics instanceMetrics(const std::uint8_t* reference, const std::uint8_t* prediction, const Size3& size,
                                const InstanceOptions& options = {});

/// The instance metrics of `label` in two label maps; throws Error(Usage) if the grids differ.
InstanceMetrics instanceMetrics(const LabelMap& reference, const LabelMap& prediction, int label,
                                const InstanceOptions& options = {});

/// {"reference_components", "prediction_components", "tp", "fp", "fn", "detection_sensitivity",
///  "detection_precision", "detection_f1", "mean_lesion_dice", "sq", "rq", "pq"} (nan as "nan").
nlohmann::json instancesToJson(const InstanceMetrics& metrics);

/// The per-lesion Dice values of the matched pairs, as a JSON array (matching order).
nlohmann::json lesionDiceJson(const InstanceMetrics& metrics);

} // namespace voxseg::evaluation
