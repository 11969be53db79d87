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

void markLabels(const std::uint16_t* v, std::size_t n, std::vector<char>& seen) {
  constexpr std::size_t block = 256; // most blocks hold one label: a vectorised test, one table write
  std::size_t i = 0;
  for (; i + block <= n; i += block) {
    std::uint16_t differ = 0;
    for (std::size_t k = 0; k < block; ++k) differ |= static_cast<std::uint16_t>(v[i + k] ^ v[i]);
    if (!differ) {
      seen[v[i]] = 1;
      continue;
    }
    for (std::size_t k = 0; k < block; ++k) seen[v[i + k]] = 1;
  }
  for (; i < n; ++i) seen[v[i]] = 1;
}

std::vector<int> presentLabels(const std::uint16_t* voxels, std::size_t n) {
  std::vector<char> seen(65536, 0);
  markLabels(voxels, n, seen);
  std::vector<int> out;
  for (int v = 1; v < 65536; ++v)
    if (seen[v]) out.push_back(v);
  return out;
}

} // namespace voxseg
