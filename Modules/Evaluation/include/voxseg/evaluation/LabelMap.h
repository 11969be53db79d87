#pragma once
// Label maps as plain values for evaluation: voxels x fastest (ITK index order i, j, k), the grid's
// size and its spacing in mm. Metrics need nothing else from a volume: both maps must share a grid.

#include "voxseg/core/Geometry.h"

#include <cstdint>
#include <string>
#include <vector>

namespace voxseg::io {
struct Volume;
}

namespace voxseg::evaluation {

struct LabelMap {
  std::vector<std::uint16_t> voxels; ///< size[0] * size[1] * size[2] values, x fastest
  Size3 size{0, 0, 0};
  Vec3 spacing{1, 1, 1}; ///< mm, in index order (the header's spacing, e.g. NIfTI pixdim[1..3])

  std::size_t voxelCount() const { return size[0] * size[1] * size[2]; }
};

/// The labels of a volume read by io::readVolume. Throws Error(Input) naming volume.source when a
/// value is negative, not an integer or above 65535.
LabelMap toLabelMap(const io::Volume& volume);

/// Throws Error(Input) naming `predictionSource` unless both maps have the same size and the same
/// spacing (within `toleranceMm`), and a buffer of that size.
void requireSameGrid(const LabelMap& reference, const LabelMap& prediction, const std::string& predictionSource,
                     double toleranceMm = 1e-6);

/// The non-zero labels found in either map, ascending.
std::vector<int> presentLabels(const LabelMap& reference, const LabelMap& prediction);

} // namespace voxseg::evaluation
