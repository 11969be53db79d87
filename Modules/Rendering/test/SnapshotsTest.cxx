// Pictures: requested size, not blank, each label's color present; slice mosaics in radiological
// convention; the review page embeds its pictures.
#include "PngTestSupport.h"

#include "voxseg/core/Error.h"
#include "voxseg/rendering/ReviewPage.h"
#include "voxseg/rendering/SliceMosaic.h"
#include "voxseg/rendering/Snapshots.h"
#include "voxseg/testing/Data.h"

#include <vtkImageData.h>
#include <vtkNew.h>
#include <vtkPNGReader.h>

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

namespace voxseg::rendering {
namespace {

using testing::pixelsNear;
using testing::readPng;

// Two blobs: label 1 on the patient's left (+x LPS), label 2 on the right, label 3 anterior-superior.
Labels twoSides(const Mat3& direction) {
  Labels l;
  l.geometry.size = {40, 40, 30};
  l.geometry.spacing = {1, 1, 1.5};
  l.geometry.direction = direction;
  l.voxels.assign(l.geometry.voxelCount(), 0);
  // place by world position so the test does not depend on the direction matrix
  for (std::size_t z = 0; z < 30; ++z)
    for (std::size_t y = 0; y < 40; ++y)
      for (std::size_t x = 0; x < 40; ++x) {
        const Vec3 p = l.geometry.indexToWorld({double(x), double(y), double(z)});
        const Vec3 c = l.geometry.indexToWorld({19.5, 19.5, 14.5});
        const double dx = p[0] - c[0], dy = p[1] - c[1], dz = p[2] - c[2];
        std::uint16_t v = 0;
        if ((dx - 10) * (dx - 10) + dy * dy + dz * dz < 36) v = 1;
        if ((dx + 10) * (dx + 10) + dy * dy + dz * dz < 36) v = 2;
        if (dx * dx + (dy + 12) * (dy + 12) + (dz - 12) * (dz - 12) < 16) v = 3;
        l.voxels[(z * 40 + y) * 40 + x] = v;
      }
  return l;
}

const std::map<int, std::array<int, 3>> kColors{{1, {230, 20, 20}}, {2, {20, 20, 230}}, {3, {20, 200, 20}}};

// Mean x (0..1 of the width) of the pixels of `rgb` in a PNG.
double meanX(const std::string& path, std::array<int, 3> rgb) {
  vtkNew<vtkPNGReader> r;
  r->SetFileName(path.c_str());
  r->Update();
  int d[3];
  r->GetOutput()->GetDimensions(d);
  const auto* p = static_cast<const unsigned char*>(r->GetOutput()->GetScalarPointer());
  const int comps = r->GetOutput()->GetNumberOfScalarComponents();
  double sum = 0, n = 0;
  for (int y = 0; y < d[1]; ++y)
    for (int x = 0; x < d[0]; ++x, p += comps)
      if (p[0] == rgb[0] && p[1] == rgb[1] && p[2] == rgb[2]) sum += double(x) / d[0], ++n;
  return n ? sum / n : -1;
}

TEST(SliceMosaic, RadiologicalConventionWhateverTheVoxelOrder) {
  voxseg::testing::TempDir dir;
  for (const Mat3& d :
       {Mat3{1, 0, 0, 0, 1, 0, 0, 0, 1}, Mat3{-1, 0, 0, 0, -1, 0, 0, 0, 1}, Mat3{0, 1, 0, 1, 0, 0, 0, 0, -1}}) {
    const Labels l = twoSides(d);
    MosaicOptions o;
    o.rows = 1, o.columns = 1, o.tileSize = 200;
    const std::string axial = dir.file("axial.png");
    writeSliceMosaic(nullptr, l, kColors, Plane::Axial, o, axial, true);
    // the patient's left (label 1) shows on the right of an axial or coronal picture
    EXPECT_GT(meanX(axial, kColors.at(1)), 0.5);
    EXPECT_LT(meanX(axial, kColors.at(2)), 0.5);
    const std::string coronal = dir.file("coronal.png");
    writeSliceMosaic(nullptr, l, kColors, Plane::Coronal, o, coronal, true);
    EXPECT_GT(meanX(coronal, kColors.at(1)), 0.5);
    EXPECT_LT(meanX(coronal, kColors.at(2)), 0.5);
    // sagittal: anterior (label 3) on the left
    o.rows = 3, o.columns = 3;
    const std::string sagittal = dir.file("sagittal.png");
    writeSliceMosaic(nullptr, l, kColors, Plane::Sagittal, o, sagittal, true);
    const double x3 = meanX(sagittal, kColors.at(3));
    ASSERT_GE(x3, 0) << "label 3 missing from the sagittal mosaic";
  }
}

TEST(SliceMosaic, SizeWindowAndEveryLabelColor) {
  voxseg::testing::TempDir dir;
  const Labels l = twoSides({1, 0, 0, 0, 1, 0, 0, 0, 1});
  io::Volume ct = io::makeVolume(PixelType::Int16, l.geometry);
  auto* p = ct.as<std::int16_t>()->GetBufferPointer();
  for (std::size_t i = 0; i < l.geometry.voxelCount(); ++i) p[i] = std::int16_t(i % 2 ? -1000 : 400);
  MosaicOptions o; // 3x3 tiles of 256 on the longer side: 40 mm x 40 mm -> 256 x 256
  const std::string png = dir.file("axial.png");
  EXPECT_EQ(writeSliceMosaic(&ct, l, kColors, Plane::Axial, o, png, false), "-160..240"); // CT soft tissue
  const auto info = readPng(png);
  EXPECT_EQ(info.width, 3 * 256 + 4 * 4);
  EXPECT_EQ(info.height, 3 * 256 + 4 * 4);
  for (int label : {1, 2}) EXPECT_GT(pixelsNear(png, kColors.at(label), 0), 20u) << label;
  EXPECT_THROW(parseWindow("soft"), Error);
  EXPECT_EQ(parseWindow("-100,300").hi, 300);
}

TEST(Snapshots, EachViewHasTheSizeAndTheLabelColors) {
  voxseg::testing::TempDir dir;
  const Labels l = twoSides({1, 0, 0, 0, 1, 0, 0, 0, 1});
  const auto surfaces = extractSurfaces(l, {}, SurfaceOptions{});
  std::vector<NamedSurface> named;
  for (const auto& s : surfaces) named.push_back({&s, "l" + std::to_string(s.label), kColors.at(s.label)});
  SnapshotOptions o;
  o.width = 320, o.height = 240;
  const auto files =
      writeSurfaceSnapshots(named, {View::Anterior, View::Left, View::Superior}, o, dir.file("3d_"), false);
  ASSERT_EQ(files.size(), 3u);
  for (const auto& f : files) {
    const auto info = readPng(f);
    EXPECT_EQ(info.width, 320);
    EXPECT_EQ(info.height, 240);
    EXPECT_GT(info.distinctColors, 20u) << f;
  }
  // shading changes brightness, not hue: look for strongly red and strongly blue pixels
  vtkNew<vtkPNGReader> r;
  r->SetFileName(files[0].c_str());
  r->Update();
  const auto* p = static_cast<const unsigned char*>(r->GetOutput()->GetScalarPointer());
  std::size_t red = 0, blue = 0;
  for (int i = 0; i < 320 * 240; ++i, p += r->GetOutput()->GetNumberOfScalarComponents()) {
    red += p[0] > 80 && p[0] > 3 * p[2] && p[0] > 3 * p[1];
    blue += p[2] > 80 && p[2] > 3 * p[0] && p[2] > 3 * p[1];
  }
  EXPECT_GT(red, 200u);
  EXPECT_GT(blue, 200u);
  // glTF from the same scene
  writeGltf(named, dir.file("labels.gltf"), false);
  std::ifstream in(dir.file("labels.gltf"));
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("\"asset\""), std::string::npos);
  EXPECT_NE(text.find("data:application/octet-stream;base64,"), std::string::npos);
}

TEST(ReviewPage, EmbedsPicturesAndListsLabels) {
  voxseg::testing::TempDir dir;
  const Labels l = twoSides({1, 0, 0, 0, 1, 0, 0, 0, 1});
  MosaicOptions o;
  o.rows = o.columns = 1;
  writeSliceMosaic(nullptr, l, kColors, Plane::Axial, o, dir.file("a.png"), false);
  ReviewPage page;
  page.title = "case <1>";
  page.images = {{"axial", dir.file("a.png")}};
  page.labels = {{1, "left blob", {230, 20, 20}, 0.9, 1, 0.88}};
  page.metricColumns = {"Dice"};
  page.metricRows = {{"1", "0.9500"}};
  writeReviewPage(page, dir.file("review.html"), false);
  std::ifstream in(dir.file("review.html"));
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("case &lt;1&gt;"), std::string::npos);
  EXPECT_NE(text.find("data:image/png;base64,iVBORw0KGgo"), std::string::npos);
  EXPECT_NE(text.find("left blob"), std::string::npos);
  EXPECT_NE(text.find("rgb(230,20,20)"), std::string::npos);
  EXPECT_NE(text.find("0.9500"), std::string::npos);
  page.images = {{"missing", dir.file("none.png")}};
  EXPECT_THROW(writeReviewPage(page, dir.file("other.html"), false), Error);
  EXPECT_FALSE(std::filesystem::exists(dir.file("other.html")));
}

} // namespace
} // namespace voxseg::rendering
