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
  bool channelsLast = false; ///< inputs go in as ChannelsLast3d (useChannelsLast)

  torch::Tensor forward(const torch::Tensor& x) const;
};

torch::Device resolveDevice(const DeviceSpec& spec);

/// Every node of a block and its nested blocks, inner nodes before the node holding them.
void collectNodes(torch::jit::Block* block, std::vector<torch::jit::Node*>& out);

/// Replaces traced aten::_convolution calls (cuDNN flags frozen at trace time, TF32 on) by
/// aten::convolution, which takes them from the global context at run time. Returns how many.
int useGlobalConvolutionFlags(torch::jit::Module& module);

} // namespace voxseg::inference
