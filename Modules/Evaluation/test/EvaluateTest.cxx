#include "voxseg/evaluation/Evaluate.h"

#include "voxseg/core/Error.h"
#include "voxseg/io/Volume.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>

using namespace voxseg::evaluation;

namespace {

LabelMap makeMap(voxseg::Size3 size, voxseg::Vec3 spacing) {
  LabelMap m;
  m.size = size;
  m.spacing = spacing;
  m.voxels.assign(size[0] * size[1] * size[2], 0);
  return m;
}

void fill(LabelMap& m, voxseg::Size3 lo, voxseg::Size3 hi, std::uint16_t label) {
  for (std::size_t z = lo[2]; z <= hi[2]; ++z)
    for (std::size_t y = lo[1]; y <= hi[1]; ++y)
      for (std::size_t x = lo[0]; x <= hi[0]; ++x) m.voxels[x + m.size[0] * (y + m.size[1] * z)] = label;
}

EvaluationOptions bothPresets() {
  EvaluationOptions o;
  o.presets = {Preset::DeepMind, Preset::Monai};
  return o;
}

} // namespace

TEST(Evaluate, PresetKeysAndSimpleValues) {
  LabelMap gt = makeMap({12, 10, 8}, {1, 1, 1}), pred = makeMap({12, 10, 8}, {1, 1, 1});
  fill(gt, {2, 2, 2}, {5, 5, 5}, 1);
  fill(pred, {4, 2, 2}, {7, 5, 5}, 1); // shifted by 2 along x: half overlap
  fill(gt, {9, 7, 5}, {9, 7, 5}, 2);   // label 2 only in the reference
  const auto results = evaluateLabels(gt, pred, {1, 2, 3}, bothPresets());
  ASSERT_EQ(results.size(), 3u);
  const LabelResult& one = results[0];
  EXPECT_EQ(one.counts.intersection, 32u);
  EXPECT_DOUBLE_EQ(one.presets[0].at("dice"), 0.5);
  EXPECT_DOUBLE_EQ(one.presets[0].at("robust_hausdorff_100"), 2.0);
  EXPECT_DOUBLE_EQ(one.presets[1].at("hausdorff_100"), 2.0);
  EXPECT_FLOAT_EQ(static_cast<float>(one.presets[1].at("dice_ignore_empty_true")), 0.5f);
  EXPECT_EQ(one.presets[0].metrics.size(), 15u);
  EXPECT_EQ(one.presets[1].metrics.size(), 13u);
  EXPECT_EQ(one.presets[0].metrics[5].name, "surface_overlap_gt_at_1mm");
  EXPECT_EQ(one.presets[1].metrics[9].name, "surface_dice_1_subvoxels_false");

  const LabelResult& two = results[1]; // prediction empty
  EXPECT_EQ(two.presets[0].at("dice"), 0.0);
  EXPECT_TRUE(std::isinf(two.presets[0].at("robust_hausdorff_95")));
  EXPECT_TRUE(std::isnan(two.presets[1].at("hausdorff_95")));
  EXPECT_EQ(two.presets[1].at("surface_dice_2_subvoxels_true"), 0.0);

  const LabelResult& three = results[2]; // in neither map
  EXPECT_TRUE(std::isnan(three.presets[0].at("dice")));
  EXPECT_TRUE(std::isinf(three.presets[0].at("robust_hausdorff_100")));
  EXPECT_TRUE(std::isnan(three.presets[1].at("dice_ignore_empty_true")));
  EXPECT_EQ(three.presets[1].at("dice_ignore_empty_false"), 1.0);
  EXPECT_TRUE(std::isnan(three.presets[1].at("hausdorff_100")));
  EXPECT_THROW(three.presets[0].at("no_such_metric"), voxseg::Error);

  const auto level = monaiCaseLevel(results);
  ASSERT_EQ(level.size(), 2u);
  EXPECT_FLOAT_EQ(static_cast<float>(level[0].value), 0.25f); // (0.5 + 0) / 2, label 3 is NaN
  EXPECT_FLOAT_EQ(static_cast<float>(level[1].value), 0.5f);  // (0.5 + 0 + 1) / 3
}

