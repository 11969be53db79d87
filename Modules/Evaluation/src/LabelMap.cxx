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
  out.voxels.resize(g.voxelCount());
  visitPixelType(volume.pixelType, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* p = volume.as<T>()->GetBufferPointer();
    const std::size_t n = out.voxels.size();
    auto refuse = [&](double v) {
      throw inputError(volume.source, "voxel value " + std::to_string(v) +
                                          " is not a label; a label map holds integers from 0 to 65535");
    };
    if constexpr (std::is_integral_v<T> && std::is_unsigned_v<T> && sizeof(T) <= 2) {
      std::copy(p, p + n, out.voxels.begin()); // every value is a label
    } else if constexpr (std::is_integral_v<T>) {
      for (std::size_t i = 0; i < n; ++i) {
        if (p[i] < 0 || static_cast<std::uint64_t>(p[i]) > 65535) refuse(static_cast<double>(p[i]));
        out.voxels[i] = static_cast<std::uint16_t>(p[i]);
      }
    } else {
      for (std::size_t i = 0; i < n; ++i) {
        const double v = static_cast<double>(p[i]);
        if (!(v >= 0 && v <= 65535 && std::floor(v) == v)) refuse(v);
        out.voxels[i] = static_cast<std::uint16_t>(v);
      }
    }
  });
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
