#pragma once
// nnU-Net's training losses and their deep supervision. A plain dataset: cross-entropy + (1 - soft Dice), the Dice
// over the whole batch and over the foreground classes (DC_and_CE_loss with MemoryEfficientSoftDiceLoss, smooth
// 1e-5). A region-based one: binary cross-entropy per region + (1 - soft Dice of the sigmoids, every region)
// (DC_and_BCE_loss). With an ignore label (sparse annotations) the voxels of that label leave both terms.

#include <ATen/core/Tensor.h>

#include <vector>

namespace voxseg::training {

/// No ignore label.
inline constexpr int kNoIgnoreLabel = -1;

/// A region-based dataset's regions, each as its label values; empty for a plain dataset.
using Regions = std::vector<std::vector<int>>;

/// `logits`: B x C x Z x Y x X, float (C: classes, or regions). `target`: B x Z x Y x X, int64, label values
/// (0..C-1 for a plain dataset), or `ignoreLabel`.
at::Tensor diceCeLoss(const at::Tensor& logits, const at::Tensor& target, int ignoreLabel = kNoIgnoreLabel,
                      const Regions& regions = {});

/// The loss at every decoder resolution (`outputs`, full resolution first) against the labels resized
/// (nearest-exact, as nnU-Net) to it, weighted 1, 1/2, 1/4, ... with the lowest resolution left out, as nnU-Net
/// does; the first output alone when `deep` is false.
at::Tensor deepSupervisionLoss(const std::vector<at::Tensor>& outputs, const at::Tensor& labels, bool deep,
                               int ignoreLabel = kNoIgnoreLabel, const Regions& regions = {});

/// B x R x Z x Y x X, bool: voxel in region r (its label is one of regions[r]), nnU-Net's
/// ConvertSegmentationToRegionsTransform.
at::Tensor regionMasks(const at::Tensor& target, const Regions& regions);

} // namespace voxseg::training