TEST(Evaluate, OptionsNameTheKeys) {
  LabelMap gt = makeMap({8, 8, 8}, {0.5, 0.5, 2}), pred = gt;
  fill(gt, {2, 2, 2}, {5, 5, 5}, 7);
  fill(pred, {2, 2, 3}, {5, 5, 5}, 7);
  EvaluationOptions o = bothPresets();
  o.percentile = 90;
  o.tolerancesMm = {0.5};
  const auto r = evaluateLabels(gt, pred, {7}, o);
  EXPECT_NO_THROW(r[0].presets[0].at("robust_hausdorff_90"));
  EXPECT_NO_THROW(r[0].presets[0].at("surface_dice_at_0.5mm"));
  EXPECT_NO_THROW(r[0].presets[1].at("hausdorff_90"));
  EXPECT_NO_THROW(r[0].presets[1].at("surface_dice_0.5_subvoxels_true"));
  EXPECT_DOUBLE_EQ(r[0].presets[0].at("robust_hausdorff_100"), 2.0); // one slice of 2 mm
  // two tolerances that 15 digits print alike get two names (the second's metrics replaced the first's)
  o.tolerancesMm = {1, 1.000000000000001};
  o.percentile = 99.99999999999997;
  const auto close = evaluateLabels(gt, pred, {7}, o);
  EXPECT_NO_THROW(close[0].presets[0].at("surface_dice_at_1mm"));
  EXPECT_NO_THROW(close[0].presets[0].at("surface_dice_at_1.000000000000001mm"));
  EXPECT_NO_THROW(close[0].presets[0].at("robust_hausdorff_99.99999999999997"));
  o.tolerancesMm = {0.5};
  o.percentile = 101;
  EXPECT_THROW(evaluateLabels(gt, pred, {7}, o), voxseg::Error);
}

TEST(Evaluate, ThreadsGiveTheSameResults) {
  LabelMap gt = makeMap({20, 18, 16}, {0.8, 1.2, 2.5}), pred = gt;
  for (std::uint16_t l = 1; l <= 6; ++l) {
    fill(gt, {l, l, 1}, {std::size_t(l + 6), std::size_t(l + 5), std::size_t(l + 4)}, l);
    fill(pred, {std::size_t(l + 1), l, 2}, {std::size_t(l + 7), std::size_t(l + 4), std::size_t(l + 5)}, l);
  }
  EvaluationOptions one = bothPresets(), many = bothPresets();
  one.threads = 1;
  many.threads = 4;
  const auto a = evaluateLabels(gt, pred, presentLabels(gt, pred), one);
  const auto b = evaluateLabels(gt, pred, presentLabels(gt, pred), many);
  ASSERT_EQ(a.size(), 6u);
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_EQ(toJson(a[i]).dump(), toJson(b[i]).dump());
}

TEST(Evaluate, RejectsBadInput) {
  LabelMap gt = makeMap({4, 4, 4}, {1, 1, 1}), pred = makeMap({4, 4, 5}, {1, 1, 1});
  EXPECT_THROW(evaluateLabels(gt, pred, {1}), voxseg::Error);
  EXPECT_THROW(requireSameGrid(gt, pred, "pred.nii.gz"), voxseg::Error);
  pred = makeMap({4, 4, 4}, {1, 1, 1.5});
  EXPECT_THROW(requireSameGrid(gt, pred, "pred.nii.gz"), voxseg::Error);
  EXPECT_THROW(evaluateLabels(gt, gt, {1, 1}), voxseg::Error);
  EXPECT_THROW(evaluateLabels(gt, gt, {70000}), voxseg::Error);
  EXPECT_THROW(parsePreset("nnunet"), voxseg::Error);
  EXPECT_EQ(parsePreset("monai"), Preset::Monai);
}

