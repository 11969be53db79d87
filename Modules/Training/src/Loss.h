#pragma once
// nnU-Net's training loss: cross-entropy + (1 - soft Dice), the Dice over the whole batch and over the
// foreground classes only (DC_and_CE_loss with MemoryEfficientSoftDiceLoss, smooth 1e-5), and its
// deep supervision. With an ignore label (sparse annotations) the voxels of that label leave both terms.

#include <ATen/core/Tensor.h>

#include <vector>

namespace voxseg::training {

/// No ignore label.
inline constexpr int kNoIgnoreLabel = -1;

/// `logits`: B x C x Z x Y x X, float. `target`: B x Z x Y x X, int64, values 0..C-1, or `ignoreLabel`.
at::Tensor diceCeLoss(const at::Tensor& logits, const at::Tensor& target, int ignoreLabel = kNoIgnoreLabel);

/// The loss at every decoder resolution (`outputs`, full resolution first) against the labels resized
/// (nearest-exact, as nnU-Net) to it, weighted 1, 1/2, 1/4, ... with the lowest resolution left out, as nnU-Net does; the
/// first output alone when `deep` is false.
at::Tensor deepSupervisionLoss(const std::vector<at::Tensor>& outputs, const at::Tensor& labels, bool deep,
                               int ignoreLabel = kNoIgnoreLabel);

} // namespace voxseg::training
