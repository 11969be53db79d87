// Writes the catalogue of malformed inputs used by the CLI bad-input tests into a folder.
// Usage: voxsegMakeBadInputs <folder>
#include "voxseg/testing/MalformedFiles.h"

#include <itkRGBPixel.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

using voxseg::testing::patchNiftiDims;
using voxseg::testing::truncateFile;
using voxseg::testing::writeBlankImage;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: voxsegMakeBadInputs <folder>\n";
    return 2;
  }
  const std::filesystem::path dir(argv[1]);
  std::filesystem::create_directories(dir);
  const auto p = [&](const char* name) { return (dir / name).string(); };
  try {
    writeBlankImage<3>(p("absurd_dims.nii"), {4, 4, 4});
    patchNiftiDims(p("absurd_dims.nii"), {3, 32767, 32767, 32767});
    writeBlankImage<3>(p("zero_dim.nii"), {4, 4, 4});
    patchNiftiDims(p("zero_dim.nii"), {3, 4, 0, 4});
    writeBlankImage<3>(p("truncated.nii"), {16, 16, 16});
    truncateFile(p("truncated.nii"), 0.5);
    writeBlankImage<4>(p("four_d.nii.gz"), {4, 4, 4, 3});
    writeBlankImage<2>(p("two_d.nrrd"), {8, 8});
    writeBlankImage<3, itk::RGBPixel<unsigned char>>(p("rgb.nrrd"), {4, 4, 4});
    std::ofstream(p("text.nii")) << "This is a text file with a NIfTI name.\n" << std::string(400, '.') << "\n";
    std::ofstream(p("empty.nii.gz"));
  } catch (const std::exception& e) {
    std::cerr << "voxsegMakeBadInputs: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
