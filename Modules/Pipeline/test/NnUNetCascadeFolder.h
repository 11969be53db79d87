#pragma once
// An nnU-Net cascade (3d_lowres, then 3d_cascade_fullres) made from the nnU-Net fixture's trained 3d_fullres folder,
// for the tests: NnUNetCascadeTest and, through voxsegNnUNetCascadeFolder, the command-line tests.

#include "NnUNetCheckpoint.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace voxseg::testing {

/// What the cascade's first convolution does with the previous stage's two label channels (labels 1 and 2).
enum class CascadeLabelWeights {
  Zero,     ///< nothing: the cascade is the fixture's network
  Random,   ///< seeded random weights, twice as large as the image channel's on average, different per channel
  FirstOnly ///< those random weights on label 1's channel, zero on label 2's
};

/// Variants of the plans, for the paths the fixture's own plans do not take.
struct CascadePlans {
  bool swapYX = false;     ///< transpose_forward = transpose_backward = [0, 2, 1]
  bool zscoreMask = false; ///< the cascade stage normalizes with ZScoreNormalization and use_mask_for_norm
};

/// Writes DIR/nnUNetTrainer__nnUNetPlans__3d_lowres and DIR/nnUNetTrainer__nnUNetPlans__3d_cascade_fullres. Both
/// hold the fixture's plans.json with two configurations added as nnU-Net's planner adds them (3d_lowres at 2.5 x
/// 1.8 x 1.8 mm, inheriting 3d_fullres; 3d_cascade_fullres inheriting 3d_fullres, previous_stage 3d_lowres) and its
/// dataset.json. The 3d_lowres fold_0 is the fixture's trained fold_0 (the same network at a coarser spacing); the
/// cascade's fold_0 is that network with the first convolution taking 1 + 2 input channels. Returns the cascade
/// folder.
inline std::string writeNnUNetCascadeFolders(const std::string& dir, const std::string& fixtureModel,
                                             CascadeLabelWeights labelWeights, const CascadePlans& variant = {}) {
  namespace fs = std::filesystem;
  const fs::path fixture(fixtureModel);
  nlohmann::json plans = nlohmann::json::parse(std::ifstream(fixture / "plans.json"));
  plans["configurations"]["3d_lowres"] = {
      {"inherits_from", "3d_fullres"}, {"spacing", {2.5, 1.8, 1.8}}, {"next_stage", "3d_cascade_fullres"}};
  plans["configurations"]["3d_cascade_fullres"] = {{"inherits_from", "3d_fullres"}, {"previous_stage", "3d_lowres"}};
  if (variant.swapYX) plans["transpose_forward"] = plans["transpose_backward"] = {0, 2, 1};
  if (variant.zscoreMask) {
    plans["configurations"]["3d_cascade_fullres"]["normalization_schemes"] = {"ZScoreNormalization"};
    plans["configurations"]["3d_cascade_fullres"]["use_mask_for_norm"] = {true};
  }
  std::string cascade;
  for (const std::string configuration : {"3d_lowres", "3d_cascade_fullres"}) {
    const fs::path folder = fs::path(dir) / ("nnUNetTrainer__nnUNetPlans__" + configuration);
    fs::create_directories(folder / "fold_0");
    std::ofstream(folder / "plans.json") << plans.dump(2);
    fs::copy_file(fixture / "dataset.json", folder / "dataset.json", fs::copy_options::overwrite_existing);
    const fs::path checkpoint = folder / "fold_0" / "checkpoint_final.pth";
    if (configuration == "3d_lowres") {
      fs::copy_file(fixture / "fold_0" / "checkpoint_final.pth", checkpoint, fs::copy_options::overwrite_existing);
      continue;
    }
    cascade = folder.string();
    const auto cp = inference::nnunet::readCheckpoint((fixture / "fold_0" / "checkpoint_final.pth").string());
    torch::manual_seed(3);
    c10::Dict<std::string, at::Tensor> weights;
    for (const auto& [name, t] : cp.weights) {
      if (name.find(".all_modules.") != std::string::npos || name.rfind("decoder.encoder.", 0) == 0) continue;
      if (name != "encoder.stages.0.0.convs.0.conv.weight") {
        weights.insert(name, t.clone());
        continue;
      }
      std::vector<std::int64_t> shape = t.sizes().vec();
      shape[1] = 2;
      torch::Tensor labels =
          labelWeights == CascadeLabelWeights::Zero ? torch::zeros(shape) : torch::randn(shape) * t.abs().mean() * 2;
      if (labelWeights == CascadeLabelWeights::FirstOnly) labels.select(1, 1).zero_();
      weights.insert(name, torch::cat({t, labels}, 1).contiguous());
    }
    c10::impl::GenericDict dict(c10::StringType::get(), c10::AnyType::get());
    dict.insert("network_weights", weights);
    dict.insert("trainer_name", std::string("nnUNetTrainer"));
    dict.insert("inference_allowed_mirroring_axes", c10::List<std::int64_t>({0, 1, 2}));
    const std::vector<char> bytes = torch::pickle_save(dict);
    std::ofstream(checkpoint, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
  }
  return cascade;
}

} // namespace voxseg::testing
