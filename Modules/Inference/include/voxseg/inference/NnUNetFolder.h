#pragma once
// An nnU-Net v2 trained-model folder's description, read once: plans.json, dataset.json and the
// configuration named by the folder (<trainer>__<plans>__<configuration>), inherits_from resolved.

#include "voxseg/core/Error.h"
#include "voxseg/core/NnUNetLabels.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace voxseg::inference {

struct NnUNetFolder {
  std::string path;
  std::string configurationName; ///< e.g. "3d_fullres"
  nlohmann::json plans;
  nlohmann::json dataset; ///< (its objects' keys sorted: `labels` keeps the file's order)
  /// dataset.json's labels in the file's order, as Python's dict keeps them: a region-based dataset's regions pair
  /// with regions_class_order in this order.
  NnUNetLabels labels;
  nlohmann::json configuration; ///< plans["configurations"][name], inherits_from resolved
  int inputChannels = 0;        ///< entries of dataset.json channel_names
  /// Network outputs: one per region of a region-based dataset, else one per label value but "ignore" (nnU-Net's
  /// LabelManager.num_segmentation_heads; the ignore label has no output).
  int numClasses = 0;
  bool slices = false; ///< a 2D configuration: patch_size and spacing are (y, x), one slice at a time
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

/// The fold of fold_all/ (nnU-Net's `-f all`: a network trained on every case).
constexpr int kFoldAll = -1;

/// The fold's folder name: fold_N, or fold_all for kFoldAll.
std::string nnunetFoldName(int fold);

/// The fold folders the trained-model folder holds, checkpoint or not: fold_N in ascending N, then fold_all
/// (kFoldAll). Other names (fold_x, fold_07, fold_1000: N is 0..999 as nnunetFoldName writes it; files) are passed
/// over.
std::vector<int> nnunetFoldFolders(const std::string& folder);

/// The folds `--folds auto` ensembles, as nnU-Net's predictor detects them (auto_detect_available_folds): every
/// fold_N holding checkpoint_<checkpoint>.pth, ascending. When none does, fold_all if it holds the checkpoint
/// (nnU-Net finds nothing there). Throws Error(Model) naming the folder when neither exists.
std::vector<int> detectNnUNetFolds(const std::string& folder, const std::string& checkpoint);

/// The Error(Model) for a plans.json/dataset.json value of a missing key or another type than nnU-Net
/// writes (nlohmann's exception `e`), wherever the value is read.
Error plansContentError(const std::string& folder, const nlohmann::json::exception& e);

} // namespace voxseg::inference
