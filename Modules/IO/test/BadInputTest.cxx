// Every bad input gives Error(Input) whose message names the file and the problem.
#include "voxseg/core/Error.h"
#include "voxseg/io/VolumeIO.h"
#include "voxseg/testing/Data.h"
#include "voxseg/testing/MalformedFiles.h"

#include "PayloadCheck.h"

#include <itkImageFileWriter.h>
#include <itkRGBPixel.h>

#include <gtest/gtest.h>

#include <array>
#include <fstream>
#include <random>

namespace voxseg::io {
namespace {

using voxseg::testing::patchNiftiDims;
using voxseg::testing::TempDir;
using voxseg::testing::truncateFile;
using voxseg::testing::writeBlankImage;

void expectInputError(const std::string& path, const std::string& words, const ReadOptions& options = {}) {
  try {
    readVolume(path, options);
    ADD_FAILURE() << "read " << path << " without error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_EQ(e.code(), ExitCode::Input) << msg;
    EXPECT_EQ(msg.rfind(path, 0), 0u) << "message does not start with the path: " << msg;
    EXPECT_NE(msg.find(words), std::string::npos) << "expected '" << words << "' in: " << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << "message is not one line: " << msg;
  }
}

void writeNoise(const std::string& path, unsigned n) {
  Geometry g;
  g.size = {n, n, n};
  Volume v = makeVolume(PixelType::Float32, g);
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(0, 1000);
  float* p = v.as<float>()->GetBufferPointer();
  for (std::size_t i = 0; i < g.voxelCount(); ++i) p[i] = u(rng);
  writeVolume(v, path);
}

TEST(BadInput, MissingFile) { expectInputError("/nonexistent/voxseg/ct.nii.gz", "no such file"); }

TEST(BadInput, EmptyFile) {
  TempDir dir;
  std::ofstream(dir.file("empty.nii.gz"));
  expectInputError(dir.file("empty.nii.gz"), "empty file");
}

TEST(BadInput, TextFileNamedNifti) {
  TempDir dir;
  std::ofstream(dir.file("notes.nii")) << "this is not an image, just some text that is long enough\n"
                                       << std::string(400, 'x');
  expectInputError(dir.file("notes.nii"), "not a readable image");
}

TEST(BadInput, TruncatedGzip) {
  TempDir dir;
  const std::string p = dir.file("cut.nii.gz");
  writeNoise(p, 32);
  truncateFile(p, 0.5);
  expectInputError(p, "truncated compressed data");
}

// Damage inside the compressed stream with an intact trailer: ITK would read it without complaint;
// the payload check inflates the whole stream and the checksum refuses it.
TEST(BadInput, CorruptGzipWithIntactTrailer) {
  TempDir dir;
  const std::string p = dir.file("damaged.nii.gz");
  writeNoise(p, 32);
  std::fstream f(p, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(0, std::ios::end);
  const auto size = static_cast<std::streamoff>(f.tellg());
  f.seekp(size / 2);
  const std::string junk(64, '\x5a');
  f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  f.close();
  expectInputError(p, "corrupt or truncated compressed data");
}

TEST(BadInput, TruncatedUncompressed) {
  TempDir dir;
  const std::string p = dir.file("cut.nii");
  writeNoise(p, 16);
  truncateFile(p, 0.7);
  expectInputError(p, "truncated: the header needs");
}

TEST(BadInput, TruncatedNrrdAndMha) {
  TempDir dir;
  for (const std::string ext : {".nrrd", ".mha"}) {
    const std::string p = dir.file("cut" + ext);
    writeNoise(p, 16);
    truncateFile(p, 0.6);
    expectInputError(p, ext == ".mha" ? "truncated" : "cannot read voxel data");
  }
}

// What voxseg checks after writing a NRRD (teem reports a short write nowhere: a full disk left an empty or cut
// label map and exit 0): the attached payload, gzip or raw, to its end.
TEST(BadInput, WrittenNrrdIsCheckedToTheEnd) {
  TempDir dir;
  const auto expectCut = [](const std::string& p, const std::string& words) {
    try {
      detail::checkNrrdFile(p);
      ADD_FAILURE() << p << " passed";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::Input);
      EXPECT_EQ(std::string(e.what()).rfind(p + ": ", 0), 0u) << e.what();
      EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
    }
  };
  for (const bool compress : {true, false}) {
    const std::string p = dir.file(compress ? "gz.nrrd" : "raw.nrrd");
    Geometry g;
    g.size = {20, 16, 12};
    Volume v = makeVolume(PixelType::UInt16, g);
    std::uint16_t* q = v.as<std::uint16_t>()->GetBufferPointer();
    for (std::size_t i = 0; i < g.voxelCount(); ++i) q[i] = static_cast<std::uint16_t>((i * 2654435761u) >> 20);
    WriteOptions o;
    o.compress = compress;
    writeVolume(v, p, o);
    EXPECT_NO_THROW(detail::checkNrrdFile(p));
    truncateFile(p, 0.8);
    expectCut(p, compress ? "corrupt or truncated compressed data" : "truncated: the header needs 7680 bytes");
  }
  const std::string p = dir.file("head.nrrd");
  std::ofstream(p) << "NRRD0004\ntype: unsigned char\ndimension: 3\nsizes: 2 2 2\nenc";
  expectCut(p, "its NRRD header has no end");
  std::ofstream(p, std::ios::trunc).close();
  expectCut(p, "empty file");
  // detached data, or an encoding not judged here: passed over
  std::ofstream(p, std::ios::trunc) << "NRRD0004\ntype: float\ndimension: 3\nsizes: 2 2 2\ndata file: d.raw\n\n";
  EXPECT_NO_THROW(detail::checkNrrdFile(p));
}

TEST(BadInput, FourDimensional) {
  TempDir dir;
  writeBlankImage<4>(dir.file("t.nii.gz"), {4, 4, 4, 3});
  expectInputError(dir.file("t.nii.gz"), "4D image (4x4x4x3, 3 volumes)");
}

TEST(BadInput, TwoDimensional) {
  TempDir dir;
  writeBlankImage<2>(dir.file("slice.nrrd"), {8, 8});
  expectInputError(dir.file("slice.nrrd"), "2D image");
}

TEST(BadInput, RgbVolume) {
  TempDir dir;
  writeBlankImage<3, itk::RGBPixel<unsigned char>>(dir.file("rgb.nrrd"), {4, 4, 4});
  expectInputError(dir.file("rgb.nrrd"), "3 components per voxel");
}

// A 4x4x4 NIfTI file `name` whose header is patched to claim `dims` ({rank, x, y, z}): reading it is an input
// error naming the file and saying `words`.
void expectPatchedNiftiError(const std::string& name, std::array<short, 4> dims, const std::string& words) {
  TempDir dir;
  const std::string p = dir.file(name);
  writeNoise(p, 4);
  patchNiftiDims(p, dims);
  expectInputError(p, words);
}

TEST(BadInput, AbsurdHeaderDimensions) {
  expectPatchedNiftiError("bomb.nii", {3, 30000, 30000, 30000}, "more than the limit");
}

TEST(BadInput, ZeroSizeDimension) { expectPatchedNiftiError("zero.nii", {3, 4, 0, 4}, "zero-size"); }

TEST(BadInput, VoxelLimitIsAnOption) {
  TempDir dir;
  const std::string p = dir.file("small.nii.gz");
  writeNoise(p, 8);
  ReadOptions o;
  o.maxVoxels = 100;
  expectInputError(p, "512 voxels, more than the limit of 100", o);
}

TEST(BadInput, FolderWithoutDicom) {
  TempDir dir;
  std::ofstream(dir.file("readme.txt")) << "no images here";
  expectInputError(dir.path().string(), "no DICOM image found");
}

TEST(BadInput, EmptyFolder) {
  TempDir dir;
  expectInputError(dir.path().string(), "holds no files");
}

// Found by Testing/Fuzz/FuzzSegNrrd: a NRRD field line of ~960 bytes or more aborted the process inside
// ITK's NRRD reader ("buffer overflow detected"); it is refused first. Long comments and key:=value
// lines are fine for ITK and still read.
TEST(BadInput, NrrdFieldLineTooLongForItk) {
  TempDir dir;
  const std::string path = dir.file("long.nrrd");
  std::ofstream(path, std::ios::binary) << "NRRD0004\ntype: uint8\ndimension: 3\nsizes: 2 2 2\nencoding: raw\n"
                                        << "space origin: (" << std::string(2000, '1') << ",0,0)\n\n"
                                        << std::string(8, '\0');
  expectInputError(path, "NRRD header line 6 is 2020 bytes long, not a NRRD field");
  const std::string fine = dir.file("fine.nrrd");
  std::ofstream(fine, std::ios::binary) << "NRRD0004\n#" << std::string(5000, 'c') << "\ntype: uint8\ndimension: 3\n"
                                        << "sizes: 2 2 2\nencoding: raw\nnote:=" << std::string(5000, 'n') << "\n\n"
                                        << std::string(8, '\0');
  EXPECT_EQ(readVolume(fine).geometry().voxelCount(), 8u);
}

// A .nii whose magic is not "n+1" (Analyze 7.5, or a .hdr/.img header renamed) would be read without
// NIfTI's orientation.
TEST(BadInput, NiftiWithWrongMagic) {
  TempDir dir;
  const std::string path = dir.file("magic.nii");
  writeBlankImage<3>(path, {4, 4, 4});
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(344);
    f.write("ni1\0", 4);
  }
  expectInputError(path, "not a single-file NIfTI-1: the header's magic is 'ni1', not 'n+1'");
}

} // namespace
} // namespace voxseg::io

