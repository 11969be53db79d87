// Cross-validation folds: nnU-Net's default split reproduced, and splits_final.json read.
#include "Splits.h"

#include "voxseg/core/Error.h"
#include "voxseg/testing/Data.h"
#include "voxseg/testing/Errors.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace voxseg::training {
namespace {

std::vector<std::string> ids(int n) {
  std::vector<std::string> r;
  for (int i = 0; i < n; ++i) {
    char b[16];
    std::snprintf(b, sizeof b, "case%02d", i);
    r.push_back(b);
  }
  return r;
}

// `want`: each fold's validation cases (their numbers) from nnunetv2 2.8.1's
// generate_crossval_split(['case00', ...], seed=12345, n_splits=5) with scikit-learn 1.2.1 and numpy 1.24.
TEST(NnUNetFolds, AreNnUNetsDefaultFiveFoldSplit) {
  const std::vector<std::pair<int, std::vector<std::vector<int>>>> want{
      {5, {{0}, {4}, {3}, {1}, {2}}},
      {7, {{3, 6}, {0, 4}, {1}, {5}, {2}}},
      {12, {{0, 3, 8}, {7, 10, 11}, {6, 9}, {1, 4}, {2, 5}}},
      {31,
       {{0, 3, 8, 12, 15, 18, 27},
        {6, 7, 20, 21, 24, 25},
        {10, 11, 13, 16, 19, 23},
        {14, 17, 22, 26, 28, 30},
        {1, 2, 4, 5, 9, 29}}}};
  for (const auto& [n, folds] : want) {
    const auto all = ids(n);
    const auto got = nnunetFolds(all);
    ASSERT_EQ(got.size(), 5u);
    for (std::size_t k = 0; k < 5; ++k) {
      std::vector<std::string> val, train;
      for (int i = 0; i < n; ++i)
        (std::count(folds[k].begin(), folds[k].end(), i) ? val : train).push_back(all[std::size_t(i)]);
      EXPECT_EQ(got[k].val, val) << n << " cases, fold " << k;
      EXPECT_EQ(got[k].train, train) << n << " cases, fold " << k;
    }
  }
  voxseg::testing::expectError([] { nnunetFolds(ids(4)); }, ExitCode::Usage,
                               "nnU-Net's 5-fold split needs at least 5 cases; the dataset has 4");
}

TEST(Splits, ReadsSplitsFinalJsonAndNamesItsProblems) {
  voxseg::testing::TempDir dir;
  const std::string path = dir.file("splits_final.json");
  std::ofstream(path) << R"([{"train": ["a", "b"], "val": ["c"]}, {"train": ["c"], "val": ["a", "b"]}])";
  const auto folds = readSplits(path);
  ASSERT_EQ(folds.size(), 2u);
  EXPECT_EQ(folds[1].train, std::vector<std::string>{"c"});
  EXPECT_EQ(folds[1].val, (std::vector<std::string>{"a", "b"}));
  std::ofstream(path) << R"([{"train": ["a"]}])";
  voxseg::testing::expectError([&] { readSplits(path); }, ExitCode::Input, "fold 0 has no \"val\" list of case ids");
  std::ofstream(path) << R"([{"train": ["a", 3], "val": []}])";
  voxseg::testing::expectError([&] { readSplits(path); }, ExitCode::Input, "fold 0: \"train\" holds 3, not a case id");
  std::ofstream(path) << R"({"train": []})";
  voxseg::testing::expectError([&] { readSplits(path); }, ExitCode::Input, "not a splits file");
  voxseg::testing::expectError([&] { readSplits(dir.file("none.json")); }, ExitCode::Input,
                               "cannot read the splits file");
}

} // namespace
} // namespace voxseg::training
