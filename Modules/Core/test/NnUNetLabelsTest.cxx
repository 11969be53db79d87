// dataset.json's labels read as nnU-Net's LabelManager reads them (label_handling.py, nnU-Net 2.8.1).
#include "voxseg/core/NnUNetLabels.h"

#include <gtest/gtest.h>

using namespace voxseg;

namespace {

NnUNetLabels read(const std::string& text, int maxValue = 65535) {
  return readNnUNetLabels(nlohmann::ordered_json::parse(text), "d.json", maxValue, ExitCode::Input);
}

std::string failure(const std::string& text, int maxValue = 65535) {
  try {
    read(text, maxValue);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::Input);
    return e.what();
  }
  return "(no error)";
}

// BraTS as nnU-Net ships it: regions listed in the file's order, keyed as listed, a plain value a region too.
TEST(NnUNetLabels, RegionBasedDatasetInTheFilesOrder) {
  const NnUNetLabels l = read(R"({"labels": {"background": 0, "whole tumor": [1, 2, 3], "tumor core": [3, 2],
    "enhancing tumor": [3], "edema": 1, "ignore": 4}, "regions_class_order": [1, 2, 3, 1]})");
  ASSERT_EQ(l.entries.size(), 6u);
  EXPECT_EQ(l.entries[1].name, "whole tumor"); // not sorted by name
  EXPECT_TRUE(l.regionBased());
  EXPECT_EQ(l.ignoreLabel, 4);
  EXPECT_EQ(l.foregroundLabels(), (std::vector<int>{1, 2, 3}));
  const auto regions = l.regions();
  ASSERT_EQ(regions.size(), 4u);
  EXPECT_EQ(regions[0].key(), "(1, 2, 3)");
  EXPECT_EQ(regions[1].key(), "(3, 2)");
  EXPECT_EQ(regions[2].key(), "(3,)");
  EXPECT_EQ(regions[3].key(), "1");
  EXPECT_EQ(l.segmentationHeads(), 4);
  EXPECT_EQ(l.regionsClassOrder, (std::vector<int>{1, 2, 3, 1}));
  EXPECT_EQ(l.maxLabel(), 3); // the ignore label is never written
  ASSERT_NE(l.find("edema"), nullptr);
  EXPECT_EQ(l.find("edema")->values, (std::vector<int>{1}));
  EXPECT_EQ(l.find("Edema"), nullptr);
}

// A list of one label makes no region-based dataset (LabelManager: a list of more than one): one softmax output per
// value, background included; regions_class_order, if given, is not used.
TEST(NnUNetLabels, PlainDatasetHasOneHeadPerValue) {
  const NnUNetLabels l = read(R"({"labels": {"background": 0, "a": [1], "b": 2, "ignore": 3},
    "regions_class_order": [2, 0]})");
  EXPECT_TRUE(l.regionsClassOrder.empty()); // not used, not checked
  EXPECT_FALSE(l.regionBased());
  EXPECT_TRUE(l.regions().empty());
  EXPECT_TRUE(l.entries[0].background());
  EXPECT_EQ(l.foregroundLabels(), (std::vector<int>{1, 2}));
  EXPECT_EQ(l.segmentationHeads(), 3);
  EXPECT_EQ(l.maxLabel(), 2);
  EXPECT_EQ(l.entries[1].key(), "(1,)");
  EXPECT_EQ(l.entries[2].key(), "2");
}

// nnU-Net takes int(x): values written as 1.0 (some tools write every number so) are the labels 1; 1.5 is refused
// rather than truncated.
TEST(NnUNetLabels, ValuesWrittenAsWholeFloatsAreLabels) {
  const NnUNetLabels l = read(R"({"labels": {"background": 0.0, "a": 1.0, "b": [1.0, 2], "ignore": 3.0},
    "regions_class_order": [1.0, 2.0]})");
  ASSERT_EQ(l.entries.size(), 4u);
  EXPECT_EQ(l.entries[0].values, std::vector<int>{0});
  EXPECT_TRUE(l.entries[0].background());
  EXPECT_EQ(l.entries[1].values, std::vector<int>{1});
  EXPECT_EQ(l.entries[2].values, (std::vector<int>{1, 2}));
  EXPECT_EQ(l.ignoreLabel, 3);
  EXPECT_EQ(l.regionsClassOrder, (std::vector<int>{1, 2}));
  EXPECT_EQ(failure(R"({"labels": {"background": 0, "a": 1e6}})"),
            "d.json: label \"a\" has the value 1000000.0: label values are integers 0..65535");
  EXPECT_EQ(failure(R"({"labels": {"background": 0, "a": [1, 2]}, "regions_class_order": [1, 2.5]})"),
            "d.json: regions_class_order entry 2.5 is not a label value 1..65535");
  EXPECT_EQ(failure(R"({"labels": {"background": 0, "a": 1, "ignore": 2.5}})"),
            "d.json: label \"ignore\" is 2.5, not a value 1..65535 (nnU-Net's ignore label is one integer beside the "
            "background)");
}

