#include "voxseg/inference/ImportanceMap.h"
#include "voxseg/testing/Data.h"
#include "voxseg/testing/Npy.h"

#include <gtest/gtest.h>

#include <cmath>

namespace voxseg::inference {
namespace {

using voxseg::testing::readNpy;
using voxseg::testing::sharedPath;

TEST(ImportanceMap, ConstantIsOnes) {
  const auto m = importanceMap({2, 3, 4}, {ImportanceMap::Type::Constant, 0.125});
  ASSERT_EQ(m.size(), 24u);
  for (float v : m) EXPECT_EQ(v, 1.0f);
}

struct MonaiMap {
  Shape3 patch;
  double sigma;
  const char* file;
};

TEST(ImportanceMap, MonaiGaussianBitExact) {
  for (const MonaiMap& c : {MonaiMap{{32, 48, 40}, 0.125, "importance_map__32x48x40__gaussian0p125.npy"},
                            MonaiMap{{24, 32, 16}, 0.125, "importance_map__24x32x16__gaussian0p125.npy"},
                            MonaiMap{{24, 32, 16}, 0.25, "importance_map__24x32x16__gaussian0p25.npy"}}) {
    VOXSEG_REQUIRE_DATA(path, sharedPath(std::string("fixtures/monai/") + c.file));
    const auto expected = readNpy(path);
    const auto m = importanceMap(c.patch, {ImportanceMap::Type::GaussianMonai, c.sigma});
    ASSERT_EQ(m.size(), expected.data.size());
    std::size_t differ = 0;
    for (std::size_t i = 0; i < m.size(); ++i) differ += m[i] != expected.data[i];
    EXPECT_EQ(differ, 0u) << c.file;
  }
}

TEST(ImportanceMap, NnUNetGaussianBitExact) {
  VOXSEG_REQUIRE_DATA(path, sharedPath("fixtures/nnunet/preprocessed/gaussian_importance_map.npy"));
  const auto expected = readNpy(path);
  ASSERT_EQ(expected.shape, (std::vector<std::int64_t>{20, 48, 48}));
  const auto m = importanceMap({20, 48, 48}, {ImportanceMap::Type::GaussianNnUNet, 0.125});
  std::size_t differ = 0;
  float maxDiff = 0;
  for (std::size_t i = 0; i < m.size(); ++i) {
    differ += m[i] != expected.data[i];
    maxDiff = std::max(maxDiff, std::fabs(m[i] - expected.data[i]));
  }
  EXPECT_EQ(differ, 0u) << "max diff " << maxDiff << " (dtype " << expected.dtype << ")";
  EXPECT_EQ(*std::max_element(m.begin(), m.end()), 10.0f);
}

} // namespace
} // namespace voxseg::inference
