#pragma once
// Surface points and their raw distances, before weights and conventions (private to the module).

#include "voxseg/evaluation/SurfaceDistance.h"

#include <cstdint>
#include <vector>

namespace voxseg::evaluation::detail {

struct RawSurface {
  std::vector<std::uint8_t> codes; ///< neighbourhood code of each point (corner surfels; 0 for edge voxels)
  std::vector<double> distances;   ///< float64 distance to the other surface; empty when that one is empty
};

struct RawSurfaces {
  SurfaceModel model = SurfaceModel::CornerSurfels;
  RawSurface reference, prediction;
};

/// Finds both surfaces of the masks (non-zero inside, `size` voxels, x fastest) and the exact distances
/// of each point to the other surface, working inside the masks' common bounding box; the distance
/// transforms use up to `threads` threads (0: one per hardware thread).
RawSurfaces rawSurfaces(const std::uint8_t* reference, const std::uint8_t* prediction, const Size3& size,
                        const Vec3& spacing, SurfaceModel model, int threads);

/// Applies weights, precision, the empty-surface rule and the sort.
SurfaceDistances finishSurfaces(const RawSurfaces& raw, const Vec3& spacing, const SurfaceConventions& conventions);

/// numpy's pairwise summation (the order np.sum adds float64 values in), so that sums and the ratios
/// compared against percentiles round as DeepMind's do.
double pairwiseSum(const double* values, std::size_t n);

} // namespace voxseg::evaluation::detail
