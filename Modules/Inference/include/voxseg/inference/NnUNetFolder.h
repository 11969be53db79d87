#pragma once
// An nnU-Net v2 trained-model folder's description, read once: plans.json, dataset.json and the
// configuration named by the folder (<trainer>__<plans>__<configuration>), inherits_from resolved.

#include "voxseg/core/Error.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace voxseg::inference {

struct NnUNetFolder {
  std::string path;
  std::string configurationName; ///< e.g. "3d_fullres"
  nlohmann::json plans;
  nlohmann::json dataset;
  nlohmann::json configuration; ///< plans["configurations"][name], inherits_from resolved
  int inputChannels = 0;        ///< entries of dataset.json channel_names
  int numClasses = 0;           ///< labels (or regions_class_order for region-based datasets)
  bool slices = false;          ///< a 2D configuration: patch_size and spacing are (y, x), one slice at a time
  /// A cascade stage's previous_stage (e.g. "3d_lowres"); empty for other configurations.
  std::string previousStage;
  /// A cascade stage's extra input channels: one per foreground label (dataset.json's label values but 0 and
  /// "ignore", sorted), the previous stage's labels one-hot encoded.
  std::vector<int> cascadeLabels;
  int networkInputChannels() const { return inputChannels + static_cast<int>(cascadeLabels.size()); }
};

/// Whether `path` is a folder holding plans.json: what the tools take for an nnU-Net trained-model folder (false,
/// not an exception, when it cannot be examined).
bool isNnUNetFolder(const std::string& path);

/// Reads and checks the folder; throws Error(Model) naming the file and the problem (missing files,
/// invalid JSON, unknown configuration, plans without an architecture block).
NnUNetFolder readNnUNetFolder(const std::string& folder);

/// The Error(Model) for a plans.json/dataset.json value of a missing key or another type than nnU-Net
/// writes (nlohmann's exception `e`), wherever the value is read.
Error plansContentError(const std::string& folder, const nlohmann::json::exception& e);

} // namespace voxseg::inference
