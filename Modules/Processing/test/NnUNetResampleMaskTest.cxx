// nnunetResampleMask: one label's mask resampled as batchgenerators' resize_segmentation does it (skimage resize of
// order 1, mode edge, then >= 0.5), which nnU-Net applies to a cascade's previous-stage segmentation.
#include "voxseg/processing/NnUNetResampling.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace voxseg::processing {
namespace {

std::vector<std::uint8_t> randomMask(const Shape3& s, unsigned seed, double p = 0.5) {
  std::mt19937 rng(seed);
  std::bernoulli_distribution on(p);
  std::vector<std::uint8_t> m(std::size_t(s[0] * s[1] * s[2]));
  for (auto& v : m) v = on(rng);
  return m;
}

// A case where the trilinear value is 0.5 to the last bit: skimage.transform.resize(mask.astype(float), (5, 6, 3),
// order=1, mode="edge", clip=True, anti_aliasing=False) >= 0.5 (scikit-image 0.19.3, scipy 1.10.1) gives `expected`;
// interpolating one axis after the other (as the image resampler does) rounds two voxels to the other side.
TEST(NnUNetResampleMask, TiesFallWhereScipyPutsThem) {
  const Shape3 from{2, 4, 2}, to{5, 6, 3};
  const std::vector<std::uint8_t> mask{0, 1, 1, 1, 1, 1, 0, 1, 1, 0, 1, 1, 1, 0, 1, 0};
  const std::vector<std::uint8_t> expected{0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 0, 1, 1, 1, 1,
                                           1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
                                           1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 0,
                                           1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 1, 1, 1, 0, 1, 1, 0, 1, 0, 0};
  EXPECT_EQ(nnunetResampleMask(mask.data(), from, to, 1, {}, 0), expected);
  // the image resampler, one axis after the other, puts those two voxels (0.49999999999999994 for scipy) at 0.5
  std::vector<float> asFloat(mask.begin(), mask.end());
  const std::vector<float> values = nnunetResample(asFloat.data(), from, to, 1, {}, 0);
  std::vector<std::size_t> other;
  for (std::size_t i = 0; i < values.size(); ++i)
    if ((values[i] >= 0.5f) != (expected[i] == 1)) other.push_back(i);
  EXPECT_EQ(other, (std::vector<std::size_t>{77, 88}));
}

// Away from 0.5 the order-1 threshold agrees with the image resampler (checked against skimage and nnU-Net
// elsewhere), for 3D resizing and for the separate-z rule (slices in their plane, nearest slice along the thick axis).
TEST(NnUNetResampleMask, AgreesWithTheImageResamplerAwayFromTies) {
  const std::vector<std::pair<Shape3, Shape3>> cases{
      {{7, 9, 11}, {5, 13, 4}}, {{12, 20, 18}, {25, 31, 9}}, {{1, 6, 5}, {3, 4, 7}}, {{9, 30, 28}, {18, 41, 40}}};
  unsigned seed = 1;
  for (const auto& [from, to] : cases)
    for (int order : {1})
      for (int axis : {-1, 0, 1, 2}) {
        SeparateZ sep;
        if (axis >= 0) sep = {true, axis};
        const auto mask = randomMask(from, seed++, 0.4);
        std::vector<float> asFloat(mask.begin(), mask.end());
        const auto values = nnunetResample(asFloat.data(), from, to, order, sep, 0);
        const auto got = nnunetResampleMask(mask.data(), from, to, order, sep, 0);
        ASSERT_EQ(got.size(), values.size());
        std::size_t compared = 0;
        for (std::size_t i = 0; i < got.size(); ++i) {
          if (std::abs(values[i] - 0.5f) < 1e-6f) continue;
          ++compared;
          ASSERT_EQ(got[i], values[i] >= 0.5f ? 1 : 0) << "order " << order << " axis " << axis << " voxel " << i;
        }
        EXPECT_GT(compared, got.size() / 2);
      }
}

TEST(NnUNetResampleMask, SameResultForAnyNumberOfWorkers) {
  const Shape3 from{9, 30, 28}, to{14, 19, 41};
  const auto mask = randomMask(from, 11);
  for (const SeparateZ sep : {SeparateZ{}, SeparateZ{true, 0}}) {
    const auto one = nnunetResampleMask(mask.data(), from, to, 1, sep, 0, 1);
    for (unsigned workers : {2u, 3u, 8u})
      EXPECT_EQ(nnunetResampleMask(mask.data(), from, to, 1, sep, 0, workers), one) << workers;
  }
}

TEST(NnUNetResampleMask, SameShapeIsACopy) {
  const Shape3 s{3, 4, 5};
  const auto mask = randomMask(s, 3);
  EXPECT_EQ(nnunetResampleMask(mask.data(), s, s, 1, {}, 0), mask);
}

// A label map: each value's mask resampled and larger values winning, as nnU-Net's resampling_fn_seg. The wanted
// arrays are nnunetv2 2.8.1's resample_data_or_seg_to_shape(seg[None], new_shape, spacing, new_spacing, is_seg=True,
// order=1, order_z=0, force_separate_z=None)[0] for seg = numpy.random.default_rng(5).integers(0, 4, shape), drawn
// in this order: (4, 5, 5) at (2, 1, 1) mm to (3, 8, 7) and (3, 5, 6) at (4, 1, 1) mm to (5, 7, 4), both with z
// resampled on its own (nearest slice), and (4, 5, 5) at 1 mm to (6, 7, 3), not.
TEST(NnUNetResampleLabels, EqualsNnUNetsSegmentationResampling) {
  const std::vector<std::uint16_t> plain{2, 3, 0, 3, 1, 2, 2, 1, 3, 0, 1, 1, 2, 1, 0, 0, 0, 0, 0, 3, 0, 2, 3, 0, 1,
                                         1, 1, 3, 0, 3, 3, 3, 0, 1, 2, 1, 2, 2, 2, 0, 3, 2, 3, 1, 1, 3, 0, 0, 1, 2,
                                         0, 3, 1, 0, 2, 3, 3, 3, 1, 0, 3, 2, 3, 0, 0, 2, 1, 1, 3, 0, 2, 1, 1, 3, 0,
                                         1, 0, 0, 1, 2, 2, 1, 0, 3, 3, 0, 0, 1, 0, 3, 2, 2, 1, 2, 3, 0, 3, 0, 1, 3};
  const std::vector<std::uint16_t> plainWant{
      2, 3, 3, 0, 3, 3, 1, 2, 2, 0, 0, 3, 3, 1, 2, 2, 2, 1, 3, 3, 0, 1, 1, 1, 2, 1, 0, 0, 1, 1, 0, 2, 0, 0,
      0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 3, 0, 0, 1, 0, 2, 2, 3, 0, 0, 1, 0, 3, 3, 1, 0, 0, 2, 0, 3, 3, 1, 0,
      0, 2, 3, 3, 3, 3, 1, 1, 0, 3, 3, 3, 3, 0, 0, 0, 3, 2, 0, 3, 0, 0, 0, 2, 1, 1, 1, 3, 3, 0, 2, 1, 1, 1,
      3, 3, 0, 2, 1, 1, 1, 3, 3, 0, 1, 0, 0, 0, 1, 1, 2, 1, 0, 0, 0, 0, 0, 2, 2, 1, 1, 0, 3, 3, 3, 0, 0, 0,
      1, 0, 3, 3, 0, 0, 0, 1, 0, 0, 3, 2, 2, 2, 1, 2, 2, 3, 0, 0, 0, 0, 1, 0, 3, 0, 3, 3, 0, 1, 1, 3};
  const std::vector<std::uint16_t> sepZ{3, 0, 3, 3, 1, 1, 3, 3, 2, 1, 0, 3, 1, 2, 2, 0, 1, 2, 0, 2, 3, 2, 2,
                                        1, 3, 0, 1, 2, 2, 0, 0, 2, 3, 2, 3, 1, 1, 3, 0, 0, 0, 1, 0, 3, 3, 1,
                                        0, 2, 0, 2, 0, 3, 2, 3, 2, 2, 1, 3, 0, 0, 1, 2, 1, 3, 3, 1, 1, 2, 2,
                                        1, 2, 3, 2, 1, 1, 1, 0, 0, 3, 1, 1, 2, 2, 3, 2, 3, 2, 1, 1, 3};
  const std::vector<std::uint16_t> sepZWant{
      3, 3, 3, 1, 3, 0, 1, 0, 3, 2, 1, 3, 1, 2, 0, 2, 0, 3, 2, 1, 0, 0, 2, 0, 3, 1, 2, 0, 3, 3, 3, 1, 3, 0, 1,
      0, 3, 2, 1, 3, 1, 2, 0, 2, 0, 3, 2, 1, 0, 0, 2, 0, 3, 1, 2, 0, 0, 3, 2, 1, 0, 0, 0, 1, 1, 0, 0, 1, 0, 3,
      1, 2, 0, 0, 3, 3, 2, 0, 3, 0, 2, 1, 3, 0, 1, 1, 3, 1, 1, 2, 0, 3, 1, 2, 1, 3, 2, 1, 1, 0, 3, 1, 2, 3, 3,
      1, 2, 3, 2, 2, 1, 3, 1, 1, 3, 1, 1, 2, 0, 3, 1, 2, 1, 3, 2, 1, 1, 0, 3, 1, 2, 3, 3, 1, 2, 3, 2, 2, 1, 3};
  const std::vector<std::uint16_t> iso{2, 0, 3, 3, 0, 0, 2, 1, 1, 0, 0, 3, 3, 3, 2, 0, 1, 2, 3, 1, 2, 1, 2, 2, 2,
                                       0, 3, 3, 3, 1, 1, 1, 1, 0, 2, 0, 3, 0, 2, 1, 0, 3, 1, 3, 0, 1, 1, 1, 0, 2,
                                       1, 3, 0, 1, 0, 3, 2, 1, 3, 2, 3, 2, 2, 2, 0, 2, 3, 2, 1, 0, 2, 0, 3, 0, 1,
                                       0, 2, 0, 1, 0, 3, 0, 0, 2, 0, 3, 3, 1, 1, 1, 2, 1, 1, 2, 0, 3, 1, 3, 1, 1};
  const std::vector<std::uint16_t> isoWant{2, 3, 0, 0, 1, 0, 0, 1, 0, 0, 3, 2, 0, 2, 0, 0, 2, 0, 2, 2, 2, 0, 3, 0, 0, 1,
                                           0, 0, 1, 0, 0, 3, 2, 0, 0, 0, 0, 2, 0, 1, 2, 2, 0, 3, 1, 1, 1, 0, 1, 1, 2, 0,
                                           0, 1, 0, 1, 0, 0, 1, 0, 1, 1, 2, 1, 0, 0, 0, 1, 0, 3, 1, 2, 3, 2, 0, 0, 2, 0,
                                           2, 0, 0, 2, 3, 1, 0, 0, 0, 0, 0, 0, 3, 1, 0, 3, 2, 1, 2, 2, 0, 2, 0, 0, 0, 3,
                                           1, 0, 0, 0, 0, 0, 0, 3, 0, 0, 3, 1, 1, 0, 1, 0, 0, 1, 0, 3, 3, 1};
  const SeparateZ plainSep = nnunetSeparateZ({2, 1, 1}, {8.0 / 3, 0.625, 5.0 / 7});
  ASSERT_TRUE(plainSep.separate);
  EXPECT_EQ(nnunetResampleLabels(plain.data(), {4, 5, 5}, {3, 8, 7}, 1, plainSep, 0), plainWant);
  const SeparateZ sep = nnunetSeparateZ({4, 1, 1}, {2.4, 5.0 / 7, 1.5});
  ASSERT_TRUE(sep.separate);
  EXPECT_EQ(nnunetResampleLabels(sepZ.data(), {3, 5, 6}, {5, 7, 4}, 1, sep, 0), sepZWant);
  const SeparateZ none = nnunetSeparateZ({1, 1, 1}, {4.0 / 6, 5.0 / 7, 5.0 / 3});
  ASSERT_FALSE(none.separate);
  EXPECT_EQ(nnunetResampleLabels(iso.data(), {4, 5, 5}, {6, 7, 3}, 1, none, 0), isoWant);
  for (unsigned workers : {2u, 3u})
    EXPECT_EQ(nnunetResampleLabels(sepZ.data(), {3, 5, 6}, {5, 7, 4}, 1, sep, 0, workers), sepZWant) << workers;
  EXPECT_EQ(nnunetResampleLabels(plain.data(), {4, 5, 5}, {4, 5, 5}, 1, {}, 0), plain);
}

} // namespace
} // namespace voxseg::processing
