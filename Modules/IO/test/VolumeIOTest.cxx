#include "voxseg/io/VolumeIO.h"
#include "voxseg/core/Error.h"
#include "voxseg/io/AtomicOutput.h"
#include "voxseg/testing/Data.h"
#include "voxseg/testing/Grids.h"

#include <gtest/gtest.h>
#include <itkImageFileWriter.h>
#include <zlib.h>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace voxseg::io {
namespace {

using voxseg::testing::TempDir;

Geometry obliqueGeometry() {
  const double c = std::cos(0.2), s = std::sin(0.2);
  return voxseg::testing::obliqueGeometry({c, -s, 0, s, c, 0, 0, 0, -1}); // rotated and z flipped
}

Volume rampVolume(PixelType type) {
  Volume v = makeVolume(type, obliqueGeometry());
  visitPixelType(type, [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* p = v.as<T>()->GetBufferPointer();
    for (std::size_t i = 0; i < v.geometry().voxelCount(); ++i) p[i] = static_cast<T>(i % 100) + T(1);
  });
  return v;
}

class RoundTrip : public ::testing::TestWithParam<std::tuple<std::string, PixelType>> {};

TEST_P(RoundTrip, KeepsVoxelsTypeAndGeometry) {
  const auto [ext, type] = GetParam();
  TempDir dir;
  const Volume in = rampVolume(type);
  const std::string path = dir.file("vol" + ext);
  writeVolume(in, path);
  const Volume out = readVolume(path);
  EXPECT_EQ(out.pixelType, type);
  // NIfTI stores geometry as float32.
  EXPECT_TRUE(out.geometry().nearlyEqual(in.geometry(), 1e-5)) << ext;
  EXPECT_EQ(std::memcmp(bufferOf(in), bufferOf(out), in.geometry().voxelCount() * pixelTypeSize(type)), 0);
  EXPECT_EQ(dir.entryCount(), 1u) << "temporary files left behind";
}

INSTANTIATE_TEST_SUITE_P(Formats, RoundTrip,
                         ::testing::Combine(::testing::Values(".nii.gz", ".nii", ".nrrd", ".mha"),
                                            ::testing::Values(PixelType::UInt8, PixelType::Int8, PixelType::UInt16,
                                                              PixelType::Int16, PixelType::UInt32, PixelType::Int32,
                                                              PixelType::Float32, PixelType::Float64)));

// A MetaImage whose slices are files of their own, listed or named by a pattern, reads slice by slice.
TEST(Formats, MetaImageSliceFilesReadInOrder) {
  TempDir dir;
  const std::string head = "ObjectType = Image\nNDims = 3\nDimSize = 2 3 4\nElementType = MET_SHORT\n"
                           "ElementSpacing = 1 2 3\nOffset = 10 20 30\n";
  std::ofstream(dir.file("list.mhd")) << head << "ElementDataFile = LIST 2D\na.raw\nb.raw\nc.raw\nd.raw\n";
  std::ofstream(dir.file("pattern.mhd")) << head << "ElementDataFile = s%03d.raw 2 8 2\n";
  for (int k = 0; k < 4; ++k) {
    std::vector<std::int16_t> slice(6);
    for (int i = 0; i < 6; ++i) slice[std::size_t(i)] = std::int16_t(100 * k + i);
    const auto bytes = reinterpret_cast<const char*>(slice.data());
    std::ofstream(dir.file(std::string(1, char('a' + k)) + ".raw"), std::ios::binary).write(bytes, 12);
    std::ofstream(dir.file("s00" + std::to_string(2 + 2 * k) + ".raw"), std::ios::binary).write(bytes, 12);
  }
  for (const std::string name : {"list.mhd", "pattern.mhd"}) {
    const Volume v = readVolume(dir.file(name));
    ASSERT_EQ(v.pixelType, PixelType::Int16) << name;
    const std::int16_t* p = v.as<std::int16_t>()->GetBufferPointer();
    for (int i = 0; i < 24; ++i) EXPECT_EQ(p[i], 100 * (i / 6) + i % 6) << name << " voxel " << i;
  }
}

// Slice-file layouts voxseg does not read are refused before ITK sees them: patterns reach ITK's printf ("%s%s"
// crashed it, "%n" aborted), a list or pattern of fewer files than slices read garbage; a plain data file name with a
// space is no pattern.
TEST(Formats, MetaImageSliceFileLayoutsVoxsegCannotCheckAreRefused) {
  TempDir dir;
  const std::string head = "ObjectType = Image\nNDims = 3\nDimSize = 2 3 4\nElementType = MET_SHORT\n"
                           "ElementSpacing = 1 2 3\nOffset = 10 20 30\n";
  for (int k = 0; k < 4; ++k) std::ofstream(dir.file("s" + std::to_string(k + 1) + ".raw")) << std::string(12, '\1');
  std::ofstream(dir.file("all.raw")) << std::string(48, '\1');
  std::ofstream(dir.file("my data.raw")) << std::string(48, '\1');
  const std::vector<std::pair<std::string, std::string>> refused{
      {"s%s%s.raw 1 4 1", "one %d"},
      {"s%n%n.raw 1 4 1", "one %d"},
      {"s%1200d.raw 1 4 1", "one %d"},
      {"s%d.raw 1 4", "first, last and step"},
      {"s%d.raw 1 3 1", "names 3 files for 4 slices"},
      {"s%d.raw 9223372036854775805 9223372036854775807 1", "whole numbers"},
      {"s%d.raw 1 4 1 3D", "2D slice files only"},
      {"LIST 3D\nall.raw", "2D slice files only"},
      {"LIST\nall.raw", "1 file(s) for 4 slices"},
      {"s%d.raw -1 2 1", "whole numbers"}};
  for (const auto& [data, why] : refused) {
    std::ofstream(dir.file("bad.mhd")) << head << "ElementDataFile = " << data << "\n";
    try {
      readVolume(dir.file("bad.mhd"));
      ADD_FAILURE() << data << " was read";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::Input) << data;
      EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << data << ": " << e.what();
    }
  }
  std::ofstream(dir.file("spaced.mhd")) << head << "ElementDataFile = my data.raw\n";
  EXPECT_EQ(readVolume(dir.file("spaced.mhd")).geometry().size, (std::array<std::size_t, 3>{2, 3, 4}));
  std::ofstream(dir.file("pattern.mhd")) << head << "ElementDataFile = s%d.raw 1 4 1 2D\n";
  EXPECT_EQ(readVolume(dir.file("pattern.mhd")).geometry().size, (std::array<std::size_t, 3>{2, 3, 4}));
}

