#pragma once
// Resampling of float images between grids (ITK's ResampleImageFilter, linear interpolation).

#include "voxseg/core/Geometry.h"

#include <itkImage.h>

namespace voxseg::processing {

using FloatImage = itk::Image<float, 3>;

/// The grid covering about the same physical extent as `g` at `spacing`, with the same origin (first
/// voxel centre) and direction: size = round(size * oldSpacing / spacing), at least 1.
Geometry gridWithSpacing(const Geometry& g, const Vec3& spacing);

/// Linear interpolation of `image` onto `target` (points outside: nearest edge value).
FloatImage::Pointer resampleLinear(const FloatImage& image, const Geometry& target);

} // namespace voxseg::processing
