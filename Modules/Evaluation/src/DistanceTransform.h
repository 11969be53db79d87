#pragma once
// Exact Euclidean distance transform with anisotropic spacing (private to the Evaluation module).

#include "voxseg/core/Geometry.h"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace voxseg::evaluation::detail {

/// Distance (mm) from each query point of a grid of `size` points (x fastest, linear indices) to the
/// nearest point with features[i] != 0; +inf for every query when there is no feature.
///
/// Separable lower envelopes of parabolas (Felzenszwalb & Huttenlocher), one axis after the other in the
/// order x, y, z, so that a squared distance is summed as ((dx sx)^2 + (dy sy)^2) + (dz sz)^2 with
/// integer offsets dx, dy, dz: the same value as scipy's distance_transform_edt(sampling=spacing)
/// computes from its feature transform. The last pass runs only on columns holding a query. Each pass
/// runs on up to `threads` threads (0: one per hardware thread).
std::vector<double> distancesToFeatures(const std::vector<std::uint8_t>& features, const Size3& size,
                                        const Vec3& spacing, const std::vector<std::size_t>& queries, int threads);

} // namespace voxseg::evaluation::detail
