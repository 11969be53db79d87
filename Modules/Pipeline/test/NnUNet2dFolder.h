#pragma once
// A 2D nnU-Net trained-model folder with random weights (seeded), for the tests: NnUNet2dTest and, through
// voxsegNnUNet2dFolder, the command-line tests.

#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace voxseg::testing {

// The fixture plans' 2d architecture: PlainConvUNet, 4 stages of 8..64 features, 3x3 kernels, strides 1, 2, 2, 2,
// two convolutions per stage, bias, InstanceNorm2d, LeakyReLU 0.01; 1 input channel, 3 classes.
inline const std::vector<std::int64_t> kFeatures{8, 16, 32, 64};
constexpr std::int64_t kClasses = 3;

using Weights = std::map<std::string, torch::Tensor>;

inline Weights randomWeights() {
  torch::manual_seed(7);
  Weights w;
  const auto convNorm = [&](const std::string& pre, std::int64_t in, std::int64_t out) {
    w[pre + ".conv.weight"] = torch::randn({out, in, 3, 3}) * std::sqrt(2.0 / double(in * 9));
    w[pre + ".conv.bias"] = torch::randn({out}) * 0.1;
    w[pre + ".norm.weight"] = 1 + torch::randn({out}) * 0.3;
    w[pre + ".norm.bias"] = torch::randn({out}) * 0.3;
  };
  std::int64_t in = 1;
  for (std::size_t s = 0; s < kFeatures.size(); ++s)
    for (int i = 0; i < 2; ++i) {
      convNorm("encoder.stages." + std::to_string(s) + ".0.convs." + std::to_string(i), in, kFeatures[s]);
      in = kFeatures[s];
    }
  for (std::size_t s = 0; s + 1 < kFeatures.size(); ++s) {
    const std::int64_t below = kFeatures[kFeatures.size() - 1 - s], above = kFeatures[kFeatures.size() - 2 - s];
    w["decoder.transpconvs." + std::to_string(s) + ".weight"] = torch::randn({below, above, 2, 2}) * 0.2;
    w["decoder.transpconvs." + std::to_string(s) + ".bias"] = torch::randn({above}) * 0.1;
    convNorm("decoder.stages." + std::to_string(s) + ".convs.0", 2 * above, above);
    convNorm("decoder.stages." + std::to_string(s) + ".convs.1", above, above);
    // deep-supervision heads, as every nnU-Net checkpoint has them
    w["decoder.seg_layers." + std::to_string(s) + ".weight"] = torch::randn({kClasses, above, 1, 1}) * 0.5;
    w["decoder.seg_layers." + std::to_string(s) + ".bias"] = torch::randn({kClasses}) * 0.1;
  }
  return w;
}

// A trained-model folder for the nnU-Net fixture's "2d" configuration in `dir`: the plans.json and dataset.json of
// `fixtureModel` (its 3d_fullres folder, whose plans hold both), and a checkpoint
// pickled as nnU-Net's (network_weights, mirroring axes 0 and 1 of the slice).
inline std::string writeNnUNet2dFolder(const std::string& dir, const std::string& fixtureModel, const Weights& w) {
  namespace fs = std::filesystem;
  const fs::path folder = fs::path(dir) / "nnUNetTrainer__nnUNetPlans__2d";
  fs::create_directories(folder / "fold_0");
  fs::copy_file(fs::path(fixtureModel) / "plans.json", folder / "plans.json");
  fs::copy_file(fs::path(fixtureModel) / "dataset.json", folder / "dataset.json");
  c10::Dict<std::string, at::Tensor> weights;
  for (const auto& [name, t] : w) weights.insert(name, t);
  c10::impl::GenericDict cp(c10::StringType::get(), c10::AnyType::get());
  cp.insert("network_weights", weights);
  cp.insert("trainer_name", std::string("nnUNetTrainer"));
  cp.insert("inference_allowed_mirroring_axes", c10::List<std::int64_t>({0, 1}));
  const std::vector<char> bytes = torch::pickle_save(cp);
  std::ofstream(folder / "fold_0" / "checkpoint_final.pth", std::ios::binary)
      .write(bytes.data(), std::streamsize(bytes.size()));
  return folder.string();
}

} // namespace voxseg::testing