// Detached headers (.nhdr + data file, .mhd + .raw), which voxseg reads but does not write: ITK writes them.
TEST(Formats, DetachedHeadersReadWithTheirGeometry) {
  for (const std::string ext : {".nhdr", ".mhd"}) {
    TempDir dir;
    const Volume in = rampVolume(PixelType::Int16);
    const std::string path = dir.file("vol" + ext);
    auto writer = itk::ImageFileWriter<itk::Image<std::int16_t, 3>>::New();
    writer->SetInput(in.as<std::int16_t>());
    writer->SetFileName(path);
    writer->Update();
    EXPECT_EQ(dir.entryCount(), 2u) << ext << ": a header and its data file";
    const Volume out = readVolume(path);
    EXPECT_EQ(out.pixelType, PixelType::Int16) << ext;
    EXPECT_TRUE(out.geometry().nearlyEqual(in.geometry(), 1e-9)) << ext;
    EXPECT_EQ(std::memcmp(bufferOf(in), bufferOf(out), in.geometry().voxelCount() * sizeof(std::int16_t)), 0) << ext;
  }
}

// A NRRD with the given space line and geometry (written in that space), 6x5x4 uint8 voxels.
std::string writeNrrd(const TempDir& dir, const std::string& name, const std::string& fields) {
  const std::string path = dir.file(name);
  std::ofstream out(path, std::ios::binary);
  out << "NRRD0004\ntype: uint8\ndimension: 3\nsizes: 6 5 4\nkinds: domain domain domain\nencoding: raw\n"
      << fields << "\n";
  for (int i = 0; i < 120; ++i) out.put(static_cast<char>(i % 3));
  return path;
}

// ITK 5.2 turns a left-anterior-superior NRRD 180 degrees about z (it negates x, not y): voxseg reads it
// as the same grid written in LPS.
TEST(Formats, NrrdInLeftAnteriorSuperiorSpaceLiesWhereItsLpsTwinLies) {
  TempDir dir;
  const Volume las =
      readVolume(writeNrrd(dir, "las.nrrd",
                           "space: left-anterior-superior\nspace directions: (0.48,0.64,0) (-0.96,0.72,0) "
                           "(0,0,2.5)\nspace origin: (10,-20,30)\n"));
  const Volume lasShort = readVolume(writeNrrd(dir, "las2.nrrd",
                                               "space: LAS\nspace directions: (0.48,0.64,0) (-0.96,0.72,0) (0,0,2.5)\n"
                                               "space origin: (10,-20,30)\n"));
  // teem takes field names in any case
  const Volume lasKey = readVolume(writeNrrd(dir, "las3.nrrd",
                                             "Space: Left-Anterior-Superior\nspace directions: (0.48,0.64,0) "
                                             "(-0.96,0.72,0) (0,0,2.5)\nspace origin: (10,-20,30)\n"));
  const Volume lps =
      readVolume(writeNrrd(dir, "lps.nrrd",
                           "space: left-posterior-superior\nspace directions: (0.48,-0.64,0) (-0.96,-0.72,0) "
                           "(0,0,2.5)\nspace origin: (10,20,30)\n"));
  EXPECT_TRUE(las.geometry().nearlyEqual(lps.geometry(), 1e-9)) << las.geometry().origin[1];
  EXPECT_TRUE(lasShort.geometry().nearlyEqual(lps.geometry(), 1e-9));
  EXPECT_TRUE(lasKey.geometry().nearlyEqual(lps.geometry(), 1e-9));
  EXPECT_TRUE(las.warnings.empty());
}

