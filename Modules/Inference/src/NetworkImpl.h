#pragma once
// Private: what Network holds. Included only by Inference sources (it brings in LibTorch).

#include "voxseg/inference/Network.h"

#include <torch/script.h>
#include <torch/torch.h>

#include <functional>

namespace voxseg::inference {

struct Network::Impl {
  std::string path;
  torch::Device device{torch::kCPU};
  torch::jit::Module module;
  std::optional<std::string> card;
  std::function<torch::Tensor(const torch::Tensor&)> native; ///< set for natively rebuilt networks
  std::vector<int> mirrorAxes;

  torch::Tensor forward(const torch::Tensor& x) const;
};

torch::Device resolveDevice(const DeviceSpec& spec);

} // namespace voxseg::inference
