// Box plots and line charts: the PNG exists, has the requested size, is not blank and shows each
// box's color.
#include "PngTestSupport.h"

#include "voxseg/core/Error.h"
#include "voxseg/rendering/Charts.h"
#include "voxseg/testing/Data.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace voxseg::rendering {
namespace {

using testing::pixelsNear;
using testing::readPng;

TEST(Charts, BoxPlotHasTheSizeAndEachBoxColor) {
  voxseg::testing::TempDir dir;
  const std::string png = dir.file("dice.png");
  std::vector<Box> boxes{{"liver", 0.80, 0.85, 0.90, 0.93, 0.97, {200, 30, 30}},
                         {"spleen", 0.60, 0.70, 0.75, 0.82, 0.90, {30, 160, 40}},
                         {"kidney", 0.40, 0.55, 0.65, 0.70, 0.80, {40, 60, 210}}};
  writeBoxPlotPng(boxes, {"Dice per label", "Dice", 640, 360}, png, false);
  const auto info = readPng(png);
  EXPECT_EQ(info.width, 640);
  EXPECT_EQ(info.height, 360);
  EXPECT_GT(info.distinctColors, 3u);
  for (const auto& b : boxes) EXPECT_GT(pixelsNear(png, b.color, 12), 50u) << b.name;
  EXPECT_THROW(writeBoxPlotPng(boxes, {}, png, false), Error) << "an existing file is kept without overwrite";
}

TEST(Charts, BoxesWithoutFiniteValuesAreRefused) {
  voxseg::testing::TempDir dir;
  const std::string png = dir.file("none.png");
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_THROW(writeBoxPlotPng({{"a", 0, 1, inf, 2, 3, {1, 2, 3}}}, {}, png, false), Error);
  EXPECT_FALSE(std::filesystem::exists(png));
}

TEST(Charts, LineChartShowsEachSeries) {
  voxseg::testing::TempDir dir;
  const std::string png = dir.file("curve.png");
  std::vector<double> x{0, 1, 2, 3, 4, 5};
  writeLineChartPng(x,
                    {{"train", {1.0, 0.8, 0.6, 0.5, 0.45, 0.4}, {220, 20, 20}},
                     {"val", {1.0, 0.9, 0.7, 0.65, 0.6, 0.6}, {20, 20, 220}}},
                    "epoch", {"loss", "loss", 500, 300}, png, false);
  const auto info = readPng(png);
  EXPECT_EQ(info.width, 500);
  EXPECT_EQ(info.height, 300);
  EXPECT_GT(pixelsNear(png, {220, 20, 20}, 30), 20u);
  EXPECT_GT(pixelsNear(png, {20, 20, 220}, 30), 20u);
}

} // namespace
} // namespace voxseg::rendering
