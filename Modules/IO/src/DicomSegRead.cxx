#include "BinaryFrames.h"
#include "DicomSegCommon.h"
#include "PayloadCheck.h"

#include "voxseg/core/Error.h"
#include "voxseg/core/Log.h"
#include "voxseg/io/DicomSeg.h"
#include "voxseg/io/VolumeIO.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcspchrs.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmfg/fginterface.h>
#include <dcmtk/dcmfg/fgpixmsr.h>
#include <dcmtk/dcmfg/fgplanor.h>
#include <dcmtk/dcmfg/fgplanpo.h>
#include <dcmtk/dcmfg/fgseg.h>
#include <dcmtk/dcmiod/cielabutil.h>
#include <dcmtk/dcmseg/segdoc.h>
#include <dcmtk/dcmseg/segment.h>
#include <dcmtk/dcmseg/segutils.h>
#include <dcmtk/oflog/oflog.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>

namespace voxseg::io {

bool isAscii(const std::string& text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

namespace detail {

void quietDcmtk() {
  static std::once_flag once;
  std::call_once(once, [] { OFLog::configure(OFLogger::FATAL_LOG_LEVEL); });
}

std::string utf8Prefix(const std::string& text, std::size_t maxChars) {
  std::size_t chars = 0;
  for (std::size_t i = 0; i < text.size(); ++i)
    if ((static_cast<unsigned char>(text[i]) & 0xc0) != 0x80 && chars++ == maxChars) return text.substr(0, i);
  return text;
}

std::string textToUtf8(const std::string& text, const std::string& characterSet) {
  if (isAscii(text) || characterSet.empty()) return text;
  DcmSpecificCharacterSet converter;
  OFString converted;
  if (converter.selectCharacterSet(characterSet.c_str()).bad() ||
      converter.convertString(text.c_str(), converted, "\\").bad())
    return text;
  return converted.c_str();
}

void sourceTextToUtf8(DcmItem& dataset, const std::vector<std::string>& ownText, const std::string& sourceFile,
                      const std::string& outputPath) {
  if (std::all_of(ownText.begin(), ownText.end(), [](const std::string& t) { return isAscii(t); })) return;
  const OFCondition converted = dataset.convertToUTF8();
  if (converted.bad())
    throw inputError(sourceFile, "its text (Specific Character Set '" + stringOf(dataset, DCM_SpecificCharacterSet) +
                                     "') cannot be converted to UTF-8, which the names that are not ASCII need in " +
                                     outputPath + ": " + converted.text());
  // an ASCII source may have had no Specific Character Set: the object now holds UTF-8 all the same
  dataset.putAndInsertString(DCM_SpecificCharacterSet, "ISO_IR 192");
}

OFString newUid() {
  char uid[100];
  dcmGenerateUniqueIdentifier(uid, SITE_INSTANCE_UID_ROOT);
  return uid;
}

std::string decimalString(double v) {
  char b[32];
  for (int precision = 10; precision > 0; --precision) {
    std::snprintf(b, sizeof b, "%.*g", precision, std::fabs(v) < 1e-12 ? 0.0 : v);
    if (std::string(b).size() <= 16) break;
  }
  return b;
}

std::string stringOf(DcmItem& item, const DcmTagKey& tag) {
  OFString v;
  item.findAndGetOFStringArray(tag, v);
  return v.c_str();
}

namespace {
// The series and, per slice of the label map, its source image's file and position (no header read yet).
// `offSlicesHint` ends the message when a slice has no source image (why the grid moved, if known).
SourceSeries matchSlices(const Volume& labels, const std::string& folder, const std::string& seriesUid,
                         const std::string& what, const std::string& offSlicesHint = {}) {
  SourceSeries out;
  const auto series = scanDicomFolder(folder);
  out.info = selectSeries(series, seriesUid, folder);
  const DicomSeriesInfo& s = out.info;
  if (!s.positionsKnown || s.frames > 1)
    throw inputError(folder, "series " + s.seriesUid + ": a " + what +
                                 " needs single-frame source images with ImagePositionPatient and one "
                                 "ImageOrientationPatient");
  const Geometry g = labels.geometry();
  // same in-plane axes and size, one slice per source image
  auto column = [&](int c) { return Vec3{g.direction[c], g.direction[3 + c], g.direction[6 + c]}; };
  if (s.uidMissing) // "noUID.1" is voxseg's name for it, not a UID to reference
    throw inputError(folder, "series " + s.seriesUid + ": its images have no SeriesInstanceUID, which a " + what +
                                 " must reference");
  if (g.size[0] != s.columns || g.size[1] != s.rows || dot(column(0), s.rowCosine) < 1 - 1e-4 ||
      dot(column(1), s.columnCosine) < 1 - 1e-4)
    throw inputError(labels.source, "not on the grid of DICOM series " + s.seriesUid + " (" + folder +
                                        "): the rows, columns or in-plane orientation differ");
  // PixelSpacing is rows \ columns: the spacing between rows is y's, between columns x's
  const auto near = [](double a, double b) { return std::fabs(a - b) <= 1e-4 * std::max(std::fabs(b), 1e-3); };
  if (s.pixelSpacing[0] > 0 && s.pixelSpacing[1] > 0 &&
      !(near(g.spacing[0], s.pixelSpacing[1]) && near(g.spacing[1], s.pixelSpacing[0])))
    throw inputError(labels.source, "not on the grid of DICOM series " + s.seriesUid + " (" + folder +
                                        "): its pixel spacing " + decimalString(g.spacing[0]) + " x " +
                                        decimalString(g.spacing[1]) + " mm is not the series' " +
                                        decimalString(s.pixelSpacing[1]) + " x " + decimalString(s.pixelSpacing[0]) +
                                        " mm (columns x rows)");
  out.slices.resize(g.size[2]);
  std::vector<bool> used(s.files.size(), false);
  const double tolerance = std::max(1e-3, 0.01 * std::min(g.spacing[0], g.spacing[1]));
  for (std::size_t z = 0; z < g.size[2]; ++z) {
    const Vec3 p = g.indexToWorld({0, 0, double(z)});
    std::size_t best = s.files.size();
    double bestDistance = tolerance;
    for (std::size_t k = 0; k < s.files.size(); ++k) {
      const Vec3 d{p[0] - s.positions[k][0], p[1] - s.positions[k][1], p[2] - s.positions[k][2]};
      const double distance = std::sqrt(dot(d, d));
      if (distance <= bestDistance) best = k, bestDistance = distance;
    }
    if (best == s.files.size() || used[best])
      throw inputError(labels.source, "not on the grid of DICOM series " + s.seriesUid + ": slice " +
                                          std::to_string(z) + " matches no source image position" + offSlicesHint);
    used[best] = true;
    out.slices[z].file = s.files[best];
    out.slices[z].position = s.positions[best];
  }
  return out;
}
} // namespace

SourceSeries sourceSeriesOf(const Volume& labels, const std::string& folder, const std::string& seriesUid,
                            const std::string& what) {
  SourceSeries out = matchSlices(labels, folder, seriesUid, what);
  for (auto& sl : out.slices) {
    DcmFileFormat f;
    if (f.loadFile(sl.file.c_str(), EXS_Unknown, EGL_noChange, 256, ERM_autoDetect).bad())
      throw inputError(sl.file, "cannot read the DICOM header");
    DcmDataset& d = *f.getDataset();
    sl.sopInstanceUid = stringOf(d, DCM_SOPInstanceUID);
    sl.sopClassUid = stringOf(d, DCM_SOPClassUID);
    out.patientId = stringOf(d, DCM_PatientID);
    out.studyUid = stringOf(d, DCM_StudyInstanceUID);
    out.frameOfReferenceUid = stringOf(d, DCM_FrameOfReferenceUID);
    if (sl.sopInstanceUid.empty() || sl.sopClassUid.empty())
      throw inputError(sl.file, "no SOPInstanceUID or SOPClassUID: a " + what + " cannot reference it");
  }
  return out;
}

} // namespace detail

std::string checkOnSeriesGrid(const Volume& image, const std::string& sourceFolder, const std::string& seriesUid,
                              const std::string& what, const std::vector<std::string>& ownText,
                              const std::string& offSlicesHint) {
  const detail::SourceSeries source = detail::matchSlices(image, sourceFolder, seriesUid, what, offSlicesHint);
  const std::string& file = source.slices.front().file; // the writers copy the patient's and study's text from it
  checkSourceText(file, ownText, what);
  return file;
}

void checkSourceText(const std::string& sourceFile, const std::vector<std::string>& ownText, const std::string& what) {
  if (std::all_of(ownText.begin(), ownText.end(), [](const std::string& t) { return isAscii(t); })) return;
  // text that is not ASCII makes the object UTF-8: the source's text must convert (as the writers will do it)
  DcmFileFormat f;
  if (f.loadFile(sourceFile.c_str(), EXS_Unknown, EGL_noChange, 256, ERM_autoDetect).bad())
    throw inputError(sourceFile, "cannot read the DICOM header");
  detail::sourceTextToUtf8(*f.getDataset(), ownText, sourceFile, "a " + what);
}

namespace {

std::optional<Code> codeFrom(CodeSequenceMacro& m) {
  OFString value, scheme, meaning;
  m.getCodeValue(value);
  m.getCodingSchemeDesignator(scheme);
  m.getCodeMeaning(meaning);
  if (value.empty()) return std::nullopt;
  return Code{value.c_str(), scheme.c_str(), meaning.c_str()};
}

struct FrameInfo {
  Uint16 segment = 0;
  Vec3 position{};
};

} // namespace

bool isDicomSegFile(const std::string& path) {
  { // a DICOM file (Part 10, as every SEG is) has "DICM" after its 128-byte preamble; anything else is not parsed
    std::ifstream in(path, std::ios::binary);
    char magic[132] = {};
    if (!in.read(magic, sizeof magic) || std::string(magic + 128, 4) != "DICM") return false;
  }
  detail::quietDcmtk();
  DcmFileFormat f;
  if (f.loadFile(path.c_str(), EXS_Unknown, EGL_noChange, 256, ERM_autoDetect).bad()) return false;
  OFString sopClass;
  f.getDataset()->findAndGetOFString(DCM_SOPClassUID, sopClass);
  return sopClass == UID_SegmentationStorage;
}

DicomSegContent readDicomSeg(const std::string& path, const std::string& referenceFolder, const ReadOptions& options) {
  detail::quietDcmtk();
  DcmFileFormat raw; // read once: the attributes below, then the segmentation from the same dataset
  if (raw.loadFile(path.c_str(), EXS_Unknown, EGL_noChange, DCM_MaxReadLength, ERM_autoDetect).bad())
    throw inputError(path, "not a readable DICOM file");
  DicomSegContent out;
  Uint16 rows = 0, columns = 0;
  Uint16 maxFraction = 255; // fractional SEGs (occupancy or probability) are thresholded at half of it
  {
    DcmDataset& d = *raw.getDataset();
    d.findAndGetUint16(DCM_MaximumFractionalValue, maxFraction);
    d.findAndGetUint16(DCM_Rows, rows);
    d.findAndGetUint16(DCM_Columns, columns);
    if (maxFraction == 0) maxFraction = 255;
    OFString sopClass, uid;
    d.findAndGetOFString(DCM_SOPClassUID, sopClass);
    if (sopClass != UID_SegmentationStorage)
      throw inputError(path, "not a DICOM Segmentation (SOP class " + std::string(sopClass.c_str()) + ")");
    d.findAndGetOFString(DCM_FrameOfReferenceUID, uid);
    out.frameOfReferenceUid = uid.c_str();
    DcmItem* series = nullptr;
    if (d.findAndGetSequenceItem(DCM_ReferencedSeriesSequence, series, 0).good() && series) {
      series->findAndGetOFString(DCM_SeriesInstanceUID, uid);
      out.referencedSeriesUid = uid.c_str();
    }
  }
  raw.getDataset()->convertToUTF8(); // names and code meanings in UTF-8 (kept as they are if it cannot be)
  DcmSegmentation* loaded = nullptr;
  const OFCondition status = DcmSegmentation::loadDataset(*raw.getDataset(), loaded);
  std::unique_ptr<DcmSegmentation> seg(loaded);
  if (status.bad() || !seg) throw inputError(path, std::string("not a valid DICOM SEG (") + status.text() + ")");
  const bool fractional = seg->getSegmentationType() == DcmSegTypes::ST_FRACTIONAL;
  FGInterface& fg = seg->getFunctionalGroups();
  const std::size_t frames = seg->getNumberOfFrames();
  if (frames == 0) throw inputError(path, "the SEG holds no frame");
  const Uint8* packed = nullptr; // a binary SEG's frames, unpacked here (BinaryFrames.h: not by DCMTK 3.6.7)
  unsigned long packedSize = 0;
  if (!fractional && (raw.getDataset()->findAndGetUint8Array(DCM_PixelData, packed, &packedSize).bad() || !packed))
    throw inputError(path, "its Pixel Data cannot be read");

  // orientation and spacing (shared or first frame's)
  auto* orientation = dynamic_cast<FGPlaneOrientationPatient*>(fg.get(0, DcmFGTypes::EFG_PLANEORIENTPATIENT));
  auto* measures = dynamic_cast<FGPixelMeasures*>(fg.get(0, DcmFGTypes::EFG_PIXELMEASURES));
  if (!orientation || !measures) throw inputError(path, "the SEG lacks plane orientation or pixel measures");
  Float64 o[6] = {0, 0, 0, 0, 0, 0};
  orientation->getImageOrientationPatient(o[0], o[1], o[2], o[3], o[4], o[5]);
  if (!std::all_of(o, o + 6, [](Float64 v) { return std::isfinite(v); }))
    throw inputError(path, "the SEG's ImageOrientationPatient is not finite");
  const Vec3 rowCosine{o[0], o[1], o[2]}, columnCosine{o[3], o[4], o[5]};
  const Vec3 normal = cross(rowCosine, columnCosine);
  Float64 rowSpacing = 0, columnSpacing = 0, between = 0;
  measures->getPixelSpacing(rowSpacing, 0);
  measures->getPixelSpacing(columnSpacing, 1);
  measures->getSpacingBetweenSlices(between);

  std::vector<FrameInfo> info(frames);
  for (std::size_t f = 0; f < frames; ++f) {
    auto* position = dynamic_cast<FGPlanePosPatient*>(fg.get(Uint32(f), DcmFGTypes::EFG_PLANEPOSPATIENT));
    auto* segment = dynamic_cast<FGSegmentation*>(fg.get(Uint32(f), DcmFGTypes::EFG_SEGMENTATION));
    if (!position || !segment)
      throw inputError(path, "frame " + std::to_string(f + 1) + " lacks its plane position or segment number");
    position->getImagePositionPatient(info[f].position[0], info[f].position[1], info[f].position[2]);
    for (const double x : info[f].position)
      if (!std::isfinite(x) || std::fabs(x) > detail::kMaxOriginMm)
        throw inputError(path, "frame " + std::to_string(f + 1) + " has no valid ImagePositionPatient");
    segment->getReferencedSegmentNumber(info[f].segment);
    if (info[f].segment < 1 || info[f].segment > seg->getNumberOfSegments())
      throw inputError(path, "frame " + std::to_string(f + 1) + " refers to segment " +
                                 std::to_string(info[f].segment) + ", which does not exist");
  }

  // the grid: the referenced series', or the one the frames span
  Geometry g;
  if (!referenceFolder.empty()) {
    ReadOptions ro = options;
    ro.seriesUid = out.referencedSeriesUid;
    g = readVolume(referenceFolder, ro).geometry();
    if (!(std::fabs(columnSpacing - g.spacing[0]) <= 1e-4 * g.spacing[0]) ||
        !(std::fabs(rowSpacing - g.spacing[1]) <= 1e-4 * g.spacing[1])) // NaN included
      throw inputError(path, "its pixel spacing " + detail::decimalString(rowSpacing) + "\\" +
                                 detail::decimalString(columnSpacing) + " (rows\\columns) is not the spacing of " +
                                 referenceFolder + " (" + detail::decimalString(g.spacing[1]) + "\\" +
                                 detail::decimalString(g.spacing[0]) + ")");
  } else {
    std::vector<double> along;
    for (const auto& fi : info) along.push_back(dot(fi.position, normal));
    std::sort(along.begin(), along.end());
    along.erase(std::unique(along.begin(), along.end(), [](double a, double b) { return std::fabs(a - b) < 1e-3; }),
                along.end());
    double spacing = between > 0 ? between : 0;
    if (spacing <= 0) {
      std::vector<double> gaps;
      for (std::size_t i = 1; i < along.size(); ++i) gaps.push_back(along[i] - along[i - 1]);
      std::sort(gaps.begin(), gaps.end());
      spacing = gaps.empty() ? 1.0 : gaps[gaps.size() / 2];
    }
    const FrameInfo* first = &info.front();
    for (const auto& fi : info)
      if (dot(fi.position, normal) < dot(first->position, normal)) first = &fi;
    g.origin = first->position;
    if (!(std::isfinite(spacing) && spacing > 0 && std::isfinite(rowSpacing) && rowSpacing > 0 &&
          std::isfinite(columnSpacing) && columnSpacing > 0))
      throw inputError(path, "invalid pixel spacing or spacing between slices in the SEG's header");
    const double slices = std::round((along.back() - along.front()) / spacing) + 1;
    if (!(slices >= 1 && slices * double(rows) * double(columns) <= double(options.maxVoxels)))
      throw inputError(
          path, "its frames span " + detail::decimalString(slices) + " slices of " + std::to_string(columns) + "x" +
                    std::to_string(rows) + " at " + detail::decimalString(spacing) + " mm, more than the limit of " +
                    std::to_string(options.maxVoxels) + " voxels (corrupt spacing, or raise --max-voxels)");
    g.size = {columns, rows, static_cast<std::size_t>(slices)};
    g.spacing = {columnSpacing, rowSpacing, spacing};
    for (int r = 0; r < 3; ++r) {
      g.direction[3 * r + 0] = rowCosine[r];
      g.direction[3 * r + 1] = columnCosine[r];
      g.direction[3 * r + 2] = normal[r];
    }
  }
  auto axis = [&](int c) { return Vec3{g.direction[c], g.direction[3 + c], g.direction[6 + c]}; };
  if (g.size[0] != columns || g.size[1] != rows || dot(axis(0), rowCosine) < 1 - 1e-4 ||
      dot(axis(1), columnCosine) < 1 - 1e-4)
    throw inputError(path, "its frames do not lie on the grid of " +
                               (referenceFolder.empty() ? std::string("its own frames") : referenceFolder));

  // segments
  const std::size_t count = seg->getNumberOfSegments();
  for (std::size_t n = 1; n <= count; ++n) {
    DcmSegment* s = seg->getSegment(n);
    LabelInfo l;
    l.value = int(n);
    OFString label;
    s->getSegmentLabel(label);
    l.name = label.c_str();
    Uint16 L = 0, a = 0, b = 0;
    if (s->getRecommendedDisplayCIELabValue(L, a, b).good()) {
      double R = 0, G = 0, B = 0;
      IODCIELabUtil::dicomLab2RGB(R, G, B, L, a, b);
      l.color = {int(std::lround(std::clamp(R, 0.0, 1.0) * 255)), int(std::lround(std::clamp(G, 0.0, 1.0) * 255)),
                 int(std::lround(std::clamp(B, 0.0, 1.0) * 255))};
    }
    l.category = codeFrom(s->getSegmentedPropertyCategoryCode());
    l.type = codeFrom(s->getSegmentedPropertyTypeCode());
    out.segments.push_back(l);
  }

  // voxels: the frames' planes by slice and segment first (as much memory as the SEG's frames unpacked), so that
  // overlaps can be counted slice by slice
  const std::size_t plane = std::size_t(rows) * columns;
  using Plane = std::pair<std::size_t, std::vector<std::uint8_t>>; // segment index, mask
  std::vector<std::vector<Plane>> planes(g.size[2]);
  const double tolerance = std::max(1e-3, 0.01 * std::min(g.spacing[0], g.spacing[1]));
  std::vector<std::uint8_t> unpacked(fractional ? 0 : plane);
  bool padded = false; // frames starting on whole bytes (older writers)
  const std::size_t stride = fractional ? 0 : detail::binaryFrameStride(packedSize, frames, plane, padded);
  if (!fractional && stride == 0)
    throw inputError(path, "its Pixel Data holds " + std::to_string(packedSize) + " bytes, not the " +
                               std::to_string((frames * plane + 7) / 8) + " of " + std::to_string(frames) +
                               " binary frames of " + std::to_string(columns) + "x" + std::to_string(rows));
  if (padded)
    logWarning(path + ": its binary frames start on whole bytes (as DCMTK before 3.6.4 wrote them, not the "
                      "standard's packing): read so");
  for (std::size_t f = 0; f < frames; ++f) {
    const Vec3 d{info[f].position[0] - g.origin[0], info[f].position[1] - g.origin[1],
                 info[f].position[2] - g.origin[2]};
    const double k = dot(d, axis(2)) / g.spacing[2];
    const auto slice = std::lround(k);
    if (std::fabs(dot(d, axis(0))) > tolerance || std::fabs(dot(d, axis(1))) > tolerance ||
        std::fabs(k - double(slice)) * g.spacing[2] > tolerance || slice < 0 || std::size_t(slice) >= g.size[2])
      throw inputError(path, "frame " + std::to_string(f + 1) + " lies off the grid of " +
                                 (referenceFolder.empty() ? std::string("the SEG") : referenceFolder));
    const Uint8* pixels = nullptr;
    if (fractional) {
      const DcmIODTypes::Frame* stored = seg->getFrame(f);
      if (!stored || stored->length < plane)
        throw inputError(path, "frame " + std::to_string(f + 1) + " cannot be read");
      pixels = stored->pixData;
    } else {
      if (!detail::unpackBinaryFrame(packed, packedSize, f * stride, plane, unpacked.data()))
        throw inputError(path, "frame " + std::to_string(f + 1) + " lies beyond the end of its Pixel Data");
      pixels = unpacked.data();
    }
    auto& onSlice = planes[std::size_t(slice)];
    const std::size_t n = info[f].segment - 1u;
    auto at = std::find_if(onSlice.begin(), onSlice.end(), [&](const Plane& p) { return p.first == n; });
    if (at == onSlice.end()) at = onSlice.insert(onSlice.end(), Plane{n, std::vector<std::uint8_t>(plane, 0)});
    std::uint8_t* m = at->second.data();
    for (std::size_t i = 0; i < plane; ++i)
      if (fractional ? pixels[i] * 2 >= maxFraction : pixels[i] != 0) m[i] = 1;
  }
  std::vector<std::size_t> pairCount(count * count, 0);
  out.labels = makeVolume(PixelType::UInt16, g);
  out.labels.source = path;
  std::uint16_t* lab = out.labels.as<std::uint16_t>()->GetBufferPointer();
  for (std::size_t z = 0; z < g.size[2]; ++z) { // in segment order: the higher segment number wins a voxel
    auto& onSlice = planes[z];
    std::sort(onSlice.begin(), onSlice.end(), [](const Plane& a, const Plane& b) { return a.first < b.first; });
    std::uint16_t* l = lab + z * plane;
    for (const auto& [n, m] : onSlice)
      for (std::size_t i = 0; i < plane; ++i)
        if (m[i]) {
          if (l[i]) ++pairCount[std::size_t(l[i] - 1) * count + n];
          l[i] = static_cast<std::uint16_t>(n + 1);
        }
  }
  for (std::size_t a = 0; a < count; ++a)
    for (std::size_t b = 0; b < count; ++b)
      if (pairCount[a * count + b])
        out.overlaps.push_back("segments " + std::to_string(a + 1) + " and " + std::to_string(b + 1) + " share " +
                               std::to_string(pairCount[a * count + b]) + " voxels");
  if (count <= 255) { // uint8, as voxseg writes label maps with few labels (a SEG of an uint8 map reads back so)
    Volume narrow = makeVolume(PixelType::UInt8, g);
    narrow.source = path;
    std::copy(lab, lab + g.voxelCount(), narrow.as<std::uint8_t>()->GetBufferPointer());
    out.labels = std::move(narrow);
  }
  if (!out.overlaps.empty())
    for (std::size_t n = 0; n < count; ++n) {
      Volume v = makeVolume(PixelType::UInt8, g);
      v.source = path;
      std::uint8_t* mask = v.as<std::uint8_t>()->GetBufferPointer();
      std::fill(mask, mask + g.voxelCount(), std::uint8_t{0});
      for (std::size_t z = 0; z < g.size[2]; ++z)
        for (const auto& [segment, m] : planes[z])
          if (segment == n) std::copy(m.begin(), m.end(), mask + z * plane);
      out.masks.push_back(std::move(v));
    }
  return out;
}

} // namespace voxseg::io