TEST(Formats, NrrdSpacesWithoutAnatomyAreTakenAsLpsWithAWarning) {
  TempDir dir;
  const Volume v = readVolume(writeNrrd(dir, "xyz.nrrd",
                                        "space: scanner-xyz\nspace directions: (1,0,0) (0,1,0) (0,0,1)\n"
                                        "space origin: (1,2,3)\n"));
  EXPECT_DOUBLE_EQ(v.geometry().origin[1], 2.0);
  ASSERT_EQ(v.warnings.size(), 1u);
  EXPECT_NE(v.warnings[0].find("'scanner-xyz' has no anatomical orientation"), std::string::npos) << v.warnings[0];
}

TEST(Formats, NrrdSpaceUnitsOtherThanMillimetresAreRefused) {
  TempDir dir;
  const std::string directions = "space: RAS\nspace directions: (0.8,0,0) (0,1.2,0) (0,0,2.5)\n";
  EXPECT_NO_THROW(readVolume(writeNrrd(dir, "mm.nrrd", directions + "space units: \"mm\" \"mm\" \"mm\"\n")));
  for (const std::string field : {"space units", "Space Units", "spaceunits"}) {
    const std::string cm = writeNrrd(dir, "cm.nrrd", directions + field + ": \"mm\" \"cm\" \"mm\"\n");
    try {
      readVolume(cm);
      ADD_FAILURE() << field << ": centimetres were read as millimetres";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::Input);
      EXPECT_NE(std::string(e.what()).find(cm + ": NRRD space units 'cm'"), std::string::npos) << e.what();
    }
  }
}

// ITK 5.2's NIfTI reader, given X.nii.gz, reads X.nii when that file exists: voxseg reads the file named.
TEST(Formats, NiftiGzBesideAPlainNiftiOfTheSameStemIsReadItself) {
  TempDir dir;
  const Volume ramp = rampVolume(PixelType::Int16);
  Volume other = ramp;
  other.image = makeVolume(PixelType::Int16, ramp.geometry()).image;
  other.as<std::int16_t>()->FillBuffer(7);
  writeVolume(ramp, dir.file("x.nii.gz"));
  writeVolume(other, dir.file("x.nii"));
  const auto scratchFolders = [] {
    int n = 0;
    for (const auto& e : std::filesystem::directory_iterator(std::filesystem::temp_directory_path()))
      n += e.path().filename().string().rfind("voxseg-nifti-" + hostTag() + "-" + std::to_string(::getpid()), 0) == 0;
    return n;
  };
  const Volume gz = readVolume(dir.file("x.nii.gz"));
  const Volume plain = readVolume(dir.file("x.nii"));
  const std::size_t n = ramp.geometry().voxelCount() * sizeof(std::int16_t);
  EXPECT_EQ(std::memcmp(bufferOf(gz), bufferOf(ramp), n), 0) << "x.nii.gz was read from x.nii";
  EXPECT_EQ(std::memcmp(bufferOf(plain), bufferOf(other), n), 0);
  EXPECT_TRUE(gz.geometry().nearlyEqual(ramp.geometry(), 1e-6));
  EXPECT_EQ(scratchFolders(), 0) << "the scratch folder of the link was left behind";
}

// Little-endian NIfTI-1 header fields of a .nii written by voxseg, rewritten in place.
void patchNifti(const std::string& path, std::size_t offset, const void* bytes, std::size_t size) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(static_cast<const char*>(bytes), static_cast<std::streamsize>(size));
}

TEST(Formats, NiftiWithoutQformAndSformIsReadWithAWarning) {
  TempDir dir;
  const std::string path = dir.file("nocodes.nii");
  writeVolume(rampVolume(PixelType::Int16), path);
  const std::int16_t zero[2] = {0, 0};
  patchNifti(path, 252, zero, sizeof zero); // qform_code, sform_code
  const Volume v = readVolume(path);
  ASSERT_EQ(v.warnings.size(), 1u);
  EXPECT_NE(v.warnings[0].find("neither qform nor sform is set"), std::string::npos) << v.warnings[0];
}

// An sform whose axes are not pixdim long and no qform: ITK 5.2 calls it "not orthonormal"; voxseg says why.
TEST(Formats, NiftiSformAgainstPixdimIsNamed) {
  TempDir dir;
  const std::string path = dir.file("sform.nii");
  writeVolume(rampVolume(PixelType::Int16), path);
  const std::int16_t noQform = 0;
  const float ones[3] = {1, 1, 1};
  patchNifti(path, 252, &noQform, sizeof noQform);
  patchNifti(path, 80, ones, sizeof ones);
  try {
    readVolume(path);
    FAIL() << "read";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::Input);
    EXPECT_NE(std::string(e.what()).find("sform.nii: the sform's axes are "), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("mm long but pixdim[1..3] says 1/1/1 mm"), std::string::npos) << e.what();
  }
}

