#pragma once
// Helpers that make malformed image files for bad-input tests (header-only, ITK).

#include <itkImage.h>
#include <itkImageFileWriter.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <string>

namespace voxseg::testing {

/// Writes a zero-filled D-dimensional image of pixel type P through ITK.
template <unsigned D, typename P = float> void writeBlankImage(const std::string& path, std::array<unsigned, D> size) {
  using ImageType = itk::Image<P, D>;
  auto img = ImageType::New();
  typename ImageType::RegionType region;
  for (unsigned i = 0; i < D; ++i) region.SetSize(i, size[i]);
  img->SetRegions(region);
  img->Allocate(true);
  auto writer = itk::ImageFileWriter<ImageType>::New();
  writer->SetInput(img);
  writer->SetFileName(path);
  writer->Update();
}

/// Overwrites dim[0..3] of an uncompressed NIfTI-1 header (short dim[8] at byte 40).
inline void patchNiftiDims(const std::string& path, std::array<short, 4> dims) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(40);
  f.write(reinterpret_cast<const char*>(dims.data()), sizeof(short) * dims.size());
}

/// Cuts a file to a fraction of its size.
inline void truncateFile(const std::string& path, double fraction) {
  const auto size = std::filesystem::file_size(path);
  std::filesystem::resize_file(path, static_cast<std::uintmax_t>(double(size) * fraction));
}

} // namespace voxseg::testing
