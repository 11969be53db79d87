#pragma once
// Window weights for blending overlapping predictions, as the peers compute them.

#include "voxseg/core/ModelCard.h"
#include "voxseg/inference/Tiling.h"

#include <vector>

namespace voxseg::inference {

/// The importance map for a patch, C order (last axis fastest):
/// - Constant: ones.
/// - GaussianNnUNet: nnU-Net v2 compute_gaussian: a unit impulse at patch/2 blurred by scipy's
///   gaussian_filter (sigma = sigmaScale * patch, truncate 4, mode constant), scaled to a maximum of 10,
///   cast to float16, zeros replaced by the smallest non-zero value. Values are float16-exact.
/// - GaussianMonai: MONAI 1.4 compute_importance_map: separable exp(x^2 / (-2 sigma^2)) with
///   x = -(n-1)/2 .. (n-1)/2 in float32, clamped below at max(min, 1e-3).
std::vector<float> importanceMap(const Shape3& patch, const ImportanceMap& spec);

} // namespace voxseg::inference
