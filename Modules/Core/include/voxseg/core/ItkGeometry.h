#pragma once
// Conversion between voxseg::Geometry and an ITK image's geometry. Header-only templates so
// that Core itself does not depend on ITK: only modules that include ITK instantiate them.

#include "voxseg/core/Geometry.h"

namespace voxseg {

/// Geometry of an itk::ImageBase<3> (largest possible region).
template <class TImage> Geometry geometryOf(const TImage& image) {
  Geometry g;
  const auto size = image.GetLargestPossibleRegion().GetSize();
  for (unsigned i = 0; i < 3; ++i) {
    g.size[i] = size[i];
    g.spacing[i] = image.GetSpacing()[i];
    g.origin[i] = image.GetOrigin()[i];
    for (unsigned j = 0; j < 3; ++j) g.direction[3 * i + j] = image.GetDirection()(i, j);
  }
  return g;
}

/// Sets spacing, origin and direction of an ITK image (its regions are left alone).
template <class TImage> void setGeometry(TImage& image, const Geometry& g) {
  typename TImage::SpacingType spacing;
  typename TImage::PointType origin;
  typename TImage::DirectionType direction;
  for (unsigned i = 0; i < 3; ++i) {
    spacing[i] = g.spacing[i];
    origin[i] = g.origin[i];
    for (unsigned j = 0; j < 3; ++j) direction(i, j) = g.direction[3 * i + j];
  }
  image.SetSpacing(spacing);
  image.SetOrigin(origin);
  image.SetDirection(direction);
}

} // namespace voxseg
