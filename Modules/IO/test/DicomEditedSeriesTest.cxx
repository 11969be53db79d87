// dcmqi's ct-3slice with one attribute edited: what each reader and writer must refuse or get right (found by an
// audit with pydicom-edited copies of real series).
#include "voxseg/core/Error.h"
#include "voxseg/core/ItkGeometry.h"
#include "voxseg/io/DicomSeg.h"
#include "voxseg/io/DicomSeries.h"
#include "voxseg/io/RtStruct.h"
#include "voxseg/io/VolumeIO.h"
#include "voxseg/testing/Data.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcuid.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <string>

namespace voxseg::io {
namespace {

using voxseg::testing::sharedPath;
using voxseg::testing::TempDir;

const std::string kCt = "data/dcmqi/segmentations/ct-3slice";

// ct-3slice copied into `folder`, `edit` applied to each file's dataset (with the file's name).
std::string editedCopy(const std::string& folder, const std::function<void(const std::string&, DcmDataset&)>& edit) {
  std::filesystem::create_directories(folder);
  for (const auto& entry : std::filesystem::directory_iterator(sharedPath(kCt))) {
    DcmFileFormat f;
    EXPECT_TRUE(f.loadFile(entry.path().c_str()).good());
    edit(entry.path().filename().string(), *f.getDataset());
    EXPECT_TRUE(f.saveFile((folder + "/" + entry.path().filename().string()).c_str()).good());
  }
  return folder;
}

void expectInputError(const std::function<void()>& run, const std::string& says) {
  try {
    run();
    ADD_FAILURE() << "not refused; expected: " << says;
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::Input);
    EXPECT_NE(std::string(e.what()).find(says), std::string::npos) << e.what();
  }
}

// A slice shifted in its plane, or of another pixel spacing, was put on the first slice's grid without a word.
TEST(DicomEditedSeries, SlicesOffTheFirstSlicesGridAreRefused) {
  VOXSEG_REQUIRE_DATA(ct, sharedPath(kCt));
  TempDir dir;
  const std::string shifted = editedCopy(dir.file("shift"), [](const std::string& name, DcmDataset& d) {
    if (name != "02.dcm") return;
    OFString z;
    d.findAndGetOFString(DCM_ImagePositionPatient, z, 2);
    d.putAndInsertString(DCM_ImagePositionPatient, ("-250\\-250\\" + std::string(z.c_str())).c_str());
  });
  expectInputError([&] { readVolume(shifted); }, "02.dcm lies ");
  expectInputError([&] { readVolume(shifted, {"", SliceSpacingPolicy::Accept}); }, "the slices are not one grid");
  const auto series = scanDicomFolder(shifted);
  EXPECT_GT(checkSliceSpacing(series.front()).offLine, 10);

  const std::string spaced = editedCopy(dir.file("spacing"), [](const std::string& name, DcmDataset& d) {
    if (name == "02.dcm") d.putAndInsertString(DCM_PixelSpacing, "0.976562\\0.976562");
  });
  expectInputError([&] { readVolume(spaced); }, "slices of different pixel spacing");
  EXPECT_EQ(checkSliceSpacing(scanDicomFolder(ct).front()).offLine, 0.0); // the real series is one grid
}

// A localizer of another size in the series gave the series its rows and columns when it was scanned first, and the
// writers then refused a label map on the stack's grid.
TEST(DicomEditedSeries, TheStacksSizeIsNotALocalizers) {
  VOXSEG_REQUIRE_DATA(ct, sharedPath(kCt));
  TempDir dir;
  const std::string folder = editedCopy(dir.file("loc"), [](const std::string&, DcmDataset&) {});
  DcmFileFormat f;
  ASSERT_TRUE(f.loadFile((ct + "/01.dcm").c_str()).good());
  DcmDataset& d = *f.getDataset();
  char uid[100];
  d.putAndInsertString(DCM_SOPInstanceUID, dcmGenerateUniqueIdentifier(uid, SITE_INSTANCE_UID_ROOT));
  d.putAndInsertString(DCM_ImageType, "ORIGINAL\\PRIMARY\\LOCALIZER");
  d.putAndInsertUint16(DCM_Rows, 256);
  d.putAndInsertString(DCM_ImageOrientationPatient, "1\\0\\0\\0\\0\\-1");
  const Uint16* pixels = nullptr;
  ASSERT_TRUE(d.findAndGetUint16Array(DCM_PixelData, pixels).good());
  const std::vector<Uint16> half(pixels, pixels + 256 * 512);
  d.putAndInsertUint16Array(DCM_PixelData, half.data(), static_cast<unsigned long>(half.size()));
  for (const char* name : {"00.dcm", "zz.dcm"}) { // whichever the folder lists first
    ASSERT_TRUE(f.saveFile((folder + "/" + name).c_str()).good());
    const auto series = scanDicomFolder(folder);
    ASSERT_EQ(series.size(), 1u);
    EXPECT_EQ(series.front().rows, 512u) << name;
    EXPECT_EQ(series.front().localizersSetAside, 1u);
    const Volume labels = readVolume(sharedPath("data/dcmqi/segmentations/liver_seg.nrrd"));
    EXPECT_NO_THROW(checkOnSeriesGrid(labels, folder, "", "DICOM SEG", {}, {})) << name;
    std::filesystem::remove(folder + "/" + name);
  }
}

// The writers referenced "noUID.1", voxseg's name for a series without SeriesInstanceUID (the SEG had no
// ReferencedSeriesSequence, the RT Structure Set failed with DCMTK's "Invalid Value"), and wrote a label map of
// another pixel spacing as if it were on the series' grid.
TEST(DicomEditedSeries, WritersRefuseSeriesWithoutUidAndOtherPixelSpacing) {
  VOXSEG_REQUIRE_DATA(nrrd, sharedPath("data/dcmqi/segmentations/liver_seg.nrrd"));
  TempDir dir;
  const Volume labels = readVolume(nrrd);
  const std::string noUid =
      editedCopy(dir.file("nouid"), [](const std::string&, DcmDataset& d) { delete d.remove(DCM_SeriesInstanceUID); });
  expectInputError([&] { writeDicomSeg(labels, {}, noUid, dir.file("a.dcm"), {}, false); },
                   "series noUID.1: its images have no SeriesInstanceUID, which a SEG must reference");
  expectInputError([&] { writeRtStruct(labels, {}, noUid, dir.file("b.dcm"), {}, false); },
                   "its images have no SeriesInstanceUID");

  Volume other = readVolume(nrrd); // the same voxels and grid but the pixel spacing
  Geometry g = other.geometry();
  g.spacing[0] = g.spacing[1] = 1.00062;
  setGeometry(*other.image, g);
  expectInputError([&] { writeDicomSeg(other, {}, sharedPath(kCt), dir.file("c.dcm"), {}, false); },
                   "its pixel spacing 1.00062 x 1.00062 mm is not the series' 0.810547");
  expectInputError([&] { writeRtStruct(other, {}, sharedPath(kCt), dir.file("d.dcm"), {}, false); },
                   "its pixel spacing");
  for (const char* f : {"a.dcm", "b.dcm", "c.dcm", "d.dcm"}) EXPECT_FALSE(std::filesystem::exists(dir.file(f)));
}

// dcmqi's enhanced CT (3 frames, 2.5 mm apart) with its per-frame functional groups edited.
std::string editedMultiFrame(const std::string& path, const std::function<void(DcmDataset&)>& edit) {
  DcmFileFormat f;
  EXPECT_TRUE(f.loadFile(sharedPath("data/dcmqi/segmentations/24x38x3/multiframe/mf.dcm").c_str()).good());
  edit(*f.getDataset());
  EXPECT_TRUE(f.saveFile(path.c_str()).good());
  return path;
}

DcmItem* frameGroup(DcmDataset& d, unsigned long frame, const DcmTagKey& group) {
  DcmItem *item = nullptr, *g = nullptr;
  d.findAndGetSequenceItem(DCM_PerFrameFunctionalGroupsSequence, item, static_cast<int>(frame));
  if (item && item->findAndGetSequenceItem(group, g, 0).bad()) item->findOrCreateSequenceItem(group, g, 0);
  return g;
}

void setFrameZ(DcmDataset& d, const std::vector<const char*>& z) {
  for (unsigned long k = 0; k < z.size(); ++k)
    frameGroup(d, k, DCM_PlanePositionSequence)
        ->putAndInsertString(DCM_ImagePositionPatient, (std::string("46.4649\\5.01881\\") + z[k]).c_str());
}

// Each frame's own Pixel Value Transformation (slopes given, intercepts 0) instead of the shared one.
void setFrameSlopes(DcmDataset& d, const std::vector<const char*>& slopes) {
  DcmItem* shared = nullptr;
  d.findAndGetSequenceItem(DCM_SharedFunctionalGroupsSequence, shared, 0);
  delete shared->remove(DCM_PixelValueTransformationSequence);
  for (unsigned long k = 0; k < slopes.size(); ++k) {
    DcmItem* t = frameGroup(d, k, DCM_PixelValueTransformationSequence);
    t->putAndInsertString(DCM_RescaleSlope, slopes[k]);
    t->putAndInsertString(DCM_RescaleIntercept, "0");
    t->putAndInsertString(DCM_RescaleType, "US");
  }
}

// GDCM stacked the frames in stored order at a spacing of its own (1 x 1 x 1 mm, the 0.7 mm pixels lost, when the
// positions puzzled it) and applied frame 1's rescale to every frame.
TEST(DicomEditedSeries, EnhancedFramesArePlacedCheckedAndRescaledFrameByFrame) {
  VOXSEG_REQUIRE_DATA(mf, sharedPath("data/dcmqi/segmentations/24x38x3/multiframe/mf.dcm"));
  TempDir dir;
  const Volume original = readVolume(mf);
  ASSERT_EQ(original.geometry().spacing, (std::array<double, 3>{0.7, 0.7, 2.5}));
  expectInputError(
      [&] {
        readVolume(editedMultiFrame(dir.file("unsorted.dcm"), [](DcmDataset& d) {
          setFrameZ(d, {"-177.75", "-172.75", "-175.25"});
        }));
      },
      "its frames are not stored in order along the slice normal (frame 3 lies before frame 2)");
  expectInputError(
      [&] {
        readVolume(editedMultiFrame(dir.file("dup.dcm"), [](DcmDataset& d) {
          setFrameZ(d, {"-177.75", "-177.75", "-175.25"});
        }));
      },
      "frames 1 and 2 lie at the same position");
  const std::string uneven = editedMultiFrame(dir.file("uneven.dcm"), [](DcmDataset& d) {
    setFrameZ(d, {"-177.75", "-175.25", "-165.25"});
  });
  expectInputError([&] { readVolume(uneven); }, "slice spacing is not uniform");
  const Volume accepted = readVolume(uneven, {"", SliceSpacingPolicy::Accept});
  EXPECT_EQ(accepted.geometry().spacing, (std::array<double, 3>{0.7, 0.7, 6.25}));
  // stored against the normal: the volume's z axis turned, its origin the first frame's
  const Volume reversed = readVolume(editedMultiFrame(dir.file("reversed.dcm"), [](DcmDataset& d) {
    setFrameZ(d, {"-172.75", "-175.25", "-177.75"});
  }));
  EXPECT_NEAR(reversed.geometry().origin[2], -172.75, 1e-9);
  EXPECT_NEAR(reversed.geometry().direction[8], -1.0, 1e-9);
  EXPECT_NEAR(reversed.geometry().spacing[2], 2.5, 1e-9);

  // slopes 2, 3 and 4 in each frame's own group instead of the shared 1
  const Volume scaled = readVolume(editedMultiFrame(dir.file("slopes.dcm"), [](DcmDataset& d) {
    setFrameSlopes(d, {"2", "3", "4"});
  }));
  // a frame of another PixelSpacing is refused as a series' slice is; values beyond int32 are read as float64
  expectInputError(
      [&] {
        readVolume(editedMultiFrame(dir.file("spacing.dcm"), [](DcmDataset& d) {
          frameGroup(d, 1, DCM_PixelMeasuresSequence)->putAndInsertString(DCM_PixelSpacing, "0.9\\0.9");
        }));
      },
      "frame 2 has another PixelSpacing than frame 1");
  const Volume huge = readVolume(editedMultiFrame(dir.file("huge.dcm"), [](DcmDataset& d) {
    setFrameSlopes(d, {"1", "4294967296", "1"}); // frame 2 holds the ones
  }));
  EXPECT_EQ(huge.pixelType, PixelType::Float64);
  const double* h = huge.as<double>()->GetBufferPointer();
  EXPECT_EQ(*std::max_element(h + 24 * 38, h + 2 * 24 * 38), 4294967296.0);

  const auto a = original.toFloat(), b = scaled.toFloat();
  const std::size_t plane = 24 * 38;
  std::size_t wrong = 0, set = 0;
  for (std::size_t i = 0; i < 3 * plane; ++i) {
    wrong += b->GetBufferPointer()[i] != a->GetBufferPointer()[i] * float(i / plane + 2);
    set += a->GetBufferPointer()[i] != 0;
  }
  EXPECT_EQ(wrong, 0u);
  EXPECT_GT(set, 0u);
}

} // namespace
} // namespace voxseg::io
