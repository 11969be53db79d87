#pragma once
// After `voxseg train`: nnU-Net's final validation (nnUNetTrainer.perform_actual_validation). The cases the run
// validated on are segmented with the trained fold through the nnU-Net inference path (test-time mirroring, step
// 0.5), written to <fold>/validation/<case><file ending> on their input's grid, and scored against their labels into
// <fold>/validation/summary.json as nnU-Net's compute_metrics_on_folder scores them.

#include "voxseg/evaluation/NnUNetSummary.h"
#include "voxseg/training/Dataset.h"
#include "voxseg/training/Train.h"

#include <string>
#include <vector>

namespace voxseg::cli {

struct FinalValidation {
  std::string folder;            ///< <fold>/validation
  std::vector<std::string> keys; ///< the labels or regions scored, as summary.json names them
  evaluation::NnUNetSummary summary;
};

/// The labels or regions nnU-Net scores for the raw dataset (its LabelManager's foreground labels, or regions in the
/// file's order) with their summary.json keys; `regions` tells which.
struct ValidationTargets {
  std::vector<std::string> keys;
  std::vector<std::vector<int>> targets; ///< one label each, or a region's labels
  bool regions = false;
  int ignoreLabel = -1;
};
ValidationTargets validationTargets(const training::RawDataset& dataset);

/// Runs the final validation of the fold `summary` trained from `options`. Throws voxseg::Error.
FinalValidation validateTrainedFold(const training::TrainOptions& options, const training::TrainSummary& summary);

} // namespace voxseg::cli
