#include "PngTestSupport.h"

#include <vtkImageData.h>
#include <vtkNew.h>
#include <vtkPNGReader.h>

#include <cstdlib>
#include <set>

namespace voxseg::rendering::testing {
namespace {

template <typename F> void eachPixel(const std::string& path, Png& info, F&& f) {
  vtkNew<vtkPNGReader> reader;
  reader->SetFileName(path.c_str());
  reader->Update();
  vtkImageData* img = reader->GetOutput();
  int dims[3];
  img->GetDimensions(dims);
  info.width = dims[0];
  info.height = dims[1];
  info.components = img->GetNumberOfScalarComponents();
  if (info.components < 3) return;
  const auto* p = static_cast<const unsigned char*>(img->GetScalarPointer());
  for (std::size_t i = 0; i < std::size_t(dims[0]) * std::size_t(dims[1]); ++i, p += info.components)
    f(std::array<int, 3>{p[0], p[1], p[2]});
}

} // namespace

Png readPng(const std::string& path) {
  Png info;
  std::set<int> colors;
  eachPixel(path, info, [&](std::array<int, 3> c) { colors.insert(c[0] << 16 | c[1] << 8 | c[2]); });
  info.distinctColors = colors.size();
  return info;
}

std::size_t pixelsNear(const std::string& path, std::array<int, 3> rgb, int tolerance) {
  Png info;
  std::size_t n = 0;
  eachPixel(path, info, [&](std::array<int, 3> c) {
    if (std::abs(c[0] - rgb[0]) <= tolerance && std::abs(c[1] - rgb[1]) <= tolerance &&
        std::abs(c[2] - rgb[2]) <= tolerance)
      ++n;
  });
  return n;
}

} // namespace voxseg::rendering::testing
