#include "voxseg/inference/Tiling.h"

#include "voxseg/core/Error.h"

#include <algorithm>
#include <cmath>

namespace voxseg::inference {

std::vector<std::int64_t> nnunetSteps(std::int64_t size, std::int64_t patch, double step) {
  if (size < patch) throw Error(ExitCode::Internal, "nnunetSteps: image smaller than the patch");
  const double target = double(patch) * step;
  const std::int64_t n = static_cast<std::int64_t>(std::ceil(double(size - patch) / target)) + 1;
  const double actual = n > 1 ? double(size - patch) / double(n - 1) : 99999999999.0;
  std::vector<std::int64_t> out;
  for (std::int64_t i = 0; i < n; ++i) out.push_back(static_cast<std::int64_t>(std::nearbyint(actual * double(i))));
  return out;
}

std::int64_t monaiInterval(std::int64_t size, std::int64_t patch, double overlap) {
  if (patch == size) return patch;
  return std::max<std::int64_t>(static_cast<std::int64_t>(double(patch) * (1.0 - overlap)), 1);
}

std::vector<std::int64_t> monaiStarts(std::int64_t size, std::int64_t patch, double overlap) {
  if (size < patch) throw Error(ExitCode::Internal, "monaiStarts: image smaller than the patch");
  const std::int64_t interval = monaiInterval(size, patch, overlap);
  std::int64_t d = 0;
  while (d * interval + patch < size) ++d;
  std::vector<std::int64_t> out;
  for (std::int64_t i = 0; i <= d; ++i) out.push_back(std::min(i * interval, size - patch));
  return out;
}

Shape3 WindowGrid::window(std::int64_t i) const {
  const auto n1 = std::int64_t(starts[1].size()), n2 = std::int64_t(starts[2].size());
  return {starts[0][std::size_t(i / (n1 * n2))], starts[1][std::size_t((i / n2) % n1)], starts[2][std::size_t(i % n2)]};
}

WindowGrid planWindows(const Shape3& shape, const Shape3& patch, const Tiling& tiling, bool everySlice) {
  if (everySlice && patch[0] != 1)
    throw Error(ExitCode::Internal, "planWindows: every slice with a patch deeper than 1");
  WindowGrid g;
  for (int a = 0; a < 3; ++a) {
    if (shape[a] < 1 || patch[a] < 1) throw Error(ExitCode::Internal, "planWindows: empty shape or patch");
    const std::int64_t diff = std::max<std::int64_t>(patch[a] - shape[a], 0);
    g.padBefore[a] = diff / 2;
    g.padAfter[a] = diff - diff / 2;
    g.paddedShape[a] = shape[a] + diff;
    g.starts[a] = tiling.rule == Tiling::Rule::NnUNet ? nnunetSteps(g.paddedShape[a], patch[a], tiling.step)
                                                      : monaiStarts(g.paddedShape[a], patch[a], tiling.overlap);
  }
  if (everySlice) {
    g.starts[0].resize(std::size_t(shape[0]));
    for (std::int64_t i = 0; i < shape[0]; ++i) g.starts[0][std::size_t(i)] = i;
  }
  return g;
}

} // namespace voxseg::inference
