#include "voxseg/evaluation/Instances.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>

using namespace voxseg;
using namespace voxseg::evaluation;

namespace {

constexpr Size3 kSize{20, 6, 6}; // x fastest

void fill(std::vector<std::uint8_t>& m, Size3 lo, Size3 hi, std::uint8_t v = 1) {
  for (std::size_t z = lo[2]; z < hi[2]; ++z)
    for (std::size_t y = lo[1]; y < hi[1]; ++y)
      for (std::size_t x = lo[0]; x < hi[0]; ++x) m[x + kSize[0] * (y + kSize[1] * z)] = v;
}

// Reference: R1 = x 0..4, y 0..1, z 0 (10 voxels); R2 = x 10..11, y 0..1, z 0 (4 voxels).
// Prediction: P1 = x 0..3, y 0..1, z 0 (8 voxels, inside R1); P2 = x 15..17, y 4..5, z 4..5 (12 voxels).
// R1-P1: intersection 8, union 10 -> IoU 0.8, Dice 16/18 = 8/9: a match. R2 is missed (FN), P2 is a
// false positive. TP 1, FP 1, FN 1: sensitivity 1/2, precision 1/2, F1 2/(2+1+1) = 1/2,
// SQ 0.8, RQ 1/(1 + 1/2 + 1/2) = 1/2, PQ 0.4, mean lesion Dice 8/9.
void twoBlobs(std::vector<std::uint8_t>& ref, std::vector<std::uint8_t>& pred, std::uint8_t v = 1) {
  const std::size_t n = kSize[0] * kSize[1] * kSize[2];
  ref.assign(n, 0);
  pred.assign(n, 0);
  fill(ref, {0, 0, 0}, {5, 2, 1}, v);
  fill(ref, {10, 0, 0}, {12, 2, 1}, v);
  fill(pred, {0, 0, 0}, {4, 2, 1}, v);
  fill(pred, {15, 4, 4}, {18, 6, 6}, v);
}

void expectHandCase(const InstanceMetrics& m) {
  EXPECT_EQ(m.referenceComponents, 2u);
  EXPECT_EQ(m.predictionComponents, 2u);
  EXPECT_EQ(m.truePositives, 1u);
  EXPECT_EQ(m.falsePositives, 1u);
  EXPECT_EQ(m.falseNegatives, 1u);
  EXPECT_DOUBLE_EQ(m.detectionSensitivity, 0.5);
  EXPECT_DOUBLE_EQ(m.detectionPrecision, 0.5);
  EXPECT_DOUBLE_EQ(m.detectionF1, 0.5);
  EXPECT_DOUBLE_EQ(m.meanLesionDice, 8.0 / 9.0);
  EXPECT_DOUBLE_EQ(m.sq, 0.8);
  EXPECT_DOUBLE_EQ(m.rq, 0.5);
  EXPECT_DOUBLE_EQ(m.pq, 0.4);
  ASSERT_EQ(m.matches.size(), 1u);
  EXPECT_EQ(m.matches[0].reference, 1u);
  EXPECT_EQ(m.matches[0].prediction, 1u);
}

} // namespace

TEST(Instances, ComponentsAre26Connected) {
  std::vector<std::uint8_t> m(kSize[0] * kSize[1] * kSize[2], 0);
  fill(m, {0, 0, 0}, {1, 1, 1});
  fill(m, {1, 1, 1}, {2, 2, 2}); // touches the first voxel at a corner only: same component
  fill(m, {3, 0, 0}, {4, 1, 1}); // one empty voxel away: its own component
  std::size_t count = 0;
  const auto ids = connectedComponents(m.data(), kSize, count);
  EXPECT_EQ(count, 2u);
  EXPECT_EQ(ids[0], 1u);
  EXPECT_EQ(ids[1 + kSize[0] * (1 + kSize[1] * 1)], 1u);
  EXPECT_EQ(ids[3], 2u);
  EXPECT_EQ(ids[2], 0u);
}

TEST(Instances, MatchedMissedAndFalsePositiveBlobs) {
  std::vector<std::uint8_t> ref, pred;
  twoBlobs(ref, pred);
  const InstanceMetrics m = instanceMetrics(ref.data(), pred.data(), kSize);
  expectHandCase(m);
  EXPECT_DOUBLE_EQ(m.matches[0].iou, 0.8);
  EXPECT_DOUBLE_EQ(m.matches[0].dice, 8.0 / 9.0);
  const auto j = instancesToJson(m);
  EXPECT_EQ(j.at("tp").get<int>(), 1);
  EXPECT_DOUBLE_EQ(j.at("pq").get<double>(), 0.4);
  const auto dice = lesionDiceJson(m);
  ASSERT_EQ(dice.size(), 1u);
  EXPECT_DOUBLE_EQ(dice[0].get<double>(), 8.0 / 9.0);
}

