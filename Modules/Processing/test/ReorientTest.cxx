#include "voxseg/processing/Reorient.h"
#include "voxseg/core/Error.h"
#include "voxseg/core/ItkGeometry.h"

#include <itkImage.h>
#include <itkImageRegionConstIteratorWithIndex.h>

#include <gtest/gtest.h>

namespace voxseg::processing {
namespace {

template <typename T> typename itk::Image<T, 3>::Pointer makeImage() {
  using ImageType = itk::Image<T, 3>;
  auto img = ImageType::New();
  typename ImageType::RegionType region;
  region.SetSize({4, 3, 2});
  img->SetRegions(region);
  Geometry g;
  g.spacing = {0.5, 1.5, 3.0};
  g.origin = {1, 2, 3};
  g.direction = {0, 1, 0, 0, 0, -1, -1, 0, 0}; // columns: -z, +x, -y -> "ILA"
  setGeometry(*img, g);
  img->Allocate();
  T v = 0;
  for (std::size_t i = 0; i < 24; ++i) img->GetBufferPointer()[i] = v++;
  return img;
}

template <typename T> void expectSameWorldImage(const itk::Image<T, 3>& a, const itk::Image<T, 3>& b) {
  itk::ImageRegionConstIteratorWithIndex<itk::Image<T, 3>> it(&a, a.GetLargestPossibleRegion());
  for (; !it.IsAtEnd(); ++it) {
    typename itk::Image<T, 3>::PointType p;
    a.TransformIndexToPhysicalPoint(it.GetIndex(), p);
    typename itk::Image<T, 3>::IndexType j;
    ASSERT_TRUE(b.TransformPhysicalPointToIndex(p, j));
    ASSERT_EQ(b.GetPixel(j), it.Get());
  }
}

TEST(Reorient, KeepsEveryVoxelsWorldPosition) {
  auto in = makeImage<std::uint8_t>();
  EXPECT_EQ(orientationCode(geometryOf(*in).direction), "ILA");
  for (const char* code : {"RAS", "LPS", "PIR", "SAL"}) {
    auto out = reorientTo(*in, PixelType::UInt8, code);
    auto* typed = dynamic_cast<itk::Image<std::uint8_t, 3>*>(out.GetPointer());
    ASSERT_NE(typed, nullptr);
    EXPECT_EQ(orientationCode(geometryOf(*typed).direction), code);
    expectSameWorldImage(*in, *typed);
    expectSameWorldImage(*typed, *in);
  }
}

TEST(Reorient, WorksForFloatAndRejectsAWrongTypeTag) {
  auto in = makeImage<float>();
  auto out = reorientTo(*in, PixelType::Float32, "RAS");
  expectSameWorldImage(*in, *dynamic_cast<itk::Image<float, 3>*>(out.GetPointer()));
  EXPECT_THROW(reorientTo(*in, PixelType::Int16, "RAS"), Error);
}

} // namespace
} // namespace voxseg::processing

#include "voxseg/processing/Components.h"

namespace voxseg::processing {
namespace {

TEST(Components, KeepLargestComponentPerLabel) {
  auto img = LabelImage::New();
  LabelImage::RegionType region;
  region.SetSize({10, 3, 3});
  img->SetRegions(region);
  img->Allocate(true);
  auto* p = img->GetBufferPointer();
  // label 1: a 3-voxel run at x 0..2 and a 1-voxel island at x 6 (same row); label 2: two islands.
  for (int x : {0, 1, 2}) p[x] = 1;
  p[6] = 1;
  p[9] = 2;
  p[9 + 20] = 2;
  p[8 + 20 + 30] = 2; // (8, 2, 1): a diagonal (26-connected) neighbour of (9, 2, 0)
  EXPECT_EQ(keepLargestComponent(*img, {1}), 1u);
  EXPECT_EQ(p[6], 0);
  EXPECT_EQ(p[1], 1);
  EXPECT_EQ(keepLargestComponent(*img, {2}), 1u); // the pair survives, the lone voxel goes
  EXPECT_EQ(p[9], 0);
  EXPECT_EQ(p[29], 2);
  EXPECT_EQ(keepLargestComponent(*img, {5}), 0u); // absent label: nothing to do
}

} // namespace
} // namespace voxseg::processing
