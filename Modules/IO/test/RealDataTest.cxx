// Real data from ../shared/data and Debian packages: world geometry must come out right.
#include "voxseg/core/Error.h"
#include "voxseg/core/ItkGeometry.h"
#include "voxseg/io/DicomSeg.h"
#include "voxseg/io/RtStruct.h"
#include "voxseg/io/VolumeIO.h"
#include "voxseg/processing/Reorient.h"
#include "voxseg/testing/Data.h"

#include <itkImageFileReader.h>

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcuid.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <tuple>

namespace voxseg::io {
namespace {

using voxseg::testing::debianPath;
using voxseg::testing::sharedPath;

Volume reoriented(const Volume& v, const std::string& code) {
  Volume out = v;
  out.image = processing::reorientTo(*v.image, v.pixelType, code);
  return out;
}

bool sameVoxels(const Volume& a, const Volume& b) {
  return a.pixelType == b.pixelType && a.geometry().size == b.geometry().size &&
         std::memcmp(bufferOf(a), bufferOf(b), a.geometry().voxelCount() * pixelTypeSize(a.pixelType)) == 0;
}

class NiftiSpace : public ::testing::TestWithParam<std::string> {};

// One brain stored in several axis orders: brought to one orientation they must be identical.
TEST_P(NiftiSpace, SameWorldImageInEveryAxisOrder) {
  VOXSEG_REQUIRE_DATA(ref, sharedPath("data/niftispace/RAS.nii.gz"));
  VOXSEG_REQUIRE_DATA(path, sharedPath("data/niftispace/" + GetParam() + ".nii.gz"));
  const Volume v = readVolume(path);
  EXPECT_EQ(orientationCode(v.geometry().direction), GetParam());
  for (const std::string target : {"RAS", "LPS"}) {
    const Volume a = reoriented(readVolume(ref), target);
    const Volume b = reoriented(v, target);
    EXPECT_TRUE(b.geometry().nearlyEqual(a.geometry(), 1e-3)) << GetParam() << " -> " << target;
    EXPECT_TRUE(sameVoxels(a, b)) << GetParam() << " -> " << target;
  }
}

INSTANTIATE_TEST_SUITE_P(AxisOrders, NiftiSpace, ::testing::Values("ASL", "IPL", "LAS", "LPS", "PIR", "RAS", "SRA"));

TEST(Dicom, CtThreeSlicesSortedByPositionNotInstanceNumber) {
  VOXSEG_REQUIRE_DATA(dir, sharedPath("data/dcmqi/segmentations/ct-3slice"));
  const auto series = scanDicomFolder(dir);
  ASSERT_EQ(series.size(), 1u);
  const auto& s = series.front();
  ASSERT_EQ(s.files.size(), 3u);
  EXPECT_LT(s.slicePositions[0], s.slicePositions[2]);
  const Volume v = readVolume(dir);
  const Geometry g = v.geometry();
  EXPECT_EQ(g.size, (Size3{512, 512, 3}));
  EXPECT_NEAR(g.spacing[0], 0.8105, 1e-4);
  EXPECT_NEAR(g.spacing[1], 0.8105, 1e-4);
  EXPECT_NEAR(g.spacing[2], 1.0, 1e-6);
  EXPECT_TRUE(checkSliceSpacing(s).uniform);
  // Slice k of the volume is the file at sorted position k, and sits at that file's position.
  for (std::size_t k = 0; k < 3; ++k) {
    const Volume slice = readVolume(s.files[k]);
    const std::size_t n = 512 * 512;
    const auto volumeFloat = v.toFloat();
    const auto sliceFloat = slice.toFloat();
    EXPECT_EQ(std::memcmp(volumeFloat->GetBufferPointer() + k * n, sliceFloat->GetBufferPointer(), n * sizeof(float)),
              0)
        << "slice " << k;
    const Vec3 w = g.indexToWorld({0, 0, double(k)});
    for (int i = 0; i < 3; ++i) EXPECT_NEAR(w[i], s.positions[k][i], 1e-4);
  }
}

// A folder holding two series (copied into a temporary folder): refused without --series, with the
// list in the message; each readable by its UID.
TEST(Dicom, SeveralSeriesNeedAChoice) {
  VOXSEG_REQUIRE_DATA(ct, sharedPath("data/dcmqi/segmentations/ct-3slice"));
  VOXSEG_REQUIRE_DATA(mr, sharedPath("data/dcm_qa_decubitus/HFS_t1"));
  voxseg::testing::TempDir dir;
  for (const auto& src : {ct, mr}) {
    const auto sub = dir.path() / std::filesystem::path(src).filename();
    std::filesystem::create_directory(sub);
    for (const auto& f : std::filesystem::directory_iterator(src))
      std::filesystem::copy(f.path(), sub / f.path().filename());
  }
  const auto series = scanDicomFolder(dir.path().string());
  ASSERT_EQ(series.size(), 2u);
  EXPECT_EQ(series[0].modality, "MR"); // largest first
  try {
    readVolume(dir.path().string());
    FAIL() << "read a folder with two series without a choice";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_EQ(e.code(), ExitCode::Input);
    EXPECT_NE(msg.find("2 DICOM series found; choose one with --series"), std::string::npos) << msg;
    EXPECT_NE(msg.find(series[1].seriesUid), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
  ReadOptions o;
  o.seriesUid = series[1].seriesUid;
  EXPECT_EQ(readVolume(dir.path().string(), o).geometry().size, (Size3{512, 512, 3}));
  o.seriesUid = "1.2.3.4";
  EXPECT_THROW(readVolume(dir.path().string(), o), Error);
  // the documented rule: the axial CT/MR stack with the most slices (the MR here is sagittal)
  o.seriesUid = "largest";
  EXPECT_EQ(readVolume(dir.path().string(), o).geometry().size, (Size3{512, 512, 3}));
}

// Copies every file of the series folder `from` into `dir`; with `edit`, each file goes through it and is
// saved in `syntax` (EXS_Unknown: its own transfer syntax).
void copySeries(const std::string& from, const voxseg::testing::TempDir& dir,
                const std::function<void(DcmFileFormat&)>& edit = {}, E_TransferSyntax syntax = EXS_Unknown) {
  for (const auto& f : std::filesystem::directory_iterator(from)) {
    const std::string to = dir.file(f.path().filename().string());
    if (!edit) {
      std::filesystem::copy(f.path(), to);
      continue;
    }
    DcmFileFormat file;
    ASSERT_TRUE(file.loadFile(f.path().c_str()).good()) << f.path();
    edit(file);
    ASSERT_TRUE(file.saveFile(to.c_str(), syntax).good()) << to;
  }
}

// A copy of a CT slice turned into another plane, optionally marked LOCALIZER, in the same series.
void addOtherPlaneSlice(const std::string& from, const std::string& to, bool localizer) {
  DcmFileFormat f;
  ASSERT_TRUE(f.loadFile(from.c_str()).good());
  DcmDataset& d = *f.getDataset();
  char uid[100];
  d.putAndInsertString(DCM_SOPInstanceUID, dcmGenerateUniqueIdentifier(uid, SITE_INSTANCE_UID_ROOT));
  d.putAndInsertString(DCM_ImageOrientationPatient, "0\\1\\0\\0\\0\\-1");
  d.putAndInsertString(DCM_ImagePositionPatient, "0\\-200\\100");
  if (localizer) d.putAndInsertString(DCM_ImageType, "ORIGINAL\\PRIMARY\\LOCALIZER");
  ASSERT_TRUE(f.saveFile(to.c_str(), EXS_LittleEndianExplicit).good());
}

// Explicit VR big endian (retired, still found in archives): the same voxels and grid as the original.
TEST(Dicom, BigEndianSeriesReadsLikeTheOriginal) {
  VOXSEG_REQUIRE_DATA(ct, sharedPath("data/dcmqi/segmentations/ct-3slice"));
  voxseg::testing::TempDir dir;
  copySeries(
      ct, dir,
      [](DcmFileFormat& file) {
        ASSERT_TRUE(file.getDataset()->chooseRepresentation(EXS_BigEndianExplicit, nullptr).good());
      },
      EXS_BigEndianExplicit);
  const Volume original = readVolume(ct), big = readVolume(dir.path().string());
  ASSERT_TRUE(big.geometry() == original.geometry());
  ASSERT_EQ(big.pixelType, original.pixelType);
  const auto a = original.toFloat(), b = big.toFloat();
  std::size_t differ = 0;
  for (std::size_t i = 0; i < original.geometry().voxelCount(); ++i)
    differ += a->GetBufferPointer()[i] != b->GetBufferPointer()[i];
  EXPECT_EQ(differ, 0u);
}

// Slices rescaled with their own slope and intercept (Philips MR, PET): every slice keeps its values, in a
// type that holds them all, where the first file's type used to wrap (-40000 + stored read as uint16/int16)
// or truncate (slope 1.5).
TEST(Dicom, SlicesWithTheirOwnRescaleKeepTheirValues) {
  VOXSEG_REQUIRE_DATA(ct, sharedPath("data/dcmqi/segmentations/ct-3slice"));
  for (const auto& [slope, intercept, type] :
       {std::tuple{"1", "-40000", PixelType::Int32}, std::tuple{"1.5", "-1024", PixelType::Float64}}) {
    voxseg::testing::TempDir dir;
    copySeries(ct, dir);
    const auto scanned = scanDicomFolder(dir.path().string());
    ASSERT_EQ(scanned.size(), 1u);
    EXPECT_FALSE(scanned[0].rescaleVaries);
    const std::string middle = scanned[0].files[1]; // slice 1 along the normal
    DcmFileFormat file;
    ASSERT_TRUE(file.loadFile(middle.c_str()).good());
    ASSERT_TRUE(file.loadAllDataIntoMemory().good()); // the file is overwritten below
    file.getDataset()->putAndInsertString(DCM_RescaleSlope, slope);
    file.getDataset()->putAndInsertString(DCM_RescaleIntercept, intercept);
    ASSERT_TRUE(file.saveFile(middle.c_str()).good()); // in its own transfer syntax
    const auto s = scanDicomFolder(dir.path().string());
    EXPECT_TRUE(s[0].rescaleVaries);
    const Volume v = readVolume(dir.path().string());
    EXPECT_EQ(v.pixelType, type) << slope << " " << intercept;
    const auto all = v.toFloat();
    const std::size_t n = 512 * 512;
    for (std::size_t k = 0; k < 3; ++k) {
      const auto slice = readVolume(s[0].files[k]).toFloat(); // one file: its own rescale, its own type
      std::size_t differ = 0;
      for (std::size_t i = 0; i < n; ++i) differ += all->GetBufferPointer()[k * n + i] != slice->GetBufferPointer()[i];
      EXPECT_EQ(differ, 0u) << "slice " << k << ", slope " << slope << ", intercept " << intercept;
    }
    float lowest = 0;
    for (std::size_t i = 0; i < n; ++i) lowest = std::min(lowest, all->GetBufferPointer()[n + i]);
    if (std::string(intercept) == "-40000") {
      EXPECT_LE(lowest, -40000.0f + 4096) << "the wrapped slice";
    }
  }
}

// SeriesDescription in ISO_IR 100 (Latin-1) comes out as UTF-8 (it was printed as a raw byte, and JSON failed).
TEST(Dicom, Latin1SeriesDescriptionBecomesUtf8) {
  VOXSEG_REQUIRE_DATA(ct, sharedPath("data/dcmqi/segmentations/ct-3slice"));
  voxseg::testing::TempDir dir;
  copySeries(ct, dir, [](DcmFileFormat& file) {
    file.getDataset()->putAndInsertString(DCM_SpecificCharacterSet, "ISO_IR 100");
    file.getDataset()->putAndInsertString(DCM_SeriesDescription, "Sch\xe4"
                                                                 "del nativ");
  });
  const auto series = scanDicomFolder(dir.path().string());
  ASSERT_EQ(series.size(), 1u);
  EXPECT_EQ(series[0].description, "Sch\xc3\xa4"
                                   "del nativ");
}

TEST(Dicom, CyrillicSeriesDescriptionBecomesUtf8) {
  VOXSEG_REQUIRE_DATA(ct, sharedPath("data/dcmqi/segmentations/ct-3slice"));
  voxseg::testing::TempDir dir;
  copySeries(ct, dir, [](DcmFileFormat& file) {
    file.getDataset()->putAndInsertString(DCM_SpecificCharacterSet, "ISO_IR 144");
    file.getDataset()->putAndInsertString(DCM_SeriesDescription, "\xbc\xde\xd7\xd3"); // ISO 8859-5
  });
  const auto series = scanDicomFolder(dir.path().string());
  ASSERT_EQ(series.size(), 1u);
  EXPECT_EQ(series[0].description, "\xd0\x9c\xd0\xbe\xd0\xb7\xd0\xb3"); // "Мозг" in UTF-8
}

// Names that are not ASCII (voxseg's text is UTF-8) reach a SEG and an RT Structure Set as they are: both
// become UTF-8 (ISO_IR 192), with the Latin-1 text copied from the source converted. With ASCII names the
// source's character set and text are kept.
TEST(Dicom, DerivedObjectsHoldNamesThatAreNotAscii) {
  VOXSEG_REQUIRE_DATA(ct, sharedPath("data/dcmqi/segmentations/ct-3slice"));
  VOXSEG_REQUIRE_DATA(nrrd, sharedPath("data/dcmqi/segmentations/liver_seg.nrrd"));
  voxseg::testing::TempDir dir, series;
  copySeries(ct, series, [](DcmFileFormat& file) {
    file.getDataset()->putAndInsertString(DCM_SpecificCharacterSet, "ISO_IR 100");
    file.getDataset()->putAndInsertString(DCM_PatientName, "M\xfcller^J\xfcrgen"); // Latin-1
  });
  const Volume labels = readVolume(nrrd);
  const auto attributes = [](const std::string& path, const DcmTagKey& name) {
    DcmFileFormat f;
    EXPECT_TRUE(f.loadFile(path.c_str()).good()) << path;
    OFString charset, patient, label;
    f.getDataset()->findAndGetOFStringArray(DCM_SpecificCharacterSet, charset);
    f.getDataset()->findAndGetOFString(DCM_PatientName, patient);
    f.getDataset()->findAndGetOFString(name, label, 0, OFTrue);
    return std::vector<std::string>{charset.c_str(), patient.c_str(), label.c_str()};
  };
  for (const std::string name : {"L\xc3\xa4sion", "Lesion"}) {
    std::vector<LabelInfo> known(1);
    known[0].value = 1;
    known[0].name = name;
    const std::string seg = dir.file(name + ".seg.dcm"), rt = dir.file(name + ".rt.dcm");
    writeDicomSeg(labels, known, series.path().string(), seg, {}, false);
    writeRtStruct(labels, known, series.path().string(), rt, {}, false);
    const bool ascii = name == "Lesion";
    const std::vector<std::string> want{ascii ? "ISO_IR 100" : "ISO_IR 192",
                                        ascii ? "M\xfcller^J\xfcrgen" : "M\xc3\xbcller^J\xc3\xbcrgen", name};
    EXPECT_EQ(attributes(seg, DCM_SegmentLabel), want) << name;
    EXPECT_EQ(attributes(rt, DCM_ROIName), want) << name;
    EXPECT_EQ(readDicomSeg(seg, series.path().string()).segments.at(0).name, name);
  }
  // '\\' separates DICOM values: a name with one is refused by both writers, nothing written
  std::vector<LabelInfo> known(1);
  known[0].value = 1;
  known[0].name = "liver\\left";
  for (const bool rt : {false, true}) {
    const std::string out = dir.file(rt ? "bs.rt.dcm" : "bs.seg.dcm");
    try {
      if (rt)
        writeRtStruct(labels, known, series.path().string(), out, {}, false);
      else
        writeDicomSeg(labels, known, series.path().string(), out, {}, false);
      ADD_FAILURE() << out << " written";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::Usage) << e.what();
    }
    EXPECT_FALSE(std::filesystem::exists(out));
  }
}

// Before any work (the CLI calls it before the network runs): a source whose text cannot become UTF-8 is bad input
// naming its file when a name that is not ASCII would make the object UTF-8; ASCII names keep its character set.
TEST(Dicom, SourceTextThatCannotBecomeUtf8IsRefusedBeforeWriting) {
  VOXSEG_REQUIRE_DATA(ct, sharedPath("data/dcmqi/segmentations/ct-3slice"));
  voxseg::testing::TempDir series;
  copySeries(ct, series, [](DcmFileFormat& file) {
    file.getDataset()->putAndInsertString(DCM_SpecificCharacterSet, "ISO_IR 999"); // no such character set
    file.getDataset()->putAndInsertString(DCM_PatientName, "M\xfcller");
  });
  const Volume image = readVolume(series.path().string());
  EXPECT_NO_THROW(checkOnSeriesGrid(image, series.path().string(), "", "DICOM SEG", {"Lesion", "model"}));
  try {
    checkOnSeriesGrid(image, series.path().string(), "", "DICOM SEG", {"L\xc3\xa4sion"});
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_EQ(e.code(), ExitCode::Input) << msg;
    EXPECT_NE(msg.find(series.path().string()), std::string::npos) << msg;
    EXPECT_NE(msg.find("cannot be converted to UTF-8"), std::string::npos) << msg;
  }
}

// A copy of an image under a new SOP Instance UID: named as a duplicate, not as uneven spacing.
TEST(Dicom, DuplicatedSliceIsNamed) {
  VOXSEG_REQUIRE_DATA(ct, sharedPath("data/dcmqi/segmentations/ct-3slice"));
  voxseg::testing::TempDir dir;
  copySeries(ct, dir);
  DcmFileFormat file;
  ASSERT_TRUE(file.loadFile((ct + "/02.dcm").c_str()).good());
  char uid[100];
  file.getDataset()->putAndInsertString(DCM_SOPInstanceUID, dcmGenerateUniqueIdentifier(uid, SITE_INSTANCE_UID_ROOT));
  ASSERT_TRUE(file.saveFile(dir.file("02copy.dcm").c_str()).good());
  try {
    readVolume(dir.path().string());
    FAIL() << "stacked a duplicated slice";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("1 slice(s) at the position of another"), std::string::npos) << msg;
    EXPECT_NE(msg.find("02copy.dcm"), std::string::npos) << msg;
  }
}

// A localizer stored in the axial series is left out with a warning; another plane without the
// LOCALIZER mark is refused with the orientations counted.
TEST(Dicom, LocalizerInTheSeriesIsLeftOutOtherPlanesAreRefused) {
  VOXSEG_REQUIRE_DATA(ct, sharedPath("data/dcmqi/segmentations/ct-3slice"));
  for (const bool localizer : {true, false}) {
    voxseg::testing::TempDir dir;
    copySeries(ct, dir);
    addOtherPlaneSlice(ct + "/01.dcm", dir.file("scout.dcm"), localizer);
    if (localizer) {
      const Volume v = readVolume(dir.path().string());
      EXPECT_EQ(v.geometry().size, (Size3{512, 512, 3}));
      ASSERT_EQ(v.warnings.size(), 1u);
      EXPECT_NE(v.warnings[0].find("1 localizer image(s)"), std::string::npos) << v.warnings[0];
      continue;
    }
    try {
      readVolume(dir.path().string());
      FAIL() << "stacked slices of two planes";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("slices in 2 different orientations (1, 3 slices)"), std::string::npos)
          << "message: " << e.what();
    }
  }
}

TEST(Dicom, Jpeg2000SeriesLandsOnTheReferenceSegmentationGrid) {
  VOXSEG_REQUIRE_DATA(dir, sharedPath("data/totalsegmentator/example_ct_dicom"));
  VOXSEG_REQUIRE_DATA(segPath, sharedPath("data/totalsegmentator/example_seg_dicom.nii.gz"));
  const Volume ct = readVolume(dir);
  const Volume seg = readVolume(segPath);
  const std::string code = orientationCode(seg.geometry().direction);
  const Volume ctOnSegAxes = reoriented(ct, code);
  EXPECT_TRUE(ctOnSegAxes.geometry().nearlyEqual(seg.geometry(), 1e-3));
  const IntensityStats st = intensityStats(ct);
  EXPECT_EQ(st.min, -1024); // decoded Hounsfield units, not compressed bytes
  EXPECT_GT(st.max, 1000);
}

TEST(Dicom, EnhancedCtFramesRunningAgainstTheNormal) {
  VOXSEG_REQUIRE_DATA(path, sharedPath("data/pydicom-data/eCT_Supplemental.dcm"));
  const Volume v = readVolume(path);
  const Geometry g = v.geometry();
  EXPECT_EQ(g.size, (Size3{512, 512, 2}));
  EXPECT_NEAR(g.spacing[2], 10.0, 1e-6);
  // Frame positions from the per-frame functional groups: z = -159 then -149.
  EXPECT_NEAR(g.indexToWorld({0, 0, 0})[2], -159.0, 1e-3);
  EXPECT_NEAR(g.indexToWorld({0, 0, 1})[2], -149.0, 1e-3);
}

TEST(Dicom, MultiFrameWithoutGeometryIsRefused) {
  VOXSEG_REQUIRE_DATA(path, sharedPath("data/pydicom-data/emri_small.dcm"));
  EXPECT_THROW(readVolume(path), Error);
}

TEST(Dicom, SagittalMrSeries) {
  VOXSEG_REQUIRE_DATA(dir, sharedPath("data/dcm_qa_decubitus/HFS_t1"));
  const Volume v = readVolume(dir);
  EXPECT_EQ(v.geometry().size, (Size3{256, 256, 35}));
  EXPECT_NEAR(v.geometry().spacing[2], 4.8, 1e-3);
  EXPECT_EQ(orientationCode(v.geometry().direction), "PIR");
}

TEST(Debian, KmeansT1QformDiffersFromSformReadWithItkGeometry) {
  VOXSEG_REQUIRE_DATA(path, debianPath("insighttoolkit5-examples/usr/share/doc/insighttoolkit5-examples/examples/"
                                       "Data/KmeansTest_T1UCharRaw.nii.gz"));
  const Volume v = readVolume(path);
  auto reader = itk::ImageFileReader<itk::Image<float, 3>>::New();
  reader->SetFileName(path);
  reader->Update();
  EXPECT_EQ(v.geometry(), geometryOf(*reader->GetOutput()));
  EXPECT_EQ(v.geometry().size, (Size3{128, 128, 62}));
}

const std::string kCt2 =
    "python3-pydicom/usr/lib/python3/dist-packages/pydicom/data/test_files/dicomdirtests/77654033/CT2";

TEST(Debian, NonUniformSeriesRefusedByDefault) {
  VOXSEG_REQUIRE_DATA(dir, debianPath(kCt2));
  try {
    readVolume(dir);
    FAIL() << "non-uniform series accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::Input);
    EXPECT_NE(std::string(e.what()).find("missing"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("--nonuniform"), std::string::npos) << e.what();
  }
}

TEST(Debian, NonUniformSeriesAcceptedOrResampledOnRequest) {
  VOXSEG_REQUIRE_DATA(dir, debianPath(kCt2));
  const auto s = scanDicomFolder(dir).front();
  const auto check = checkSliceSpacing(s);
  ReadOptions o;
  o.nonUniform = SliceSpacingPolicy::Accept;
  const Volume accepted = readVolume(dir, o);
  EXPECT_EQ(accepted.geometry().size[2], 4u);
  EXPECT_NEAR(accepted.geometry().spacing[2], check.meanSpacing, 1e-9);
  EXPECT_FALSE(accepted.warnings.empty());

  o.nonUniform = SliceSpacingPolicy::Resample;
  const Volume resampled = readVolume(dir, o);
  const double extent = s.slicePositions.back() - s.slicePositions.front();
  EXPECT_NEAR(resampled.geometry().spacing[2], check.medianSpacing, 1e-9);
  EXPECT_EQ(resampled.geometry().size[2], std::size_t(std::floor(extent / check.medianSpacing + 1e-6)) + 1);
  EXPECT_EQ(resampled.pixelType, PixelType::Float32);
  // First and last slices are the original ones.
  const auto a = accepted.toFloat();
  const auto r = resampled.toFloat();
  const std::size_t n = 16 * 16;
  EXPECT_EQ(std::memcmp(a->GetBufferPointer(), r->GetBufferPointer(), n * sizeof(float)), 0);
}

} // namespace
} // namespace voxseg::io
