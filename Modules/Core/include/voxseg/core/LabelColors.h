#pragma once
// Default label colors (for labels that no model card, label table or segmentation file colors).

#include <array>

namespace voxseg {

/// The color given to a label that has none (value >= 1): 3D Slicer's first ten generic anatomy colors,
/// then hues spaced by the golden angle, so that neighbouring values stay distinguishable.
std::array<int, 3> defaultLabelColor(int value);

} // namespace voxseg
