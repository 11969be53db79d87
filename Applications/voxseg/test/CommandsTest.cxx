// The subcommands called in-process: what they print and write.
#include "Commands.h"
#include "Batch.h"
#include "Cli.h"
#include "SegmentOutputs.h"
#include "voxseg/core/Error.h"
#include "voxseg/io/VolumeIO.h"
#include "voxseg/testing/Data.h"

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

namespace voxseg::cli {
namespace {

using voxseg::testing::sharedPath;
using voxseg::testing::TempDir;

// `voxseg info --json <input>` in-process: it exits 0 (else the test fails) and prints this JSON.
nlohmann::json infoJson(const std::string& input) {
  InfoArgs a;
  a.input = input;
  a.json = true;
  std::ostringstream out;
  EXPECT_EQ(runInfo(a, out), 0);
  return nlohmann::json::parse(out.str());
}

TEST(Info, JsonHasGeometryOrientationTypeAndRange) {
  VOXSEG_REQUIRE_DATA(path, sharedPath("data/niftispace/PIR.nii.gz"));
  const auto j = infoJson(path);
  const auto& v = j["volume"];
  EXPECT_EQ(v["size"], nlohmann::json({79, 67, 64}));
  EXPECT_EQ(v["orientation"], "PIR");
  EXPECT_EQ(v["pixel_type"], "float32");
  EXPECT_EQ(v["direction"][1][0], 1.0);
  EXPECT_GT(v["intensity_range"][1].get<double>(), 90.0);
}

TEST(Info, DicomFolderListsSeries) {
  VOXSEG_REQUIRE_DATA(dir, sharedPath("data/dcmqi/segmentations/ct-3slice"));
  const auto j = infoJson(dir);
  ASSERT_EQ(j["series"].size(), 1u);
  EXPECT_EQ(j["series"][0]["modality"], "CT");
  EXPECT_EQ(j["series"][0]["slices"], 3);
  EXPECT_EQ(j["selected_series"], j["series"][0]["series_instance_uid"]);
}

TEST(Convert, ReorientsLosslesslyAndKeepsTheWorldImage) {
  VOXSEG_REQUIRE_DATA(ras, sharedPath("data/niftispace/RAS.nii.gz"));
  VOXSEG_REQUIRE_DATA(sra, sharedPath("data/niftispace/SRA.nii.gz"));
  TempDir dir;
  ConvertArgs c;
  c.input = sra;
  c.output = dir.file("sra_as_ras.nii.gz");
  c.orient = "RAS";
  ASSERT_EQ(runConvert(c), 0);
  const io::Volume a = io::readVolume(ras);
  const io::Volume b = io::readVolume(c.output);
  EXPECT_TRUE(a.geometry().nearlyEqual(b.geometry(), 1e-3));
  ASSERT_EQ(a.pixelType, b.pixelType);
  EXPECT_EQ(std::memcmp(io::bufferOf(a), io::bufferOf(b), a.geometry().voxelCount() * pixelTypeSize(a.pixelType)), 0);
}

TEST(Convert, ChecksTheDestinationBeforeReading) {
  TempDir dir;
  ConvertArgs c;
  c.input = dir.file("missing.nii.gz");
  c.output = dir.file("no/such/folder/out.nii.gz");
  try {
    runConvert(c);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::Output) << e.what();
  }
}

TEST(Main, MapsErrorsToExitCodesAndOneLineMessages) {
  std::ostringstream out, err;
  std::string a0 = "voxseg", a1 = "info", a2 = "/nonexistent.nii.gz";
  char* argv[] = {a0.data(), a1.data(), a2.data()};
  EXPECT_EQ(main(3, argv, out, err), 3);
  EXPECT_EQ(err.str(), "voxseg: error: /nonexistent.nii.gz: no such file or folder\n");
}

// Every per-case output names its case (DICOM SEG and RT Structure Set outputs kept the literal "{case}").
TEST(Batch, ForCaseSubstitutesEveryOutput) {
  OutputPaths p;
  for (std::string* s : {&p.labels, &p.saveLogits, &p.saveProbabilities, &p.instances, &p.split, &p.report, &p.render,
                         &p.dicomSeg, &p.rtstruct})
    *s = "out/{case}/x{case}.nii.gz";
  p.colorTables = {"out/{case}.ctbl"};
  const OutputPaths o = p.forCase("c7");
  for (const std::string* s : {&o.labels, &o.saveLogits, &o.saveProbabilities, &o.instances, &o.split, &o.report,
                               &o.render, &o.dicomSeg, &o.rtstruct})
    EXPECT_EQ(*s, "out/c7/xc7.nii.gz");
  EXPECT_EQ(o.colorTables.at(0), "out/c7.ctbl");
}

// A batch folder lists every readable volume name, detached NRRD headers included (not their data files),
// and never segmentations.
TEST(Batch, FolderListsDetachedHeadersButNotTheirDataOrSegmentations) {
  TempDir dir;
  for (const char* name : {"a.nii.gz", "b.nhdr", "b.raw.gz", "c.mhd", "c.raw", "d.nrrd", "e.seg.nrrd", "notes.txt"})
    std::ofstream(dir.file(name)) << "x";
  std::vector<std::string> ids;
  for (const auto& c : listBatch(dir.path().string(), 1)) ids.push_back(c.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"a", "b", "c", "d"}));
}