// The first 348 bytes of a NIfTI-1 file, plain or gzip-compressed.
std::array<unsigned char, 348> niftiHeader(const std::string& path) {
  std::array<unsigned char, 348> h{};
  gzFile f = gzopen(path.c_str(), "rb");
  EXPECT_NE(f, nullptr) << path;
  if (f) {
    EXPECT_EQ(gzread(f, h.data(), unsigned(h.size())), int(h.size())) << path;
    gzclose(f);
  }
  return h;
}

// The fields that place the volume: pixdim[0..3], the spatial units, the form codes, quaternion, offsets and srow.
std::vector<unsigned char> placementBytes(const std::array<unsigned char, 348>& h) {
  std::vector<unsigned char> out(h.begin() + 76, h.begin() + 92);
  out.push_back(h[123] & 7);
  out.insert(out.end(), h.begin() + 252, h.begin() + 328);
  return out;
}

template <typename T> T fieldOf(const std::string& path, std::size_t offset) {
  const auto h = niftiHeader(path);
  T v;
  std::memcpy(&v, h.data() + offset, sizeof v);
  return v;
}

// A .nii whose sform (code `sformCode`) lies 60 mm along x from its qform (code 1).
std::string writeDisagreeingForms(const TempDir& dir, std::int16_t sformCode) {
  const std::string path = dir.file("forms" + std::to_string(sformCode) + ".nii");
  writeVolume(rampVolume(PixelType::Int16), path);
  const float shifted = fieldOf<float>(path, 292) + 60.0f; // srow_x[3]
  patchNifti(path, 254, &sformCode, sizeof sformCode);
  patchNifti(path, 292, &shifted, sizeof shifted);
  return path;
}

// nibabel, FSL and FreeSurfer read the sform; ITK 5.2 the qform unless the sform's code is 1 (scanner).
TEST(Formats, NiftiQformAndSformThatDisagreeAreNamedAndBothKeptInNiftiOutputs) {
  TempDir dir;
  for (const std::int16_t code : {std::int16_t(2), std::int16_t(1)}) {
    const std::string in = writeDisagreeingForms(dir, code);
    const Volume v = readVolume(in);
    ASSERT_EQ(v.warnings.size(), 1u) << in;
    EXPECT_NE(v.warnings[0].find("qform (code 1) and the sform (code " + std::to_string(code) +
                                 ") place the voxels up to 60 mm apart; voxseg reads the " +
                                 (code == 2 ? "qform" : "sform")),
              std::string::npos)
        << v.warnings[0];
    Geometry expected = obliqueGeometry();
    if (code == 1) expected.origin[0] -= 60; // RAS x + 60 is LPS x - 60
    EXPECT_TRUE(v.geometry().nearlyEqual(expected, 1e-4)) << gridDifference(v.geometry(), expected);
    for (const std::string ext : {".nii.gz", ".nii"}) {
      const std::string out = dir.file("out" + std::to_string(code) + ext);
      writeVolume(v, out);
      EXPECT_EQ(placementBytes(niftiHeader(out)), placementBytes(niftiHeader(in))) << out;
      const Volume back = readVolume(out);
      EXPECT_EQ(back.geometry(), v.geometry()) << out;
      EXPECT_EQ(back.warnings, v.warnings) << out;
    }
  }
}

// The ramp volume as a .nii whose header is in another unit (`units`: xyzt_units; `perMm` of it in a mm).
void writeInUnits(const std::string& path, char units, float perMm) {
  writeVolume(rampVolume(PixelType::Int16), path);
  for (const std::size_t at : {80u, 84u, 88u, 268u, 272u, 276u}) { // pixdim[1..3], qoffset
    const float scaled = fieldOf<float>(path, at) * perMm;
    patchNifti(path, at, &scaled, sizeof scaled);
  }
  for (std::size_t i = 0; i < 12; ++i) { // srow_x, srow_y, srow_z
    const float scaled = fieldOf<float>(path, 280 + 4 * i) * perMm;
    patchNifti(path, 280 + 4 * i, &scaled, sizeof scaled);
  }
  patchNifti(path, 123, &units, 1);
}

