#include "voxseg/evaluation/Overlap.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace voxseg::evaluation;

namespace {
VoxelCounts counts(std::uint64_t ref, std::uint64_t pred, std::uint64_t inter, std::uint64_t total) {
  VoxelCounts c;
  c.reference = ref;
  c.prediction = pred;
  c.intersection = inter;
  c.total = total;
  return c;
}
} // namespace

TEST(Overlap, ConfusionCountsAndRatios) {
  const VoxelCounts c = counts(10, 8, 6, 100); // TP 6, FP 2, FN 4, TN 88
  EXPECT_EQ(c.truePositives(), 6u);
  EXPECT_EQ(c.falsePositives(), 2u);
  EXPECT_EQ(c.falseNegatives(), 4u);
  EXPECT_EQ(c.trueNegatives(), 88u);
  const OverlapMetrics m = overlapMetrics(c, {1, 2, 0.5});
  EXPECT_DOUBLE_EQ(m.dice, 12.0 / 18.0);
  EXPECT_DOUBLE_EQ(m.iou, 6.0 / 12.0);
  EXPECT_DOUBLE_EQ(m.voxelAccuracy, 94.0 / 100.0);
  EXPECT_DOUBLE_EQ(m.volumetricSimilarity, 1.0 - 2.0 / 18.0);
  EXPECT_DOUBLE_EQ(m.sensitivity, 0.6);
  EXPECT_DOUBLE_EQ(m.precision, 0.75);
  EXPECT_DOUBLE_EQ(m.specificity, 88.0 / 90.0);
  EXPECT_DOUBLE_EQ(m.referenceMl, 0.01);
  EXPECT_DOUBLE_EQ(m.predictionMl, 0.008);
  EXPECT_DOUBLE_EQ(m.relativeVolumeDifference, -0.2);
}

TEST(Overlap, EmptyMasks) {
  const OverlapMetrics both = overlapMetrics(counts(0, 0, 0, 27), {1, 1, 1});
  EXPECT_TRUE(std::isnan(both.dice));
  EXPECT_TRUE(std::isnan(both.iou));
  EXPECT_TRUE(std::isnan(both.sensitivity));
  EXPECT_TRUE(std::isnan(both.precision));
  EXPECT_TRUE(std::isnan(both.relativeVolumeDifference));
  EXPECT_DOUBLE_EQ(both.voxelAccuracy, 1.0);
  EXPECT_DOUBLE_EQ(both.specificity, 1.0);

  const OverlapMetrics onlyPred = overlapMetrics(counts(0, 5, 0, 27), {1, 1, 1});
  EXPECT_DOUBLE_EQ(onlyPred.dice, 0.0);
  EXPECT_TRUE(std::isinf(onlyPred.relativeVolumeDifference));
  EXPECT_DOUBLE_EQ(onlyPred.precision, 0.0);

  EXPECT_TRUE(std::isnan(dice(counts(0, 0, 0, 8), EmptyDiceRule::NanWhenBothEmpty)));
  EXPECT_TRUE(std::isnan(dice(counts(0, 3, 0, 8), EmptyDiceRule::NanWhenReferenceEmpty)));
  EXPECT_DOUBLE_EQ(dice(counts(0, 0, 0, 8), EmptyDiceRule::OneWhenBothEmpty), 1.0);
  EXPECT_DOUBLE_EQ(dice(counts(0, 3, 0, 8), EmptyDiceRule::OneWhenBothEmpty), 0.0);
  EXPECT_DOUBLE_EQ(dice(counts(0, 3, 0, 8), EmptyDiceRule::NanWhenBothEmpty), 0.0);
  EXPECT_DOUBLE_EQ(dice(counts(4, 0, 0, 8), EmptyDiceRule::NanWhenReferenceEmpty), 0.0);
}
