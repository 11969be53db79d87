#include "voxseg/processing/Reorient.h"

#include "voxseg/core/Error.h"
#include "voxseg/core/ItkGeometry.h"

#include <itkImage.h>

namespace voxseg::processing {

itk::ImageBase<3>::Pointer reorient(const itk::ImageBase<3>& image, PixelType type, const AxisPlan& plan) {
  return visitPixelType(type, [&](auto tag) -> itk::ImageBase<3>::Pointer {
    using T = typename decltype(tag)::type;
    using ImageType = itk::Image<T, 3>;
    const auto* in = dynamic_cast<const ImageType*>(&image);
    if (!in) throw Error(ExitCode::Internal, "reorient: image is not stored as " + pixelTypeName(type));
    const Geometry g = geometryOf(*in);
    const Geometry og = reorientGeometry(g, plan);
    auto out = ImageType::New();
    typename ImageType::RegionType region;
    for (unsigned i = 0; i < 3; ++i) region.SetSize(i, og.size[i]);
    out->SetRegions(region);
    setGeometry(*out, og);
    out->Allocate();
    reorientBuffer(in->GetBufferPointer(), out->GetBufferPointer(), sizeof(T), g.size, plan);
    return out.GetPointer();
  });
}

itk::ImageBase<3>::Pointer reorientTo(const itk::ImageBase<3>& image, PixelType type, std::string_view code) {
  Mat3 direction;
  for (unsigned i = 0; i < 3; ++i)
    for (unsigned j = 0; j < 3; ++j) direction[3 * i + j] = image.GetDirection()(i, j);
  return reorient(image, type, planReorientation(direction, code));
}

} // namespace voxseg::processing