// ITK 5.2 turns a spacing in metres or micrometres into mm but left the origin in the file's unit.
TEST(Formats, NiftiInMetresOrMicrometresIsPlacedInMillimetres) {
  TempDir dir;
  const Geometry expected = obliqueGeometry();
  for (const auto& [units, perMm] : {std::pair<char, float>{1 | 8, 1e-3f}, std::pair<char, float>{3 | 8, 1e3f}}) {
    const std::string path = dir.file("units" + std::to_string(int(units)) + ".nii");
    writeInUnits(path, units, perMm);
    const Volume v = readVolume(path);
    EXPECT_TRUE(v.geometry().nearlyEqual(expected, 1e-3))
        << int(units) << ": " << gridDifference(v.geometry(), expected);
    // A NIfTI output keeps the file's unit and fields, and is read on the same grid.
    const std::string out = dir.file("units" + std::to_string(int(units)) + "_out.nii.gz");
    writeVolume(v, out);
    EXPECT_EQ(placementBytes(niftiHeader(out)), placementBytes(niftiHeader(path)));
    EXPECT_EQ(readVolume(out).geometry(), v.geometry());
  }
}

// nifticlib reads upper-case .NII names: the NIfTI checks and the placement apply to them too.
TEST(Formats, UpperCaseNiftiNamesAreNiftiToo) {
  TempDir dir;
  const std::string lower = writeDisagreeingForms(dir, 2), upper = dir.file("FORMS.NII");
  std::filesystem::copy_file(lower, upper);
  const Volume v = readVolume(upper);
  ASSERT_EQ(v.warnings.size(), 1u);
  EXPECT_NE(v.warnings[0].find("place the voxels up to 60 mm apart"), std::string::npos) << v.warnings[0];
  const std::string out = dir.file("out.nii.gz");
  writeVolume(v, out);
  EXPECT_EQ(placementBytes(niftiHeader(out)), placementBytes(niftiHeader(lower)));
}

// ITK's NIfTI reader also takes .hdr/.img pairs, which voxseg's checks do not cover: refused with the way out.
TEST(Formats, HdrImgPairsAreRefused) {
  TempDir dir;
  auto image = itk::Image<std::int16_t, 3>::New();
  itk::Image<std::int16_t, 3>::RegionType region;
  region.SetSize({4, 4, 4});
  image->SetRegions(region);
  image->Allocate(true);
  auto writer = itk::ImageFileWriter<itk::Image<std::int16_t, 3>>::New();
  writer->SetInput(image);
  writer->SetFileName(dir.file("pair.hdr"));
  writer->Update();
  for (const std::string name : {"pair.hdr", "pair.img"}) {
    try {
      readVolume(dir.file(name));
      ADD_FAILURE() << name << " read";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::Input);
      EXPECT_NE(std::string(e.what()).find(name + ": a .hdr/.img pair (Analyze or NIfTI-1)"), std::string::npos)
          << e.what();
    }
  }
}

// ITK 5.2 cannot read an sform in metres without a qform (it scales pixdim only): named, not ITK's words.
TEST(Formats, SformOnlyInMetresIsNamed) {
  TempDir dir;
  const std::string path = dir.file("metres_sform.nii");
  writeInUnits(path, 1 | 8, 1e-3f);
  const std::int16_t noQform = 0;
  patchNifti(path, 252, &noQform, sizeof noQform);
  try {
    readVolume(path);
    FAIL() << "read";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::Input);
    EXPECT_NE(std::string(e.what()).find("an sform in metres (xyzt_units) and no qform"), std::string::npos)
        << e.what();
  }
}

// The uncompressed step of a .nii.gz output has a short name of its own: an output name that fits for other
// inputs fits for a NIfTI input too, and nothing is left beside it.
TEST(WriteVolume, LongOutputNameOfANiftiInput) {
  TempDir dir;
  const Volume v = readVolume(writeDisagreeingForms(dir, 2));
  const std::string out = dir.file(std::string(221, 'a') + ".nii.gz"); // 228 characters
  writeVolume(v, out);
  EXPECT_EQ(readVolume(out).geometry(), v.geometry());
  EXPECT_EQ(dir.entryCount(), 2u) << "temporary files left behind";
}

// Output names with an inner NIfTI/Analyze extension: nifticlib took it for the temporary's extension, wrote another
// file than the temporary and left it behind (exit 4, "no file was created").
TEST(WriteVolume, OutputNamesWithAnInnerNiftiExtension) {
  for (const bool niftiInput : {false, true}) {
    TempDir dir;
    const Volume v = niftiInput ? readVolume(writeDisagreeingForms(dir, 2)) : rampVolume(PixelType::Int16);
    const std::size_t before = dir.entryCount();
    const std::vector<std::string> names{"b.nii.nii",    "b.nii.gz.nii", "c.hdr.nii",  "c.img.nii",
                                         "c.nia.nii.gz", "d.nii.nii.gz", "e.nii.nrrd", "f.nii.mha"};
    for (const auto& name : names) {
      writeVolume(v, dir.file(name));
      EXPECT_TRUE(readVolume(dir.file(name)).geometry().nearlyEqual(v.geometry(), 1e-5)) << name; // NIfTI: float32
    }
    EXPECT_EQ(dir.entryCount(), before + names.size()) << "temporary files left behind";
  }
}

