#include "voxseg/io/SegmentationFiles.h"

#include "voxseg/core/Error.h"
#include "voxseg/io/VolumeIO.h"
#include "voxseg/testing/Data.h"
#include "voxseg/testing/Grids.h"

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

namespace voxseg::io {
namespace {

using voxseg::testing::TempDir;

Geometry obliqueGeometry() {
  const double c = std::cos(0.3), s = std::sin(0.3);
  return voxseg::testing::obliqueGeometry({c, 0, s, 0, -1, 0, -s, 0, c}); // rotated about y, y flipped
}

template <typename T> void setVoxel(Volume& v, std::size_t x, std::size_t y, std::size_t z, T value) {
  const auto& size = v.geometry().size;
  v.as<T>()->GetBufferPointer()[x + size[0] * (y + size[1] * z)] = value;
}

// Label 1 at (1,1,0) and (2,3,1); label 2 at (4,0,2); label 3 absent.
Volume labelVolume() {
  Volume v = makeVolume(PixelType::UInt8, obliqueGeometry());
  setVoxel<std::uint8_t>(v, 1, 1, 0, 1);
  setVoxel<std::uint8_t>(v, 2, 3, 1, 1);
  setVoxel<std::uint8_t>(v, 4, 0, 2, 2);
  return v;
}

LabelInfo label(int value, const std::string& name, const std::array<int, 3>& color = {0, 0, 0}) {
  LabelInfo l;
  l.value = value;
  l.name = name;
  l.color = color;
  return l;
}

LabelInfo liver() {
  LabelInfo l = label(1, "liver", {220, 20, 30});
  l.category = Code{"123037004", "SCT", "Anatomical Structure"};
  l.type = Code{"10200004", "SCT", "Liver"};
  return l;
}

LabelInfo kidney() { return label(2, "right kidney", {0, 255, 0}); }

// Background, liver, kidney and an absent label 3.
std::vector<LabelInfo> segments() {
  return {label(0, "background"), liver(), kidney(), label(3, "spleen", {10, 20, 30})};
}

std::string readFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

void writeFile(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << bytes;
}

// The NRRD header: the text before the blank line that precedes the (gzip) data.
std::string nrrdHeader(const std::string& path) {
  const std::string bytes = readFile(path);
  const auto end = bytes.find("\n\n");
  return end == std::string::npos ? std::string() : bytes.substr(0, end + 1);
}

bool hasLine(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

template <typename F> ExitCode errorCode(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.code();
  }
  return ExitCode::Ok;
}

TEST(SegNrrd, ReadsBackAsTheSameVolume) {
  TempDir dir;
  const Volume in = labelVolume();
  const std::string path = dir.file("seg.seg.nrrd");
  writeSegNrrd(in, segments(), path);
  const Volume out = readVolume(path);
  EXPECT_EQ(out.pixelType, PixelType::UInt8);
  EXPECT_TRUE(out.geometry().nearlyEqual(in.geometry(), 1e-12));
  EXPECT_EQ(std::memcmp(bufferOf(in), bufferOf(out), in.geometry().voxelCount()), 0);
  EXPECT_EQ(dir.entryCount(), 1u) << "temporary files left behind";
}

TEST(SegNrrd, SegmentsReadBack) {
  TempDir dir;
  const std::string path = dir.file("seg.seg.nrrd");
  writeSegNrrd(labelVolume(), segments(), path);
  const auto read = readSegNrrdSegments(path);
  ASSERT_EQ(read.size(), 3u); // background is not a segment
  EXPECT_EQ(read[0].value, 1);
  EXPECT_EQ(read[0].name, "liver");
  EXPECT_EQ(read[0].color, (std::array<int, 3>{220, 20, 30}));
  ASSERT_TRUE(read[0].category && read[0].type);
  EXPECT_EQ(read[0].category->value, "123037004");
  EXPECT_EQ(read[0].category->scheme, "SCT");
  EXPECT_EQ(read[0].category->meaning, "Anatomical Structure");
  EXPECT_EQ(read[0].type->value, "10200004");
  EXPECT_EQ(read[0].type->scheme, "SCT");
  EXPECT_EQ(read[0].type->meaning, "Liver");
  EXPECT_EQ(read[1].value, 2);
  EXPECT_EQ(read[1].name, "right kidney");
  EXPECT_EQ(read[1].color, (std::array<int, 3>{0, 255, 0}));
  EXPECT_FALSE(read[1].category);
  EXPECT_FALSE(read[1].type);
  EXPECT_EQ(read[2].value, 3);
  EXPECT_EQ(read[2].name, "spleen");
  EXPECT_EQ(read[2].color, (std::array<int, 3>{10, 20, 30}));
}

TEST(SegNrrd, HeaderHasWhatSlicerNeeds) {
  TempDir dir;
  const std::string path = dir.file("seg.seg.nrrd");
  writeSegNrrd(labelVolume(), segments(), path);
  const std::string h = nrrdHeader(path);
  ASSERT_FALSE(h.empty());
  EXPECT_EQ(h.rfind("NRRD", 0), 0u) << h;
  for (const char* line : {"type: unsigned char",
                           "dimension: 3",
                           "space: left-posterior-superior",
                           "sizes: 5 4 3",
                           "kinds: domain domain domain",
                           "encoding: gzip",
                           "Segmentation_MasterRepresentation:=Binary labelmap",
                           "Segmentation_SourceRepresentation:=Binary labelmap",
                           "Segmentation_ContainedRepresentationNames:=Binary labelmap|",
                           "Segmentation_ReferenceImageExtentOffset:=0 0 0",
                           "Segment0_ID:=Segment_1",
                           "Segment0_Name:=liver",
                           "Segment0_Color:=0.862745 0.0784314 0.117647",
                           "Segment0_ColorAutoGenerated:=0",
                           "Segment0_NameAutoGenerated:=0",
                           "Segment0_LabelValue:=1",
                           "Segment0_Layer:=0",
                           "Segment0_Tags:=Segmentation.Status:inprogress|TerminologyEntry:Segmentation category and "
                           "type - 3D Slicer General Anatomy list~SCT^123037004^Anatomical "
                           "Structure~SCT^10200004^Liver~^^~Anatomic codes - DICOM master list~^^~^^|",
                           "Segment1_ID:=Segment_2",
                           "Segment1_Name:=right kidney",
                           "Segment1_Color:=0 1 0",
                           "Segment1_LabelValue:=2",
                           "Segment1_Layer:=0",
                           "Segment1_Tags:=Segmentation.Status:inprogress|",
                           "Segment2_ID:=Segment_3",
                           "Segment2_LabelValue:=3"})
    EXPECT_TRUE(hasLine(h, line)) << "missing: " << line << "\n" << h;
  // All segments share layer 0, so each carries the layer's extent: the box around every labelled
  // voxel, (1..4, 0..3, 0..2), also for the absent label 3.
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(hasLine(h, "Segment" + std::to_string(i) + "_Extent:=1 4 0 3 0 2")) << h;
  EXPECT_EQ(h.find("Segment3_"), std::string::npos) << h;
  EXPECT_EQ(h.find("Segment_0"), std::string::npos) << "background written as a segment";
  EXPECT_NE(h.find("Segmentation_ConversionParameters:=Reference image geometry|"), std::string::npos) << h;
}

TEST(SegNrrd, ReferenceGeometryIsTheLabelMapGridInRas) {
  TempDir dir;
  Geometry g;
  g.size = {3, 2, 4};
  g.spacing = {0.5, 2, 3};
  g.origin = {10, -20, 5};
  const std::string path = dir.file("a.seg.nrrd");
  writeSegNrrd(makeVolume(PixelType::UInt8, g), {liver()}, path);
  const std::string h = nrrdHeader(path);
  EXPECT_TRUE(hasLine(h, "Segmentation_ConversionParameters:=Reference image "
                         "geometry|-0.5;0;0;-10;0;-2;0;20;0;0;3;5;0;0;0;1;0;2;0;1;0;3;|&"))
      << h;
  EXPECT_TRUE(hasLine(h, "Segment0_Extent:=0 -1 0 -1 0 -1")) << "empty label map: empty extent\n" << h;
}

TEST(SegNrrd, KeepsUInt16LabelMaps) {
  TempDir dir;
  Volume v = makeVolume(PixelType::UInt16, obliqueGeometry());
  setVoxel<std::uint16_t>(v, 0, 2, 1, 300);
  LabelInfo big = kidney();
  big.value = 300;
  const std::string path = dir.file("big.seg.nrrd");
  writeSegNrrd(v, {big}, path);
  EXPECT_TRUE(hasLine(nrrdHeader(path), "type: unsigned short"));
  EXPECT_TRUE(hasLine(nrrdHeader(path), "Segment0_Extent:=0 0 2 2 1 1"));
  const Volume out = readVolume(path);
  EXPECT_EQ(out.pixelType, PixelType::UInt16);
  EXPECT_EQ(std::memcmp(bufferOf(v), bufferOf(out), v.geometry().voxelCount() * 2), 0);
  const auto read = readSegNrrdSegments(path);
  ASSERT_EQ(read.size(), 1u);
  EXPECT_EQ(read[0].value, 300);
}

TEST(SegNrrd, UncompressedWhenAsked) {
  TempDir dir;
  const std::string path = dir.file("raw.seg.nrrd");
  WriteOptions options;
  options.compress = false;
  writeSegNrrd(labelVolume(), segments(), path, options);
  EXPECT_TRUE(hasLine(nrrdHeader(path), "encoding: raw"));
  EXPECT_EQ(readSegNrrdSegments(path).size(), 3u);
}

TEST(SegNrrd, ExistingFileIsKeptWithoutOverwrite) {
  TempDir dir;
  const std::string path = dir.file("seg.seg.nrrd");
  writeFile(path, "old contents");
  EXPECT_EQ(errorCode([&] { writeSegNrrd(labelVolume(), segments(), path); }), ExitCode::Output);
  EXPECT_EQ(readFile(path), "old contents");
  EXPECT_EQ(dir.entryCount(), 1u);
  WriteOptions force;
  force.overwrite = true;
  writeSegNrrd(labelVolume(), segments(), path, force);
  EXPECT_EQ(readSegNrrdSegments(path).size(), 3u);
  EXPECT_EQ(dir.entryCount(), 1u);
}

TEST(SegNrrd, RefusesBadRequestsBeforeWriting) {
  TempDir dir;
  EXPECT_EQ(errorCode([&] { writeSegNrrd(labelVolume(), segments(), dir.file("seg.nrrd")); }), ExitCode::Usage);
  EXPECT_EQ(errorCode([&] { writeSegNrrd(labelVolume(), segments(), dir.file("seg.nii.gz")); }), ExitCode::Usage);
  Volume floats = makeVolume(PixelType::Float32, obliqueGeometry());
  EXPECT_EQ(errorCode([&] { writeSegNrrd(floats, segments(), dir.file("f.seg.nrrd")); }), ExitCode::Input);
  LabelInfo tooBig = kidney();
  tooBig.value = 256;
  EXPECT_EQ(errorCode([&] { writeSegNrrd(labelVolume(), {tooBig}, dir.file("b.seg.nrrd")); }), ExitCode::Usage);
  EXPECT_EQ(errorCode([&] {
              writeSegNrrd(labelVolume(), {liver(), liver()}, dir.file("d.seg.nrrd"));
            }),
            ExitCode::Usage);
  LabelInfo tilde = liver();
  tilde.type->meaning = "Liver~left";
  EXPECT_EQ(errorCode([&] { writeSegNrrd(labelVolume(), {tilde}, dir.file("t.seg.nrrd")); }), ExitCode::Usage);
  LabelInfo badColor = kidney();
  badColor.color[1] = 256;
  EXPECT_EQ(errorCode([&] { writeSegNrrd(labelVolume(), {badColor}, dir.file("c.seg.nrrd")); }), ExitCode::Usage);
  EXPECT_EQ(dir.entryCount(), 0u);
}

TEST(SegNrrd, ReadingRefusesWhatIsNotASingleLayerSegmentation) {
  TempDir dir;
  EXPECT_EQ(errorCode([&] { readSegNrrdSegments(dir.file("missing.seg.nrrd")); }), ExitCode::Input);
  const std::string plain = dir.file("plain.nrrd");
  writeVolume(labelVolume(), plain);
  EXPECT_EQ(errorCode([&] { readSegNrrdSegments(plain); }), ExitCode::Input);
  const std::string text = dir.file("text.seg.nrrd");
  writeFile(text, "not a nrrd file\n");
  EXPECT_EQ(errorCode([&] { readSegNrrdSegments(text); }), ExitCode::Input);

  // Overlapping segments (several layers) do not fit a list of labels.
  const std::string layered = dir.file("layered.seg.nrrd");
  writeSegNrrd(labelVolume(), segments(), layered);
  std::string bytes = readFile(layered);
  const auto at = bytes.find("Segment1_Layer:=0");
  ASSERT_NE(at, std::string::npos);
  bytes[at + std::strlen("Segment1_Layer:=")] = '1';
  writeFile(layered, bytes);
  EXPECT_EQ(errorCode([&] { readSegNrrdSegments(layered); }), ExitCode::Input);
}

TEST(SegNrrd, EmptySegmentListIsAnEmptySegmentation) {
  TempDir dir;
  const std::string path = dir.file("empty.seg.nrrd");
  writeSegNrrd(labelVolume(), {}, path);
  EXPECT_TRUE(readSegNrrdSegments(path).empty());
}

TEST(SlicerTerminology, OnlyWithCodes) {
  EXPECT_EQ(slicerTerminologyEntry(kidney()), "");
  LabelInfo typeOnly = kidney();
  typeOnly.type = Code{"64033007", "SCT", "Kidney"};
  EXPECT_EQ(slicerTerminologyEntry(typeOnly),
            "Segmentation category and type - 3D Slicer General Anatomy "
            "list~^^~SCT^64033007^Kidney~^^~Anatomic codes - DICOM master list~^^~^^");
}

const char* kItkSnapHeader = "################################################\n"
                             "# ITK-SnAP Label Description File\n"
                             "# File format: \n"
                             "# IDX   -R-  -G-  -B-  -A--  VIS MSH  LABEL\n"
                             "# Fields: \n"
                             "#    IDX:   Zero-based index \n"
                             "#    -R-:   Red color component (0..255)\n"
                             "#    -G-:   Green color component (0..255)\n"
                             "#    -B-:   Blue color component (0..255)\n"
                             "#    -A-:   Label transparency (0.00 .. 1.00)\n"
                             "#    VIS:   Label visibility (0 or 1)\n"
                             "#    IDX:   Label mesh visibility (0 or 1)\n"
                             "#  LABEL:   Label description \n"
                             "################################################\n";

TEST(ColorTable, SlicerCtbl) {
  TempDir dir;
  const std::string path = dir.file("labels.ctbl");
  writeColorTable({kidney(), liver()}, path); // written in label order
  EXPECT_EQ(readFile(path), "# Color table file labels.ctbl\n"
                            "# 3 values\n"
                            "1 liver 220 20 30 255\n"
                            "2 right_kidney 0 255 0 255\n");
}

TEST(ColorTable, SlicerCsv) {
  TempDir dir;
  const std::string path = dir.file("labels.csv");
  writeColorTable({liver(), kidney()}, path);
  EXPECT_EQ(readFile(path),
            "LabelValue,Name,Color_R,Color_G,Color_B,Color_A,Category_CodingScheme,Category_CodeValue,"
            "Category_CodeMeaning,Type_CodingScheme,Type_CodeValue,Type_CodeMeaning,TypeModifier_CodingScheme,"
            "TypeModifier_CodeValue,TypeModifier_CodeMeaning,Region_CodingScheme,Region_CodeValue,Region_CodeMeaning,"
            "RegionModifier_CodingScheme,RegionModifier_CodeValue,RegionModifier_CodeMeaning\n"
            "1,liver,220,20,30,255,SCT,123037004,Anatomical Structure,SCT,10200004,Liver,,,,,,,,,\n"
            "2,right kidney,0,255,0,255,,,,,,,,,,,,,,,\n");
}

TEST(ColorTable, ItkSnapLabelDescription) {
  TempDir dir;
  const std::string expected = std::string(kItkSnapHeader) +
                               "    0     0    0    0        0  0  0    \"Clear Label\"\n"
                               "    1   220   20   30        1  1  1    \"liver\"\n"
                               "    2     0  255    0        1  1  1    \"right kidney\"\n";
  for (const char* name : {"labels.txt", "labels.label"}) {
    const std::string path = dir.file(name);
    writeColorTable({liver(), kidney()}, path);
    EXPECT_EQ(readFile(path), expected) << name;
  }
}

TEST(ColorTable, BackgroundIsTransparent) {
  TempDir dir;
  const LabelInfo background = label(0, "background");
  writeColorTable({background, liver()}, dir.file("a.ctbl"));
  EXPECT_EQ(readFile(dir.file("a.ctbl")), "# Color table file a.ctbl\n"
                                          "# 2 values\n"
                                          "0 background 0 0 0 0\n"
                                          "1 liver 220 20 30 255\n");
  writeColorTable({background, liver()}, dir.file("a.txt")); // ITK-SNAP's own clear label replaces it
  const std::string snap = readFile(dir.file("a.txt"));
  EXPECT_NE(snap.find("\"Clear Label\""), std::string::npos);
  EXPECT_EQ(snap.find("background"), std::string::npos);
}

TEST(ColorTable, CsvQuotesCommas) {
  TempDir dir;
  LabelInfo l = kidney();
  l.name = "kidney, right";
  writeColorTable({l}, dir.file("c.csv"));
  EXPECT_NE(readFile(dir.file("c.csv")).find("\n2,\"kidney, right\",0,255,0,255,"), std::string::npos);
}

TEST(ColorTable, RefusesUnknownTypesAndUnstorableNames) {
  TempDir dir;
  try {
    writeColorTable({liver()}, dir.file("labels.json"));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::Usage);
    const std::string msg = e.what();
    EXPECT_NE(msg.find("labels.json"), std::string::npos) << msg;
    EXPECT_NE(msg.find(".ctbl, .csv, .txt, .label"), std::string::npos) << msg;
  }
  LabelInfo quoted = liver();
  quoted.name = "the \"liver\"";
  EXPECT_EQ(errorCode([&] { writeColorTable({quoted}, dir.file("q.csv")); }), ExitCode::Usage);
  EXPECT_EQ(errorCode([&] { writeColorTable({quoted}, dir.file("q.txt")); }), ExitCode::Usage);
  LabelInfo newline = liver();
  newline.name = "liver\nx";
  EXPECT_EQ(errorCode([&] { writeColorTable({newline}, dir.file("n.ctbl")); }), ExitCode::Usage);
  EXPECT_EQ(dir.entryCount(), 0u);
}

// The check callers make before any work agrees with what the writers refuse, per file type.
TEST(ColorTable, CheckBeforeWritingAgreesWithTheWriters) {
  LabelInfo quoted = liver();
  quoted.name = "the \"liver\"";
  LabelInfo tilde = liver();
  tilde.type->meaning = "Liver~left lobe";
  EXPECT_EQ(errorCode([&] { checkLabelsWritable({quoted}, "q.csv"); }), ExitCode::Usage);
  EXPECT_EQ(errorCode([&] { checkLabelsWritable({quoted}, "q.label"); }), ExitCode::Usage);
  EXPECT_NO_THROW(checkLabelsWritable({quoted}, "q.ctbl"));     // unquoted names there
  EXPECT_NO_THROW(checkLabelsWritable({quoted}, "q.seg.nrrd")); // names may hold '"'; codes may not hold '~'
  EXPECT_EQ(errorCode([&] { checkLabelsWritable({tilde}, "t.seg.nrrd"); }), ExitCode::Usage);
  EXPECT_NO_THROW(checkLabelsWritable({tilde}, "t.csv"));
  EXPECT_NO_THROW(checkLabelsWritable({quoted, tilde}, "labels.nii.gz")); // a plain label map holds no names
  EXPECT_EQ(errorCode([&] { checkLabelsWritable({liver(), liver()}, "twice.seg.nrrd"); }), ExitCode::Usage);
}

TEST(ColorTable, ExistingFileIsKeptWithoutOverwrite) {
  TempDir dir;
  const std::string path = dir.file("labels.ctbl");
  writeFile(path, "old");
  EXPECT_EQ(errorCode([&] { writeColorTable({liver()}, path); }), ExitCode::Output);
  EXPECT_EQ(readFile(path), "old");
  writeColorTable({liver()}, path, true);
  EXPECT_NE(readFile(path), "old");
  EXPECT_EQ(dir.entryCount(), 1u);
}

} // namespace
} // namespace voxseg::io
