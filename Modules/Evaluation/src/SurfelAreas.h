#pragma once
// Areas of the surface elements on the voxel-corner grid (private to the Evaluation module).

#include "voxseg/evaluation/SurfaceDistance.h"

#include <array>

namespace voxseg::evaluation::detail {

/// Bit of a corner's neighbourhood code for the voxel at offset (a, b, c) in {0, 1}^3 along (x, y, z)
/// from the corner's lower neighbour: the code's bit set means that voxel is inside.
constexpr int cornerBit(int a, int b, int c) { return a + 2 * b + 4 * c; }

/// Area (mm^2) of the surface through a 2x2x2 neighbourhood for each of the 256 codes: the
/// marching-cubes triangles (vertices at edge midpoints, VTK's case table) of the code, or of its
/// complement when more than 4 voxels are inside, with each triangle's area vector scaled by the
/// spacing. Codes 0 and 255 have area 0. Float32 repeats the computation in single precision (MONAI).
std::array<double, 256> surfelAreaTable(const Vec3& spacing, DistancePrecision precision);

} // namespace voxseg::evaluation::detail