// Only a NIfTI output on the input's grid takes the input's fields; WriteOptions can give them to any volume.
TEST(WriteVolume, NiftiPlacementGoesOnlyToTheGridItPlaces) {
  TempDir dir;
  const std::string in = writeDisagreeingForms(dir, 2);
  const Volume v = readVolume(in);
  Geometry moved = v.geometry();
  moved.origin[2] += 5;
  Volume other = makeVolume(PixelType::UInt8, moved);
  other.niftiPlacement = v.niftiPlacement;
  const std::string out = dir.file("moved.nii.gz");
  writeVolume(other, out);
  const Volume back = readVolume(out);
  EXPECT_TRUE(back.geometry().nearlyEqual(moved, 1e-4)) << gridDifference(back.geometry(), moved);
  EXPECT_TRUE(back.warnings.empty()) << back.warnings.front();
  EXPECT_EQ(fieldOf<std::int16_t>(out, 254), 1) << "the sform ITK writes";

  WriteOptions options;
  options.niftiPlacement = v.niftiPlacement;
  const std::string same = dir.file("same.nii");
  writeVolume(makeVolume(PixelType::UInt8, v.geometry()), same, options);
  EXPECT_EQ(placementBytes(niftiHeader(same)), placementBytes(niftiHeader(in)));
  EXPECT_EQ(dir.entryCount(), 3u) << "temporary files left behind";
}

TEST(WriteVolume, UpperCaseExtensionsAreRefusedUpFront) {
  TempDir dir; // ITK's writers take lower-case extensions only: refuse before any work, as a usage error
  try {
    writeVolume(rampVolume(PixelType::Int16), dir.file("UPPER.NII.GZ"));
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::Usage) << e.what();
  }
  EXPECT_EQ(dir.entryCount(), 0u);
}

TEST(WriteVolume, RefusesToOverwriteWithoutForce) {
  TempDir dir;
  const std::string path = dir.file("a.nrrd");
  writeVolume(rampVolume(PixelType::UInt8), path);
  try {
    writeVolume(rampVolume(PixelType::Int16), path);
    FAIL() << "overwrote without force";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::Output);
    EXPECT_NE(std::string(e.what()).find("exists"), std::string::npos);
  }
  EXPECT_EQ(readVolume(path).pixelType, PixelType::UInt8);
  WriteOptions force;
  force.overwrite = true;
  writeVolume(rampVolume(PixelType::Int16), path, force);
  EXPECT_EQ(readVolume(path).pixelType, PixelType::Int16);
  EXPECT_EQ(dir.entryCount(), 1u);
}

TEST(WriteVolume, RefusesBadDestinations) {
  TempDir dir;
  const Volume v = rampVolume(PixelType::UInt8);
  const auto expectOutputError = [&](const std::string& path, const std::string& words) {
    try {
      writeVolume(v, path);
      ADD_FAILURE() << "wrote " << path;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::Output) << e.what();
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
    }
  };
  expectOutputError(dir.file("missing/out.nii.gz"), "does not exist");
  std::filesystem::create_directory(dir.file("folder.nii.gz"));
  expectOutputError(dir.file("folder.nii.gz"), "folder");
  std::ofstream(dir.file("plain")) << "x";
  expectOutputError(dir.file("plain/out.nii.gz"), "not a folder");
  // sysfs refuses new files even for root: an unwritable folder on any machine.
  expectOutputError("/sys/voxseg-test.nii.gz", "cannot write in folder");
  try {
    writeVolume(v, dir.file("out.png"));
    ADD_FAILURE() << "wrote a .png";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::Usage);
  }
}

// A process killed with SIGKILL cannot clean up: the next run removes its temporaries, and only those
// of processes that no longer run.
TEST(ScratchFile, RemovedAtDestructionAndOnSigterm) {
  TempDir dir;
  {
    ScratchFile f(dir.file("scratch.nii"));
    std::ofstream(f.path()) << "x";
  }
  EXPECT_FALSE(std::filesystem::exists(dir.file("scratch.nii")));
  const pid_t child = ::fork();
  if (child == 0) {
    installInterruptCleanup();
    ScratchFile f(dir.file("interrupted.nii"));
    std::ofstream(f.path()) << "x";
    ::raise(SIGTERM);
    ::_exit(0); // not reached: the clean-up exits with 130
  }
  ASSERT_GT(child, 0);
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 130);
  EXPECT_FALSE(std::filesystem::exists(dir.file("interrupted.nii")));
}