namespace voxseg::io {
namespace {

// An image cut out by ITK keeps its region's index (its origin is still index 0's point); one partly in memory has a
// smaller buffer than its grid. The segmenters index buffers from 0 over the whole grid: both are refused by name
// (one was segmented with its labels that many voxels away, the other read past its buffer).
TEST(BadInput, ImagesNotWholeFromIndexZeroAreRefused) {
  using Image = itk::Image<float, 3>;
  const auto volumeOf = [](Image::RegionType largest, Image::RegionType buffered) {
    auto img = Image::New();
    img->SetLargestPossibleRegion(largest);
    img->SetBufferedRegion(buffered);
    img->SetRequestedRegion(buffered);
    img->Allocate(true);
    Volume v;
    v.image = img.GetPointer();
    v.pixelType = PixelType::Float32;
    v.source = "cut";
    return v;
  };
  Image::RegionType moved({{2, 0, 0}}, {{4, 4, 4}});
  try {
    requireFinite(volumeOf(moved, moved));
    FAIL() << "an image whose region starts at index 2";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::Input);
    EXPECT_NE(std::string(e.what()).find("cut: its region starts at index (2, 0, 0)"), std::string::npos) << e.what();
  }
  Image::RegionType whole({{0, 0, 0}}, {{4, 4, 8}}), half({{0, 0, 0}}, {{4, 4, 4}});
  try {
    requireFinite(volumeOf(whole, half));
    FAIL() << "an image half in memory";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cut: only part of its grid is in memory"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(requireFinite(volumeOf(whole, whole)));
}

} // namespace
} // namespace voxseg::io
