#pragma once
// nnU-Net v2 checkpoints (torch.save zip archives) read without Python.

#include <torch/torch.h>

#include <string>
#include <vector>

namespace voxseg::inference::nnunet {

struct Checkpoint {
  std::vector<std::pair<std::string, torch::Tensor>> weights; ///< network_weights, in file order
  std::vector<int> mirrorAxes;                                ///< inference_allowed_mirroring_axes
  bool hasMirrorAxes = false;
  std::string trainerName;
  std::vector<std::string> skipped; ///< top-level keys whose objects were not interpreted
};

/// Reads network_weights (and the mirroring axes and trainer name) from checkpoint_final.pth /
/// checkpoint_best.pth. Throws Error(Model) naming the file when it is not a torch.save archive or
/// holds no network_weights; other unknown content is skipped.
Checkpoint readCheckpoint(const std::string& path);

} // namespace voxseg::inference::nnunet