TEST(Evaluate, LabelMapFromVolume) {
  voxseg::Geometry g;
  g.size = {3, 2, 2};
  g.spacing = {0.5, 0.7, 3};
  voxseg::io::Volume v = voxseg::io::makeVolume(voxseg::PixelType::Float32, g);
  float* p = v.as<float>()->GetBufferPointer();
  p[3] = 2;
  p[11] = 300;
  const LabelMap m = toLabelMap(v);
  EXPECT_EQ(m.size, g.size);
  EXPECT_EQ(m.spacing, g.spacing);
  EXPECT_EQ(m.voxels[3], 2);
  EXPECT_EQ(m.voxels[11], 300);
  EXPECT_EQ(presentLabels(m, m), (std::vector<int>{2, 300}));
  p[5] = 1.5f;
  EXPECT_THROW(toLabelMap(v), voxseg::Error);
  p[5] = -1;
  EXPECT_THROW(toLabelMap(v), voxseg::Error);
}

TEST(Evaluate, JsonSpellsNonFiniteValues) {
  EXPECT_EQ(metricJson(std::nan("")), "nan");
  EXPECT_EQ(metricJson(INFINITY), "inf");
  EXPECT_EQ(metricJson(-INFINITY), "-inf");
  EXPECT_EQ(metricJson(0.25), 0.25);

  LabelMap gt = makeMap({6, 6, 6}, {1, 1, 1}), pred = gt;
  fill(gt, {1, 1, 1}, {3, 3, 3}, 1);
  EvaluationOptions o = bothPresets();
  const auto results = evaluateLabels(gt, pred, {1}, o);
  const nlohmann::json j = caseToJson("case-01", results, o);
  EXPECT_EQ(j["case"], "case-01");
  EXPECT_EQ(j["options"]["presets"], nlohmann::json::array({"deepmind", "monai"}));
  const auto& label = j["labels"][0];
  EXPECT_EQ(label["label"], 1);
  EXPECT_EQ(label["voxel_counts"]["reference"], 27);
  EXPECT_EQ(label["voxel_counts"]["true_negatives"], 216 - 27);
  EXPECT_EQ(label["overlap"]["precision"], "nan");
  EXPECT_EQ(label["overlap"]["relative_volume_difference"], -1.0);
  EXPECT_EQ(label["deepmind"]["average_surface_distance_gt_to_pred"], "inf");
  EXPECT_EQ(label["deepmind"]["average_surface_distance_pred_to_gt"], "nan");
  EXPECT_EQ(label["monai"]["hausdorff_95"], "nan");
  EXPECT_EQ(j["monai_case_level"]["DiceMetric_mean_ignore_empty_false"], 0.0);
  EXPECT_EQ(label["deepmind"].size(), 15u);
}

namespace {
// `m` with every value of `labels` set to 1 and every other value to 0.
LabelMap merged(const LabelMap& m, const std::vector<int>& labels) {
  LabelMap out = m;
  for (auto& v : out.voxels) v = std::find(labels.begin(), labels.end(), int(v)) != labels.end() ? 1 : 0;
  return out;
}
} // namespace

