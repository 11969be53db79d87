#pragma once
// An nnU-Net v2 trained-model folder, loaded: its plans, dataset description and every fold's network.
// Free of ITK (the GPU machine's build compiles it with the Inference module alone); voxseg/pipeline/NnUNet.h
// segments io::Volumes with it.

#include "voxseg/inference/Network.h"

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
  std::string configurationName; ///< e.g. "3d_fullres", "2d"
  nlohmann::json configuration;  ///< plans' configuration (inherits_from resolved)
  nlohmann::json plans;
  nlohmann::json dataset;
  NnUNetOptions options;
  std::array<int, 3> transposeForward{0, 1, 2};  ///< plans.json, applied to the (z, y, x) array
  std::array<int, 3> transposeBackward{0, 1, 2}; ///< its inverse
  std::vector<int> regionsClassOrder;            ///< dataset.json; empty: softmax model
  int maxLabel = 0;                              ///< largest label value the model can write
  bool slices = false; ///< a 2D configuration: one slice (axis 0 of the transposed array) at a time
};

/// "0,1, 2" -> {0, 1, 2}: the --folds text of the command-line tools. Anything else (empty items,
/// non-digits, duplicates) throws usageError naming the option.
std::vector<int> parseNnUNetFolds(const std::string& text);

/// Reads the folder and rebuilds every fold's network on `device` (LibTorch's threads set to `threads`, 0 = every
/// core). Throws Error(Model) naming the file and problem.
NnUNetModel loadNnUNetModel(const NnUNetOptions& options, const inference::DeviceSpec& device, int threads);

} // namespace voxseg::pipeline