// Folders a run made go again while empty, unless kept; what was there before stays: a folder, a file, a link
// (a dangling one too: a share that is not mounted).
TEST(MadeFolders, RemovesOnlyWhatItMadeAndIsEmpty) {
  namespace fs = std::filesystem;
  TempDir dir;
  fs::create_directory(dir.file("had"));
  {
    MadeFolders made;
    made.make(dir.file("had/a/b"));
    made.make(dir.file("c"));
    std::ofstream(dir.file("c/out.txt")) << "x"; // a folder with an output in it stays
    EXPECT_TRUE(fs::is_directory(dir.file("had/a/b")));
  }
  EXPECT_TRUE(fs::is_directory(dir.file("had")));
  EXPECT_FALSE(fs::exists(dir.file("had/a")));
  EXPECT_TRUE(fs::exists(dir.file("c/out.txt")));
  {
    MadeFolders made;
    made.make(dir.file("kept/x"));
    made.keep();
  }
  EXPECT_TRUE(fs::is_directory(dir.file("kept/x")));
  fs::create_symlink(dir.file("nowhere/target"), dir.file("link"));
  {
    MadeFolders made;
    EXPECT_THROW(made.make(dir.file("link")), Error); // "cannot create the folder (File exists)"
  }
  EXPECT_TRUE(fs::is_symlink(dir.file("link")));
  {
    MadeFolders made;
    EXPECT_THROW(made.make(dir.file("link/sub")), Error);
  }
  EXPECT_TRUE(fs::is_symlink(dir.file("link")));
}

TEST(AtomicOutput, StaleTemporariesOfDeadProcessesAreRemoved) {
  TempDir dir;
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ASSERT_GT(child, 0);
  ::waitpid(child, nullptr, 0); // now a pid that no longer runs
  const std::string dead = outputTemporaryPrefix() + std::to_string(child) + "-0-labels.nii.gz";
  const std::string alive = outputTemporaryPrefix() + std::to_string(::getppid()) + "-0-other.nii.gz";
  // The same dead pid on another machine of a shared file system (a cluster's array task still writing),
  // and a name of the old pid-only form written a minute ago: neither is this host's to judge. One of the old
  // form untouched for two days is dead whoever wrote it.
  const std::string otherHost = ".voxseg-tmp-" + hostTag() + "x-" + std::to_string(child) + "-0-labels.nii.gz";
  const std::string noHost = ".voxseg-tmp-" + std::to_string(child) + "-0-labels.nii.gz";
  const std::string oldNoHost = ".voxseg-tmp-" + std::to_string(child) + "-1-labels.nii.gz";
  // a folder probe of the dead process (made and removed at once: left by a kill in between)
  const std::string probe = ".voxseg-probe-" + hostTag() + "-" + std::to_string(child) + "-3";
  for (const auto& name : {dead, alive, otherHost, noHost, oldNoHost, probe, std::string("labels.nii.gz")})
    std::ofstream(dir.file(name)) << "x";
  std::filesystem::last_write_time(dir.file(oldNoHost),
                                   std::filesystem::file_time_type::clock::now() - std::chrono::hours(48));
  std::filesystem::last_write_time(dir.file(noHost),
                                   std::filesystem::file_time_type::clock::now() - std::chrono::minutes(1));
  auto removed = removeStaleTemporaries(dir.path().string());
  std::sort(removed.begin(), removed.end());
  std::vector<std::string> want{dead, oldNoHost, probe};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(removed, want);
  EXPECT_FALSE(std::filesystem::exists(dir.file(dead)));
  for (const auto& kept : {alive, otherHost, noHost, std::string("labels.nii.gz")})
    EXPECT_TRUE(std::filesystem::exists(dir.file(kept))) << kept;

  // A NIfTI scratch folder of the dead process goes with its link; one holding anything else stays.
  const std::string prefix = "voxseg-nifti-" + hostTag() + "-";
  const std::string stale = prefix + std::to_string(child) + "-abc123", other = prefix + std::to_string(child) + "-def";
  for (const auto& name : {stale, other}) std::filesystem::create_directory(dir.file(name));
  std::filesystem::create_symlink(dir.file("labels.nii.gz"), dir.file(stale + "/image.nii.gz"));
  std::ofstream(dir.file(other + "/notes.txt")) << "x";
  EXPECT_EQ(removeStaleTemporaries(dir.path().string(), prefix), std::vector<std::string>{stale});
  EXPECT_FALSE(std::filesystem::exists(dir.file(stale)));
  EXPECT_TRUE(std::filesystem::exists(dir.file(other + "/notes.txt")));
  EXPECT_TRUE(std::filesystem::exists(dir.file("labels.nii.gz"))) << "the link's target was removed";
}

TEST(AtomicOutput, TemporaryNamesCarryTheHostAndThePid) {
  TempDir dir;
  const std::string tag = hostTag();
  EXPECT_FALSE(tag.empty());
  EXPECT_EQ(tag.find('-'), std::string::npos); // the pid after it is found by the next '-'
  EXPECT_EQ(tag.find('/'), std::string::npos);
  AtomicOutput out(dir.file("x.nii.gz"), false);
  EXPECT_EQ(std::filesystem::path(out.tempPath())
                .filename()
                .string()
                .rfind(outputTemporaryPrefix() + std::to_string(::getpid()) + "-", 0),
            0u)
      << out.tempPath();
}