// BraTS-like nested labels: 1 edema around 2 necrosis around 3 enhancing, the prediction shifted and with a
// label 3 where the reference holds 1. A region is the label 1 of the map merged to a mask: every metric alike.
TEST(Evaluate, RegionsAreTheirLabelsMergedIntoOneMask) {
  LabelMap gt = makeMap({24, 20, 12}, {0.9, 0.9, 2.5}), pred = gt;
  fill(gt, {3, 3, 2}, {18, 15, 9}, 1);
  fill(gt, {6, 5, 3}, {14, 12, 8}, 2);
  fill(gt, {8, 7, 4}, {11, 10, 6}, 3);
  fill(pred, {4, 3, 2}, {19, 16, 8}, 1);
  fill(pred, {7, 6, 3}, {13, 12, 8}, 2);
  fill(pred, {9, 7, 4}, {12, 9, 7}, 3);
  fill(pred, {4, 3, 2}, {4, 4, 2}, 3); // label 3 inside the reference's label 1: in region {1, 2, 3}, not in {2, 3}
  const std::vector<std::vector<int>> regions{{3, 1, 2}, {2, 3}, {3}, {1, 3}};
  EvaluationOptions o = bothPresets();
  const auto results = evaluateRegions(gt, pred, regions, o);
  ASSERT_EQ(results.size(), regions.size());
  for (std::size_t i = 0; i < regions.size(); ++i) {
    const auto expected = evaluateLabels(merged(gt, regions[i]), merged(pred, regions[i]), {1}, o).front();
    std::vector<int> sorted = regions[i];
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(results[i].region, sorted);
    EXPECT_EQ(results[i].label, 0);
    nlohmann::json got = toJson(results[i]), want = toJson(expected);
    EXPECT_EQ(got["region"], nlohmann::json(sorted));
    got.erase("region");
    want.erase("label");
    EXPECT_EQ(got.dump(), want.dump()) << "region " << i;
  }
  // the stray 3 (2 voxels) in the reference's label 1: 2 false positives of {2, 3}, none of {1, 2, 3}
  LabelMap withoutStray = pred;
  fill(withoutStray, {4, 3, 2}, {4, 4, 2}, 1);
  const auto before = evaluateRegions(gt, withoutStray, {{1, 2, 3}, {2, 3}}, o);
  EXPECT_EQ(results[1].counts.falsePositives(), before[1].counts.falsePositives() + 2);
  EXPECT_EQ(results[0].counts.falsePositives(), before[0].counts.falsePositives());
  EXPECT_EQ(results[0].counts.intersection, before[0].counts.intersection);
  // a one-label region is that label
  EXPECT_EQ(toJson(results[2])["deepmind"].dump(), toJson(evaluateLabels(gt, pred, {3}, o)[0])["deepmind"].dump());

  EXPECT_THROW(evaluateRegions(gt, pred, {{}}), voxseg::Error);
  EXPECT_THROW(evaluateRegions(gt, pred, {{0, 1}}), voxseg::Error);
  EXPECT_THROW(evaluateRegions(gt, pred, {{1, 1}}), voxseg::Error);
  EXPECT_THROW(evaluateRegions(gt, pred, {{1, 2}, {2, 1}}), voxseg::Error);
  EXPECT_THROW(evaluateRegions(gt, pred, {{70000}}), voxseg::Error);
}

// Labels and regions mixed in one call come back in the order given, each as evaluateLabels / evaluateRegions
// alone would score it.
TEST(Evaluate, TargetsMixLabelsAndRegionsInTheOrderGiven) {
  LabelMap gt = makeMap({16, 14, 8}, {1.0, 1.0, 2.0}), pred = gt;
  fill(gt, {2, 2, 1}, {12, 11, 6}, 1);
  fill(gt, {5, 5, 2}, {9, 8, 5}, 2);
  fill(pred, {3, 2, 1}, {13, 10, 6}, 1);
  fill(pred, {5, 6, 2}, {10, 8, 4}, 2);
  fill(pred, {1, 1, 1}, {2, 2, 1}, 3); // a label absent from the reference
  EvaluationOptions o = bothPresets();
  const std::vector<std::vector<int>> targets{{2}, {1, 2}, {3}, {2, 3}, {1}};
  const auto got = evaluateTargets(gt, pred, targets, o);
  ASSERT_EQ(got.size(), targets.size());
  const auto labels = evaluateLabels(gt, pred, {2, 3, 1}, o);
  const auto regions = evaluateRegions(gt, pred, {{1, 2}, {2, 3}}, o);
  EXPECT_EQ(toJson(got[0]).dump(), toJson(labels[0]).dump());
  EXPECT_EQ(toJson(got[1]).dump(), toJson(regions[0]).dump());
  EXPECT_EQ(toJson(got[2]).dump(), toJson(labels[1]).dump());
  EXPECT_EQ(toJson(got[3]).dump(), toJson(regions[1]).dump());
  EXPECT_EQ(toJson(got[4]).dump(), toJson(labels[2]).dump());
  EXPECT_EQ(got[0].label, 2);
  EXPECT_EQ(got[3].region, (std::vector<int>{2, 3}));
  EXPECT_TRUE(evaluateTargets(gt, pred, {}, o).empty());
  EXPECT_THROW(evaluateTargets(gt, pred, {{1, 1}}, o), voxseg::Error);
}

