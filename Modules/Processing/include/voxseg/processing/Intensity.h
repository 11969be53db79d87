#pragma once
// Intensity normalization as a model card describes it, on float voxel arrays.

#include "voxseg/core/ModelCard.h"

#include <cstddef>

namespace voxseg::processing {

/// Normalizes n voxels in place:
/// - none: unchanged;
/// - zscore: (x - mean) / max(std, 1e-8), mean/std of these voxels unless the card fixes them;
/// - ct: clip to [lower, upper], then (x - mean) / max(std, 1e-8) with the card's statistics (nnU-Net CTNormalization);
/// - rescale: (x - lower) / (upper - lower), clipped to [0, 1] when clip is set.
void normalize(float* voxels, std::size_t n, const Normalization& spec);

} // namespace voxseg::processing
