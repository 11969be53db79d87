#include "voxseg/core/ModelCard.h"
#include "voxseg/core/Error.h"

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

namespace voxseg {
namespace {

using nlohmann::json;

json validCard() {
  return json::parse(R"({
    "name": "liver", "version": "1.2.0", "axis_order": "zyx",
    "channels": [{"name": "CT", "modality": "CT",
                  "normalization": {"type": "ct", "mean": 100, "std": 30, "lower": -50, "upper": 250}}],
    "spacing": [2.5, 0.9, 0.9], "orientation": "keep", "patch_size": [20, 48, 48],
    "tiling": {"rule": "nnunet", "step": 0.5}, "importance": {"type": "gaussian_nnunet"},
    "accumulation": "float16", "mirror_axes": [0, 1, 2], "sw_batch": 2,
    "postprocessing": {"keep_largest_component": [1]},
    "labels": [{"value": 0, "name": "background"},
               {"value": 1, "name": "liver", "color": [221, 130, 101],
                "category": {"value": "123037004", "scheme": "SCT", "meaning": "Anatomical Structure"},
                "type": {"value": "10200004", "scheme": "SCT", "meaning": "Liver"}}]
  })");
}

std::string errorOf(const json& j) {
  try {
    modelCardFromJson(j, "card.json");
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::Model);
    return e.what();
  }
  return "";
}

TEST(ModelCard, ParsesEveryFieldAndRoundTrips) {
  const ModelCard c = modelCardFromJson(validCard(), "card.json");
  EXPECT_EQ(c.name, "liver");
  EXPECT_EQ(c.axisOrder, AxisOrder::ZYX);
  ASSERT_EQ(c.channels.size(), 1u);
  EXPECT_EQ(c.channels[0].normalization.type, Normalization::Type::CT);
  EXPECT_EQ(*c.channels[0].normalization.upper, 250);
  EXPECT_EQ(c.spacing->at(0), 2.5);
  EXPECT_EQ(c.patchSize, (std::array<int, 3>{20, 48, 48}));
  EXPECT_EQ(c.importance.type, ImportanceMap::Type::GaussianNnUNet);
  EXPECT_EQ(c.mirrorAxes, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(c.outputChannels(), 2);
  EXPECT_EQ(c.findLabel(1)->type->meaning, "Liver");
  EXPECT_EQ(c.findLabel(5), nullptr);
  EXPECT_EQ(c.postprocessing.keepLargestComponent, (std::vector<int>{1}));
  const ModelCard again = modelCardFromJson(modelCardToJson(c), "again");
  EXPECT_EQ(modelCardToJson(again), modelCardToJson(c));
}

TEST(ModelCard, SpacingInputMeansNoResampling) {
  json j = validCard();
  j["spacing"] = "input";
  EXPECT_FALSE(modelCardFromJson(j, "c").spacing.has_value());
}

TEST(ModelCard, ErrorsNameTheField) {
  struct Case {
    std::function<void(json&)> edit;
    std::string expected;
  };
  const std::vector<Case> cases{
      {[](json& j) { j.erase("name"); }, "card.json: name: missing"},
      {[](json& j) { j["axis_order"] = "yxz"; }, "axis_order: 'yxz' is not one of: xyz, zyx"},
      {[](json& j) {
         j["patch_size"] = {20, 48};
       },
       "patch_size: expected 3 numbers, got 2"},
      {[](json& j) { j["patch_size"][1] = "48"; }, "patch_size[1]: expected an integer"},
      {[](json& j) {
         j["labels"][1]["color"] = {1, 2, 300};
       },
       "labels[1].color: RGB values must be 0..255"},
      {[](json& j) { j["labels"][1]["value"] = 0; }, "labels[1].value: value 0 used twice"},
      {[](json& j) { j["channels"][0]["normalization"].erase("std"); }, "channels[0].normalization.std: missing"},
      {[](json& j) { j["tiling"]["step"] = 0; }, "tiling.step: must be in (0, 1]"},
      {[](json& j) { j["colour"] = 1; }, "colour: unknown field"},
      {[](json& j) { j["mirror_axes"] = {3}; }, "mirror_axes[0]: expected an axis 0, 1 or 2"},
      {[](json& j) {
         j["mirror_axes"] = {1, 1};
       },
       "mirror_axes[1]: axis 1 listed twice"},
      {[](json& j) { j["orientation"] = "RAX"; }, "orientation:"},
      {[](json& j) {
         j["spacing"] = {1, -1, 1};
       },
       "spacing: values must be positive"},
      {[](json& j) { j["labels"][1]["type"].erase("scheme"); }, "labels[1].type.scheme: missing"},
      {[](json& j) {
         j["regions"] = {{{"name", "r"}, {"label", 7}}};
       },
       "regions[0].label: label 7 is not in labels"},
      {[](json& j) { j["sw_batch"] = 1.5; }, "sw_batch: expected an integer"},
      {[](json& j) { j["postprocessing"]["keep_largest_component"] = {4}; },
       "postprocessing.keep_largest_component[0]: expected a label value from labels"},
      {[](json& j) { j["postprocessing"]["fill"] = true; }, "postprocessing.fill: unknown field"},
      // integers beyond int: refused (nlohmann's get<int> wrapped them: label 4294967298 became 2, a patch axis
      // 4294967312 became 16, a mirror axis 4294967298 passed as 2)
      {[](json& j) { j["labels"][1]["value"] = 4294967298ull; }, "labels[1].value: an integer beyond the int range"},
      {[](json& j) { j["patch_size"][2] = 4294967312ull; }, "patch_size[2]: expected an integer"},
      {[](json& j) { j["sw_batch"] = 4294967297ll; }, "sw_batch: an integer beyond the int range"},
      {[](json& j) { j["mirror_axes"] = {4294967298ull}; }, "mirror_axes[0]: expected an axis 0, 1 or 2"},
      // the other tiling rule's parameter: refused (kept and never used)
      {[](json& j) { j["tiling"]["overlap"] = 0.25; }, "tiling.overlap: applies to the monai rule"},
      {[](json& j) {
         j["tiling"] = {{"rule", "monai"}, {"overlap", 0.25}, {"step", 0.9}};
       },
       "tiling.step: applies to the nnunet rule"},
  };
  for (const auto& c : cases) {
    json j = validCard();
    c.edit(j);
    const std::string msg = errorOf(j);
    EXPECT_NE(msg.find(c.expected), std::string::npos) << "expected '" << c.expected << "' in '" << msg << "'";
  }
}

TEST(ModelCard, InvalidJsonIsAModelError) {
  // The second: a number beyond double, which nlohmann::json reports as out_of_range, not parse_error
  // (found by Testing/Fuzz/FuzzModelCard: it escaped as an uncaught exception).
  for (const char* text : {"{ not json", "{\"name\": 1999999999999999e999999}"}) {
    try {
      parseModelCard(text, "broken.json");
      ADD_FAILURE() << text;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::Model);
      EXPECT_NE(std::string(e.what()).find("broken.json: not valid JSON"), std::string::npos) << e.what();
    }
  }
}

} // namespace
} // namespace voxseg