// nnU-Net's ignore label: the voxels the reference holds it are in no mask and no count. The results are those of the
// maps with those voxels set to background in both, but for the voxels counted (TN and what is built on it).
TEST(Evaluate, IgnoreLabelLeavesItsVoxelsOutOfEveryMaskAndCount) {
  LabelMap gt = makeMap({20, 16, 10}, {0.8, 0.8, 2}), pred = gt;
  fill(gt, {3, 3, 2}, {12, 11, 7}, 1);
  fill(gt, {6, 6, 3}, {9, 9, 5}, 2);
  fill(gt, {0, 0, 0}, {19, 1, 9}, 3);    // unannotated: two rows of every slice
  fill(gt, {13, 3, 2}, {15, 11, 7}, 3);  // and a slab beside label 1
  fill(pred, {4, 0, 2}, {15, 11, 7}, 1); // label 1 reaches into both ignored parts
  fill(pred, {6, 7, 3}, {10, 9, 5}, 2);
  LabelMap gtClean = gt, predClean = pred;
  std::uint64_t ignored = 0;
  for (std::size_t i = 0; i < gt.voxels.size(); ++i)
    if (gt.voxels[i] == 3) gtClean.voxels[i] = predClean.voxels[i] = 0, ++ignored;
  EvaluationOptions o = bothPresets(), withIgnore = bothPresets();
  withIgnore.ignoreLabel = 3;
  const auto got = evaluateLabels(gt, pred, {1, 2}, withIgnore);
  const auto want = evaluateLabels(gtClean, predClean, {1, 2}, o);
  ASSERT_EQ(got.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(got[i].counts.total, gt.voxelCount() - ignored);
    EXPECT_EQ(got[i].counts.trueNegatives() + ignored, want[i].counts.trueNegatives());
    nlohmann::json a = toJson(got[i]), b = toJson(want[i]);
    for (auto* j : {&a, &b}) {
      (*j)["voxel_counts"].erase("true_negatives");
      (*j)["overlap"].erase("specificity");
      (*j)["overlap"].erase("voxel_accuracy");
    }
    EXPECT_EQ(a.dump(), b.dump()) << "label " << i + 1;
  }
  // without it, label 1's prediction in the unannotated parts is a false positive
  EXPECT_GT(evaluateLabels(gt, pred, {1}, o)[0].counts.falsePositives(), got[0].counts.falsePositives());
  // a region too
  const auto region = evaluateRegions(gt, pred, {{1, 2}}, withIgnore);
  EXPECT_EQ(toJson(region[0])["deepmind"].dump(),
            toJson(evaluateRegions(gtClean, predClean, {{1, 2}}, o)[0])["deepmind"].dump());
  EXPECT_EQ(caseToJson("c", got, withIgnore)["options"]["ignore_label"], 3);
  EXPECT_THROW(evaluateLabels(gt, pred, {1, 3}, withIgnore), voxseg::Error);
  EXPECT_THROW(evaluateRegions(gt, pred, {{2, 3}}, withIgnore), voxseg::Error);
  withIgnore.ignoreLabel = 0;
  EXPECT_THROW(evaluateLabels(gt, pred, {1}, withIgnore), voxseg::Error);
}
