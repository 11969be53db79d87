#pragma once
// Overlap (volume) metrics of one label: voxel counts of the reference and prediction masks and the
// ratios built from them. Ratios with a zero denominator are NaN unless a rule below says otherwise.

#include "voxseg/core/Geometry.h"

#include <cstdint>

namespace voxseg::evaluation {

/// Voxel counts of the masks `reference == label` and `prediction == label` on one grid.
struct VoxelCounts {
  std::uint64_t reference = 0;    ///< |R|
  std::uint64_t prediction = 0;   ///< |P|
  std::uint64_t intersection = 0; ///< |R and P| = true positives
  std::uint64_t total = 0;        ///< voxels in the grid

  std::uint64_t truePositives() const { return intersection; }
  std::uint64_t falsePositives() const { return prediction - intersection; }
  std::uint64_t falseNegatives() const { return reference - intersection; }
  std::uint64_t trueNegatives() const { return total - reference - prediction + intersection; }
};

/// How Dice treats empty masks.
enum class EmptyDiceRule {
  NanWhenBothEmpty,      ///< DeepMind compute_dice_coefficient: 2|R and P| / (|R| + |P|), NaN when both are empty
  NanWhenReferenceEmpty, ///< MONAI compute_dice(ignore_empty=True): NaN whenever the reference is empty
  OneWhenBothEmpty,      ///< MONAI compute_dice(ignore_empty=False): reference empty -> 1 if |P| = 0, else 0
};

double dice(const VoxelCounts& counts, EmptyDiceRule rule = EmptyDiceRule::NanWhenBothEmpty);

struct OverlapMetrics {
  double dice = 0;                     ///< 2TP / (2TP + FP + FN); NaN when both masks are empty
  double iou = 0;                      ///< Jaccard TP / (TP + FP + FN); NaN when both masks are empty
  double voxelAccuracy = 0;            ///< (TP + TN) / all voxels
  double volumetricSimilarity = 0;     ///< 1 - |FN - FP| / (2TP + FP + FN); NaN when both masks are empty
  double sensitivity = 0;              ///< TP / (TP + FN); NaN when the reference is empty
  double precision = 0;                ///< TP / (TP + FP); NaN when the prediction is empty
  double specificity = 0;              ///< TN / (TN + FP); NaN when the reference fills the grid
  double referenceMl = 0;              ///< |R| x voxel volume / 1000
  double predictionMl = 0;             ///< |P| x voxel volume / 1000
  double relativeVolumeDifference = 0; ///< (|P| - |R|) / |R| (signed); +inf if only R is empty, NaN if both
};

/// Voxel volume from `spacing` (mm).
OverlapMetrics overlapMetrics(const VoxelCounts& counts, const Vec3& spacing);

} // namespace voxseg::evaluation
