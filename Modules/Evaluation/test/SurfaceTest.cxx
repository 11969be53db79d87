#include "voxseg/evaluation/SurfaceDistance.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

using namespace voxseg::evaluation;
using voxseg::Size3;
using voxseg::Vec3;

namespace {

struct Grid {
  Size3 size;
  std::vector<std::uint8_t> v;
  explicit Grid(Size3 s) : size(s), v(s[0] * s[1] * s[2], 0) {}
  std::uint8_t& at(std::size_t x, std::size_t y, std::size_t z) { return v[x + size[0] * (y + size[1] * z)]; }
  void box(Size3 lo, Size3 hi) { // inclusive
    for (std::size_t z = lo[2]; z <= hi[2]; ++z)
      for (std::size_t y = lo[1]; y <= hi[1]; ++y)
        for (std::size_t x = lo[0]; x <= hi[0]; ++x) at(x, y, z) = 1;
  }
};

const SurfaceConventions kDm = SurfaceConventions::deepMind();
const SurfaceConventions kMonai = SurfaceConventions::monai();

} // namespace

TEST(Surface, SingleVoxelCornerSurfels) {
  Grid a({5, 5, 5});
  a.at(2, 2, 2) = 1;
  const SurfaceDistances iso = surfaceDistances(a.v.data(), a.v.data(), a.size, {1, 1, 1}, kDm);
  EXPECT_EQ(iso.referencePoints, 8u); // the voxel's 8 corners, one corner triangle each
  EXPECT_NEAR(iso.referenceArea, std::sqrt(3.0), 1e-12);
  EXPECT_EQ(hausdorffDistance(iso, 100, kDm), 0.0);
  EXPECT_EQ(surfaceDice(iso, 0, kDm), 1.0);
  // Area vector (1/8)(1, 1, 1) scaled by (sy sz, sx sz, sx sy) = (6, 3, 2) / 8: length 7/8.
  const SurfaceDistances aniso = surfaceDistances(a.v.data(), a.v.data(), a.size, {1, 2, 3}, kDm);
  EXPECT_NEAR(aniso.referenceArea, 7.0, 1e-12);
  const SurfaceDistances edges = surfaceDistances(a.v.data(), a.v.data(), a.size, {1, 2, 3}, kMonai);
  EXPECT_EQ(edges.referencePoints, 1u);
  EXPECT_EQ(edges.referenceArea, 1.0);
}

TEST(Surface, BoxAreaIsFacesEdgeStripsAndCorners) {
  // Marching cubes through a box of A x B x C voxels: the faces shrunk by half a voxel all round, a
  // chamfer strip along each of the 12 edges and a corner triangle at each of the 8 corners.
  Grid a({7, 6, 6});
  a.box({1, 1, 2}, {4, 3, 3});
  const double A = 4, B = 3, C = 2;
  const Vec3 s{0.5, 0.75, 2};
  const double faces =
      2 * ((A - 1) * (B - 1) * s[0] * s[1] + (A - 1) * (C - 1) * s[0] * s[2] + (B - 1) * (C - 1) * s[1] * s[2]);
  const double strips =
      4 * ((A - 1) * s[0] * std::hypot(s[1] / 2, s[2] / 2) + (B - 1) * s[1] * std::hypot(s[0] / 2, s[2] / 2) +
           (C - 1) * s[2] * std::hypot(s[0] / 2, s[1] / 2));
  const double corners =
      8 * std::sqrt(std::pow(s[1] * s[2], 2) + std::pow(s[0] * s[2], 2) + std::pow(s[0] * s[1], 2)) / 8;
  const SurfaceDistances d = surfaceDistances(a.v.data(), a.v.data(), a.size, s, kDm);
  EXPECT_NEAR(d.referenceArea, faces + strips + corners, 1e-12);
  EXPECT_EQ(d.referencePoints, std::size_t((A + 1) * (B + 1) * (C + 1) - (A - 1) * (B - 1) * (C - 1)));
}

TEST(Surface, ShiftedCubesKnownDistances) {
  Grid a({10, 10, 12}), b({10, 10, 12});
  a.box({2, 2, 2}, {5, 5, 5});
  b.box({2, 2, 4}, {5, 5, 7}); // shifted by 2 voxels along z, spacing 2.5 mm there
  const Vec3 spacing{1, 1, 2.5};
  for (const SurfaceConventions& c : {kDm, kMonai, SurfaceConventions::monaiSubvoxels()}) {
    const SurfaceDistances s = surfaceDistances(a.v.data(), b.v.data(), a.size, spacing, c);
    EXPECT_DOUBLE_EQ(maximumHausdorffDistance(s), 5.0);
    EXPECT_DOUBLE_EQ(hausdorffDistance(s, 100, c), 5.0);
    EXPECT_EQ(s.referencePoints, s.predictionPoints);
    EXPECT_DOUBLE_EQ(averageDistance(s.referenceToPrediction), averageDistance(s.predictionToReference));
    EXPECT_GT(surfaceDice(s, 5.0, c), 0.999999);
    EXPECT_LT(surfaceDice(s, 4.9, c), 1.0);
  }
}

