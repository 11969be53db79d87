// `voxseg evaluate` around the metrics: case matching, label selection, statistics, number text.
#include "EvaluateSupport.h"
#include "EvaluateReport.h"

#include "voxseg/core/Error.h"
#include "voxseg/core/LabelColors.h"
#include "voxseg/io/SegmentationFiles.h"
#include "voxseg/testing/Data.h"
#include "voxseg/testing/Errors.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <set>

namespace voxseg::cli {
namespace {

using voxseg::testing::TempDir;
constexpr double kNan = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

TEST(EvaluateSummary, FiniteValuesOnlyWithNumpyQuartilesAndPopulationStd) {
  const Summary s = summarize({4.0, 1.0, kNan, 3.0, 2.0, kInf});
  EXPECT_EQ(s.cases, 6u);
  EXPECT_EQ(s.finite, 4u);
  EXPECT_EQ(s.nan, 1u);
  EXPECT_EQ(s.inf, 1u);
  EXPECT_DOUBLE_EQ(s.mean, 2.5);
  EXPECT_DOUBLE_EQ(s.std, std::sqrt(1.25)); // numpy.std([1, 2, 3, 4])
  EXPECT_DOUBLE_EQ(s.median, 2.5);
  EXPECT_DOUBLE_EQ(s.q1, 1.75); // numpy.percentile([1, 2, 3, 4], 25)
  EXPECT_DOUBLE_EQ(s.q3, 3.25);
  // to the last bit (numpy 1.24, Debian's): the mean in case order with numpy's sums (the sorted values were summed
  // in turn: 0.44000000000000006), the quartiles with numpy's _lerp (a + t (b - a) gave q3 0.6315270935960591)
  const Summary m = summarize({0.1, 0.7, 0.2, 0.9, 0.3});
  EXPECT_EQ(m.mean, 0.43999999999999995);
  EXPECT_EQ(m.std, 0.30724582991474436);
  const Summary two = summarize({16.0 / 35, 20.0 / 29});
  EXPECT_EQ(two.q3, 0.6315270935960592);
  EXPECT_EQ(two.q1, 0.5152709359605911);
  EXPECT_EQ(two.median, 0.5733990147783251);
  const Summary none = summarize({kNan});
  EXPECT_EQ(none.finite, 0u);
  EXPECT_TRUE(std::isnan(none.mean));
}

TEST(EvaluateNumbers, ShortestRoundTripAndNonFiniteWords) {
  EXPECT_EQ(numberText(0.1), "0.1");
  EXPECT_EQ(numberText(2.0000000477), "2.0000000477");
  EXPECT_EQ(numberText(kNan), "nan");
  EXPECT_EQ(numberText(-kInf), "-inf");
  const double third = 1.0 / 3.0;
  EXPECT_EQ(std::strtod(numberText(third).c_str(), nullptr), third);
}

TEST(EvaluateCases, FoldersMatchByNameAndReportOrphans) {
  TempDir tmp;
  std::filesystem::create_directories(tmp.file("pred"));
  std::filesystem::create_directories(tmp.file("ref"));
  for (const char* f : {"pred/a.nii.gz", "pred/b.nrrd", "ref/a.nii.gz", "ref/c.mha", "ref/notes.txt"})
    std::ofstream(tmp.file(f)) << "x";
  std::ofstream(tmp.file("ref/b.nii")) << "x";
  const auto cases = listEvalCases(tmp.file("pred"), tmp.file("ref"), "");
  ASSERT_EQ(cases.size(), 3u);
  EXPECT_EQ(cases[0].id, "a");
  EXPECT_TRUE(cases[0].problem.empty());
  EXPECT_EQ(cases[1].id, "b"); // b.nrrd against b.nii
  EXPECT_TRUE(cases[1].problem.empty());
  EXPECT_EQ(cases[2].id, "c");
  EXPECT_NE(cases[2].problem.find("no prediction"), std::string::npos);
}

TEST(EvaluateCases, CsvRowsWithRelativePaths) {
  TempDir tmp;
  std::ofstream(tmp.file("list.csv")) << "case,prediction,reference\none,p1.nii.gz,r1.nii.gz\ntwo,p2.nii.gz\n";
  const auto cases = listEvalCases("", "", tmp.file("list.csv"));
  ASSERT_EQ(cases.size(), 2u);
  EXPECT_EQ(cases[0].prediction, tmp.file("p1.nii.gz"));
  EXPECT_EQ(cases[0].reference, tmp.file("r1.nii.gz"));
  EXPECT_NE(cases[1].problem.find("line 3 of " + tmp.file("list.csv") + ": no prediction or no reference"),
            std::string::npos);
  // the columns by their header names, in any order, with Windows line ends and a byte order mark (the two maps were
  // taken by position: swapped)
  std::ofstream(tmp.file("swapped.csv"))
      << "\xEF\xBB\xBFreference, Case ,prediction,notes\r\nr1.nii.gz,one,p1.nii.gz,x\r\n";
  const auto swapped = listEvalCases("", "", tmp.file("swapped.csv"));
  ASSERT_EQ(swapped.size(), 1u);
  EXPECT_EQ(swapped[0].id, "one");
  EXPECT_EQ(swapped[0].prediction, tmp.file("p1.nii.gz"));
  EXPECT_EQ(swapped[0].reference, tmp.file("r1.nii.gz"));
  // no header: refused naming the file (its first case was taken for the header)
  std::ofstream(tmp.file("bare.csv")) << "one,p1.nii.gz,r1.nii.gz\ntwo,p2.nii.gz,r2.nii.gz\n";
  voxseg::testing::expectError([&] { listEvalCases("", "", tmp.file("bare.csv")); }, ExitCode::Input,
                               tmp.file("bare.csv") + ": its first line must name the columns prediction and reference "
                                                      "(and case, optional; in any order); it reads: "
                                                      "one,p1.nii.gz,r1.nii.gz");
}

using Targets = std::vector<std::vector<int>>;

TEST(EvaluateLabels, ValuesAndNamesFromATable) {
  TempDir tmp;
  std::ofstream(tmp.file("c.ctbl")) << "# Color table file c.ctbl\n0 background 0 0 0 0\n1 liver 200 0 0 255\n"
                                       "2 spleen 0 200 0 255\n";
  const auto table = readLabelTable(tmp.file("c.ctbl"));
  ASSERT_EQ(table.size(), 2u);
  EXPECT_EQ(selectTargets("spleen,1", table), (Targets{{2}, {1}}));
  EXPECT_THROW(selectTargets("kidney", table), Error);
  EXPECT_THROW(selectTargets("0", table), Error);
  std::ofstream(tmp.file("dataset.json")) << R"({"labels": {"background": 0, "tumor": 1}})";
  const auto dataset = readLabelTable(tmp.file("dataset.json"));
  EXPECT_EQ(selectTargets("tumor", dataset), (Targets{{1}}));
  EXPECT_EQ(selectTargets("0000002", table), (Targets{{2}}));
  // a name two labels share is ambiguous: refused (it took the first)
  std::ofstream(tmp.file("twice.ctbl")) << "1 organ 200 0 0 255\n2 organ 0 200 0 255\n";
  EXPECT_THROW(selectTargets("organ", readLabelTable(tmp.file("twice.ctbl"))), Error);
  // refused once, as usage errors, before any case: a duplicate (by value or name), a number too long for any
  // label (it was an internal error), the background by name (as by value)
  for (const auto& [text, why] : std::vector<std::pair<std::string, std::string>>{
           {"1,1", "label 1 is listed twice"},
           {"2,spleen", "label 2 is listed twice"},
           {"99999999999999999999", "label 99999999999999999999 out of 1..65535"}}) {
    try {
      selectTargets(text, table);
      ADD_FAILURE() << text;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::Usage) << text;
      EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << e.what();
    }
  }
  try {
    selectTargets("background,tumor", dataset);
    ADD_FAILURE() << "background selected";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'background' is the background (label 0)"), std::string::npos) << e.what();
  }
}

// nnU-Net's region-based dataset.json (BraTS): every foreground entry is a region, a plain value too; "ignore" and
// the background are none. '+' joins labels or regions into one region; a region of one label is that label.
TEST(EvaluateLabels, RegionsOfARegionBasedDatasetAndJoinedLabels) {
  TempDir tmp;
  std::ofstream(tmp.file("dataset.json"))
      << R"({"labels": {"background": 0, "whole_tumor": [1, 2, 3], "tumor_core": [3, 2], "enhancing": [3],)"
      << R"( "edema": 1, "ignore": 4}, "regions_class_order": [1, 2, 3, 1]})";
  DatasetLabelRules rules;
  const auto table = readLabelTable(tmp.file("dataset.json"), &rules);
  const auto& regions = rules.regions;
  EXPECT_EQ(rules.ignoreLabel, 4);
  ASSERT_EQ(regions.size(), 4u);
  EXPECT_EQ(regions[0].name, "whole_tumor");
  EXPECT_EQ(regions[0].labels, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(regions[1].labels, (std::vector<int>{2, 3})); // sorted
  EXPECT_EQ(regions[3].name, "edema");
  EXPECT_EQ(regions[3].labels, (std::vector<int>{1}));
  // nnU-Net's summary.json keys: each entry as the file lists it
  EXPECT_EQ(regions[0].key, "(1, 2, 3)");
  EXPECT_EQ(regions[1].key, "(3, 2)");
  EXPECT_EQ(regions[2].key, "(3,)");
  EXPECT_EQ(regions[3].key, "1");
  EXPECT_EQ(selectTargets("whole_tumor,tumor_core", table, regions), (Targets{{1, 2, 3}, {2, 3}}));
  EXPECT_EQ(selectTargets("3+1, edema+2 ,enhancing", table, regions), (Targets{{1, 3}, {1, 2}, {3}}));
  for (const auto& [text, why] : std::vector<std::pair<std::string, std::string>>{
           {"3+1,edema+enhancing", "region 1+3 is listed twice"},
           {"enhancing,3", "label 3 is listed twice"}, // a one-label region is the label
           {"1+1", "label 1 is given twice in '1+1'"},
           {"whole_tumor+2", "label 2 is given twice in 'whole_tumor+2'"},
           {"1+", "empty item"},
           {"1+0", "label 0 out of 1..65535"},
           {"1+kidney", "no label named 'kidney' in the label table"}}) {
    voxseg::testing::expectError([&] { selectTargets(text, table, regions); }, ExitCode::Usage, why, text);
  }
  EXPECT_EQ(selectTargets("1+2+3,2 + 3,3", {}), (Targets{{1, 2, 3}, {2, 3}, {3}}));
  // without a place for them (convert, render) the regions are named in a warning, not checked, the labels kept
  EXPECT_EQ(readLabelTable(tmp.file("dataset.json")).size(), table.size());
  std::ofstream(tmp.file("zero.json")) << R"({"labels": {"background": 0, "all": [0, 1], "a": 1}})";
  EXPECT_EQ(readLabelTable(tmp.file("zero.json")).size(), 2u);
  // a list of one label makes no region-based dataset (nnU-Net's LabelManager: a list of more than one)
  std::ofstream(tmp.file("single.json")) << R"({"labels": {"background": 0, "a": [1], "b": 2}})";
  DatasetLabelRules single;
  const auto singleTable = readLabelTable(tmp.file("single.json"), &single);
  EXPECT_TRUE(single.regions.empty());
  ASSERT_EQ(singleTable.size(), 3u); // [1] is the label 1, as nnU-Net's foreground_labels hold it
  EXPECT_EQ(singleTable[1].name, "a");
  EXPECT_EQ(singleTable[1].value, 1);
  EXPECT_EQ(single.foregroundLabels, (std::vector<int>{1, 2}));
  // a plain dataset has no regions; a region holding the background, nothing or a non-label is refused
  std::ofstream(tmp.file("plain.json")) << R"({"labels": {"background": 0, "liver": 1, "tumor": 2}})";
  DatasetLabelRules plain;
  readLabelTable(tmp.file("plain.json"), &plain);
  EXPECT_TRUE(plain.regions.empty());
  EXPECT_EQ(plain.ignoreLabel, -1);
  for (const auto& [entry, why] : std::vector<std::pair<std::string, std::string>>{
           {R"("a": [0, 1])", "region 'a' holds the background"},
           {R"("r": [1, 2], "a": [])", "label \"a\" is an empty list"},
           {R"("a": [1, 1.5])", "label \"a\" has the value 1.5: label values are integers 0..65535"},
           {R"("r": [1, 2], "a": [70000])", "label \"a\" has the value 70000"},
           {R"("ignore": [4])", "label \"ignore\" is [4], not a value 1..65535"},
           {R"("a": [1, 2], "b": [2, 3], "ignore": 3)",
            "the ignore label (3) must be the highest label value, one above "
            "the others (4 here), as nnU-Net requires"},
           {R"("a": 1, "ignore": 3)", "the ignore label (3) must be the highest label value, one above the others (2"},
           {R"("a": [1, 2], "b": 3, "c": [3])", "regions 'b' and 'c' hold the same labels (3)"},
           {R"("ignore": 0)", "label \"ignore\" is 0, not a value 1..65535"},
           {R"("a": "x")", "label \"a\" is \"x\", not a label value or a list of them"}}) {
    std::ofstream(tmp.file("bad.json")) << R"({"labels": {"background": 0, )" << entry << "}}";
    voxseg::testing::expectError([&] { readLabelTable(tmp.file("bad.json"), &plain); }, ExitCode::Input, why, entry);
  }
}

TEST(EvaluateLabels, ColorsFromSlicerAndItkSnapTablesOrDefaults) {
  TempDir tmp;
  std::ofstream(tmp.file("c.ctbl")) << "1 liver 200 10 20 255\n2 spleen\n";
  const auto slicer = readLabelTable(tmp.file("c.ctbl"));
  ASSERT_EQ(slicer.size(), 2u);
  EXPECT_EQ(slicer[0].color, (std::array<int, 3>{200, 10, 20}));
  EXPECT_EQ(slicer[1].color, defaultLabelColor(2));
  std::ofstream(tmp.file("snap.txt")) << "0 0 0 0 0 0 0 \"Clear Label\"\n3 12 34 56 1 1 1 \"left kidney\"\n";
  const auto snap = readLabelTable(tmp.file("snap.txt"));
  ASSERT_EQ(snap.size(), 1u);
  EXPECT_EQ(snap[0].name, "left kidney");
  EXPECT_EQ(snap[0].color, (std::array<int, 3>{12, 34, 56}));
  // lines that are neither are refused naming the line (a color of 300 came out differently in every output)
  for (const std::string bad :
       {"2 bad 300 0 0 255", "xx", "2 my ball 0 0 255 255", "2 a 1 2", "3 12 34 999 1 1 1 \"k\""}) {
    std::ofstream(tmp.file("bad.ctbl")) << "1 liver 200 10 20 255\n" << bad << "\n";
    try {
      readLabelTable(tmp.file("bad.ctbl"));
      ADD_FAILURE() << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::Input) << bad;
      EXPECT_NE(std::string(e.what()).find("line 2 is neither"), std::string::npos) << e.what();
    }
  }
  // a Slicer name may hold '"' (voxseg's own .ctbl writer keeps it), and a byte order mark is skipped
  std::ofstream(tmp.file("quote.ctbl")) << "\xEF\xBB\xBF# Color table\n1 5\"mm_lesion 221 130 101 255\n";
  const auto quoted = readLabelTable(tmp.file("quote.ctbl"));
  ASSERT_EQ(quoted.size(), 1u);
  EXPECT_EQ(quoted[0].name, "5\"mm_lesion");
  EXPECT_EQ(quoted[0].color, (std::array<int, 3>{221, 130, 101}));
  std::set<std::array<int, 3>> distinct; // default colors stay apart for many labels
  for (int v = 1; v <= 60; ++v) distinct.insert(defaultLabelColor(v));
  EXPECT_EQ(distinct.size(), 60u);
}

// The Slicer CSV color table voxseg itself writes (writeColorTable .csv) reads back: names with commas,
// colors, terminology columns ignored. Before, its rows were parsed as .ctbl lines (names garbled).
TEST(EvaluateLabels, SlicerCsvColorTableReadsBack) {
  TempDir tmp;
  LabelInfo liver;
  liver.value = 1;
  liver.name = "liver, left lobe";
  liver.color = {128, 174, 128};
  LabelInfo spleen;
  spleen.value = 2;
  spleen.name = "spleen";
  spleen.color = {157, 108, 162};
  io::writeColorTable({liver, spleen}, tmp.file("t.csv"));
  const auto labels = readLabelTable(tmp.file("t.csv"));
  ASSERT_EQ(labels.size(), 2u);
  EXPECT_EQ(labels[0].value, 1);
  EXPECT_EQ(labels[0].name, "liver, left lobe");
  EXPECT_EQ(labels[0].color, (std::array<int, 3>{128, 174, 128}));
  EXPECT_EQ(labels[1].name, "spleen");
  EXPECT_EQ(labels[1].color, (std::array<int, 3>{157, 108, 162}));
  // Found by Testing/Fuzz/FuzzLabelTable: without a Color_R column the reader indexed before the row.
  std::ofstream(tmp.file("nocolor.csv")) << "LabelValue,Name\n3,kidney,7,8,9\n";
  const auto plain = readLabelTable(tmp.file("nocolor.csv"));
  ASSERT_EQ(plain.size(), 1u);
  EXPECT_EQ(plain[0].name, "kidney");
  EXPECT_EQ(plain[0].color, defaultLabelColor(3));
  // problems name the file's line (blank lines counted), as an editor shows it
  std::ofstream(tmp.file("twice.csv")) << "\nLabelValue,Name\n3,kidney\n\n3,liver\n";
  voxseg::testing::expectError([&] { readLabelTable(tmp.file("twice.csv")); }, ExitCode::Input,
                               "line 5: label value 3 is given again (first on line 3)");
  std::ofstream(tmp.file("bad.csv")) << "LabelValue,Name,Color_R,Color_G,Color_B\n1,a,1,2,3\n2,b,1,2,300\n";
  voxseg::testing::expectError([&] { readLabelTable(tmp.file("bad.csv")); }, ExitCode::Input,
                               "bad.csv: line 3: malformed row of a Slicer CSV color table (colors are 0..255)");
}

// Every table voxseg writes reads back with its names and colors, awkward names included.
TEST(EvaluateLabels, WrittenTablesReadBack) {
  TempDir tmp;
  for (const std::string file : {"t.ctbl", "t.txt", "t.csv"}) {
    std::vector<LabelInfo> labels;
    const std::vector<std::string> names = file == "t.ctbl"
                                               ? std::vector<std::string>{"5\"mm_lesion", "a#b", "L\xc3\xa4sion"}
                                               : std::vector<std::string>{"left kidney", "a#b", "L\xc3\xa4sion"};
    for (std::size_t i = 0; i < names.size(); ++i) {
      LabelInfo l;
      l.value = int(i) + 1;
      l.name = names[i];
      l.color = {int(10 * i), 255, int(100 + i)};
      labels.push_back(l);
    }
    io::writeColorTable(labels, tmp.file(file));
    const auto back = readLabelTable(tmp.file(file));
    ASSERT_EQ(back.size(), labels.size()) << file;
    for (std::size_t i = 0; i < labels.size(); ++i) {
      EXPECT_EQ(back[i].value, labels[i].value) << file;
      EXPECT_EQ(back[i].name, labels[i].name) << file;
      EXPECT_EQ(back[i].color, labels[i].color) << file;
    }
  }
}

} // namespace
} // namespace voxseg::cli
