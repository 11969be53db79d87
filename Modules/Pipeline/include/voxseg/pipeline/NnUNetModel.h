#pragma once
// An nnU-Net v2 trained-model folder, loaded: its plans, dataset description and every fold's network.
// Free of ITK (the GPU machine's build compiles it with the Inference module alone); voxseg/pipeline/NnUNet.h
// segments io::Volumes with it.

#include "voxseg/core/NnUNetLabels.h"
#include "voxseg/inference/Network.h"

#include <nlohmann/json.hpp>

#include <array>
#include <memory>
#include <string>
#include <vector>

namespace voxseg::pipeline {

struct NnUNetOptions {
  std::string folder; ///< e.g. .../Dataset003_Liver/nnUNetTrainer__nnUNetPlans__3d_fullres
  /// Fold numbers, inference::kFoldAll for fold_all; empty: every trained fold (inference::detectNnUNetFolds),
  /// NnUNetModel::options holding those found.
  std::vector<int> folds;
  std::string checkpoint = "final"; ///< final | best
  double step = 0.5;
  bool tta = true; ///< mirroring over the checkpoint's allowed axes
  /// A cascade stage's previous stage: its trained-model folder (run first, with the same folds, checkpoint, step
  /// and mirroring). Empty: the sibling folder <trainer>__<plans>__<previous_stage> when it exists.
  std::string previousStage;
  /// false: the previous stage is not loaded; each case's previous-stage labels are given (segmentNnUNet).
  bool loadPreviousStage = true;
};

struct NnUNetModel {
  std::vector<inference::Network> folds;
  std::string configurationName; ///< e.g. "3d_fullres", "2d"
  nlohmann::json configuration;  ///< plans' configuration (inherits_from resolved)
  nlohmann::json plans;
  nlohmann::json dataset;
  NnUNetLabels labels;                           ///< dataset.json's labels in the file's order (NnUNetFolder)
  int numClasses = 0;                            ///< network outputs (NnUNetFolder)
  NnUNetOptions options;                         ///< as given, but folds: those loaded (auto resolved)
  std::array<int, 3> transposeForward{0, 1, 2};  ///< plans.json, applied to the (z, y, x) array
  std::array<int, 3> transposeBackward{0, 1, 2}; ///< its inverse
  std::vector<int> regionsClassOrder;            ///< dataset.json; empty: softmax model
  int maxLabel = 0;                              ///< largest label value the model can write
  bool slices = false; ///< a 2D configuration: one slice (axis 0 of the transposed array) at a time
  /// The orientation code the arrays are taken in (inputs reoriented to it losslessly, outputs back): plans.json's
  /// "voxseg_orientation" (models of `voxseg train`), "RAS" for nnU-Net's *IOWithReorient readers; empty: as stored.
  std::string arrayOrientation;
  /// A cascade stage (e.g. 3d_cascade_fullres): the previous stage's configuration name, and the label values
  /// whose one-hot masks of the previous stage's labels follow the image channels. Empty otherwise.
  std::string previousStage;
  std::vector<int> cascadeLabels;
  /// The previous stage's model when loaded (NnUNetOptions::previousStage).
  std::shared_ptr<const NnUNetModel> previous;
};

/// "0,1, 2" -> {0, 1, 2}: the --folds text of the command-line tools; "all" (fold_all) -> inference::kFoldAll;
/// "auto" -> {} (every trained fold). Anything else (empty items, non-digits, duplicates) throws usageError
/// naming the option.
std::vector<int> parseNnUNetFolds(const std::string& text);

/// The sibling trained-model folder of a cascade stage's previous stage: `folder`'s <trainer>__<plans>__ with
/// `previousConfiguration` (e.g. 3d_lowres); empty when the folder's name has no "__". Not checked to exist.
std::string nnunetPreviousStageFolder(const std::string& folder, const std::string& previousConfiguration);

/// Previous-stage labels given (`what`: the option and its value, e.g. "--previous-stage p.nii.gz"): throws usageError
/// "<what>: <folder> is not a cascade stage (configuration 'x' has no previous_stage)" unless the trained-model folder
/// is one. Reads only its JSON files: checked before any network loads.
void requireCascadeStage(const std::string& folder, const std::string& what);

/// Reads the folder and rebuilds every fold's network on `device` (LibTorch's threads set to `threads`, 0 = every
/// core); for a cascade stage, the previous stage's model too (NnUNetOptions::previousStage). Throws Error(Model)
/// naming the file and problem.
NnUNetModel loadNnUNetModel(const NnUNetOptions& options, const inference::DeviceSpec& device, int threads);

} // namespace voxseg::pipeline
