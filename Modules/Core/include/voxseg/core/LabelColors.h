#pragma once
// Default label colors (for labels that no model card, label table or segmentation file colors).

#include "voxseg/core/ModelCard.h"

#include <array>
#include <vector>

namespace voxseg {

/// The color given to a label that has none (value >= 1): 3D Slicer's first ten generic anatomy colors,
/// then hues spaced by the golden angle, so that neighbouring values stay distinguishable.
std::array<int, 3> defaultLabelColor(int value);

/// What `known` says about label `value` (name, color, codes), with the default color when it gives
/// none (or black); a label it does not list gets only its value and default color.
LabelInfo describeLabel(int value, const std::vector<LabelInfo>& known);

} // namespace voxseg
