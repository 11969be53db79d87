#pragma once
// Where the sliding windows go, exactly as nnU-Net v2 and MONAI 1.4 place them. Plain integers,
// no LibTorch: unit-testable and shared by the engine and the benchmarks.

#include "voxseg/core/ModelCard.h"

#include <array>
#include <cstdint>
#include <vector>

namespace voxseg::inference {

using Shape3 = std::array<std::int64_t, 3>;

/// nnU-Net compute_steps_for_sliding_window on one axis: n = ceil((size - patch) / (patch * step)) + 1
/// positions, round(i * (size - patch) / (n - 1)) with round-half-to-even. Requires size >= patch.
std::vector<std::int64_t> nnunetSteps(std::int64_t size, std::int64_t patch, double step);

/// MONAI dense_patch_slices on one axis: interval = patch if patch == size else max(int(patch * (1 - overlap)), 1)
/// (double arithmetic, truncated); starts i * interval for the smallest d with d * interval + patch >= size,
/// the last clamped to size - patch. Requires size >= patch.
std::vector<std::int64_t> monaiStarts(std::int64_t size, std::int64_t patch, double overlap);
std::int64_t monaiInterval(std::int64_t size, std::int64_t patch, double overlap);

struct WindowGrid {
  Shape3 padBefore{0, 0, 0};
  Shape3 padAfter{0, 0, 0};
  Shape3 paddedShape{0, 0, 0};
  std::array<std::vector<std::int64_t>, 3> starts; ///< per axis, in padded coordinates
  std::int64_t count() const { return std::int64_t(starts[0].size() * starts[1].size() * starts[2].size()); }
  /// Window i in the peers' order: the last axis varies fastest.
  Shape3 window(std::int64_t i) const;
};

/// Padding (centred: before = diff / 2, after = diff - before, where the patch exceeds the image)
/// and window starts for a volume of `shape` (network axis order). `everySlice` (patch[0] must be 1):
/// along axis 0 every index once, as nnU-Net's predictor places a 2D configuration's windows (its
/// compute_steps_for_sliding_window over the slice plane only); nnunetSteps with a patch of 1 would
/// place most slices twice.
WindowGrid planWindows(const Shape3& shape, const Shape3& patch, const Tiling& tiling, bool everySlice = false);

} // namespace voxseg::inference