TEST(Surface, EmptyMasksFollowEachTool) {
  Grid a({6, 6, 6}), none({6, 6, 6});
  a.box({1, 1, 1}, {3, 3, 3});
  const double inf = std::numeric_limits<double>::infinity();
  // DeepMind, prediction empty.
  SurfaceDistances s = surfaceDistances(a.v.data(), none.v.data(), a.size, {1, 1, 1}, kDm);
  EXPECT_EQ(averageDistance(s.referenceToPrediction), inf);
  EXPECT_TRUE(std::isnan(averageDistance(s.predictionToReference)));
  EXPECT_EQ(hausdorffDistance(s, 95, kDm), inf);
  EXPECT_EQ(surfaceOverlap(s.referenceToPrediction, 1, kDm), 0.0);
  EXPECT_TRUE(std::isnan(surfaceOverlap(s.predictionToReference, 1, kDm)));
  EXPECT_EQ(surfaceDice(s, 1, kDm), 0.0);
  // DeepMind, both empty: Hausdorff inf, the rest NaN.
  s = surfaceDistances(none.v.data(), none.v.data(), a.size, {1, 1, 1}, kDm);
  EXPECT_EQ(hausdorffDistance(s, 100, kDm), inf);
  EXPECT_TRUE(std::isnan(surfaceDice(s, 1, kDm)));
  // MONAI, reference empty: both directions are inf per prediction edge voxel.
  s = surfaceDistances(none.v.data(), a.v.data(), a.size, {1, 1, 1}, kMonai);
  EXPECT_EQ(s.referenceToPrediction.distances.size(), 26u);
  EXPECT_EQ(s.predictionToReference.distances.size(), 26u);
  EXPECT_EQ(maximumHausdorffDistance(s), inf);
  EXPECT_TRUE(std::isnan(hausdorffDistance(s, 95, kMonai))); // quantile of inf values
  EXPECT_EQ(averageDistanceBoth(s), inf);
  EXPECT_EQ(surfaceDice(s, 1, kMonai), 0.0);
  // MONAI, both empty: NaN.
  s = surfaceDistances(none.v.data(), none.v.data(), a.size, {1, 1, 1}, kMonai);
  EXPECT_TRUE(std::isnan(maximumHausdorffDistance(s)));
  EXPECT_TRUE(std::isnan(averageDistanceBoth(s)));
  EXPECT_TRUE(std::isnan(surfaceDice(s, 1, kMonai)));
}

TEST(Surface, PercentileRules) {
  DirectedDistances d;
  d.distances = {1, 2, 3, 4};
  d.weights = {1, 1, 1, 1};
  EXPECT_EQ(percentileDistance(d, 50, kDm), 2.0);    // first cumulative weight >= 0.5
  EXPECT_EQ(percentileDistance(d, 51, kDm), 3.0);    // no interpolation
  EXPECT_EQ(percentileDistance(d, 50, kMonai), 2.5); // rank 1.5
  EXPECT_FLOAT_EQ(static_cast<float>(percentileDistance(d, 95, kMonai)), 3.85f);
  EXPECT_EQ(percentileDistance(d, 0, kMonai), 4.0); // MONAI: "if not percentile: return surface_distance.max()"
  d.weights = {1, 1, 1, 7};                         // area weighting moves the DeepMind percentile
  EXPECT_EQ(percentileDistance(d, 50, kDm), 4.0);
  EXPECT_EQ(percentileDistance(d, 30, kDm), 3.0);
  EXPECT_EQ(percentileDistance(d, 0, kDm), 1.0);
  // the other surface empty: every distance +inf, and MONAI's maximum is inf (it was NaN through the quantile)
  const double inf = std::numeric_limits<double>::infinity();
  d.distances = {inf, inf};
  d.weights = {1, 1};
  EXPECT_EQ(percentileDistance(d, 0, kMonai), inf);
}

TEST(Surface, EdgeDistancesAreExactAgainstBruteForce) {
  std::mt19937 rng(7);
  std::bernoulli_distribution coin(0.3);
  Grid a({9, 7, 6}), b({9, 7, 6});
  for (auto& v : a.v) v = coin(rng);
  for (auto& v : b.v) v = coin(rng);
  const Vec3 spacing{0.7, 1.3, 2.9};
  const SurfaceConventions f64{SurfaceModel::EdgeVoxels, PercentileRule::CumulativeWeight, DistancePrecision::Float64,
                               EmptySurfaceRule::NoPoints};
  const SurfaceDistances s = surfaceDistances(a.v.data(), b.v.data(), a.size, spacing, f64);

  auto edges = [&](Grid& g) {
    std::vector<std::array<int, 3>> out;
    const int n[3] = {9, 7, 6};
    auto in = [&](int x, int y, int z) {
      return x >= 0 && y >= 0 && z >= 0 && x < n[0] && y < n[1] && z < n[2] && g.at(x, y, z);
    };
    for (int z = 0; z < n[2]; ++z)
      for (int y = 0; y < n[1]; ++y)
        for (int x = 0; x < n[0]; ++x)
          if (in(x, y, z) && !(in(x - 1, y, z) && in(x + 1, y, z) && in(x, y - 1, z) && in(x, y + 1, z) &&
                               in(x, y, z - 1) && in(x, y, z + 1)))
            out.push_back({x, y, z});
    return out;
  };
  const auto ea = edges(a), eb = edges(b);
  std::vector<double> expected;
  for (const auto& p : ea) {
    double best = std::numeric_limits<double>::infinity();
    for (const auto& q : eb) {
      const double dx = (q[0] - p[0]) * spacing[0], dy = (q[1] - p[1]) * spacing[1], dz = (q[2] - p[2]) * spacing[2];
      best = std::min(best, std::sqrt((dx * dx + dy * dy) + dz * dz));
    }
    expected.push_back(best);
  }
  std::sort(expected.begin(), expected.end());
  ASSERT_EQ(s.referenceToPrediction.distances.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i)
    EXPECT_DOUBLE_EQ(s.referenceToPrediction.distances[i], expected[i]) << i;
}
