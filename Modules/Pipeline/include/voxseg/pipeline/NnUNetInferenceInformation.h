#pragma once
// nnU-Net's inference_information.json, written by nnUNetv2_find_best_configuration into
// <nnUNet_results>/<Dataset>: which configuration, or ensemble of two, scored best in the cross-validation, on
// which folds, and its post-processing. `voxseg segment --nnunet <that folder>` runs what its
// inference_instructions.txt tells nnUNetv2_predict, nnUNetv2_ensemble and nnUNetv2_apply_postprocessing to run.
// Free of ITK and LibTorch.

#include <string>
#include <vector>

namespace voxseg::pipeline {

struct NnUNetInferenceInformation {
  std::string file;                 ///< the inference_information.json read
  std::vector<std::string> folders; ///< the selected trained-model folders, in the file's order
  std::vector<int> folds;           ///< "folds"
  /// postprocessing.json beside the file's "postprocessing_file" (postprocessing.pkl, which nnU-Net's
  /// determine_postprocessing writes with the .json): at the same place below the folder read (its last two folders,
  /// ensembles/<ensemble> or <configuration folder>/crossval_results_folds_<folds>), else where the file says.
  std::string postprocessing;
  double diceBefore = 0, diceAfter = 0; ///< cross-validation foreground mean Dice before / after post-processing
};

/// Whether `path` is inference_information.json, or a folder holding it (a dataset's nnU-Net results folder).
bool isNnUNetResultsFolder(const std::string& path);

/// Reads inference_information.json (or the folder holding it). Every selected folder
/// (<folder>/<trainer>__<plans_identifier>__<configuration>) must exist, and the postprocessing.json too when
/// `postprocessing` is true (else `postprocessing` stays empty). Throws Error(Model) naming the file and what is
/// missing or malformed.
NnUNetInferenceInformation readNnUNetInferenceInformation(const std::string& path, bool postprocessing = true);

} // namespace voxseg::pipeline
