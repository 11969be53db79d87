#include "DicomSegCommon.h"

#include "voxseg/core/Error.h"
#include "voxseg/core/LabelColors.h"
#include "voxseg/core/Log.h"
#include "voxseg/core/Version.h"
#include "voxseg/io/AtomicOutput.h"
#include "voxseg/io/RtStruct.h"
#include "voxseg/io/SegmentationFiles.h"

#include <itkContourExtractor2DImageFilter.h>
#include <itkImage.h>

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmdata/dcvrda.h>
#include <dcmtk/dcmdata/dcvrtm.h>
#include <dcmtk/dcmrt/drtstrct.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

namespace voxseg::io {
namespace {

using Slice = itk::Image<float, 2>;

void check(const OFCondition& c, const std::string& path, const std::string& what) {
  if (c.bad())
    throw Error(ExitCode::Output, path + ": cannot build the RT Structure Set (" + what + ": " + c.text() + ")");
}

// A closed contour without the vertices that lie on a straight run between their neighbours (the polygon is the
// same; the marching squares give one vertex per pixel edge, and ContourData has a length limit).
std::vector<std::array<double, 2>> withoutStraightRuns(const std::vector<std::array<double, 2>>& c) {
  const std::size_t n = c.size();
  if (n < 4) return c;
  std::vector<std::array<double, 2>> out;
  for (std::size_t i = 0; i < n; ++i) {
    const auto& a = c[(i + n - 1) % n];
    const auto& b = c[i];
    const auto& d = c[(i + 1) % n];
    const double ux = b[0] - a[0], uy = b[1] - a[1], vx = d[0] - b[0], vy = d[1] - b[1];
    const bool straight = std::fabs(ux * vy - uy * vx) < 1e-9 && ux * vx + uy * vy > 0; // on, and along, the run
    if (!straight) out.push_back(b);
  }
  return out.size() >= 3 ? out : c;
}

// Closed contours of `label` on slice z, as continuous (x, y) indices of the label map.
std::vector<std::vector<std::array<double, 2>>> contoursOf(const std::vector<std::uint16_t>& values, const Size3& n,
                                                           std::size_t z, int label) {
  // one pixel of background all round, so every boundary closes
  auto slice = Slice::New();
  Slice::RegionType region;
  region.SetSize(0, n[0] + 2);
  region.SetSize(1, n[1] + 2);
  slice->SetRegions(region);
  slice->Allocate(true);
  float* p = slice->GetBufferPointer();
  bool any = false;
  for (std::size_t y = 0; y < n[1]; ++y)
    for (std::size_t x = 0; x < n[0]; ++x)
      if (values[(z * n[1] + y) * n[0] + x] == label) {
        p[(y + 1) * (n[0] + 2) + x + 1] = 1.0f;
        any = true;
      }
  std::vector<std::vector<std::array<double, 2>>> out;
  if (!any) return out;
  auto extractor = itk::ContourExtractor2DImageFilter<Slice>::New();
  extractor->SetInput(slice);
  extractor->SetContourValue(0.5);
  extractor->Update();
  for (unsigned i = 0; i < extractor->GetNumberOfIndexedOutputs(); ++i) {
    const auto* vertices = extractor->GetOutput(i)->GetVertexList();
    std::vector<std::array<double, 2>> contour;
    for (unsigned k = 0; k < vertices->Size(); ++k) {
      const auto v = vertices->ElementAt(k);
      contour.push_back({v[0] - 1.0, v[1] - 1.0});
    }
    if (contour.size() > 1 && contour.front() == contour.back()) contour.pop_back(); // closed: no repeat
    contour = withoutStraightRuns(contour);
    if (contour.size() >= 3) out.push_back(std::move(contour));
  }
  return out;
}

} // namespace

void writeRtStruct(const Volume& labels, const std::vector<LabelInfo>& known, const std::string& sourceFolder,
                   const std::string& path, const RtStructOptions& options, bool overwrite) {
  detail::quietDcmtk();
  checkDicomLabels(known, path);
  const detail::SourceSeries source =
      detail::sourceSeriesOf(labels, sourceFolder, options.seriesUid, "RT Structure Set");
  if (source.frameOfReferenceUid.empty())
    throw inputError(sourceFolder, "the source images have no FrameOfReferenceUID: contours cannot be placed");
  const Geometry g = labels.geometry();
  const std::vector<std::uint16_t> values = labelValues(labels);
  std::set<int> present;
  for (std::uint16_t v : values)
    if (v) present.insert(v);
  if (present.empty()) throw inputError(labels.source, "no label to write into an RT Structure Set (the map is empty)");

  DcmFileFormat first;
  if (first.loadFile(source.slices.front().file.c_str(), EXS_Unknown, EGL_noChange, 256, ERM_autoDetect).bad())
    throw inputError(source.slices.front().file, "cannot read the DICOM header");
  DcmDataset& src = *first.getDataset();
  // voxseg's text is UTF-8: a name that is not ASCII makes the structure set UTF-8, the copied text included
  std::vector<std::string> ownText{options.seriesDescription, options.structureSetLabel};
  for (int value : present) ownText.push_back(describeLabel(value, known).name);
  detail::sourceTextToUtf8(src, ownText, source.slices.front().file, path);
  DRTStructureSetIOD rt;
  OFString date, time;
  DcmDate::getCurrentDate(date);
  DcmTime::getCurrentTime(time);
  auto copy = [&](const DcmTagKey& tag, OFCondition (DRTStructureSetIOD::*set)(const OFString&, const OFBool)) {
    (rt.*set)(detail::stringOf(src, tag).c_str(), OFFalse);
  };
  copy(DCM_SpecificCharacterSet, &DRTStructureSetIOD::setSpecificCharacterSet);
  copy(DCM_PatientName, &DRTStructureSetIOD::setPatientName);
  copy(DCM_PatientID, &DRTStructureSetIOD::setPatientID);
  copy(DCM_PatientBirthDate, &DRTStructureSetIOD::setPatientBirthDate);
  copy(DCM_PatientSex, &DRTStructureSetIOD::setPatientSex);
  copy(DCM_StudyInstanceUID, &DRTStructureSetIOD::setStudyInstanceUID);
  copy(DCM_StudyDate, &DRTStructureSetIOD::setStudyDate);
  copy(DCM_StudyTime, &DRTStructureSetIOD::setStudyTime);
  copy(DCM_StudyID, &DRTStructureSetIOD::setStudyID);
  copy(DCM_ReferringPhysicianName, &DRTStructureSetIOD::setReferringPhysicianName);
  copy(DCM_AccessionNumber, &DRTStructureSetIOD::setAccessionNumber);
  copy(DCM_PositionReferenceIndicator, &DRTStructureSetIOD::setPositionReferenceIndicator);
  check(rt.setFrameOfReferenceUID(source.frameOfReferenceUid.c_str()), path, "frame of reference");
  check(rt.setSOPClassUID(UID_RTStructureSetStorage), path, "SOP class");
  check(rt.setSOPInstanceUID(detail::newUid()), path, "SOP instance");
  check(rt.setSeriesInstanceUID(detail::newUid()), path, "series");
  check(rt.setModality("RTSTRUCT"), path, "modality");
  rt.setSeriesNumber(options.seriesNumber.c_str());
  check(rt.setSeriesDescription(detail::utf8Prefix(options.seriesDescription, 64).c_str(), OFFalse), path,
        "series description");
  rt.setInstanceNumber("1");
  rt.setManufacturer("voxseg");
  rt.setSoftwareVersions(versionString());
  rt.setOperatorsName("");
  check(rt.setStructureSetLabel(detail::utf8Prefix(options.structureSetLabel, 16).c_str(), OFFalse), path,
        "structure set label");
  rt.setStructureSetDate(date);
  rt.setStructureSetTime(time);

  // referenced frame of reference -> study -> series -> every source image
  DRTReferencedFrameOfReferenceSequence::Item* frame = nullptr;
  check(rt.getReferencedFrameOfReferenceSequence().addItem(frame), path, "frame of reference");
  frame->setFrameOfReferenceUID(source.frameOfReferenceUid.c_str());
  DRTRTReferencedStudySequence::Item* study = nullptr;
  check(frame->getRTReferencedStudySequence().addItem(study), path, "referenced study");
  study->setReferencedSOPClassUID("1.2.840.10008.3.1.2.3.1"); // Detached Study Management, as the IOD asks
  study->setReferencedSOPInstanceUID(source.studyUid.c_str());
  DRTRTReferencedSeriesSequence::Item* series = nullptr;
  check(study->getRTReferencedSeriesSequence().addItem(series), path, "referenced series");
  series->setSeriesInstanceUID(source.info.seriesUid.c_str());
  for (const auto& sl : source.slices) {
    DRTContourImageSequence::Item* image = nullptr;
    check(series->getContourImageSequence().addItem(image), path, "contour image");
    image->setReferencedSOPClassUID(sl.sopClassUid.c_str());
    image->setReferencedSOPInstanceUID(sl.sopInstanceUid.c_str());
  }

  std::size_t longest = 0; // bytes of the longest ContourData
  for (int value : present) {
    const LabelInfo info = describeLabel(value, known);
    const std::string number = std::to_string(value);
    DRTStructureSetROISequence::Item* roi = nullptr;
    check(rt.getStructureSetROISequence().addItem(roi), path, "ROI");
    roi->setROINumber(number.c_str());
    roi->setReferencedFrameOfReferenceUID(source.frameOfReferenceUid.c_str());
    check(roi->setROIName(detail::utf8Prefix(info.name.empty() ? "label " + number : info.name, 64).c_str(), OFFalse),
          path, "ROI name");
    roi->setROIGenerationAlgorithm("AUTOMATIC");
    DRTRTROIObservationsSequence::Item* observation = nullptr;
    check(rt.getRTROIObservationsSequence().addItem(observation), path, "ROI observation");
    observation->setObservationNumber(number.c_str());
    observation->setReferencedROINumber(number.c_str());
    observation->setRTROIInterpretedType(options.interpretedType.c_str());
    observation->setROIInterpreter("");
    DRTROIContourSequence::Item* contours = nullptr;
    check(rt.getROIContourSequence().addItem(contours), path, "ROI contour");
    contours->setReferencedROINumber(number.c_str());
    contours->setROIDisplayColor(
        (std::to_string(info.color[0]) + "\\" + std::to_string(info.color[1]) + "\\" + std::to_string(info.color[2]))
            .c_str());
    int contourNumber = 0;
    for (std::size_t z = 0; z < g.size[2]; ++z)
      for (const auto& contour : contoursOf(values, g.size, z, value)) {
        std::string data;
        for (const auto& pt : contour) {
          const Vec3 w = g.indexToWorld({pt[0], pt[1], double(z)});
          for (int a = 0; a < 3; ++a) data += (data.empty() ? "" : "\\") + detail::decimalString(w[a]);
        }
        DRTContourSequence::Item* item = nullptr;
        check(contours->getContourSequence().addItem(item), path, "contour");
        item->setContourNumber(std::to_string(++contourNumber).c_str());
        item->setContourGeometricType("CLOSED_PLANAR");
        item->setNumberOfContourPoints(std::to_string(contour.size()).c_str());
        check(item->setContourData(data.c_str(), OFFalse), path, "contour data");
        longest = std::max(longest, data.size());
        DRTContourImageSequence::Item* image = nullptr;
        check(item->getContourImageSequence().addItem(image), path, "contour image");
        image->setReferencedSOPClassUID(source.slices[z].sopClassUid.c_str());
        image->setReferencedSOPInstanceUID(source.slices[z].sopInstanceUid.c_str());
      }
  }

  DcmFileFormat file;
  check(rt.write(*file.getDataset()), path, "dataset");
  AtomicOutput out(path, overwrite);
  // Explicit VR gives a DS value 16 bits of length: a longer ContourData (about 1,700 points) was written as UN,
  // which readers (DCMTK's dcmrt, pydicom) do not take for contour data. Implicit VR lengths have 32 bits.
  const bool implicit = longest > 65534;
  if (implicit)
    logInfo(path + ": a contour of " + std::to_string(longest) +
            " bytes is longer than explicit VR allows; written in implicit VR little endian");
  check(file.saveFile(out.tempPath().c_str(), implicit ? EXS_LittleEndianImplicit : EXS_LittleEndianExplicit), path,
        "write");
  out.commit();
}

} // namespace voxseg::io
