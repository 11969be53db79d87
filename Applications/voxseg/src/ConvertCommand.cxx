#include "Batch.h"
#include "Commands.h"
#include "EvaluateSupport.h"

#include "voxseg/core/Error.h"
#include "voxseg/core/LabelColors.h"
#include "voxseg/core/LabelExtents.h"
#include "voxseg/io/AtomicOutput.h"
#include "voxseg/io/DicomSeg.h"
#include "voxseg/io/RtStruct.h"
#include "voxseg/io/SegmentationFiles.h"
#include "voxseg/io/VolumeIO.h"
#include "voxseg/processing/Reorient.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>

namespace voxseg::cli {
namespace {

// A label map and its segments to `path`: .seg.nrrd with names and colors, any other volume format plain.
void writeLabels(const io::Volume& v, const std::vector<LabelInfo>& segments, const std::string& path, bool force) {
  io::WriteOptions w;
  w.overwrite = force;
  if (endsWith(path, ".seg.nrrd"))
    io::writeSegNrrd(v, segments, path, w);
  else
    io::writeVolume(v, path, w);
}

// DICOM SEG -> label map (+ one mask per segment beside it when segments overlap).
int segToLabels(const ConvertArgs& args) {
  const auto seg = io::readDicomSeg(args.input, args.referenceSeries, args.read);
  std::vector<std::string> maskPaths;
  if (!seg.overlaps.empty()) {
    const std::string stem = volumeFileStem(args.output).empty() ? args.output : volumeFileStem(args.output);
    const std::string ext = args.output.substr(stem.size());
    for (const auto& s : seg.segments)
      maskPaths.push_back(stem + "_segment" + std::to_string(s.value) + (endsWith(ext, ".seg.nrrd") ? ".nrrd" : ext));
    for (const auto& p : maskPaths) io::AtomicOutput probe(p, args.force);
  }
  io::OutputSet together; // the label map and the masks land together (a failed mask left the label map alone)
  writeLabels(seg.labels, seg.segments, args.output, args.force);
  for (const auto& s : seg.segments) spdlog::info("segment {}: {}", s.value, s.name);
  if (!seg.overlaps.empty()) {
    for (const auto& o : seg.overlaps) spdlog::warn("{}: {} (the label map keeps the later segment)", args.input, o);
    io::WriteOptions w;
    w.overwrite = args.force;
    for (std::size_t i = 0; i < maskPaths.size(); ++i) io::writeVolume(seg.masks[i], maskPaths[i], w);
    spdlog::info("overlapping segments: one mask per segment written beside {}", args.output);
  }
  together.commitAll();
  spdlog::info("wrote {}", args.output);
  return 0;
}

// A label table given by the user describes every label of the map: a value it lacks would be written
// with a made-up name and color, so it is refused.
std::vector<int> presentLabelValues(const io::Volume& labels) {
  const std::vector<std::uint16_t> voxels = io::labelValues(labels);
  return presentLabels(voxels.data(), voxels.size());
}

void requireLabelsInTable(const io::Volume& labels, const std::vector<LabelInfo>& table, const std::string& tablePath) {
  std::string missing;
  for (const int value : presentLabelValues(labels))
    if (std::none_of(table.begin(), table.end(), [&](const LabelInfo& l) { return l.value == value; }))
      missing += (missing.empty() ? "" : ", ") + std::to_string(value);
  if (!missing.empty()) throw inputError(tablePath, "no entry for label value(s) " + missing + " of " + labels.source);
}

// --binarize: 1 where the input is above 0, else 0 (uint8, the same grid).
io::Volume binarized(const io::Volume& v) {
  io::Volume mask = io::makeVolume(PixelType::UInt8, v.geometry());
  mask.source = v.source;
  mask.niftiPlacement = v.niftiPlacement;
  const auto f = v.toFloat();
  std::uint8_t* m = mask.as<std::uint8_t>()->GetBufferPointer();
  for (std::size_t i = 0; i < v.geometry().voxelCount(); ++i) m[i] = f->GetBufferPointer()[i] > 0 ? 1 : 0;
  return mask;
}

} // namespace

int runConvert(const ConvertArgs& args) {
  if (!args.orient.empty()) {
    try {
      validateOrientationCode(args.orient);
    } catch (const Error& e) { // with the option's name, as the parser's own messages
      throw usageError("--orient " + args.orient + ": " + e.what());
    }
  }
  const auto& volumes = io::writableExtensions(); // the volume writer's list, plus what convert writes itself
  if (!endsWith(args.output, ".dcm") &&
      std::none_of(volumes.begin(), volumes.end(), [&](const std::string& e) { return endsWith(args.output, e); })) {
    std::string list;
    for (const auto& e : volumes) list += e + ", ";
    throw usageError(args.output + ": cannot write this file type (writable: " + list +
                     ".seg.nrrd for 3D Slicer, .dcm for DICOM SEG or RT Structure Set)");
  }
  // Options that would do nothing are refused, not ignored.
  if (!args.labelTable.empty() && !endsWith(args.output, ".seg.nrrd") && !endsWith(args.output, ".dcm"))
    throw usageError("--label-table " + args.labelTable + ": names the segments of a .seg.nrrd or DICOM output; " +
                     args.output + " is a label map without names");
  // Check the destination before reading: a large input should not be read for nothing.
  io::checkOutputsAgainstInputs({args.output}, {args.input});
  { io::AtomicOutput probe(args.output, args.force); }
  if (args.rtstruct && !endsWith(args.output, ".dcm")) throw usageError("--rtstruct writes a .dcm file");
  // a DICOM SEG by its content, whatever its name (DICOM files often have no extension; a SEG named otherwise was
  // read as a plain label map, without its segments' names and colors, until 2026-11-29)
  std::error_code ec;
  if (std::filesystem::is_regular_file(args.input, ec) && io::isDicomSegFile(args.input)) {
    if (!args.orient.empty()) throw usageError("--orient does not apply to a DICOM SEG input");
    if (args.binarize)
      throw usageError("--binarize does not apply to a DICOM SEG input (its segments are written apart)");
    if (endsWith(args.output, ".dcm"))
      throw usageError(args.output + ": a DICOM SEG input is written as a label map (.nii.gz, .nii, .nrrd, .mha or "
                                     ".seg.nrrd), not as DICOM again");
    if (!args.labelTable.empty()) // the SEG names its segments itself
      throw usageError("--label-table " + args.labelTable + ": a DICOM SEG input names and colors its segments itself");
    return segToLabels(args);
  }
  if (!args.referenceSeries.empty() && !endsWith(args.output, ".dcm"))
    throw usageError("--reference-series " + args.referenceSeries +
                     ": the series a DICOM output refers to (or the grid "
                     "a DICOM SEG input is read onto); " +
                     args.input + " is no DICOM SEG and " + args.output + " no DICOM output");
  if (!args.read.seriesUid.empty() && std::filesystem::is_regular_file(args.input, ec) &&
      !endsWith(args.output, ".dcm"))
    throw usageError("--series " + args.read.seriesUid +
                     " chooses a series in a DICOM folder (or the --reference-series"
                     " of a DICOM output); " +
                     args.input + " is a file");
  io::Volume v = io::readVolume(args.input, args.read);
  if (args.binarize) v = binarized(v); // one segment or structure, label 1, in a DICOM output too
  if (endsWith(args.output, ".dcm")) { // label map -> DICOM SEG or RT Structure Set against its source series
    if (args.referenceSeries.empty())
      throw usageError(std::string(args.rtstruct ? "an RT Structure Set" : "a DICOM SEG") +
                       " output needs its source series: --reference-series <DICOM folder>");
    if (!args.orient.empty())
      throw usageError("--orient does not apply to a DICOM SEG output (it keeps the series' grid)");
    const auto labels = args.labelTable.empty() ? std::vector<LabelInfo>{} : readLabelTable(args.labelTable);
    if (!args.labelTable.empty()) requireLabelsInTable(v, labels, args.labelTable);
    if (args.rtstruct) {
      io::RtStructOptions o;
      o.seriesUid = args.read.seriesUid;
      io::writeRtStruct(v, labels, args.referenceSeries, args.output, o, args.force);
    } else {
      io::DicomSegOptions o;
      o.seriesUid = args.read.seriesUid;
      io::writeDicomSeg(v, labels, args.referenceSeries, args.output, o, args.force);
    }
    spdlog::info("wrote {}", args.output);
    return 0;
  }
  if (!args.orient.empty()) {
    const std::string before = orientationCode(v.geometry().direction);
    v.image = processing::reorientTo(*v.image, v.pixelType, args.orient);
    spdlog::info("reoriented {} -> {}", before, orientationCode(v.geometry().direction));
  }
  std::vector<LabelInfo> segments;
  if (endsWith(args.output, ".seg.nrrd") && !args.labelTable.empty()) {
    segments = readLabelTable(args.labelTable);
    requireLabelsInTable(v, segments, args.labelTable);
  } else if (endsWith(args.output, ".seg.nrrd") && v.pixelType != PixelType::Float32 &&
             v.pixelType != PixelType::Float64) {
    // No table: one segment per label present, "label N" in the default color (as for DICOM SEG), so
    // that Slicer shows segments, not an undescribed layer.
    for (const int value : presentLabelValues(v)) {
      LabelInfo l = describeLabel(value, {});
      if (l.name.empty()) l.name = "label " + std::to_string(value);
      segments.push_back(l);
    }
  }
  writeLabels(v, segments, args.output, args.force);
  spdlog::info("wrote {}", args.output);
  return 0;
}

} // namespace voxseg::cli
