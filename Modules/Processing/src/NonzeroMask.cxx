#include "voxseg/processing/Crop.h"

#include <itkBinaryFillholeImageFilter.h>
#include <itkImage.h>

namespace voxseg::processing {

std::vector<std::uint8_t> nonzeroMask(const std::vector<const float*>& channels, const Shape3& shape, const Box& box) {
  using Mask = itk::Image<unsigned char, 3>;
  const Shape3 s = box.size();
  auto img = Mask::New();
  Mask::RegionType region;
  region.SetSize({std::size_t(s[2]), std::size_t(s[1]), std::size_t(s[0])});
  img->SetRegions(region);
  img->Allocate(true);
  unsigned char* m = img->GetBufferPointer();
  for (const float* c : channels) {
    const auto v = crop(c, shape, box);
    for (std::size_t i = 0; i < v.size(); ++i) m[i] = m[i] || v[i] != 0.0f;
  }
  auto fill = itk::BinaryFillholeImageFilter<Mask>::New();
  fill->SetInput(img);
  fill->SetForegroundValue(1);
  fill->SetFullyConnected(false); // scipy's default structure: face connectivity
  fill->Update();
  const unsigned char* f = fill->GetOutput()->GetBufferPointer();
  return std::vector<std::uint8_t>(f, f + s[0] * s[1] * s[2]);
}

} // namespace voxseg::processing
