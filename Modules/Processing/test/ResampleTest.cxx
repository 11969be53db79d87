#include "voxseg/processing/Resample.h"
#include "voxseg/core/ItkGeometry.h"

#include <gtest/gtest.h>

namespace voxseg::processing {
namespace {

// 11 slices at 3 mm onto the card's 7.4 mm rounds to 4 slices (0..22.2 mm): back on the input grid, slices 9 and
// 10 (27, 30 mm) lie beyond the coarse grid. They take its edge value, as the header says; they were 0 (with
// logits, background in every channel).
TEST(Resample, PointsBeyondTheGridTakeTheEdgeValue) {
  Geometry fine;
  fine.size = {2, 2, 11};
  fine.spacing = {1, 1, 3};
  const Geometry coarse = gridWithSpacing(fine, {1, 1, 7.4});
  ASSERT_EQ(coarse.size[2], 4u);
  auto img = FloatImage::New();
  FloatImage::RegionType region;
  for (unsigned a = 0; a < 3; ++a) region.SetSize(a, fine.size[a]);
  img->SetRegions(region);
  setGeometry(*img, fine);
  img->Allocate();
  for (std::size_t z = 0; z < 11; ++z)
    for (std::size_t i = 0; i < 4; ++i) img->GetBufferPointer()[z * 4 + i] = float(10 + z);
  const auto down = resampleLinear(*img, coarse);
  const auto back = resampleLinear(*down, fine);
  const float* b = back->GetBufferPointer();
  const float last = down->GetBufferPointer()[3 * 4]; // the coarse grid's last slice (22.2 mm: 17.4)
  EXPECT_FLOAT_EQ(last, 10.0f + 22.2f / 3.0f);
  for (std::size_t z = 9; z < 11; ++z) EXPECT_FLOAT_EQ(b[z * 4], last) << "slice " << z;
  EXPECT_FLOAT_EQ(b[0], 10.0f);
  EXPECT_FLOAT_EQ(b[5 * 4], 10.0f + 15.0f / 3.0f); // 15 mm lies between coarse slices: linear
  // a finer grid than the image reaches beyond its last slice too
  Geometry wide = fine;
  wide.size[2] = 13;
  const auto up = resampleLinear(*img, wide);
  EXPECT_FLOAT_EQ(up->GetBufferPointer()[12 * 4], 20.0f);
}

} // namespace
} // namespace voxseg::processing
