#include "voxseg/processing/NnUNetPostprocessing.h"

#include "voxseg/core/Error.h"
#include "voxseg/testing/Data.h"
#include "voxseg/testing/Errors.h"

#include <gtest/gtest.h>

#include <fstream>

namespace voxseg::processing {
namespace {

// What nnUNetv2_determine_postprocessing writes: the foreground step (all labels, or for a region-based dataset
// all regions as lists), then single labels or regions.
TEST(NnUNetPostprocessing, StepsOfPostprocessingJson) {
  voxseg::testing::TempDir tmp;
  std::ofstream(tmp.file("pp.json")) << R"({"input_folder": {"foreground_mean": {"Dice": 0.9}},
    "postprocessing_fns": ["remove_all_but_largest_component_from_segmentation",
                           "remove_all_but_largest_component_from_segmentation",
                           "remove_all_but_largest_component_from_segmentation"],
    "postprocessing_kwargs": [{"labels_or_regions": [[1, 2, 3], [2, 3], [3]]}, {"labels_or_regions": 2},
                              {"labels_or_regions": [3, 2], "background_label": 0}]})";
  const auto steps = readNnUNetPostprocessing(tmp.file("pp.json"));
  ASSERT_EQ(steps.size(), 3u);
  EXPECT_EQ(steps[0].labels, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(steps[1].labels, (std::vector<int>{2}));
  EXPECT_EQ(steps[2].labels, (std::vector<int>{2, 3}));
  EXPECT_EQ(steps[2].background, 0);
  std::ofstream(tmp.file("none.json")) << R"({"postprocessing_fns": [], "postprocessing_kwargs": []})";
  EXPECT_TRUE(readNnUNetPostprocessing(tmp.file("none.json")).empty());
}

TEST(NnUNetPostprocessing, AnythingElseIsRefusedNamingTheStep) {
  voxseg::testing::TempDir tmp;
  const std::string fn = R"("remove_all_but_largest_component_from_segmentation")";
  for (const auto& [text, why] : std::vector<std::pair<std::string, std::string>>{
           {"[1, 2]", "needs the lists \"postprocessing_fns\" and \"postprocessing_kwargs\""},
           {"{", "not valid JSON"},
           {R"({"postprocessing_fns": [)" + fn + R"(], "postprocessing_kwargs": []})",
            "has 1 postprocessing_fns but 0 postprocessing_kwargs"},
           {R"({"postprocessing_fns": ["my_filter"], "postprocessing_kwargs": [{}]})",
            "step 1: function \"my_filter\""},
           {R"({"postprocessing_fns": [)" + fn + R"(], "postprocessing_kwargs": [{"labels": 1}]})",
            "step 1: its kwargs need \"labels_or_regions\""},
           {R"({"postprocessing_fns": [)" + fn + R"(], "postprocessing_kwargs": [{"labels_or_regions": 1, "x": 2}]})",
            "step 1: unknown argument \"x\""},
           {R"({"postprocessing_fns": [)" + fn + R"(], "postprocessing_kwargs": [{"labels_or_regions": [1, 0]}]})",
            "step 1: labels_or_regions holds 0"},
           {R"({"postprocessing_fns": [)" + fn + R"(], "postprocessing_kwargs": [{"labels_or_regions": []}]})",
            "step 1: labels_or_regions holds []"},
           {R"({"postprocessing_fns": [)" + fn + R"(], "postprocessing_kwargs": [{"labels_or_regions": [[[1]]]}]})",
            "step 1: labels_or_regions holds [1]"},
           {R"({"postprocessing_fns": [)" + fn +
                R"(], "postprocessing_kwargs": [{"labels_or_regions": 1, "background_label": -1}]})",
            "step 1: background_label -1 is no label"}}) {
    std::ofstream(tmp.file("bad.json")) << text;
    voxseg::testing::expectError([&] { readNnUNetPostprocessing(tmp.file("bad.json")); }, ExitCode::Input,
                                 "bad.json: " + why, text);
  }
  EXPECT_THROW(readNnUNetPostprocessing(tmp.file("missing.json")), Error);
}

} // namespace
} // namespace voxseg::processing