// An output name near the file-name limit (255 bytes): the temporary's name, longer by its prefix, is cut before
// the extension (the write failed after the work, "cannot write (disk full?)").
TEST(AtomicOutput, OutputNamesNearTheLimitAreWritten) {
  TempDir dir;
  const std::string name = std::string(240, 'x') + ".nii.gz"; // 247 bytes
  AtomicOutput out(dir.file(name), false);
  const std::string temp = std::filesystem::path(out.tempPath()).filename().string();
  EXPECT_LE(temp.size(), 255u);
  EXPECT_EQ(temp.substr(temp.size() - 7), ".nii.gz");
  std::ofstream(out.tempPath()) << "x";
  out.commit();
  EXPECT_TRUE(std::filesystem::exists(dir.file(name)));
}

TEST(AtomicOutput, RemovesTemporaryFileUnlessCommitted) {
  TempDir dir;
  std::string temp;
  {
    AtomicOutput out(dir.file("x.nii.gz"), false);
    temp = out.tempPath();
    EXPECT_EQ(temp.substr(temp.size() - 7), ".nii.gz");
    std::ofstream(temp) << "partial";
  }
  EXPECT_FALSE(std::filesystem::exists(temp));
  EXPECT_EQ(dir.entryCount(), 0u);
  {
    AtomicOutput out(dir.file("y.nii.gz"), false);
    std::ofstream(out.tempPath()) << "done";
    out.commit();
  }
  EXPECT_TRUE(std::filesystem::exists(dir.file("y.nii.gz")));
  EXPECT_EQ(dir.entryCount(), 1u);
}

// A set of outputs lands together: an error before commitAll leaves the former files as they were.
TEST(AtomicOutput, OutputSetLandsTogetherOrNotAtAll) {
  TempDir dir;
  const auto slurp = [](const std::string& p) {
    std::ifstream in(p);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
  const auto write = [&](const std::string& name, const std::string& text) {
    AtomicOutput out(dir.file(name), true);
    std::ofstream(out.tempPath()) << text;
    out.commit();
  };
  {
    OutputSet set;
    write("a.csv", "run 1");
    write("b.json", "run 1");
    EXPECT_FALSE(std::filesystem::exists(dir.file("a.csv"))) << "renamed before commitAll";
    set.commitAll();
    write("after.png", "the set has ended");
  }
  EXPECT_TRUE(std::filesystem::exists(dir.file("after.png"))) << "a commit after commitAll was lost";
  std::filesystem::remove(dir.file("after.png"));
  EXPECT_EQ(slurp(dir.file("a.csv")), "run 1");
  EXPECT_EQ(slurp(dir.file("b.json")), "run 1");
  try {
    OutputSet set;
    write("a.csv", "run 2");
    throw std::runtime_error("b.json: disk full");
  } catch (const std::runtime_error&) {
  }
  EXPECT_EQ(slurp(dir.file("a.csv")), "run 1") << "a file of the failed run landed";
  EXPECT_EQ(dir.entryCount(), 2u) << "temporary files left behind";
  write("c.txt", "no set: at once");
  EXPECT_EQ(slurp(dir.file("c.txt")), "no set: at once");
  { // nested: the inner set's files land with the outer set's
    OutputSet outer;
    {
      OutputSet inner;
      write("d.txt", "inner");
      inner.commitAll();
    }
    EXPECT_FALSE(std::filesystem::exists(dir.file("d.txt"))) << "an inner set landed before its outer set";
    // what was written can be read back before it lands (the review page embeds its pictures so)
    EXPECT_EQ(slurp(OutputSet::contentPath(dir.file("d.txt"))), "inner");
    write("e.txt", "outer");
    EXPECT_NE(OutputSet::contentPath(dir.file("e.txt")), dir.file("e.txt"));
    EXPECT_EQ(slurp(OutputSet::contentPath(dir.file("e.txt"))), "outer");
    outer.commitAll();
  }
  EXPECT_EQ(OutputSet::contentPath(dir.file("e.txt")), dir.file("e.txt")) << "landed: its own name";
  EXPECT_EQ(slurp(dir.file("d.txt")), "inner");
  EXPECT_EQ(slurp(dir.file("e.txt")), "outer");
}

TEST(Volume, ToFloatAndStats) {
  Volume v = rampVolume(PixelType::Int16);
  auto f = v.toFloat();
  EXPECT_EQ(f->GetBufferPointer()[7], 8.0f);
  const IntensityStats s = intensityStats(v);
  EXPECT_EQ(s.min, 1);
  EXPECT_EQ(s.max, 60);
  Volume n = makeVolume(PixelType::Float32, obliqueGeometry());
  n.as<float>()->GetBufferPointer()[0] = std::nanf("");
  n.as<float>()->GetBufferPointer()[1] = -5;
  EXPECT_EQ(intensityStats(n).nonFinite, 1u);
  EXPECT_EQ(intensityStats(n).min, -5);
}

} // namespace
} // namespace voxseg::io
