// DICOM SEG: dcmqi's liver SEG read onto its CT equals dcmqi's NRRD; our SEGs read back equal and obey
// the rules highdicom enforces; David Clunie's dciodvfy finds no error in them (when installed).
#include "voxseg/io/DicomSeg.h"
#include "voxseg/core/Error.h"
#include "voxseg/core/ItkGeometry.h"
#include "voxseg/io/VolumeIO.h"
#include "voxseg/testing/Data.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcitem.h>
#include <dcmtk/dcmdata/dcsequen.h>

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>

namespace voxseg::io {
namespace {

using voxseg::testing::sharedPath;
using voxseg::testing::TempDir;

const std::string kSegs = "data/dcmqi/segmentations/";

// Voxel-by-voxel equality of two label maps (as integers) and of their grids.
void expectSameLabels(const Volume& a, const Volume& b) {
  ASSERT_TRUE(a.geometry().nearlyEqual(b.geometry(), 1e-3)) << a.source << " vs " << b.source;
  const auto fa = a.toFloat(), fb = b.toFloat();
  const std::size_t n = a.geometry().voxelCount();
  std::size_t differ = 0, labelled = 0;
  for (std::size_t i = 0; i < n; ++i) {
    differ += fa->GetBufferPointer()[i] != fb->GetBufferPointer()[i];
    labelled += fa->GetBufferPointer()[i] != 0;
  }
  EXPECT_EQ(differ, 0u) << a.source << " vs " << b.source;
  EXPECT_GT(labelled, 1000u);
}

std::string stringOf(DcmItem& d, const DcmTagKey& tag) {
  OFString v;
  d.findAndGetOFStringArray(tag, v);
  return v.c_str();
}

TEST(DicomSeg, DcmqiLiverSegOnItsCtEqualsDcmqisNrrd) {
  VOXSEG_REQUIRE_DATA(seg, sharedPath(kSegs + "liver.dcm"));
  const auto content = readDicomSeg(seg, sharedPath(kSegs + "ct-3slice"));
  ASSERT_EQ(content.segments.size(), 1u);
  EXPECT_EQ(content.segments[0].name, "Liver");
  EXPECT_TRUE(content.overlaps.empty());
  EXPECT_EQ(content.labels.pixelType, PixelType::UInt8); // one segment: uint8, as voxseg writes label maps
  expectSameLabels(content.labels, readVolume(sharedPath(kSegs + "liver_seg.nrrd")));
  EXPECT_TRUE(isDicomSegFile(seg));
  EXPECT_FALSE(isDicomSegFile(sharedPath(kSegs + "ct-3slice/01.dcm")));
}

class DicomSegRoundTrip : public ::testing::TestWithParam<const char*> {};

TEST_P(DicomSegRoundTrip, WrittenAgainstCt3SliceReadsBackEqual) {
  VOXSEG_REQUIRE_DATA(nrrd, sharedPath(kSegs + GetParam()));
  TempDir dir;
  const Volume labels = readVolume(nrrd);
  const std::string out = dir.file("seg.dcm");
  std::vector<LabelInfo> known(1);
  known[0].value = 1;
  known[0].name = "liver";
  known[0].color = {221, 130, 101};
  known[0].category = Code{"123037004", "SCT", "Anatomical Structure"};
  known[0].type = Code{"10200004", "SCT", "Liver"};
  writeDicomSeg(labels, known, sharedPath(kSegs + "ct-3slice"), out, {}, false);
  for (const std::string& reference : {sharedPath(kSegs + "ct-3slice"), std::string()}) {
    const auto back = readDicomSeg(out, reference);
    if (reference.empty()) { // the frames' own grid: the slices they span
      EXPECT_GE(back.labels.geometry().size[2], 1u);
      continue;
    }
    expectSameLabels(back.labels, labels);
    EXPECT_EQ(back.segments[0].name, "liver");
    EXPECT_EQ(back.segments[0].type->value, "10200004");
    EXPECT_NEAR(back.segments[0].color[0], 221, 2);
    EXPECT_NEAR(back.segments[0].color[1], 130, 2);
    EXPECT_NEAR(back.segments[0].color[2], 101, 2);
  }
}
INSTANTIATE_TEST_SUITE_P(Dcmqi, DicomSegRoundTrip, ::testing::Values("liver_seg.nrrd", "liver_spine_seg.nrrd"));

// A SEG whose spacing between slices makes the grid its frames span absurd is refused before anything is
// allocated (it was 52 GB); one whose pixel spacing is not its reference series' is refused too.
TEST(DicomSeg, GridsBeyondTheVoxelLimitOrOffTheReferenceSpacingAreRefused) {
  VOXSEG_REQUIRE_DATA(seg, sharedPath(kSegs + "liver.dcm"));
  const std::string ct = sharedPath(kSegs + "ct-3slice");
  TempDir dir;
  const auto edited = [&](const std::string& name, const DcmTagKey& tag, const char* value) {
    DcmFileFormat f;
    EXPECT_TRUE(f.loadFile(seg.c_str()).good());
    DcmItem *shared = nullptr, *measures = nullptr;
    EXPECT_TRUE(f.getDataset()->findAndGetSequenceItem(DCM_SharedFunctionalGroupsSequence, shared, 0).good());
    EXPECT_TRUE(shared->findAndGetSequenceItem(DCM_PixelMeasuresSequence, measures, 0).good());
    measures->putAndInsertString(tag, value);
    const std::string path = dir.file(name);
    EXPECT_TRUE(f.saveFile(path.c_str()).good());
    return path;
  };
  const auto expectRefused = [](const std::string& path, const std::string& reference, const std::string& why) {
    try {
      readDicomSeg(path, reference);
      FAIL() << path << " was read";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::Input);
      EXPECT_NE(std::string(e.what()).find(path + ": " + why), std::string::npos) << e.what();
    }
  };
  expectRefused(edited("tiny.dcm", DCM_SpacingBetweenSlices, "0.00001"), "",
                "its frames span 200001 slices of 512x512 at 1e-05 mm, more than the limit");
  expectRefused(edited("spacing.dcm", DCM_PixelSpacing, "0.5\\0.5"), ct,
                "its pixel spacing 0.5\\0.5 (rows\\columns) is not the spacing of " + ct);
  expectRefused(edited("nanspacing.dcm", DCM_PixelSpacing, "nan\\0.5"), ct, "its pixel spacing");
  // a frame position that is not a number (it ended in an internal error, exit 1)
  DcmFileFormat f;
  ASSERT_TRUE(f.loadFile(seg.c_str()).good());
  DcmItem *frame = nullptr, *plane = nullptr;
  ASSERT_TRUE(f.getDataset()->findAndGetSequenceItem(DCM_PerFrameFunctionalGroupsSequence, frame, 0).good());
  ASSERT_TRUE(frame->findAndGetSequenceItem(DCM_PlanePositionSequence, plane, 0).good());
  plane->putAndInsertString(DCM_ImagePositionPatient, "nan\\0\\0");
  ASSERT_TRUE(f.saveFile(dir.file("nanframe.dcm").c_str()).good());
  expectRefused(dir.file("nanframe.dcm"), "", "frame 1 has no valid ImagePositionPatient");
}

// The rules highdicom checks on a SEG, read back with plain DCMTK.
TEST(DicomSeg, WrittenSegObeysHighdicomRules) {
  VOXSEG_REQUIRE_DATA(nrrd, sharedPath(kSegs + "liver_spine_seg.nrrd"));
  const std::string ct = sharedPath(kSegs + "ct-3slice");
  TempDir dir;
  const std::string out = dir.file("seg.dcm");
  writeDicomSeg(readVolume(nrrd), {}, ct, out, {}, false);
  DcmFileFormat seg, source;
  ASSERT_TRUE(seg.loadFile(out.c_str()).good());
  ASSERT_TRUE(source.loadFile((ct + "/01.dcm").c_str()).good());
  DcmDataset& d = *seg.getDataset();
  DcmDataset& s = *source.getDataset();
  EXPECT_EQ(stringOf(d, DCM_SOPClassUID), "1.2.840.10008.5.1.4.1.1.66.4");
  EXPECT_EQ(stringOf(d, DCM_BitsAllocated), "1");
  EXPECT_EQ(stringOf(d, DCM_SegmentationType), "BINARY");
  for (const auto& tag : {DCM_PatientID, DCM_PatientName, DCM_StudyInstanceUID, DCM_FrameOfReferenceUID})
    EXPECT_EQ(stringOf(d, tag), stringOf(s, tag)) << DcmTag(tag).getTagName();
  EXPECT_NE(stringOf(d, DCM_SeriesInstanceUID), stringOf(s, DCM_SeriesInstanceUID));
  // segment numbers 1..N consecutive, algorithm identification present
  DcmSequenceOfItems* segments = nullptr;
  ASSERT_TRUE(d.findAndGetSequence(DCM_SegmentSequence, segments).good());
  ASSERT_EQ(segments->card(), 2u);
  for (unsigned long i = 0; i < segments->card(); ++i) {
    DcmItem* item = segments->getItem(i);
    EXPECT_EQ(stringOf(*item, DCM_SegmentNumber), std::to_string(i + 1));
    EXPECT_EQ(stringOf(*item, DCM_SegmentAlgorithmType), "AUTOMATIC");
    EXPECT_EQ(stringOf(*item, DCM_SegmentAlgorithmName), "voxseg");
    DcmItem* algorithm = nullptr;
    EXPECT_TRUE(item->findAndGetSequenceItem(DCM_SegmentationAlgorithmIdentificationSequence, algorithm).good());
    DcmItem* category = nullptr;
    EXPECT_TRUE(item->findAndGetSequenceItem(DCM_SegmentedPropertyCategoryCodeSequence, category).good());
    EXPECT_FALSE(stringOf(*item, DCM_RecommendedDisplayCIELabValue).empty());
  }
  // source images from one series: the referenced series and every frame's derivation source
  DcmSequenceOfItems* series = nullptr;
  ASSERT_TRUE(d.findAndGetSequence(DCM_ReferencedSeriesSequence, series).good());
  ASSERT_EQ(series->card(), 1u);
  EXPECT_EQ(stringOf(*series->getItem(0), DCM_SeriesInstanceUID), stringOf(s, DCM_SeriesInstanceUID));
  std::set<std::string> instances;
  DcmSequenceOfItems* referenced = nullptr;
  ASSERT_TRUE(series->getItem(0)->findAndGetSequence(DCM_ReferencedInstanceSequence, referenced).good());
  for (unsigned long i = 0; i < referenced->card(); ++i)
    instances.insert(stringOf(*referenced->getItem(i), DCM_ReferencedSOPInstanceUID));
  EXPECT_EQ(instances.size(), 3u);
  DcmSequenceOfItems* frames = nullptr;
  ASSERT_TRUE(d.findAndGetSequence(DCM_PerFrameFunctionalGroupsSequence, frames).good());
  EXPECT_EQ(stringOf(d, DCM_NumberOfFrames), std::to_string(frames->card()));
  for (unsigned long i = 0; i < frames->card(); ++i) {
    DcmItem* derivation = nullptr;
    ASSERT_TRUE(frames->getItem(i)->findAndGetSequenceItem(DCM_DerivationImageSequence, derivation).good());
    DcmItem* src = nullptr;
    ASSERT_TRUE(derivation->findAndGetSequenceItem(DCM_SourceImageSequence, src).good());
    EXPECT_EQ(instances.count(stringOf(*src, DCM_ReferencedSOPInstanceUID)), 1u) << "frame " << i + 1;
  }
}

TEST(DicomSeg, LabelMapOffTheSeriesGridIsRefused) {
  VOXSEG_REQUIRE_DATA(nrrd, sharedPath(kSegs + "liver_seg.nrrd"));
  TempDir dir;
  Volume labels = readVolume(nrrd);
  auto g = labels.geometry();
  g.origin[2] += 0.5; // half a slice off
  setGeometry(*labels.image, g);
  try {
    writeDicomSeg(labels, {}, sharedPath(kSegs + "ct-3slice"), dir.file("seg.dcm"), {}, false);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::Input);
    EXPECT_NE(std::string(e.what()).find("not on the grid of DICOM series"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(dir.file("seg.dcm")));
}

TEST(DicomSeg, NotASegIsAnInputError) {
  VOXSEG_REQUIRE_DATA(ct, sharedPath(kSegs + "ct-3slice/01.dcm"));
  try {
    readDicomSeg(ct);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::Input);
    EXPECT_NE(std::string(e.what()).find("not a DICOM Segmentation"), std::string::npos) << e.what();
  }
}

// dciodvfy (Debian package dicom3tools) reports "Error" lines for violations of the IOD.
TEST(DicomSeg, ClunieValidatorFindsNoError) {
  VOXSEG_REQUIRE_DATA(nrrd, sharedPath(kSegs + "liver_spine_seg.nrrd"));
  if (std::system("command -v dciodvfy > /dev/null 2>&1") != 0)
    GTEST_SKIP() << "dciodvfy not installed (Debian package dicom3tools)";
  TempDir dir;
  const std::string out = dir.file("seg.dcm");
  writeDicomSeg(readVolume(nrrd), {}, sharedPath(kSegs + "ct-3slice"), out, {}, false);
  const std::string report = dir.file("dciodvfy.txt");
  std::system(("dciodvfy " + out + " > " + report + " 2>&1").c_str());
  std::ifstream in(report);
  std::string line, errors, all;
  while (std::getline(in, line)) {
    all += line + "\n";
    if (line.rfind("Error", 0) == 0) errors += line + "\n";
  }
  EXPECT_TRUE(errors.empty()) << errors;
  std::printf("dciodvfy on a voxseg SEG:\n%s", all.c_str());
}

} // namespace
} // namespace voxseg::io
