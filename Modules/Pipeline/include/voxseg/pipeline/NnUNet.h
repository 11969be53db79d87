#pragma once
// nnU-Net v2 trained-model folders run natively: nnU-Net's preprocessing (crop to non-zero,
// normalization by scheme, resampling with the separate-z rule), its sliding window (Gaussian, float16
// accumulators, mirroring, fold ensemble) and its export (resampling back, softmax, argmax, un-crop).
// Like nnU-Net, this path works on the voxel array and ignores the direction matrix; the label map
// gets the input's geometry.

#include "voxseg/inference/Network.h"
#include "voxseg/io/Volume.h"
#include "voxseg/pipeline/Segmenter.h"

#include <nlohmann/json.hpp>

#include <array>
#include <string>
#include <vector>

namespace voxseg::pipeline {

struct NnUNetOptions {
  std::string folder; ///< e.g. .../Dataset003_Liver/nnUNetTrainer__nnUNetPlans__3d_fullres
  std::vector<int> folds{0};
  std::string checkpoint = "final"; ///< final | best
  double step = 0.5;
  bool tta = true; ///< mirroring over the checkpoint's allowed axes
};

struct NnUNetModel {
  std::vector<inference::Network> folds;
  nlohmann::json configuration; ///< plans' configuration (inherits_from resolved)
  nlohmann::json plans;
  nlohmann::json dataset;
  NnUNetOptions options;
  std::array<int, 3> transposeForward{0, 1, 2};  ///< plans.json, applied to the (z, y, x) array
  std::array<int, 3> transposeBackward{0, 1, 2}; ///< its inverse
  std::vector<int> regionsClassOrder;            ///< dataset.json; empty: softmax model
  int maxLabel = 0;                              ///< largest label value the model can write
};

/// "0,1, 2" -> {0, 1, 2}: the --folds text of the command-line tools. Anything else (empty items,
/// non-digits, duplicates) throws usageError naming the option.
std::vector<int> parseNnUNetFolds(const std::string& text);

/// Reads the folder and rebuilds every fold's network. Throws Error(Model) naming the file and problem.
NnUNetModel loadNnUNet(const NnUNetOptions& options, const SegmenterOptions& run);

/// The label table of dataset.json: name -> value, or for region-based models name -> [values] with the
/// written value taken from regions_class_order in the order of the foreground entries; sorted by value,
/// every foreground label with its default color (core/LabelColors.h).
std::vector<LabelInfo> labelTable(const NnUNetModel& model);

struct NnUNetResult {
  io::Volume labels;                ///< on the input grid; uint8, or uint16 when labels exceed 255
  std::vector<float> probabilities; ///< [K][Z][Y][X] (ITK layout) when requested
  std::int64_t channels = 0;
  inference::RunStats stats;
};

NnUNetResult segmentNnUNet(const NnUNetModel& model, const std::vector<io::Volume>& channels,
                           const SegmenterOptions& run, bool keepProbabilities,
                           const inference::ProgressFn& progress = {});

} // namespace voxseg::pipeline
