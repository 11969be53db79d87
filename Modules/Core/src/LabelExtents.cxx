#include "voxseg/core/LabelExtents.h"

#include <algorithm>

namespace voxseg {

std::vector<LabelExtent> labelExtents(const std::uint16_t* voxels, const Size3& n) {
  std::vector<LabelExtent> out(65536);
  std::size_t i = 0;
  for (std::size_t z = 0; z < n[2]; ++z)
    for (std::size_t y = 0; y < n[1]; ++y)
      for (std::size_t x = 0; x < n[0]; ++x, ++i) {
        const std::uint16_t v = voxels[i];
        if (!v) continue;
        LabelExtent& e = out[v];
        ++e.voxels;
        e.lo = {std::min(e.lo[0], x), std::min(e.lo[1], y), std::min(e.lo[2], z)};
        e.hi = {std::max(e.hi[0], x), std::max(e.hi[1], y), std::max(e.hi[2], z)};
      }
  return out;
}

} // namespace voxseg
