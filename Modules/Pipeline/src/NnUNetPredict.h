#pragma once
// nnU-Net's path from the cropped arrays on: normalization, resampling to the configuration's spacing,
// its sliding window and the export to labels (NnUNetStreamingExport). Free of ITK: NnUNet.cxx reads and
// crops io::Volumes and calls it; the GPU machine's build (Testing/Device) calls it on an array.

#include "NnUNetExport.h"
#include "voxseg/pipeline/NnUNetModel.h"
#include "voxseg/processing/Crop.h"

#include <functional>
#include <string>
#include <vector>

namespace voxseg::pipeline {

/// The channels cropped to nnU-Net's non-zero box (crop_to_nonzero), in the model's axis order.
struct NnUNetCropped {
  std::vector<std::vector<float>> channels; ///< box.size() each, C order
  processing::Box box;                      ///< in the full array
  std::vector<std::uint8_t> mask;           ///< the non-zero mask inside the box; empty unless use_mask_for_norm
  /// A cascade stage's input: the previous stage's labels inside the box (box.size(), C order).
  std::vector<std::uint16_t> previous;
};

struct NnUNetPrediction {
  inference::RunStats stats;
  std::vector<float> probabilities; ///< [K][full shape] when kept
  std::int64_t channels = 0;
};

struct NnUNetRunSettings {
  std::string precision = "float32"; ///< CUDA autocast
  bool cudnnBenchmark = false;
  bool keepProbabilities = false;
  /// Where the labels are made when no resampling back is needed (softmax models without probabilities):
  /// Device (the default) on a GPU, as argmax of the same float16 values; Always on the CPU too (tests).
  inference::DeviceLabels deviceLabels = inference::DeviceLabels::Device;
};

/// Preprocesses `in` (full array shape `full`, voxel spacing `spacing`; `source` names the input in errors),
/// runs every fold and writes the labels of the full array into the storage that `labels` returns (zeros,
/// asked for once preprocessing has let its copies go). Consumes the cropped channels.
NnUNetPrediction predictCropped(const NnUNetModel& m, NnUNetCropped in, const processing::Shape3& full,
                                const processing::Spacing3& spacing, const std::string& source,
                                const NnUNetRunSettings& settings, const std::function<LabelBuffer()>& labels,
                                const inference::ProgressFn& progress = {});

} // namespace voxseg::pipeline
