#pragma once
// dynamic_network_architectures' PlainConvUNet rebuilt natively from an nnU-Net plans.json
// architecture block and a checkpoint's weights (inference only: deep supervision off).

#include "NnUNetCheckpoint.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <functional>
#include <string>

namespace voxseg::inference::nnunet {

using Forward = std::function<torch::Tensor(const torch::Tensor&)>;

/// Builds the network named by architecture["network_class_name"] with architecture["arch_kwargs"].
/// Weights are taken by parameter name; missing, unexpected or mis-shaped names are an Error(Model)
/// listing them (aliases nnU-Net checkpoints carry — "all_modules", "decoder.encoder" — are ignored).
Forward buildNetwork(const nlohmann::json& architecture, int inputChannels, int numClasses,
                     const Checkpoint& checkpoint, torch::Device device, const std::string& source);

} // namespace voxseg::inference::nnunet
