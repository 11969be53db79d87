// nnU-Net's summary.json: the fixture's predictions scored as nnU-Net 2.8.1's compute_metrics_on_folder scored them
// (numbers from its run on these files, 2026-11-28, Documentation/evaluation.md).
#include "voxseg/evaluation/NnUNetSummary.h"
#include "voxseg/evaluation/Evaluate.h"

#include "voxseg/core/Error.h"
#include "voxseg/io/VolumeIO.h"
#include "voxseg/testing/Data.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>

using namespace voxseg::evaluation;

namespace {

TEST(NnUNetSummary, KeysAsPythonWritesThem) {
  EXPECT_EQ(nnunetKey(3), "3");
  EXPECT_EQ(nnunetKey(std::vector<int>{1, 2, 3}), "(1, 2, 3)");
  EXPECT_EQ(nnunetKey(std::vector<int>{3, 2}), "(3, 2)");
  EXPECT_EQ(nnunetKey(std::vector<int>{3}), "(3,)");
}

// numpy's pairwise summation differs from adding in order from 8 values on: these are numpy 1.24's np.sum.
TEST(NnUNetSummary, SumsAsNumpySums) {
  for (const auto& [n, want] :
       {std::pair<int, double>{7, 2100000002.5928574}, {100, 29500000005.187378}, {300, 89700000006.28265}}) {
    std::vector<double> a;
    double inOrder = 0;
    for (int i = 0; i < n; ++i) {
      a.push_back(1.0 / (i + 1) + (i % 7) * 1e8);
      inOrder += a.back();
    }
    EXPECT_EQ(numpySum(a), want) << n;
    if (n > 7) {
      EXPECT_NE(inOrder, want) << n; // the data tell the orders apart
    }
  }
  EXPECT_EQ(numpySum({}), 0.0);
}

// One fixture run: cases phantomA..C of fold0_mirror against gt, `labels` (or `regions`) as keys.
NnUNetSummary fixtureSummary(const std::string& shared, const std::vector<std::string>& keys,
                             const std::vector<std::vector<int>>& targets, bool regions, int ignoreLabel = -1) {
  EvaluationOptions o;
  o.presets.clear(); // counts only
  o.ignoreLabel = ignoreLabel;
  std::vector<NnUNetCaseCounts> cases;
  for (const char* c : {"phantomA", "phantomB", "phantomC"}) {
    NnUNetCaseCounts cc{shared + "/gt/" + c + ".nii.gz", shared + "/predictions/fold0_mirror/" + c + ".nii.gz", {}};
    const LabelMap ref = toLabelMap(voxseg::io::readVolume(cc.referenceFile));
    const LabelMap pred = toLabelMap(voxseg::io::readVolume(cc.predictionFile));
    for (const auto& t : targets)
      cc.counts.push_back(regions ? evaluateRegions(ref, pred, {t}, o).front().counts
                                  : evaluateLabels(ref, pred, t, o).front().counts);
    cases.push_back(cc);
  }
  return nnunetSummary(keys, cases);
}

nlohmann::json parsed(const NnUNetSummary& s) { return parseNnUNetSummary(s.json); }

TEST(NnUNetSummary, FixtureEqualsNnUNetsSummary) {
  VOXSEG_REQUIRE_DATA(shared, voxseg::testing::sharedPath("fixtures/nnunet/gt"));
  const std::string f = shared.substr(0, shared.size() - 3);
  const NnUNetSummary s = fixtureSummary(f, {"1", "2"}, {{1}, {2}}, false);
  const auto j = parsed(s);
  const nlohmann::json fg = {{"Dice", 0.9677661734285725},   {"FN", 63.0},
                             {"FP", 25.833333333333336},     {"IoU", 0.9378122559780953},
                             {"TN", 48845.16666666667},      {"TP", 1295.3333333333333},
                             {"n_pred", 1321.1666666666665}, {"n_ref", 1358.3333333333333}};
  EXPECT_EQ(j["foreground_mean"], fg);
  EXPECT_EQ(j["mean"]["1"]["Dice"].get<double>(), 0.9673744303064283);
  EXPECT_EQ(j["mean"]["2"]["Dice"].get<double>(), 0.9681579165507167);
  const nlohmann::json a1 = {{"Dice", 0.9758935993349959},
                             {"FN", 51},
                             {"FP", 36},
                             {"IoU", 0.952922077922078},
                             {"TN", 58344},
                             {"TP", 1761},
                             {"n_pred", 1797},
                             {"n_ref", 1812}};
  EXPECT_EQ(j["metric_per_case"][0]["metrics"]["1"], a1);
  EXPECT_EQ(j["metric_per_case"][0]["reference_file"], f + "/gt/phantomA.nii.gz");
  EXPECT_EQ(s.foregroundDice, 0.9677661734285725);
  // the layout of Python's json.dump(indent=4, sort_keys=True)
  EXPECT_EQ(
      s.json.rfind("{\n    \"foreground_mean\": {\n        \"Dice\": 0.9677661734285725,\n        \"FN\": 63.0,", 0),
      0u)
      << s.json.substr(0, 200);

  // regions, the ignore label
  const auto r = parsed(fixtureSummary(f, {"(1, 2)", "2", "(2,)"}, {{1, 2}, {2}, {2}}, true));
  EXPECT_EQ(r["foreground_mean"]["Dice"].get<double>(), 0.9691931564537667);
  EXPECT_EQ(r["foreground_mean"]["FP"].get<double>(), 23.777777777777775);
  EXPECT_EQ(r["mean"]["(1, 2)"]["Dice"].get<double>(), 0.9712636362598667);
  EXPECT_EQ(r["metric_per_case"][0]["metrics"]["(1, 2)"]["TN"], 57861);
  const auto i = parsed(fixtureSummary(f, {"2"}, {{2}}, false, 1));
  EXPECT_EQ(i["foreground_mean"]["Dice"].get<double>(), 0.9770313595065615);
  EXPECT_EQ(i["metric_per_case"][0]["metrics"]["2"]["TN"], 57897);
}

// A label no case holds: Dice and IoU NaN in every case, in its mean, and in the foreground mean, written as Python
// writes NaN; the counts' means stay numbers.
TEST(NnUNetSummary, LabelNoCaseHoldsIsNaN) {
  VOXSEG_REQUIRE_DATA(shared, voxseg::testing::sharedPath("fixtures/nnunet/gt"));
  const std::string f = shared.substr(0, shared.size() - 3);
  const NnUNetSummary s = fixtureSummary(f, {"1", "2", "3"}, {{1}, {2}, {3}}, false);
  EXPECT_TRUE(std::isnan(s.foregroundDice));
  EXPECT_TRUE(std::isnan(s.meanDice[2]));
  EXPECT_EQ(s.meanDice[0], 0.9673744303064283);
  EXPECT_NE(s.json.find("\"foreground_mean\": {\n        \"Dice\": NaN,\n        \"FN\": 42.0,\n        \"FP\": "
                        "17.222222222222225,\n        \"IoU\": NaN,"),
            std::string::npos);
  EXPECT_EQ(s.json.find("null"), std::string::npos);
}

// nnU-Net lists its prediction folder's files sorted by name: "a-b.nii.gz" before "a.nii.gz" ('-' < '.'), whatever
// the order given or the folders.
TEST(NnUNetSummary, CasesInTheOrderOfThePredictionFileNames) {
  const NnUNetCaseCounts a{"ref/a.nii.gz", "z/a.nii.gz", {VoxelCounts{10, 12, 9, 100}}};
  const NnUNetCaseCounts ab{"ref/a-b.nii.gz", "y/a-b.nii.gz", {VoxelCounts{7, 3, 2, 100}}};
  const NnUNetCaseCounts c{"ref/c.nii.gz", "a/c.nii.gz", {VoxelCounts{1, 0, 0, 100}}};
  const NnUNetSummary s = nnunetSummary({"1"}, {a, c, ab});
  EXPECT_EQ(s.json, nnunetSummary({"1"}, {c, ab, a}).json);
  const auto j = parseNnUNetSummary(s.json);
  ASSERT_EQ(j["metric_per_case"].size(), 3u);
  EXPECT_EQ(j["metric_per_case"][0]["prediction_file"], "y/a-b.nii.gz");
  EXPECT_EQ(j["metric_per_case"][1]["prediction_file"], "z/a.nii.gz");
  EXPECT_EQ(j["metric_per_case"][2]["prediction_file"], "a/c.nii.gz");
  EXPECT_EQ(j["metric_per_case"][0]["metrics"]["1"]["TP"], 2);
}

TEST(NnUNetSummary, CountsMustMatchTheKeys) {
  EXPECT_THROW(nnunetSummary({"1", "2"}, {NnUNetCaseCounts{"r", "p", {VoxelCounts{}}}}), voxseg::Error);
}

} // namespace
