#pragma once
// Training batches: patch sampling with foreground oversampling (nnU-Net's rule: the last third of
// each batch is centred on a random foreground voxel of a random class present; with sparse annotations
// the others on a random annotated voxel) and augmentation.

#include "Prepare.h"

#include <torch/torch.h>

#include <random>

namespace voxseg::training {

struct Batch {
  torch::Tensor data;   ///< B x C x Z x Y x X, float
  torch::Tensor labels; ///< B x Z x Y x X, int64
};

/// Samples a batch of `batch` patches from `cases` (indices in `pool`).
Batch sampleBatch(const std::vector<PreparedCase>& cases, const std::vector<std::size_t>& pool, int channels,
                  const Shape& patch, int batch, double foregroundFraction, std::mt19937_64& rng);

/// Augments in place: spatial (rotation, scaling, mirroring) on data and labels alike, then intensity
/// (brightness, contrast, low resolution, gamma, noise) on the data.
void augment(Batch& b, const Augmentation& a, std::mt19937_64& rng);

} // namespace voxseg::training
