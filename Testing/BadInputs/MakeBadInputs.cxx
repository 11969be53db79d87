// Writes the malformed files of the bad-input catalogue (Testing/BadInputs/CMakeLists.txt) into a folder.
// Usage: voxsegMakeBadInputs <folder>
#include "voxseg/testing/MalformedFiles.h"

#include <itkImageFileWriter.h>
#include <itkRGBPixel.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <string>
#include <vector>
#include <zlib.h>

using voxseg::testing::patchNiftiDims;
using voxseg::testing::truncateFile;
using voxseg::testing::writeBlankImage;

namespace {

template <typename T> void patch(const std::string& path, std::streamoff at, T value) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(at);
  f.write(reinterpret_cast<const char*>(&value), sizeof(T));
  if (!f) throw std::runtime_error(path + ": cannot patch");
}

// A 4x4x4 NIfTI-1 file whose sform (code 1) has the rows x, y, z (srow_x at byte 280, srow_y 296, srow_z 312).
using Row = std::array<float, 4>;
void writeWithSform(const std::string& path, const Row& x, const Row& y, const Row& z) {
  writeBlankImage<3>(path, {4, 4, 4});
  patch<std::int16_t>(path, 254, 1);
  patch<Row>(path, 280, x);
  patch<Row>(path, 296, y);
  patch<Row>(path, 312, z);
}

// A float image whose voxels count up from 0 (x fastest), with `special` written at the given voxels.
void writeRamp(const std::string& path, std::array<unsigned, 3> size,
               const std::vector<std::pair<std::size_t, float>>& special = {}, bool compress = false) {
  using ImageType = itk::Image<float, 3>;
  auto img = ImageType::New();
  ImageType::RegionType region;
  for (unsigned i = 0; i < 3; ++i) region.SetSize(i, size[i]);
  img->SetRegions(region);
  img->Allocate();
  float* p = img->GetBufferPointer();
  const std::size_t n = std::size_t{size[0]} * size[1] * size[2];
  for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<float>(i % 7);
  for (const auto& [at, v] : special) p[at] = v;
  auto writer = itk::ImageFileWriter<ImageType>::New();
  writer->SetInput(img);
  writer->SetFileName(path);
  writer->SetUseCompression(compress);
  writer->Update();
}

