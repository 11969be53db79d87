#include "voxseg/inference/Tiling.h"
#include "voxseg/core/Error.h"
#include "voxseg/testing/Data.h"

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include <fstream>

namespace voxseg::inference {
namespace {

using voxseg::testing::sharedPath;

TEST(Tiling, NnUNetStepsByHand) {
  EXPECT_EQ(nnunetSteps(48, 48, 0.5), (std::vector<std::int64_t>{0}));
  EXPECT_EQ(nnunetSteps(49, 48, 0.5), (std::vector<std::int64_t>{0, 1}));
  // n = ceil((57-48)/24)+1 = 2 -> {0, 9}; size 100, patch 20: n = ceil(80/10)+1 = 9, step 10
  EXPECT_EQ(nnunetSteps(57, 48, 0.5), (std::vector<std::int64_t>{0, 9}));
  EXPECT_EQ(nnunetSteps(100, 20, 0.5).size(), 9u);
  // n = ceil(10 / 4) + 1 = 4, step 10/3: 0, 3, 7, 10; round half to even: 2.5 -> 2
  EXPECT_EQ(nnunetSteps(30, 20, 0.2), (std::vector<std::int64_t>{0, 3, 7, 10}));
  EXPECT_EQ(nnunetSteps(25, 20, 0.2), (std::vector<std::int64_t>{0, 2, 5}));
}

TEST(Tiling, MonaiIntervalUsesDoubleTruncation) {
  EXPECT_EQ(monaiInterval(100, 40, 0.8), 7); // int(40 * 0.19999999999999996) == 7
  EXPECT_EQ(monaiInterval(200, 80, 0.9), 7);
  EXPECT_EQ(monaiInterval(40, 40, 0.5), 40);
  EXPECT_EQ(monaiInterval(100, 1, 0.9), 1);
}

TEST(Tiling, PaddingIsCentred) {
  Tiling t;
  const WindowGrid g = planWindows({13, 64, 50}, {24, 32, 16}, t);
  EXPECT_EQ(g.padBefore, (Shape3{5, 0, 0}));
  EXPECT_EQ(g.padAfter, (Shape3{6, 0, 0}));
  EXPECT_EQ(g.paddedShape, (Shape3{24, 64, 50}));
}

// nnU-Net's predictor for a 2D configuration: compute_steps_for_sliding_window over the slice plane only, and
// every slice once (nnunetSteps with a patch of 1 gives 0, 0, 1, 2, 2, 2, 3, 4, 4: most slices twice).
TEST(Tiling, EverySliceOnceForTwoDimensionalPatches) {
  Tiling t;
  EXPECT_EQ(nnunetSteps(5, 1, 0.5), (std::vector<std::int64_t>{0, 0, 1, 2, 2, 2, 3, 4, 4}));
  const WindowGrid g = planWindows({5, 40, 130}, {1, 56, 64}, t, true);
  EXPECT_EQ(g.starts[0], (std::vector<std::int64_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(g.starts[1], (std::vector<std::int64_t>{0}));
  EXPECT_EQ(g.starts[2], nnunetSteps(130, 64, 0.5));
  EXPECT_EQ(g.padBefore, (Shape3{0, 8, 0}));
  EXPECT_EQ(g.starts[2].size(), 4u);
  EXPECT_EQ(g.count(), 5 * 4);
  EXPECT_THROW(planWindows({5, 40, 130}, {2, 56, 64}, t, true), Error);
}

TEST(Tiling, MatchesMonaiDensePatchSlices) {
  VOXSEG_REQUIRE_DATA(path, sharedPath("fixtures/monai/dense_patch_slices.json"));
  const auto j = nlohmann::json::parse(std::ifstream(path));
  ASSERT_GE(j["combos"].size(), 20u);
  for (const auto& c : j["combos"]) {
    Tiling t;
    t.rule = Tiling::Rule::Monai;
    t.overlap = c["overlap"].get<double>();
    Shape3 size, roi;
    for (int a = 0; a < 3; ++a) {
      size[a] = c["image_size"][a];
      roi[a] = c["roi_size"][a];
    }
    const WindowGrid g = planWindows(size, roi, t);
    const std::string what = c.dump().substr(0, 120);
    for (int a = 0; a < 3; ++a) {
      EXPECT_EQ(g.paddedShape[a], c["padded_image_size"][a].get<std::int64_t>()) << what;
      EXPECT_EQ(g.padBefore[a], c["pad_before_after_per_axis"][a][0].get<std::int64_t>()) << what;
      EXPECT_EQ(g.padAfter[a], c["pad_before_after_per_axis"][a][1].get<std::int64_t>()) << what;
      EXPECT_EQ(monaiInterval(g.paddedShape[a], roi[a], t.overlap), c["scan_interval"][a].get<std::int64_t>()) << what;
      EXPECT_EQ(g.starts[a], c["starts_per_axis"][a].get<std::vector<std::int64_t>>()) << what;
    }
    ASSERT_EQ(g.count(), c["num_windows"].get<std::int64_t>()) << what;
    for (std::int64_t i = 0; i < g.count(); ++i) {
      const Shape3 w = g.window(i);
      EXPECT_EQ(std::vector<std::int64_t>(w.begin(), w.end()),
                c["window_starts_in_order"][std::size_t(i)].get<std::vector<std::int64_t>>())
          << what;
    }
  }
}

TEST(Tiling, MatchesNnUNetTilesOfThePreprocessedCases) {
  for (const char* name : {"phantomA", "phantomB", "phantomC"}) {
    VOXSEG_REQUIRE_DATA(path, sharedPath(std::string("fixtures/nnunet/preprocessed/") + name + ".json"));
    const auto j = nlohmann::json::parse(std::ifstream(path));
    const auto& sw = j["sliding_window"];
    Shape3 shape, patch;
    for (int a = 0; a < 3; ++a) {
      shape[a] = j["shape"][a + 1];
      patch[a] = sw["patch_size"][a];
    }
    Tiling t;
    t.step = sw["tile_step_size"];
    const WindowGrid g = planWindows(shape, patch, t);
    for (int a = 0; a < 3; ++a) {
      EXPECT_EQ(g.paddedShape[a], sw["padded_shape"][a].get<std::int64_t>()) << name;
      EXPECT_EQ(g.starts[a], sw["steps_per_axis"][a].get<std::vector<std::int64_t>>()) << name;
    }
    EXPECT_EQ(g.count(), sw["n_tiles"].get<std::int64_t>()) << name;
  }
}

} // namespace
} // namespace voxseg::inference
