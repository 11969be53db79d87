// A binary SEG's frames are packed back to back, first pixel in the lowest bit (PS3.5 8.1.1), also when
// rows x columns is not a multiple of 8: Debian's DCMTK 3.6.7 misplaced the bits of every frame after the first
// there, writing and reading (BinaryFrames.h).
#include "BinaryFrames.h"

#include "voxseg/core/Error.h"
#include "voxseg/io/DicomSeg.h"
#include "voxseg/io/VolumeIO.h"
#include "voxseg/testing/Data.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <random>
#include <vector>

namespace voxseg::io {
namespace {

using voxseg::testing::sharedPath;
using voxseg::testing::TempDir;

TEST(BinaryFrames, FramesFollowOneAnotherLowBitFirst) {
  const std::size_t plane = 13 * 11; // 143 pixels: frame 2 starts at bit 7 of byte 17
  detail::BinaryFramePacker packer(plane);
  std::vector<std::uint8_t> frame(plane, 0);
  frame.front() = frame.back() = 1;
  for (int f = 0; f < 3; ++f) packer.add(frame.data());
  const auto data = packer.pixelData();
  ASSERT_EQ(data.size(), 54u); // ceil(429 / 8) = 54, even already
  std::vector<std::size_t> set;
  for (std::size_t bit = 0; bit < data.size() * 8; ++bit)
    if ((data[bit / 8] >> (bit % 8)) & 1) set.push_back(bit);
  EXPECT_EQ(set, (std::vector<std::size_t>{0, 142, 143, 285, 286, 428}));

  std::mt19937 random(7); // any frames unpack to what was packed
  detail::BinaryFramePacker more(plane);
  std::vector<std::vector<std::uint8_t>> frames(5, std::vector<std::uint8_t>(plane));
  for (auto& f : frames) {
    for (auto& v : f) v = static_cast<std::uint8_t>(random() % 2);
    more.add(f.data());
  }
  const auto packed = more.pixelData();
  EXPECT_EQ(packed.size(), 90u); // ceil(715 / 8) = 90
  std::vector<std::uint8_t> out(plane);
  for (std::size_t f = 0; f < frames.size(); ++f) {
    ASSERT_TRUE(detail::unpackBinaryFrame(packed.data(), packed.size(), f * plane, plane, out.data()));
    EXPECT_EQ(out, frames[f]) << "frame " << f;
  }
  EXPECT_FALSE(detail::unpackBinaryFrame(packed.data(), packed.size(), 5 * plane, plane, out.data())); // beyond
  bool padded = true;
  EXPECT_EQ(detail::binaryFrameStride(packed.size(), 5, plane, padded), plane);
  EXPECT_FALSE(padded);
  EXPECT_EQ(detail::binaryFrameStride(5 * 18, 5, plane, padded), plane); // 90 bytes either way: packed
  EXPECT_EQ(detail::binaryFrameStride(3 * 11, 3, 81, padded), 88u);      // 9 x 9: 31 bytes packed, 33 padded
  EXPECT_TRUE(padded);
  EXPECT_EQ(detail::binaryFrameStride(40, 3, 81, padded), 0u);
}

// dcmqi's ct-3slice cut to `columns` x `rows` (its top-left corner: the positions stay), slice files as they were.
std::string oddSizedSeries(const std::string& source, const std::string& folder, Uint16 columns = 13,
                           Uint16 rows = 11) {
  std::filesystem::create_directories(folder);
  for (const auto& entry : std::filesystem::directory_iterator(source)) {
    DcmFileFormat f;
    if (f.loadFile(entry.path().c_str()).bad()) continue;
    DcmDataset& d = *f.getDataset();
    Uint16 width = 0;
    const Uint16* pixels = nullptr;
    d.findAndGetUint16(DCM_Columns, width);
    EXPECT_TRUE(d.findAndGetUint16Array(DCM_PixelData, pixels).good());
    std::vector<Uint16> cut;
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t c = 0; c < columns; ++c) cut.push_back(pixels[r * width + c]);
    d.putAndInsertUint16(DCM_Rows, rows);
    d.putAndInsertUint16(DCM_Columns, columns);
    d.putAndInsertUint16Array(DCM_PixelData, cut.data(), static_cast<unsigned long>(cut.size()));
    EXPECT_TRUE(f.saveFile((folder + "/" + entry.path().filename().string()).c_str()).good());
  }
  return folder;
}

TEST(DicomSeg, FramesOfAnOddSizeAreWrittenAndReadBitExact) {
  VOXSEG_REQUIRE_DATA(ct, sharedPath("data/dcmqi/segmentations/ct-3slice"));
  TempDir dir;
  const std::string series = oddSizedSeries(ct, dir.file("odd"));
  Volume labels = readVolume(series);
  ASSERT_EQ(labels.geometry().size, (std::array<std::size_t, 3>{13, 11, 3}));
  labels = makeVolume(PixelType::UInt8, labels.geometry());
  std::uint8_t* l = labels.as<std::uint8_t>()->GetBufferPointer();
  std::mt19937 random(11);
  for (std::size_t i = 0; i < labels.geometry().voxelCount(); ++i) l[i] = static_cast<std::uint8_t>(random() % 2);
  for (std::size_t z = 0; z < 3; ++z) l[z * 143] = l[z * 143 + 142] = 1; // each frame's first and last pixel
  const std::string out = dir.file("seg.dcm");
  writeDicomSeg(labels, {}, series, out, {}, false);

  // the Pixel Data itself: one segment, frame z = slice z, its pixel i at bit 143 z + i
  DcmFileFormat f;
  ASSERT_TRUE(f.loadFile(out.c_str()).good());
  const Uint8* data = nullptr;
  unsigned long size = 0;
  ASSERT_TRUE(f.getDataset()->findAndGetUint8Array(DCM_PixelData, data, &size).good());
  ASSERT_EQ(size, 54u);
  std::size_t differ = 0;
  for (std::size_t bit = 0; bit < 3 * 143; ++bit) differ += ((data[bit / 8] >> (bit % 8)) & 1) != l[bit];
  EXPECT_EQ(differ, 0u);

  const Volume back = readDicomSeg(out, series).labels;
  ASSERT_TRUE(back.geometry().nearlyEqual(labels.geometry(), 1e-3));
  const auto b = back.toFloat();
  differ = 0;
  for (std::size_t i = 0; i < labels.geometry().voxelCount(); ++i) differ += b->GetBufferPointer()[i] != l[i];
  EXPECT_EQ(differ, 0u);
}

// Older writers (DCMTK before 3.6.4, dcmqi's exports of that time) started every frame on a whole byte: a SEG whose
// Pixel Data has that length (and not the packed one) is read so, with a warning; one of neither length is refused.
// (Read as packed, frames 2 on came out shifted without a word.)
TEST(DicomSeg, FramesPaddedToWholeBytesByOlderWritersAreReadSo) {
  VOXSEG_REQUIRE_DATA(ct, sharedPath("data/dcmqi/segmentations/ct-3slice"));
  TempDir dir;
  const std::string series = oddSizedSeries(ct, dir.file("nine"), 9, 9); // 81 pixels: 31 bytes packed, 33 padded
  Volume labels = makeVolume(PixelType::UInt8, readVolume(series).geometry());
  std::uint8_t* l = labels.as<std::uint8_t>()->GetBufferPointer();
  std::mt19937 random(5);
  for (std::size_t i = 0; i < 3 * 81; ++i) l[i] = static_cast<std::uint8_t>(random() % 2);
  for (std::size_t z = 0; z < 3; ++z) l[z * 81] = l[z * 81 + 80] = 1;
  const std::string out = dir.file("seg.dcm");
  writeDicomSeg(labels, {}, series, out, {}, false);
  DcmFileFormat f;
  ASSERT_TRUE(f.loadFile(out.c_str()).good());
  std::vector<Uint8> padded(34, 0); // 3 frames of 11 bytes, and OB's even length
  for (std::size_t z = 0; z < 3; ++z)
    for (std::size_t i = 0; i < 81; ++i)
      if (l[z * 81 + i]) padded[z * 11 + i / 8] |= static_cast<Uint8>(1u << (i % 8));
  f.getDataset()->putAndInsertUint8Array(DCM_PixelData, padded.data(), 34);
  ASSERT_TRUE(f.saveFile(dir.file("padded.dcm").c_str()).good());
  const Volume back = readDicomSeg(dir.file("padded.dcm"), series).labels;
  const auto b = back.toFloat();
  std::size_t differ = 0;
  for (std::size_t i = 0; i < 3 * 81; ++i) differ += b->GetBufferPointer()[i] != l[i];
  EXPECT_EQ(differ, 0u);
  padded.resize(40, 0);
  f.getDataset()->putAndInsertUint8Array(DCM_PixelData, padded.data(), 40);
  ASSERT_TRUE(f.saveFile(dir.file("long.dcm").c_str()).good());
  try {
    readDicomSeg(dir.file("long.dcm"), series);
    FAIL() << "Pixel Data of another length was read";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("its Pixel Data holds 40 bytes, not the 31 of 3 binary frames of 9x9"),
              std::string::npos)
        << e.what();
  }
}

} // namespace
} // namespace voxseg::io
