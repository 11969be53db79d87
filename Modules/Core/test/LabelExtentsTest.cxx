#include "voxseg/core/LabelExtents.h"

#include <gtest/gtest.h>

namespace voxseg {
namespace {

TEST(LabelExtents, CountsAndBoxesPerLabel) {
  const Size3 n{4, 3, 2}; // x fastest
  std::vector<std::uint16_t> v(24, 0);
  v[(0 * 3 + 1) * 4 + 2] = 5;   // (2, 1, 0)
  v[(1 * 3 + 2) * 4 + 0] = 5;   // (0, 2, 1)
  v[(1 * 3 + 0) * 4 + 3] = 700; // (3, 0, 1)
  const auto e = labelExtents(v.data(), n);
  ASSERT_EQ(e.size(), 65536u);
  EXPECT_EQ(e[0].voxels, 0u);
  EXPECT_EQ(e[5].voxels, 2u);
  EXPECT_EQ(e[5].lo, (std::array<std::size_t, 3>{0, 1, 0}));
  EXPECT_EQ(e[5].hi, (std::array<std::size_t, 3>{2, 2, 1}));
  EXPECT_EQ(e[700].voxels, 1u);
  EXPECT_EQ(e[700].lo, e[700].hi);
  EXPECT_EQ(e[6].voxels, 0u);
}

} // namespace
} // namespace voxseg