TEST(Instances, LabelOfALabelMap) {
  // the hand case as label 2, with label 1 voxels beside it that must not count
  std::vector<std::uint8_t> ref, pred;
  twoBlobs(ref, pred, 2);
  fill(ref, {7, 4, 4}, {8, 5, 5}, 1);
  fill(pred, {7, 0, 4}, {8, 1, 5}, 1);
  LabelMap r, p;
  r.size = p.size = kSize;
  r.voxels.assign(ref.begin(), ref.end());
  p.voxels.assign(pred.begin(), pred.end());
  expectHandCase(instanceMetrics(r, p, 2));
  const InstanceMetrics one = instanceMetrics(r, p, 1); // one blob each, disjoint: FP 1, FN 1
  EXPECT_EQ(one.truePositives, 0u);
  EXPECT_EQ(one.falsePositives, 1u);
  EXPECT_EQ(one.falseNegatives, 1u);
  EXPECT_DOUBLE_EQ(one.pq, 0.0);
  EXPECT_TRUE(std::isnan(instanceMetrics(r, p, 3).pq)); // absent from both
}

TEST(Instances, ThresholdIsStrict) {
  // R = x 0..3 (4 voxels), P = x 0..1 (2 voxels): IoU 2/4 = 0.5, not above 0.5: no match.
  std::vector<std::uint8_t> ref(kSize[0] * kSize[1] * kSize[2], 0), pred(ref.size(), 0);
  fill(ref, {0, 0, 0}, {4, 1, 1});
  fill(pred, {0, 0, 0}, {2, 1, 1});
  const InstanceMetrics m = instanceMetrics(ref.data(), pred.data(), kSize);
  EXPECT_EQ(m.truePositives, 0u);
  EXPECT_EQ(m.falsePositives, 1u);
  EXPECT_EQ(m.falseNegatives, 1u);
  EXPECT_DOUBLE_EQ(m.rq, 0.0); // 0 / (0 + 1/2 + 1/2)
  EXPECT_DOUBLE_EQ(m.sq, 0.0);
  EXPECT_DOUBLE_EQ(m.pq, 0.0);
  EXPECT_TRUE(std::isnan(m.meanLesionDice));
  // a lower threshold matches it: SQ 0.5, RQ 1, PQ 0.5, Dice 2*2/(4+2) = 2/3
  const InstanceMetrics low = instanceMetrics(ref.data(), pred.data(), kSize, {0.4});
  EXPECT_EQ(low.truePositives, 1u);
  EXPECT_DOUBLE_EQ(low.pq, 0.5);
  EXPECT_DOUBLE_EQ(low.meanLesionDice, 2.0 / 3.0);
}

TEST(Instances, EmptyMasks) {
  std::vector<std::uint8_t> empty(kSize[0] * kSize[1] * kSize[2], 0), blob(empty);
  fill(blob, {2, 2, 2}, {4, 4, 4});
  const InstanceMetrics both = instanceMetrics(empty.data(), empty.data(), kSize);
  EXPECT_EQ(both.referenceComponents + both.predictionComponents, 0u);
  EXPECT_TRUE(std::isnan(both.pq));
  EXPECT_TRUE(std::isnan(both.rq));
  EXPECT_TRUE(std::isnan(both.sq));
  EXPECT_TRUE(std::isnan(both.detectionF1));
  EXPECT_EQ(instancesToJson(both).at("pq"), "nan");
  // empty reference, one predicted blob: FP 1, PQ 0, precision 0, sensitivity nan
  const InstanceMetrics fp = instanceMetrics(empty.data(), blob.data(), kSize);
  EXPECT_EQ(fp.falsePositives, 1u);
  EXPECT_DOUBLE_EQ(fp.pq, 0.0);
  EXPECT_DOUBLE_EQ(fp.rq, 0.0);
  EXPECT_DOUBLE_EQ(fp.detectionPrecision, 0.0);
  EXPECT_TRUE(std::isnan(fp.detectionSensitivity));
  // empty prediction: FN 1, PQ 0, sensitivity 0, precision nan
  const InstanceMetrics fn = instanceMetrics(blob.data(), empty.data(), kSize);
  EXPECT_EQ(fn.falseNegatives, 1u);
  EXPECT_DOUBLE_EQ(fn.pq, 0.0);
  EXPECT_DOUBLE_EQ(fn.detectionSensitivity, 0.0);
  EXPECT_TRUE(std::isnan(fn.detectionPrecision));
}

TEST(Instances, SplitPredictionMatchesNothing) {
  // R = x 0..5 (6 voxels); P = x 0..2 and x 4..5 (3 + 2 voxels, split by x 3):
  // IoUs 3/6 and 2/6, neither above 0.5: TP 0, FP 2, FN 1, RQ 0, PQ 0.
  std::vector<std::uint8_t> ref(kSize[0] * kSize[1] * kSize[2], 0), pred(ref.size(), 0);
  fill(ref, {0, 0, 0}, {6, 1, 1});
  fill(pred, {0, 0, 0}, {3, 1, 1});
  fill(pred, {4, 0, 0}, {6, 1, 1});
  const InstanceMetrics m = instanceMetrics(ref.data(), pred.data(), kSize);
  EXPECT_EQ(m.predictionComponents, 2u);
  EXPECT_EQ(m.truePositives, 0u);
  EXPECT_EQ(m.falsePositives, 2u);
  EXPECT_EQ(m.falseNegatives, 1u);
  EXPECT_DOUBLE_EQ(m.detectionF1, 0.0);
  EXPECT_DOUBLE_EQ(m.pq, 0.0);
}