TEST(NnUNetLabels, ProblemsNameTheFileAndTheEntry) {
  EXPECT_EQ(failure(R"({"labels": [0, 1]})"), "d.json: needs \"labels\" (an object: name -> value)");
  // LabelManager's sanity check: the background is the number 0
  EXPECT_EQ(failure(R"({"labels": {"bg": 0, "a": 1}})"),
            "d.json: labels need \"background\": 0 (nnU-Net's LabelManager refuses a dataset without it)");
  EXPECT_EQ(failure(R"({"labels": {"background": [0], "a": 1}})"),
            "d.json: label \"background\" is [0]: nnU-Net's background is the number 0, not a list");
  EXPECT_EQ(failure(R"({"labels": {"background": 1, "a": 2}})").rfind("d.json: label \"background\" is 1:", 0), 0u);
  EXPECT_EQ(failure(R"({"labels": {"background": 0, "a": 1.5}})"),
            "d.json: label \"a\" has the value 1.5: label values are integers 0..65535");
  EXPECT_EQ(failure(R"({"labels": {"background": 0, "a": [1, 256]}})", 255),
            "d.json: label \"a\" has the value 256: label values are integers 0..255");
  EXPECT_EQ(failure(R"({"labels": {"background": 0, "a": -1}})"),
            "d.json: label \"a\" has the value -1: label values are integers 0..65535");
  EXPECT_EQ(failure(R"({"labels": {"background": 0, "a": "1"}})"),
            "d.json: label \"a\" is \"1\", not a label value or a list of them");
  EXPECT_EQ(failure(R"({"labels": {"background": 0, "a": []}})"), "d.json: label \"a\" is an empty list");
  EXPECT_EQ(failure(R"({"labels": {"background": 0, "ignore": [2]}})"),
            "d.json: label \"ignore\" is [2], not a value 1..65535 (nnU-Net's ignore label is one integer beside the "
            "background)");
  EXPECT_EQ(failure(R"({"labels": {"background": 0, "ignore": 0}})").rfind("d.json: label \"ignore\" is 0, not", 0),
            0u);
  // LabelManager: the ignore label is one above every other value, a region's too
  EXPECT_EQ(failure(R"({"labels": {"background": 0, "ignore": 1, "a": 2}})"),
            "d.json: the ignore label (1) must be the highest label value, one above the others (3 here), as nnU-Net "
            "requires");
  EXPECT_EQ(failure(R"({"labels": {"background": 0, "a": 1, "ignore": 3}})").rfind("d.json: the ignore label (3)", 0),
            0u);
  EXPECT_EQ(
      failure(R"({"labels": {"background": 0, "a": [1, 2], "b": 1, "ignore": 2}, "regions_class_order": [1, 2]})")
          .rfind("d.json: the ignore label (2) must be the highest label value, one above the others (3 here)", 0),
      0u);
  EXPECT_EQ(read(R"({"labels": {"background": 0, "ignore": 1}})").ignoreLabel, 1); // nothing else: 0 + 1
  EXPECT_EQ(failure(R"({"labels": {"background": 0, "a": [1, 2]}, "regions_class_order": [1, 0]})"),
            "d.json: regions_class_order entry 0 is not a label value 1..65535");
  EXPECT_EQ(failure(R"({"labels": {"background": 0, "a": [1, 2]}, "regions_class_order": 1})"),
            "d.json: regions_class_order is 1, not a list of label values");
  try {
    readNnUNetLabels(nlohmann::ordered_json::parse(R"({"labels": {"background": 0, "a": 70000}})"), "m/dataset.json",
                     65535, ExitCode::Model, "why");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::Model);
    EXPECT_EQ(std::string(e.what()),
              "m/dataset.json: label \"a\" has the value 70000: label values are integers 0..65535 (why)");
  }
}

} // namespace
