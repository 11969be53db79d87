// nnU-Net's determine_postprocessing on tiny label maps whose best steps are known; the real comparison with nnU-Net
// 2.8.1 (its postprocessing.json byte for byte) is in Documentation/evaluation.md.
#include "voxseg/evaluation/NnUNetPostprocessingSearch.h"

#include "voxseg/core/Error.h"
#include "voxseg/io/VolumeIO.h"
#include "voxseg/testing/Data.h"
#include "voxseg/testing/Errors.h"

#include <gtest/gtest.h>

using namespace voxseg;
using namespace voxseg::evaluation;

namespace {

struct Box {
  std::size_t x0, y0, z0, x1, y1, z1; // inclusive
  std::uint16_t value;
};

std::string write(const voxseg::testing::TempDir& dir, const std::string& name, const std::vector<Box>& boxes) {
  Geometry g;
  g.size = {16, 12, 8};
  io::Volume v = io::makeVolume(PixelType::UInt8, g);
  auto* p = v.as<std::uint8_t>()->GetBufferPointer();
  for (const Box& b : boxes)
    for (std::size_t z = b.z0; z <= b.z1; ++z)
      for (std::size_t y = b.y0; y <= b.y1; ++y)
        for (std::size_t x = b.x0; x <= b.x1; ++x) p[x + 16 * (y + 12 * z)] = std::uint8_t(b.value);
  const std::string path = dir.file(name);
  io::writeVolume(v, path, io::WriteOptions{});
  return path;
}

// Label 1 touches label 2; label 2 also has a small separate part in both maps (true), the prediction a stray
// label-1 voxel block (false). The foreground step would drop label 2's true part (label 2 loses: not kept); label 1's
// own step drops the stray block (kept); label 2's own step drops its true part (not kept).
TEST(NnUNetPostprocessingSearch, KeepsTheStepsThatRaiseTheMeanDice) {
  voxseg::testing::TempDir dir;
  const std::vector<Box> truth{{2, 2, 2, 6, 6, 5, 1}, {7, 2, 2, 9, 6, 5, 2}, {13, 9, 6, 14, 10, 7, 2}};
  std::vector<Box> predicted = truth;
  predicted.push_back({0, 10, 0, 2, 11, 1, 1}); // 12 voxels, more than label 2's separate part (8)
  std::vector<PostprocessingSearchCase> cases{{write(dir, "a.nii.gz", predicted), write(dir, "ra.nii.gz", truth)},
                                              {write(dir, "b.nii.gz", truth), write(dir, "rb.nii.gz", truth)}};
  PostprocessingSearchOptions o;
  o.keys = {"1", "2"};
  o.targets = {{1}, {2}};
  o.foregroundLabels = {1, 2};
  o.threads = 1;
  const PostprocessingSearch s = determineNnUNetPostprocessing(cases, o);
  ASSERT_EQ(s.steps.size(), 1u);
  EXPECT_EQ(s.steps[0].labels, (std::vector<int>{1}));
  EXPECT_LT(s.before.meanDice[0], 1.0);
  EXPECT_EQ(s.before.meanDice[1], 1.0);
  EXPECT_EQ(s.after.meanDice[0], 1.0);
  EXPECT_EQ(s.after.foregroundDice, 1.0);
  ASSERT_EQ(s.log.size(), 3u);
  EXPECT_NE(s.log[0].find("foreground"), std::string::npos);
  EXPECT_NE(s.log[0].find("not kept"), std::string::npos);
  EXPECT_NE(s.log[1].find("-> 1.00000: kept"), std::string::npos) << s.log[1];
  const auto j = parseNnUNetSummary(s.json);
  EXPECT_EQ(j["postprocessing_fns"], nlohmann::json({"remove_all_but_largest_component_from_segmentation"}));
  EXPECT_EQ(j["postprocessing_kwargs"], nlohmann::json::parse(R"([{"labels_or_regions": 1}])"));
  EXPECT_EQ(j["postprocessed"]["foreground_mean"]["Dice"], 1.0);
  EXPECT_EQ(j["input_folder"]["mean"]["1"]["Dice"].get<double>(), s.before.meanDice[0]);
  EXPECT_EQ(s.json.back(), '}'); // json.dump writes no newline at the end
  // the label maps held in memory between the steps (both cases here), or some or none of them (read again for each
  // step, the kept steps applied again): the same search
  EXPECT_EQ(s.casesHeld, 2u);
  for (const std::size_t budget : {std::size_t(16 * 12 * 8 * 2 * 2), std::size_t(1)}) {
    o.cacheBytes = budget; // one case's two maps, or nothing
    const PostprocessingSearch again = determineNnUNetPostprocessing(cases, o);
    EXPECT_EQ(again.casesHeld, budget == 1 ? 0u : 1u);
    EXPECT_EQ(again.json, s.json);
    EXPECT_EQ(again.log, s.log);
  }
  o.cacheBytes = 0;

  // one region (as listed) only: no step of its own; the foreground step drops the stray block and is kept
  o.keys = {"(2, 1)"};
  o.targets = {{2, 1}};
  const PostprocessingSearch r = determineNnUNetPostprocessing({cases[0]}, o);
  ASSERT_EQ(r.steps.size(), 1u);
  EXPECT_EQ(parseNnUNetSummary(r.json)["postprocessing_kwargs"],
            nlohmann::json::parse(R"([{"labels_or_regions": [1, 2]}])"));
  EXPECT_EQ(r.log.size(), 1u);
  // postprocessing.pkl: (functions, kwargs), the foreground step's labels a list (Python's pickle.loads and
  // pickletools read these bytes as ([remove_all_but_largest_component_from_segmentation],
  // [{'labels_or_regions': [1, 2]}]), checked 2026-11-29; the CLI tests load what the program writes)
  const auto bytes = [](const auto& literal) { return std::string(literal, sizeof literal - 1); }; // with its NULs
  const std::string function = bytes("\x80\x02((cnnunetv2.postprocessing.remove_connected_components\n"
                                     "remove_all_but_largest_component_from_segmentation\nl((X\x11\x00\x00\x00"
                                     "labels_or_regions");
  EXPECT_EQ(r.pickle, function + bytes("(J\x01\x00\x00\x00J\x02\x00\x00\x00ldlt."));
  // a region's own step: a tuple, as nnU-Net's LabelManager makes a region listed in dataset.json
  o.keys = {"(1,)", "(2,)"};
  o.targets = {{1}, {2}};
  const PostprocessingSearch regions = determineNnUNetPostprocessing(cases, o);
  ASSERT_EQ(regions.steps.size(), 1u);
  EXPECT_EQ(regions.pickle, function + bytes("(J\x01\x00\x00\x00tdlt."));
  // a label's: a number; and no step: two empty lists
  EXPECT_EQ(s.pickle, function + bytes("J\x01\x00\x00\x00"
                                       "dlt."));
  o.keys = {"1", "2"};
  const PostprocessingSearch none = determineNnUNetPostprocessing({cases[1]}, o);
  EXPECT_TRUE(none.steps.empty());
  EXPECT_EQ(none.pickle, bytes("\x80\x02((l(lt."));

  // a prediction on another grid is named
  Geometry g;
  g.size = {8, 8, 8};
  const std::string small = dir.file("small.nii.gz");
  io::writeVolume(io::makeVolume(PixelType::UInt8, g), small, io::WriteOptions{});
  voxseg::testing::expectError(
      [&] {
        determineNnUNetPostprocessing({{small, cases[0].reference}}, o);
      },
      ExitCode::Input, "small.nii.gz: 8 x 8 x 8 voxels, its reference");
}

} // namespace
