#pragma once
// Lossless reorientation (axis permutation and flips) of ITK images of any voxseg pixel type.
// Every voxel keeps its world position: only the index order and the geometry change.

#include "voxseg/core/Geometry.h"
#include "voxseg/core/PixelType.h"

#include <itkImageBase.h>

#include <string_view>

namespace voxseg::processing {

/// A new image of the same pixel type holding `image` reordered by `plan`.
/// `image` must be an itk::Image<T, 3> with T the C++ type of `type`.
itk::ImageBase<3>::Pointer reorient(const itk::ImageBase<3>& image, PixelType type, const AxisPlan& plan);

/// Reorients to the closest orientation named by `code` (e.g. "RAS", "LPS").
itk::ImageBase<3>::Pointer reorientTo(const itk::ImageBase<3>& image, PixelType type, std::string_view code);

} // namespace voxseg::processing
