#include "BinaryFrames.h"
#include "DicomSegCommon.h"

#include "voxseg/core/Error.h"
#include "voxseg/core/LabelColors.h"
#include "voxseg/core/Version.h"
#include "voxseg/io/AtomicOutput.h"
#include "voxseg/io/DicomSeg.h"
#include "voxseg/io/DicomSeries.h"
#include "voxseg/io/SegmentationFiles.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmfg/fgderimg.h>
#include <dcmtk/dcmfg/fgfracon.h>
#include <dcmtk/dcmfg/fgpixmsr.h>
#include <dcmtk/dcmfg/fgplanor.h>
#include <dcmtk/dcmfg/fgplanpo.h>
#include <dcmtk/dcmiod/cielabutil.h>
#include <dcmtk/dcmiod/iodreferences.h>
#include <dcmtk/dcmseg/segdoc.h>
#include <dcmtk/dcmseg/segment.h>

#include <cmath>
#include <cstdio>
#include <memory>
#include <set>

namespace voxseg::io {
namespace {

// The code of a label, or the default (SCT 85756007 "Tissue") for category and type.
CodeSequenceMacro codeOf(const std::optional<Code>& c) {
  if (c) return CodeSequenceMacro(c->value.c_str(), c->scheme.c_str(), c->meaning.c_str());
  return CodeSequenceMacro("85756007", "SCT", "Tissue");
}

// The segment label of a value: its name, or "label <value>".
std::string segmentName(int value, const std::vector<LabelInfo>& known) {
  const LabelInfo info = describeLabel(value, known);
  return info.name.empty() ? "label " + std::to_string(value) : info.name;
}

// `text` when it is ASCII, else `fallback` (DCMTK refuses text that is not ASCII where no character set is known).
std::string asciiOr(const std::string& text, const std::string& fallback) {
  return isAscii(text) ? detail::utf8Prefix(text, 64) : fallback;
}

void check(const OFCondition& c, const std::string& path, const std::string& what) {
  if (c.bad()) throw Error(ExitCode::Output, path + ": cannot build the DICOM SEG (" + what + ": " + c.text() + ")");
}

} // namespace

void writeDicomSeg(const Volume& labels, const std::vector<LabelInfo>& known, const std::string& sourceFolder,
                   const std::string& path, const DicomSegOptions& options, bool overwrite) {
  detail::quietDcmtk();
  checkDicomLabels(known, path);
  const detail::SourceSeries source = detail::sourceSeriesOf(labels, sourceFolder, options.seriesUid, "SEG");
  const DicomSeriesInfo& s = source.info;
  const auto& slices = source.slices;
  const std::string& patientId = source.patientId;
  const std::string& studyUid = source.studyUid;
  const Geometry g = labels.geometry();

  // the segments: labels present, in ascending order
  std::set<int> present;
  const std::vector<std::uint16_t> values = labelValues(labels);
  for (std::uint16_t v : values)
    if (v) present.insert(v);
  if (present.empty()) throw inputError(labels.source, "no label to write into a DICOM SEG (the map is empty)");

  // voxseg's text is UTF-8: a name that is not ASCII makes the SEG UTF-8, the source's copied text included
  // (DCMTK checks a segment's text before the segment is in the dataset, without its character set: text that is
  // not ASCII is given to the written dataset instead; the algorithm name stays ASCII.)
  std::vector<std::string> ownText{options.seriesDescription};
  for (int value : present) ownText.push_back(segmentName(value, known));
  DcmFileFormat sourceFile;
  if (sourceFile.loadFile(slices.front().file.c_str(), EXS_Unknown, EGL_noChange, 256, ERM_autoDetect).bad())
    throw inputError(slices.front().file, "cannot read the DICOM header");
  detail::sourceTextToUtf8(*sourceFile.getDataset(), ownText, slices.front().file, path);

  IODGeneralEquipmentModule::EquipmentInfo equipment("voxseg", "voxseg", "0", versionString());
  ContentIdentificationMacro content("1", options.contentLabel.c_str(),
                                     asciiOr(options.seriesDescription, "voxseg segmentation").c_str(),
                                     options.contentCreator.c_str());
  DcmSegmentation* raw = nullptr;
  check(DcmSegmentation::createBinarySegmentation(raw, static_cast<Uint16>(s.rows), static_cast<Uint16>(s.columns),
                                                  equipment, content),
        path, "create");
  std::unique_ptr<DcmSegmentation> seg(raw);
  check(seg->importFromSourceImage(*sourceFile.getDataset(), OFTrue), path, "patient, study and frame of reference");
  if (const std::string charset = detail::stringOf(*sourceFile.getDataset(), DCM_SpecificCharacterSet);
      !charset.empty())
    check(seg->getSOPCommon().setSpecificCharacterSet(charset.c_str(), OFFalse), path, "specific character set");
  seg->getSeries().setSeriesNumber(options.seriesNumber.c_str());

  // shared functional groups: orientation and pixel measures
  std::unique_ptr<FGPlaneOrientationPatient> orientation(FGPlaneOrientationPatient::createMinimal(
      detail::decimalString(s.rowCosine[0]).c_str(), detail::decimalString(s.rowCosine[1]).c_str(),
      detail::decimalString(s.rowCosine[2]).c_str(), detail::decimalString(s.columnCosine[0]).c_str(),
      detail::decimalString(s.columnCosine[1]).c_str(), detail::decimalString(s.columnCosine[2]).c_str()));
  check(seg->addForAllFrames(*orientation), path, "plane orientation");
  FGPixelMeasures measures;
  measures.setPixelSpacing(
      (detail::decimalString(g.spacing[1]) + "\\" + detail::decimalString(g.spacing[0])).c_str()); // rows \ columns
  measures.setSliceThickness(detail::decimalString(g.spacing[2]).c_str());
  measures.setSpacingBetweenSlices(detail::decimalString(g.spacing[2]).c_str());
  check(seg->addForAllFrames(measures), path, "pixel measures");
  const OFString dimensionUid = detail::newUid();
  check(seg->getDimensions().addDimensionIndex(DCM_ReferencedSegmentNumber, dimensionUid,
                                               DCM_SegmentIdentificationSequence, "ReferencedSegmentNumber"),
        path, "dimension index");
  check(seg->getDimensions().addDimensionIndex(DCM_ImagePositionPatient, dimensionUid, DCM_PlanePositionSequence,
                                               "ImagePositionPatient"),
        path, "dimension index");

  const std::size_t plane = std::size_t(s.rows) * s.columns;
  std::vector<Uint8> frame(plane);
  detail::BinaryFramePacker packed(plane); // the Pixel Data voxseg writes (BinaryFrames.h: not DCMTK 3.6.7's)
  Uint16 number = 0;
  for (int value : present) {
    const LabelInfo info = describeLabel(value, known);
    const std::string name = segmentName(value, known);
    DcmSegment* segment = nullptr;
    check(DcmSegment::create(segment, asciiOr(name, "label " + std::to_string(value)), codeOf(info.category),
                             codeOf(info.type), DcmSegTypes::SAT_AUTOMATIC, options.algorithmName.c_str()),
          path, "segment " + name);
    std::unique_ptr<DcmSegment> owned(segment);
    auto& algorithm = segment->getSegmentationAlgorithmIdentification();
    algorithm.setAlgorithmName(options.algorithmName.c_str());
    algorithm.setAlgorithmVersion(
        (options.algorithmVersion.empty() ? std::string(versionString()) : options.algorithmVersion).c_str());
    algorithm.getAlgorithmFamilyCode().set("123110", "DCM", "Artificial Intelligence");
    double L = 0, a = 0, b = 0;
    IODCIELabUtil::rgb2DicomLab(L, a, b, info.color[0] / 255.0, info.color[1] / 255.0, info.color[2] / 255.0);
    segment->setRecommendedDisplayCIELabValue(static_cast<Uint16>(std::lround(L)), static_cast<Uint16>(std::lround(a)),
                                              static_cast<Uint16>(std::lround(b)));
    check(seg->addSegment(segment, number), path, "segment " + name);
    owned.release(); // the segmentation owns it now
    for (std::size_t z = 0; z < g.size[2]; ++z) {
      bool any = false;
      for (std::size_t i = 0; i < plane; ++i) {
        frame[i] = values[z * plane + i] == value;
        any |= frame[i] != 0;
      }
      if (!any) continue; // empty frames are not stored
      const detail::SourceSlice& sl = slices[z];
      std::unique_ptr<FGPlanePosPatient> position(FGPlanePosPatient::createMinimal(
          detail::decimalString(sl.position[0]).c_str(), detail::decimalString(sl.position[1]).c_str(),
          detail::decimalString(sl.position[2]).c_str()));
      FGFrameContent frameContent;
      frameContent.setDimensionIndexValues(number, 0);
      frameContent.setDimensionIndexValues(static_cast<Uint32>(z + 1), 1);
      ImageSOPInstanceReferenceMacro* reference = nullptr;
      check(ImageSOPInstanceReferenceMacro::create(sl.sopClassUid.c_str(), sl.sopInstanceUid.c_str(), reference), path,
            "source image reference");
      std::unique_ptr<ImageSOPInstanceReferenceMacro> ownedReference(reference);
      OFVector<ImageSOPInstanceReferenceMacro> sources;
      sources.push_back(*reference);
      std::unique_ptr<FGDerivationImage> derivation(
          DcmSegmentation::createDerivationImageFG(sources, "voxseg automatic segmentation"));
      if (!derivation) throw Error(ExitCode::Output, path + ": cannot build the derivation image reference");
      OFVector<FGBase*> perFrame{position.get(), &frameContent, derivation.get()};
      check(seg->addFrame(frame.data(), number, perFrame), path, "frame");
      packed.add(frame.data());
    }
  }
  IODReferences references;
  for (const auto& sl : slices)
    references.add(new IODImageReference(patientId.c_str(), studyUid.c_str(), s.seriesUid.c_str(),
                                         sl.sopInstanceUid.c_str(), sl.sopClassUid.c_str()));
  seg->getCommonInstanceReference().addReferences(references, studyUid.c_str());

  AtomicOutput out(path, overwrite);
  DcmFileFormat file;
  DcmDataset& written = *file.getDataset();
  check(seg->writeDataset(written), path, "dataset");
  const std::vector<Uint8> pixelData = packed.pixelData();
  check(written.putAndInsertUint8Array(DCM_PixelData, pixelData.data(), static_cast<unsigned long>(pixelData.size())),
        path, "pixel data");
  // voxseg's text as it is (UTF-8, with ISO_IR 192 from sourceTextToUtf8 when any of it is not ASCII)
  written.putAndInsertString(DCM_SeriesDescription, detail::utf8Prefix(options.seriesDescription, 64).c_str());
  written.putAndInsertString(DCM_ContentDescription, detail::utf8Prefix(options.seriesDescription, 64).c_str());
  DcmSequenceOfItems* segments = nullptr;
  check(written.findAndGetSequence(DCM_SegmentSequence, segments), path, "segment sequence");
  std::size_t item = 0;
  for (int value : present)
    check(segments->getItem(static_cast<unsigned long>(item++))
              ->putAndInsertString(DCM_SegmentLabel, detail::utf8Prefix(segmentName(value, known), 64).c_str()),
          path, "segment label");
  check(file.saveFile(out.tempPath().c_str(), EXS_LittleEndianExplicit), path, "write");
  out.commit();
}

} // namespace voxseg::io
