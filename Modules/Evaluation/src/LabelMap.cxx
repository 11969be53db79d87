#include "voxseg/evaluation/LabelMap.h"

#include "voxseg/core/Error.h"
#include "voxseg/io/Volume.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <type_traits>

namespace voxseg::evaluation {

LabelMap toLabelMap(const io::Volume& volume) {
  const Geometry g = volume.geometry();
  LabelMap out;
  out.size = g.size;
  out.spacing = g.spacing;
  out.voxels = io::labelValues(volume);
  return out;
}

void requireSameGrid(const LabelMap& reference, const LabelMap& prediction, const std::string& predictionSource,
                     double toleranceMm) {
  auto text = [](const auto& v) {
    return std::to_string(v[0]) + "x" + std::to_string(v[1]) + "x" + std::to_string(v[2]);
  };
  if (prediction.size != reference.size)
    throw inputError(predictionSource, "grid " + text(prediction.size) + " differs from the reference grid " +
                                           text(reference.size) + "; resample the prediction onto the reference");
  for (int i = 0; i < 3; ++i)
    if (std::fabs(prediction.spacing[i] - reference.spacing[i]) > toleranceMm)
      throw inputError(predictionSource, "spacing " + text(prediction.spacing) +
                                             " differs from the reference spacing " + text(reference.spacing));
  if (prediction.voxels.size() != prediction.voxelCount() || reference.voxels.size() != reference.voxelCount())
    throw inputError(predictionSource, "label buffer does not match its grid size");
}

std::vector<int> presentLabels(const LabelMap& reference, const LabelMap& prediction) {
  std::vector<char> seen(65536, 0);
  for (const auto* map : {&reference, &prediction}) {
    const std::uint16_t* v = map->voxels.data();
    const std::size_t n = map->voxels.size();
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
  std::vector<int> out;
  for (int v = 1; v < 65536; ++v)
    if (seen[v]) out.push_back(v);
  return out;
}

} // namespace voxseg::evaluation
