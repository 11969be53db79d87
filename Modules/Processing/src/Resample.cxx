#include "voxseg/processing/Resample.h"

#include "voxseg/core/ItkGeometry.h"

#include <itkLinearInterpolateImageFunction.h>
#include <itkNearestNeighborExtrapolateImageFunction.h>
#include <itkResampleImageFilter.h>

#include <algorithm>
#include <cmath>

namespace voxseg::processing {

Geometry gridWithSpacing(const Geometry& g, const Vec3& spacing) {
  Geometry out = g;
  for (int a = 0; a < 3; ++a) {
    out.spacing[a] = spacing[a];
    out.size[a] = std::max<std::size_t>(1, std::size_t(std::lround(double(g.size[a]) * g.spacing[a] / spacing[a])));
  }
  return out;
}

FloatImage::Pointer resampleLinear(const FloatImage& image, const Geometry& target) {
  using Filter = itk::ResampleImageFilter<FloatImage, FloatImage>;
  auto filter = Filter::New();
  filter->SetInput(&image);
  filter->SetInterpolator(itk::LinearInterpolateImageFunction<FloatImage, double>::New());
  FloatImage::SizeType size;
  for (unsigned i = 0; i < 3; ++i) size[i] = target.size[i];
  filter->SetSize(size);
  auto ref = FloatImage::New();
  setGeometry(*ref, target);
  filter->SetOutputSpacing(ref->GetSpacing());
  filter->SetOutputOrigin(ref->GetOrigin());
  filter->SetOutputDirection(ref->GetDirection());
  // Points more than half a voxel beyond the image (a grid whose size was rounded down or up by
  // gridWithSpacing) take the nearest edge value, not 0: 0 logits in every channel are background.
  filter->SetExtrapolator(itk::NearestNeighborExtrapolateImageFunction<FloatImage, double>::New());
  filter->Update();
  FloatImage::Pointer out = filter->GetOutput();
  out->DisconnectPipeline();
  return out;
}

} // namespace voxseg::processing
