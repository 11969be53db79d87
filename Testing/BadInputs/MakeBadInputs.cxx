// Writes the catalogue of malformed inputs used by the CLI bad-input tests into a folder.
// Usage: voxsegMakeBadInputs <folder>
#include <itkImage.h>
#include <itkImageFileWriter.h>
#include <itkRGBPixel.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

namespace {

template <unsigned D, typename P = float> void writeImage(const std::string& path, std::array<unsigned, D> size) {
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

// NIfTI-1 short dim[8] at byte 40.
void patchDims(const std::string& path, std::array<short, 4> dims) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(40);
  f.write(reinterpret_cast<const char*>(dims.data()), sizeof(short) * dims.size());
}

void truncate(const std::string& path, double fraction) {
  const auto size = std::filesystem::file_size(path);
  std::filesystem::resize_file(path, static_cast<std::uintmax_t>(double(size) * fraction));
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: voxsegMakeBadInputs <folder>\n";
    return 2;
  }
  const std::filesystem::path dir(argv[1]);
  std::filesystem::create_directories(dir);
  const auto p = [&](const char* name) { return (dir / name).string(); };
  try {
    writeImage<3>(p("absurd_dims.nii"), {4, 4, 4});
    patchDims(p("absurd_dims.nii"), {3, 32767, 32767, 32767});
    writeImage<3>(p("zero_dim.nii"), {4, 4, 4});
    patchDims(p("zero_dim.nii"), {3, 4, 0, 4});
    writeImage<3>(p("truncated.nii"), {16, 16, 16});
    truncate(p("truncated.nii"), 0.5);
    writeImage<4>(p("four_d.nii.gz"), {4, 4, 4, 3});
    writeImage<2>(p("two_d.nrrd"), {8, 8});
    writeImage<3, itk::RGBPixel<unsigned char>>(p("rgb.nrrd"), {4, 4, 4});
    std::ofstream(p("text.nii")) << "This is a text file with a NIfTI name.\n" << std::string(400, '.') << "\n";
    std::ofstream(p("empty.nii.gz"));
  } catch (const std::exception& e) {
    std::cerr << "voxsegMakeBadInputs: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
