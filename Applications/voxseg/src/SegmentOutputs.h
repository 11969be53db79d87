#pragma once
// What `voxseg segment` writes for one case besides the label map: Slicer .seg.nrrd, instance map +
// table, per-structure masks, probabilities/logits, color tables, report.json. Every destination is
// checked before any work, and each file is written atomically.

#include "SegmentCase.h"

#include "voxseg/io/AtomicOutput.h"
#include "voxseg/pipeline/LabelImages.h"
#include "voxseg/processing/LabelMaps.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace voxseg::cli {

struct OutputPaths {
  std::string labels;            ///< .nii.gz/.nii/.nrrd/.mha label map, or .seg.nrrd (Slicer segmentation)
  std::string saveLogits;        ///< TorchScript models only
  std::string saveProbabilities; ///< float32 components
  std::string instances;         ///< instance map; its table goes to instancesTable()
  std::vector<int> instanceClasses;
  std::string split; ///< folder for one binary mask per label
  std::vector<std::string> colorTables;
  std::string report;   ///< report.json
  std::string render;   ///< folder for meshes, pictures and review.html (RenderCase.h)
  std::string dicomSeg; ///< DICOM SEG against the input series
  std::string rtstruct; ///< RT Structure Set against the input series

  /// Every file path this request names (the table of instances included), in writing order.
  std::vector<std::string> files() const;
  /// `instances` with its volume extension replaced by ".json".
  std::string instancesTable() const;
  /// These paths with every "{case}" replaced by `id`.
  OutputPaths forCase(const std::string& id) const;
};

/// The --split masks' paths: one per foreground label of `labels`, named after it (a value added where two names
/// would give one file); empty without --split.
std::vector<std::string> splitFiles(const OutputPaths& p, const std::vector<LabelInfo>& labels);

/// Before any work: every output's file type, no output naming an input or another output (usage errors).
void checkOutputNames(const OutputPaths& paths, const std::vector<std::string>& inputs);

/// Throws Error(Usage) when the label map (.seg.nrrd) or a color table cannot hold `labels`' names, colors
/// or codes (io::checkLabelsWritable); nothing is written, so the check may run before the model does.
void checkLabelTable(const OutputPaths& paths, const std::vector<LabelInfo>& labels);

/// checkLabelTable, then Error(Output) for a destination that exists (without `force`) or cannot be written
/// (the --split files are named after `labels`).
void checkDestinations(const OutputPaths& paths, const std::vector<LabelInfo>& labels, bool force,
                       io::MadeFolders& made);

using pipeline::fromLabelImage; // (voxseg/pipeline/LabelImages.h)
using pipeline::toLabelImage;

/// Writes everything requested except the report; returns the JSON fragments for the report
/// ("outputs": [...], "instances": count).
/// `labels`: the label map as the uint16 ITK image (needed for instances and --split; may be null otherwise).
/// `known`: the label table after --remap (names, colors and codes for the written values).
nlohmann::ordered_json writeCaseOutputs(const OutputPaths& paths, const CaseResult& result,
                                        const processing::LabelImage* labels, const CaseRunner& model,
                                        const std::vector<LabelInfo>& known, bool force);

/// The label table of the report: every label present or known to the model with voxels, ml, components.
nlohmann::ordered_json labelTable(const processing::LabelImage& labels, const std::vector<LabelInfo>& known);

} // namespace voxseg::cli
