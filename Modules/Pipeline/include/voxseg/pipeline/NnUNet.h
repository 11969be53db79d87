#pragma once
// nnU-Net v2 trained-model folders run natively: nnU-Net's preprocessing (crop to non-zero,
// normalization by scheme, resampling with the separate-z rule), its sliding window (Gaussian, float16
// accumulators, mirroring, fold ensemble) and its export (resampling back, softmax, argmax, un-crop).
// Like nnU-Net, this path works on the voxel array and ignores the direction matrix; the label map
// gets the input's geometry.

#include "voxseg/io/Volume.h"
#include "voxseg/pipeline/NnUNetModel.h"
#include "voxseg/pipeline/Segmenter.h"

#include <string>
#include <vector>

namespace voxseg::pipeline {

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
  std::size_t postprocessed = 0; ///< voxels nnU-Net's post-processing set to the background (NnUNetPredictor)
};

/// Segments one case (`channels`: one volume per dataset.json channel, on one grid). A cascade stage needs the
/// previous stage's labels: `previousStage` (on the channels' grid, integer pixels), or else model.previous is
/// run first on the same channels. Throws Error(Usage) when neither is there, or when `previousStage` is given
/// to a model that is not a cascade stage.
NnUNetResult segmentNnUNet(const NnUNetModel& model, const std::vector<io::Volume>& channels,
                           const SegmenterOptions& run, bool keepProbabilities,
                           const inference::ProgressFn& progress = {}, const io::Volume* previousStage = nullptr);

} // namespace voxseg::pipeline