// Upper-case extensions the readers take are volumes too (not X.MHA, nor mixed case, which they refuse); a channel
// group that does not fit the model names its files (four scans patient_0001..0004 for a one-channel model were
// "channel file patient_0000 is missing").
TEST(Batch, UpperCaseExtensionsAndChannelGroupsThatNameTheirFiles) {
  TempDir dir;
  for (const char* name : {"UPPER.NII.GZ", "N.NRRD", "m.MHA", "Mixed.Nii.gz", "p_0001.nii.gz", "p_0002.nii.gz",
                           "q_0000.nii.gz", "q_0001.nii.gz", "S.SEG.NRRD"})
    std::ofstream(dir.file(name)) << "x";
  std::map<std::string, std::string> problems;
  for (const auto& c : listBatch(dir.path().string(), 1)) problems[c.id] = c.problem;
  ASSERT_EQ(problems.size(), 4u);
  EXPECT_EQ(problems["UPPER"], "");
  EXPECT_EQ(problems["N"], "");
  EXPECT_NE(problems["p"].find("channel file p_0000 is missing (found p_0001.nii.gz, p_0002.nii.gz;"),
            std::string::npos)
      << problems["p"];
  EXPECT_NE(problems["q"].find("2 channel files (q_0000.nii.gz, q_0001.nii.gz), the model takes 1"), std::string::npos)
      << problems["q"];
}

// Found by Testing/Fuzz/FuzzCsvManifest: an id with DEL (0x7f) passed; it is refused per case now, and
// the message does not echo control characters. An empty id is named after its row.
TEST(Batch, ManifestIdsThatAreNotPlainFileNamesAreRefusedPerCase) {
  TempDir dir;
  std::ofstream(dir.file("cases.csv")) << "case,image\na\x7f\x1b[2Jb,x.nii.gz\n,y.nii.gz\nok,z.nii.gz\n";
  const auto cases = listBatch(dir.file("cases.csv"), 1);
  ASSERT_EQ(cases.size(), 3u);
  int refused = 0;
  for (const auto& c : cases) {
    if (c.problem.empty()) {
      EXPECT_TRUE(c.id == "ok" || c.id == "row3") << c.id;
      continue;
    }
    ++refused;
    EXPECT_NE(c.problem.find("is not a plain file name"), std::string::npos) << c.problem;
    EXPECT_EQ(c.problem.find('\x1b'), std::string::npos) << "control character echoed";
    EXPECT_EQ(c.id.rfind("row", 0), 0u) << c.id;
  }
  EXPECT_EQ(refused, 1);
}

} // namespace
} // namespace voxseg::cli