// gzip-compresses `in` into `out` and flips bytes in the middle of the compressed stream, leaving the
// header and the trailer (CRC, length) intact.
void writeCorruptGzip(const std::string& in, const std::string& out) {
  std::ifstream src(in, std::ios::binary);
  const std::string raw((std::istreambuf_iterator<char>(src)), std::istreambuf_iterator<char>());
  gzFile gz = gzopen(out.c_str(), "wb6");
  gzwrite(gz, raw.data(), static_cast<unsigned>(raw.size()));
  gzclose(gz);
  const auto size = std::filesystem::file_size(out);
  for (std::uintmax_t k = size / 2; k < size / 2 + 16; ++k)
    patch<unsigned char>(out, static_cast<std::streamoff>(k), 0x5a);
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
    writeBlankImage<3>(p("absurd_dims.nii"), {4, 4, 4});
    patchNiftiDims(p("absurd_dims.nii"), {3, 32767, 32767, 32767});
    writeBlankImage<3>(p("zero_dim.nii"), {4, 4, 4});
    patchNiftiDims(p("zero_dim.nii"), {3, 4, 0, 4});
    writeBlankImage<3>(p("negative_dim.nii"), {4, 4, 4});
    patchNiftiDims(p("negative_dim.nii"), {3, 4, -4, 4});
    writeBlankImage<3>(p("truncated.nii"), {16, 16, 16});
    truncateFile(p("truncated.nii"), 0.5);
    writeBlankImage<4>(p("four_d.nii.gz"), {4, 4, 4, 3});
    writeBlankImage<2>(p("two_d.nrrd"), {8, 8});
    writeBlankImage<3, itk::RGBPixel<unsigned char>>(p("rgb.nrrd"), {4, 4, 4});
    std::ofstream(p("text.nii")) << "This is a text file with a NIfTI name.\n" << std::string(400, '.') << "\n";
    std::ofstream(p("empty.nii.gz"));

    // NIfTI-1 header fields (byte offsets of nifti1.h): magic 344, sizeof_hdr 0, vox_offset 108,
    // scl_slope 112, qform_code 252, sform_code 254, srow_y 296.
    writeBlankImage<3>(p("wrong_magic.nii"), {4, 4, 4});
    patch<std::array<char, 4>>(p("wrong_magic.nii"), 344, {'n', 'i', '1', '\0'});
    writeBlankImage<3>(p("header_size_lies.nii"), {4, 4, 4});
    patch<std::int32_t>(p("header_size_lies.nii"), 0, 540);
    writeBlankImage<3>(p("vox_offset_beyond.nii"), {4, 4, 4});
    patch<float>(p("vox_offset_beyond.nii"), 108, 1.0e6f);
    // int16 values 0..99, then a slope that overflows float for every value >= 2
    writeBlankImage<3, short>(p("extreme_scl_slope.nii"), {8, 8, 8});
    {
      std::fstream f(p("extreme_scl_slope.nii"), std::ios::in | std::ios::out | std::ios::binary);
      f.seekp(352);
      for (short v = 0; v < 512; ++v) {
        const short x = static_cast<short>(v % 100);
        f.write(reinterpret_cast<const char*>(&x), sizeof x);
      }
    }
    patch<float>(p("extreme_scl_slope.nii"), 112, 3.0e38f);
    writeWithSform(p("singular_direction.nii"), {1, 0, 0, 0}, {1, 0, 0, 0}, {0, 0, 1, 0});
    patch<std::int16_t>(p("singular_direction.nii"), 252, 0);
    // NaN and Inf voxels (nifticlib sets them to 0 when reading NIfTI: voxseg puts them back)
    for (const char* name : {"nan_voxels.nrrd", "nan_voxels.nii.gz", "nan_voxels.nii"})
      writeRamp(p(name), {24, 32, 16},
                {{10, std::numeric_limits<float>::quiet_NaN()}, {20, std::numeric_limits<float>::infinity()}});
    writeRamp(p("nan_label.nii.gz"), {4, 4, 4}, {{5, std::numeric_limits<float>::quiet_NaN()}});
    writeRamp(p("ramp_labels.nii.gz"), {4, 4, 4});
    writeRamp(p("not_labels.nii.gz"), {4, 4, 4}, {{5, 0.5f}});
    writeRamp(p("big.nii"), {64, 64, 64});
    writeRamp(p("plain.nii"), {16, 16, 16});
    writeCorruptGzip(p("plain.nii"), p("corrupt_gzip.nii.gz"));
    writeBlankImage<3>(p("truncated.mha"), {16, 16, 16});
    truncateFile(p("truncated.mha"), 0.6);
    std::ofstream(p("long_line.nrrd"), std::ios::binary)
        << "NRRD0004\ntype: uint8\ndimension: 3\nsizes: 2 2 2\nencoding: raw\nspace origin: (" << std::string(2000, '1')
        << ",0,0)\n\n"
        << std::string(8, '\0');
    // NaN in the sform (ITK's direction computation aborts on it), a zero spacing without qform/sform
    writeWithSform(p("nan_sform.nii"), {1, 0, 0, std::numeric_limits<float>::quiet_NaN()}, {0, 1, 0, 0}, {0, 0, 1, 0});
    writeWithSform(p("huge_origin.nii"), {1, 0, 0, 1e30f}, {0, 1, 0, 0}, {0, 0, 1, 0});
    writeBlankImage<3>(p("zero_pixdim.nii"), {4, 4, 4});
    patch<std::int16_t>(p("zero_pixdim.nii"), 252, 0);
    patch<std::int16_t>(p("zero_pixdim.nii"), 254, 0);
    patch<float>(p("zero_pixdim.nii"), 84, 0.0f);
    // A negative pixdim[1] with a qform only, and with an sform only
    for (const char* name : {"negative_pixdim_qform.nii", "negative_pixdim_sform.nii"}) {
      writeBlankImage<3>(p(name), {4, 4, 4});
      patch<std::int16_t>(p(name), std::string(name).find("qform") != std::string::npos ? 254 : 252, 0);
      patch<float>(p(name), 80, -1.0f);
    }
    // Axes 0 and 1 at 63.4 degrees: NRRD and MetaImage can say so, voxseg's writers cannot keep it
    std::ofstream(p("sheared.nrrd"), std::ios::binary)
        << "NRRD0004\ntype: float\ndimension: 3\nspace: left-posterior-superior\nsizes: 4 4 4\n"
           "space directions: (1,0,0) (0.5,1,0) (0,0,1)\nkinds: domain domain domain\nendian: little\n"
           "encoding: raw\nspace origin: (0,0,0)\n\n"
        << std::string(256, '\0');
    // A compressed MetaImage whose deflate stream is damaged (its CompressedDataSize still right)
    writeRamp(p("corrupt_deflate.mha"), {32, 32, 32}, {}, true);
    {
      const auto size = std::filesystem::file_size(p("corrupt_deflate.mha"));
      for (std::uintmax_t k = size * 2 / 3; k < size * 2 / 3 + 16; ++k)
        patch<unsigned char>(p("corrupt_deflate.mha"), static_cast<std::streamoff>(k), 0x5a);
    }
    // A compressed .mha without CompressedDataSize (ITK 5.2 reads zeros from it)
    writeRamp(p("compressed_no_size.mha"), {16, 16, 16}, {}, true);
    {
      std::ifstream in(p("compressed_no_size.mha"), std::ios::binary);
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      const auto at = text.find("CompressedDataSize = ");
      if (at == std::string::npos) throw std::runtime_error("compressed_no_size.mha: no CompressedDataSize written");
      text.erase(at, text.find('\n', at) + 1 - at);
      std::ofstream(p("compressed_no_size.mha"), std::ios::binary | std::ios::trunc) << text;
    }
    // MetaImages whose slices are files of their own, one missing (a list) or short (a pattern): ITK 5.2 read the
    // voxels of the buffer as they were, said so only on the console, and exited 0
    {
      const std::string head = "ObjectType = Image\nNDims = 3\nDimSize = 4 5 3\nElementType = MET_SHORT\n"
                               "ElementSpacing = 1 2 3\nOffset = 10 20 30\n";
      std::ofstream(p("slice_list.mhd")) << head << "ElementDataFile = LIST 2D\nlist0.raw\nlist1.raw\nlist2.raw\n";
      std::ofstream(p("list0.raw"), std::ios::binary) << std::string(40, '\1');
      std::ofstream(p("list2.raw"), std::ios::binary) << std::string(40, '\1');
      std::ofstream(p("slice_pattern.mhd")) << head << "ElementDataFile = pat%02d.raw 1 3 1\n";
      for (const char* f : {"pat01.raw", "pat02.raw"}) std::ofstream(p(f), std::ios::binary) << std::string(40, '\1');
      std::ofstream(p("pat03.raw"), std::ios::binary) << std::string(30, '\1');
    }
    std::ofstream(p("random.pt"), std::ios::binary) << "PK\x03\x04" << std::string(500, '\x7f');
  } catch (const std::exception& e) {
    std::cerr << "voxsegMakeBadInputs: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
