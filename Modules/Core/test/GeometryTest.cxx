#include "voxseg/core/Geometry.h"
#include "voxseg/core/Error.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

namespace voxseg {
namespace {

Mat3 diag(double a, double b, double c) { return {a, 0, 0, 0, b, 0, 0, 0, c}; }

std::vector<std::string> allCodes() {
  std::vector<std::string> codes;
  const char* pairs[3] = {"LR", "PA", "SI"};
  std::array<int, 3> perm{0, 1, 2};
  do {
    for (int s = 0; s < 8; ++s) {
      std::string c(3, ' ');
      for (int i = 0; i < 3; ++i) c[i] = pairs[perm[i]][(s >> i) & 1];
      codes.push_back(c);
    }
  } while (std::next_permutation(perm.begin(), perm.end()));
  return codes;
}

// Inverse of indexToWorld for a non-singular direction.
Vec3 worldToIndex(const Geometry& g, const Vec3& w) {
  Vec3 d{w[0] - g.origin[0], w[1] - g.origin[1], w[2] - g.origin[2]};
  Vec3 idx{};
  // direction is orthonormal in these tests: inverse = transpose.
  for (int c = 0; c < 3; ++c) {
    double s = 0;
    for (int r = 0; r < 3; ++r) s += g.direction[3 * r + c] * d[r];
    idx[c] = s / g.spacing[c];
  }
  return idx;
}

TEST(Orientation, CodesOfAxisAlignedDirections) {
  EXPECT_EQ(orientationCode(identityDirection()), "LPS");
  EXPECT_EQ(orientationCode(diag(-1, -1, 1)), "RAS");
  EXPECT_EQ(orientationCode(diag(-1, 1, -1)), "RPI");
  // columns: axis0 -> +y (P), axis1 -> -z (I), axis2 -> -x (R)
  EXPECT_EQ(orientationCode({0, 0, -1, 1, 0, 0, 0, -1, 0}), "PIR");
}

TEST(Orientation, ObliqueDirectionGetsClosestDistinctLetters) {
  const double c = std::cos(0.3), s = std::sin(0.3);
  // rotation about z by 0.3 rad of an LPS image
  EXPECT_EQ(orientationCode({c, -s, 0, s, c, 0, 0, 0, 1}), "LPS");
  // 45 degrees exactly: each world axis still used once
  const double h = std::sqrt(0.5);
  const std::string code = orientationCode({h, -h, 0, h, h, 0, 0, 0, 1});
  EXPECT_NO_THROW(validateOrientationCode(code));
}

TEST(Orientation, ValidatesCodes) {
  for (const auto& c : allCodes()) EXPECT_NO_THROW(validateOrientationCode(c)) << c;
  EXPECT_EQ(allCodes().size(), 48u);
  for (const char* bad : {"", "RA", "RASL", "RRS", "XYZ", "ras", "RLS"}) {
    try {
      validateOrientationCode(bad);
      ADD_FAILURE() << "accepted " << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::Usage);
      EXPECT_NE(std::string(e.what()).find("orientation code"), std::string::npos);
    }
  }
}

TEST(Orientation, PlanReachesEveryTargetAndKeepsWorldPositions) {
  Geometry in;
  in.size = {3, 4, 5};
  in.spacing = {0.5, 2.0, 3.25};
  in.origin = {10, -20, 30};
  in.direction = {0, 0, -1, 1, 0, 0, 0, -1, 0}; // PIR
  std::vector<float> data(in.voxelCount());
  std::iota(data.begin(), data.end(), 1.0f);

  for (const auto& target : allCodes()) {
    const AxisPlan plan = planReorientation(in.direction, target);
    const Geometry out = reorientGeometry(in, plan);
    ASSERT_EQ(orientationCode(out.direction), target);
    ASSERT_EQ(out.voxelCount(), in.voxelCount());
    std::vector<float> res(data.size());
    reorientBuffer(data.data(), res.data(), sizeof(float), in.size, plan);
    std::size_t o = 0;
    for (std::size_t z = 0; z < out.size[2]; ++z)
      for (std::size_t y = 0; y < out.size[1]; ++y)
        for (std::size_t x = 0; x < out.size[0]; ++x, ++o) {
          const Vec3 w = out.indexToWorld({double(x), double(y), double(z)});
          const Vec3 ii = worldToIndex(in, w);
          std::array<long, 3> i{};
          for (int k = 0; k < 3; ++k) {
            i[k] = std::lround(ii[k]);
            ASSERT_NEAR(ii[k], double(i[k]), 1e-9) << target;
          }
          ASSERT_EQ(res[o], data[(i[2] * in.size[1] + i[1]) * in.size[0] + i[0]]) << target;
        }
  }
}

TEST(Orientation, IdentityPlanForSameCodeAndInverseRoundTrip) {
  Geometry g;
  g.size = {2, 3, 4};
  g.direction = diag(-1, -1, 1);
  EXPECT_TRUE(planReorientation(g.direction, "RAS").isIdentity());
  const AxisPlan p = planReorientation(g.direction, "SLA");
  const Geometry there = reorientGeometry(g, p);
  const Geometry back = reorientGeometry(there, planReorientation(there.direction, "RAS"));
  EXPECT_TRUE(back.nearlyEqual(g, 1e-12));
}

TEST(GeometryValues, EqualityAndTolerance) {
  Geometry a;
  a.size = {1, 2, 3};
  Geometry b = a;
  EXPECT_EQ(a, b);
  b.origin[1] += 1e-9;
  EXPECT_NE(a, b);
  EXPECT_TRUE(a.nearlyEqual(b, 1e-6));
  b.size[0] = 2;
  EXPECT_FALSE(a.nearlyEqual(b, 1e-6));
}

// Files' grids: float32 storage is the same grid, a micrometre grid twice as fine is not (an absolute 1e-4
// tolerance, used for these checks until 2026-11-27, called 0.1 um and 0.2 um spacings the same).
TEST(GeometryValues, SameGridIsRelativeToTheGridsScale) {
  Geometry a;
  a.size = {4, 5, 6};
  const double c = std::cos(0.3), s = std::sin(0.3);
  a.direction = {c, 0, s, 0, 1, 0, -s, 0, c};
  a.spacing = {0.7, 0.7, 2.5};
  a.origin = {-250.3, 120.7, 512.9};
  Geometry f = a; // as a NIfTI file keeps it
  for (int i = 0; i < 3; ++i) {
    f.spacing[i] = double(float(a.spacing[i]));
    f.origin[i] = double(float(a.origin[i]));
  }
  for (auto& d : f.direction) d = double(float(d));
  EXPECT_TRUE(sameGrid(a, f));
  EXPECT_TRUE(sameGrid(f, a));
  Geometry shifted = a;
  shifted.origin[2] += 0.01; // 1/70 of a voxel: another grid
  EXPECT_FALSE(sameGrid(a, shifted));
  Geometry micro = a;
  micro.spacing = {1e-4, 1e-4, 1e-4};
  micro.origin = {0, 0, 0};
  Geometry finer = micro;
  finer.spacing = {0.5e-4, 0.5e-4, 0.5e-4};
  EXPECT_FALSE(sameGrid(micro, finer));
  EXPECT_TRUE(micro.nearlyEqual(finer, 1e-4)); // what the absolute tolerance said
  Geometry moved = micro;
  moved.origin[0] = 2e-4; // two voxels over
  EXPECT_FALSE(sameGrid(micro, moved));
  Geometry turned = a;
  turned.direction[0] = std::cos(0.31);
  EXPECT_FALSE(sameGrid(a, turned));
  Geometry bigger = a;
  bigger.size[2] = 7;
  EXPECT_FALSE(sameGrid(a, bigger));
  // what differs, for messages
  EXPECT_EQ(gridDifference(a, f), "");
  EXPECT_EQ(gridDifference(a, bigger), "size 4x5x6 vs 4x5x7");
  EXPECT_EQ(gridDifference(micro, finer), "spacing 0.0001x0.0001x0.0001 vs 5e-05x5e-05x5e-05 mm");
  EXPECT_EQ(gridDifference(a, turned), "direction of axis 0 differs");
  EXPECT_EQ(gridDifference(a, shifted), "origin (-250.3, 120.7, 512.9) vs (-250.3, 120.7, 512.91) mm");
  Geometry near = a; // 1.5e-3 of the finest voxel away: another grid, and the message shows the digits
  near.origin[2] = a.origin[2] + 0.7 * 1.5e-3;
  EXPECT_EQ(gridDifference(a, near), "origin (-250.3, 120.7, 512.9) vs (-250.3, 120.7, 512.90105) mm");
}

TEST(ReorientBuffer, SupportsCommonElementSizes) {
  const Size3 size{2, 1, 1};
  AxisPlan flipX;
  flipX.flip = {true, false, false};
  std::uint8_t a8[2] = {1, 2}, r8[2];
  reorientBuffer(a8, r8, 1, size, flipX);
  EXPECT_EQ(r8[0], 2);
  double a64[2] = {1.5, 2.5}, r64[2];
  reorientBuffer(a64, r64, 8, size, flipX);
  EXPECT_EQ(r64[0], 2.5);
  EXPECT_THROW(reorientBuffer(a8, r8, 3, size, flipX), Error);
}

} // namespace
} // namespace voxseg
