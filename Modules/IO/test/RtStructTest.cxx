// RT Structure Sets: every contour point lies on the mask boundary (half-way between a voxel inside and
// one outside, on the contour's slice), every labelled slice has contours, references stay in the
// source series, and dciodvfy finds no error.
#include "voxseg/io/RtStruct.h"
#include "voxseg/core/Error.h"
#include "voxseg/io/VolumeIO.h"
#include "voxseg/testing/Data.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmrt/drtstrct.h>

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>

namespace voxseg::io {
namespace {

using voxseg::testing::sharedPath;
using voxseg::testing::TempDir;

const std::string kSegs = "data/dcmqi/segmentations/";

// World -> continuous index (the direction matrix is orthonormal).
Vec3 toIndex(const Geometry& g, const Vec3& w) {
  Vec3 d{w[0] - g.origin[0], w[1] - g.origin[1], w[2] - g.origin[2]}, out{};
  for (int c = 0; c < 3; ++c)
    out[c] = (g.direction[c] * d[0] + g.direction[3 + c] * d[1] + g.direction[6 + c] * d[2]) / g.spacing[c];
  return out;
}

TEST(RtStruct, ContoursLieOnTheMaskBoundaryAndReferenceTheSeries) {
  VOXSEG_REQUIRE_DATA(nrrd, sharedPath(kSegs + "liver_spine_seg.nrrd"));
  const std::string ct = sharedPath(kSegs + "ct-3slice");
  TempDir dir;
  const Volume labels = readVolume(nrrd);
  const std::vector<std::uint16_t> values = labelValues(labels);
  const Geometry g = labels.geometry();
  std::vector<LabelInfo> known(2);
  known[0].value = 1, known[0].name = "liver", known[0].color = {221, 130, 101};
  known[1].value = 2, known[1].name = "spine", known[1].color = {241, 214, 145};
  const std::string out = dir.file("rt.dcm");
  writeRtStruct(labels, known, ct, out, {}, false);

  DcmFileFormat file;
  ASSERT_TRUE(file.loadFile(out.c_str()).good());
  DRTStructureSetIOD rt;
  ASSERT_TRUE(rt.read(*file.getDataset()).good());
  OFString text;
  rt.getModality(text);
  EXPECT_EQ(text, "RTSTRUCT");
  // the source series' images
  std::set<std::string> images;
  auto& frames = rt.getReferencedFrameOfReferenceSequence();
  ASSERT_EQ(frames.getNumberOfItems(), 1u);
  auto& series = frames.getItem(0).getRTReferencedStudySequence().getItem(0).getRTReferencedSeriesSequence().getItem(0);
  for (std::size_t i = 0; i < series.getContourImageSequence().getNumberOfItems(); ++i) {
    series.getContourImageSequence().getItem(i).getReferencedSOPInstanceUID(text);
    images.insert(text.c_str());
  }
  EXPECT_EQ(images.size(), 3u);
  auto& rois = rt.getStructureSetROISequence();
  ASSERT_EQ(rois.getNumberOfItems(), 2u);
  rois.getItem(0).getROIName(text);
  EXPECT_EQ(text, "liver");
  auto& roiContours = rt.getROIContourSequence();
  ASSERT_EQ(roiContours.getNumberOfItems(), 2u);
  std::size_t points = 0;
  for (std::size_t r = 0; r < 2; ++r) {
    auto& item = roiContours.getItem(r);
    item.getReferencedROINumber(text);
    const int label = std::atoi(text.c_str());
    item.getROIDisplayColor(text, -1); // all values
    EXPECT_EQ(text, label == 1 ? "221\\130\\101" : "241\\214\\145");
    std::set<long> slicesWithContours;
    auto& contours = item.getContourSequence();
    ASSERT_GT(contours.getNumberOfItems(), 0u);
    for (std::size_t c = 0; c < contours.getNumberOfItems(); ++c) {
      auto& contour = contours.getItem(c);
      contour.getContourGeometricType(text);
      EXPECT_EQ(text, "CLOSED_PLANAR");
      contour.getContourImageSequence().getItem(0).getReferencedSOPInstanceUID(text);
      EXPECT_EQ(images.count(text.c_str()), 1u);
      OFVector<Float64> xyz;
      ASSERT_TRUE(contour.getContourData(xyz).good());
      ASSERT_EQ(xyz.size() % 3, 0u);
      contour.getNumberOfContourPoints(text);
      EXPECT_EQ(std::size_t(std::atoi(text.c_str())), xyz.size() / 3);
      for (std::size_t p = 0; p < xyz.size(); p += 3, ++points) {
        const Vec3 idx = toIndex(g, {xyz[p], xyz[p + 1], xyz[p + 2]});
        const long z = std::lround(idx[2]);
        ASSERT_NEAR(idx[2], double(z), 1e-3) << "contour point off its slice";
        slicesWithContours.insert(z);
        // half-way between two neighbouring voxel centres, one inside and one outside
        const bool xHalf = std::fabs(idx[0] - std::floor(idx[0]) - 0.5) < 1e-3;
        const bool yHalf = std::fabs(idx[1] - std::floor(idx[1]) - 0.5) < 1e-3;
        ASSERT_NE(xHalf, yHalf) << "point " << idx[0] << "," << idx[1] << " is not on a voxel edge";
        const long x0 = xHalf ? long(std::floor(idx[0])) : std::lround(idx[0]);
        const long y0 = yHalf ? long(std::floor(idx[1])) : std::lround(idx[1]);
        const long x1 = xHalf ? x0 + 1 : x0, y1 = yHalf ? y0 + 1 : y0;
        auto inside = [&](long x, long y) {
          if (x < 0 || y < 0 || x >= long(g.size[0]) || y >= long(g.size[1])) return false;
          return values[(std::size_t(z) * g.size[1] + std::size_t(y)) * g.size[0] + std::size_t(x)] == label;
        };
        EXPECT_NE(inside(x0, y0), inside(x1, y1)) << "point " << idx[0] << "," << idx[1] << " of label " << label;
      }
    }
    for (std::size_t z = 0; z < g.size[2]; ++z) {
      bool present = false;
      for (std::size_t i = 0; i < g.size[0] * g.size[1]; ++i) present |= values[z * g.size[0] * g.size[1] + i] == label;
      EXPECT_EQ(present, slicesWithContours.count(long(z)) == 1) << "label " << label << " slice " << z;
    }
  }
  EXPECT_GT(points, 100u);
  if (std::system("command -v dciodvfy > /dev/null 2>&1") == 0) {
    std::system(("dciodvfy " + out + " > " + dir.file("v.txt") + " 2>&1").c_str());
    std::ifstream in(dir.file("v.txt"));
    std::string line, errors;
    while (std::getline(in, line))
      if (line.rfind("Error", 0) == 0) errors += line + "\n";
    EXPECT_TRUE(errors.empty()) << errors;
  }
}

TEST(RtStruct, EmptyLabelMapIsRefused) {
  VOXSEG_REQUIRE_DATA(nrrd, sharedPath(kSegs + "liver_seg.nrrd"));
  Volume labels = readVolume(nrrd);
  auto* p = static_cast<unsigned char*>(bufferOf(labels));
  std::fill(p, p + labels.geometry().voxelCount() * pixelTypeSize(labels.pixelType), 0);
  TempDir dir;
  EXPECT_THROW(writeRtStruct(labels, {}, sharedPath(kSegs + "ct-3slice"), dir.file("rt.dcm"), {}, false), Error);
  EXPECT_FALSE(std::filesystem::exists(dir.file("rt.dcm")));
}

// A contour of more than about 1,700 points does not fit explicit VR's 16-bit length of a DS value: DCMTK wrote it
// as UN, and DCMTK's dcmrt (what SlicerRT reads with) found no ContourData. Points on straight runs are left out
// (the same polygon), and such a file is written in implicit VR.
TEST(RtStruct, LongContoursKeepTheirCoordinates) {
  VOXSEG_REQUIRE_DATA(nrrd, sharedPath(kSegs + "liver_seg.nrrd"));
  Volume labels = makeVolume(PixelType::UInt8, readVolume(nrrd).geometry()); // ct-3slice's grid
  const Geometry g = labels.geometry();
  auto* p = labels.as<std::uint8_t>()->GetBufferPointer();
  std::fill(p, p + g.voxelCount(), std::uint8_t{0});
  for (std::size_t x = 10; x < 500; ++x) { // a block whose top and bottom edges step up and down at every column
    const std::size_t top = 20 + 2 * (x % 2), bottom = 480 + 2 * (x % 2);
    for (std::size_t y = top; y < bottom; ++y) p[(1 * g.size[1] + y) * g.size[0] + x] = 1; // slice 1
  }
  TempDir dir;
  const std::string out = dir.file("rt.dcm");
  writeRtStruct(labels, {}, sharedPath(kSegs + "ct-3slice"), out, {}, false);
  DcmFileFormat file;
  ASSERT_TRUE(file.loadFile(out.c_str()).good());
  OFString syntax;
  file.getMetaInfo()->findAndGetOFString(DCM_TransferSyntaxUID, syntax);
  EXPECT_EQ(syntax, UID_LittleEndianImplicitTransferSyntax);
  DRTStructureSetIOD rt;
  ASSERT_TRUE(rt.read(*file.getDataset()).good());
  auto& contours = rt.getROIContourSequence().getItem(0).getContourSequence();
  ASSERT_EQ(contours.getNumberOfItems(), 1u);
  OFVector<Float64> xyz;
  ASSERT_TRUE(contours.getItem(0).getContourData(xyz).good());
  OFString count;
  contours.getItem(0).getNumberOfContourPoints(count);
  EXPECT_EQ(std::size_t(std::atoi(count.c_str())), xyz.size() / 3);
  EXPECT_GT(xyz.size() / 3, 1900u);
  // no point in the middle of a straight run: the block's left edge (x = 9.5) has its two corners only
  std::size_t left = 0;
  for (std::size_t i = 0; i < xyz.size(); i += 3) {
    const Vec3 idx = toIndex(g, {xyz[i], xyz[i + 1], xyz[i + 2]});
    left += std::fabs(idx[0] - 9.5) < 1e-3;
  }
  EXPECT_EQ(left, 2u);
}

} // namespace
} // namespace voxseg::io
