#pragma once
// A dataset's nnU-Net results folder as nnUNetv2_find_best_configuration leaves it, made of the fixture's 3d_fullres
// folder for the Pipeline tests (the command-line tests make theirs with
// Applications/voxseg/test/make_nnunet_results.py).

#include <filesystem>
#include <fstream>
#include <string>

namespace voxseg::pipeline {

/// <root>/Dataset990_Phantom with nnUNetTrainer__nnUNetPlans__3d_fullres (links to the fixture folder's files: the
/// fixture stays untouched), inference_information.json selecting it alone on fold 0, written on another machine,
/// and crossval_results_folds_0/postprocessing.json keeping the largest component of `labelsOrRegions` (JSON text).
/// Returns the dataset folder.
inline std::filesystem::path makeNnUNetResultsFolder(const std::filesystem::path& root, const std::string& fixture,
                                                     const std::string& labelsOrRegions) {
  namespace fs = std::filesystem;
  const fs::path d = root / "Dataset990_Phantom";
  const fs::path full = d / "nnUNetTrainer__nnUNetPlans__3d_fullres";
  fs::create_directories(full / "crossval_results_folds_0");
  for (const char* f : {"plans.json", "dataset.json", "fold_0", "fold_1"})
    fs::create_symlink(fs::path(fixture) / f, full / f);
  std::ofstream(full / "crossval_results_folds_0" / "postprocessing.json")
      << R"({"postprocessing_fns": ["remove_all_but_largest_component_from_segmentation"],
             "postprocessing_kwargs": [{"labels_or_regions": )"
      << labelsOrRegions << "}]}";
  std::ofstream(d / "inference_information.json") << R"({"folds": [0], "best_model_or_ensemble": {
      "result_on_crossval_pre_pp": 0.81, "result_on_crossval_post_pp": 0.83,
      "postprocessing_file": "/data/nnUNet_results/Dataset990_Phantom/nnUNetTrainer__nnUNetPlans__3d_fullres/crossval_results_folds_0/postprocessing.pkl",
      "selected_model_or_models": [{"configuration": "3d_fullres", "plans_identifier": "nnUNetPlans",
                                    "trainer": "nnUNetTrainer"}]}})";
  return d;
}

} // namespace voxseg::pipeline
