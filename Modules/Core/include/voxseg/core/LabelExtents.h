#pragma once
// Where each label of a label map lies: voxel count and index bounding box, in one pass.

#include "voxseg/core/Geometry.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace voxseg {

struct LabelExtent {
  std::size_t voxels = 0;
  std::array<std::size_t, 3> lo{SIZE_MAX, SIZE_MAX, SIZE_MAX}; ///< first (x, y, z) index
  std::array<std::size_t, 3> hi{0, 0, 0};                      ///< last (x, y, z) index
};

/// Extents of every label value 1..65535 (entry `value`; entry 0 stays empty) of `voxels` (x fastest,
/// `size` voxels). The vector has 65536 entries; absent labels have 0 voxels.
std::vector<LabelExtent> labelExtents(const std::uint16_t* voxels, const Size3& size);

/// Marks seen[v] = 1 for every value v among the n voxels (seen has 65536 entries).
void markLabels(const std::uint16_t* voxels, std::size_t n, std::vector<char>& seen);

/// The non-zero values among the n voxels, ascending.
std::vector<int> presentLabels(const std::uint16_t* voxels, std::size_t n);

} // namespace voxseg
