#include "voxseg/evaluation/LabelMap.h"

#include "voxseg/core/Error.h"
#include "voxseg/core/LabelExtents.h"
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
  markLabels(reference.voxels.data(), reference.voxels.size(), seen);
  markLabels(prediction.voxels.data(), prediction.voxels.size(), seen);
  std::vector<int> out;
  for (int v = 1; v < 65536; ++v)
    if (seen[v]) out.push_back(v);
  return out;
}

} // namespace voxseg::evaluation
