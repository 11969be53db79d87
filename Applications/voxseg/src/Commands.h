#pragma once
// voxseg subcommands as functions: main.cxx parses the command line into these structs, and
// tests call the functions directly. Each returns a process exit code or throws voxseg::Error.

#include "RenderCase.h"

#include "voxseg/io/VolumeIO.h"
#include "voxseg/pipeline/NnUNet.h"
#include "voxseg/pipeline/Segmenter.h"
#include "voxseg/training/Train.h"

#include <iosfwd>
#include <string>

namespace voxseg::cli {

struct InfoArgs {
  std::string input;
  bool json = false;
  io::ReadOptions read;
};
int runInfo(const InfoArgs& args, std::ostream& out);

struct ConvertArgs {
  std::string input;
  std::string output;
  std::string orient;          ///< empty: keep the input's index order
  std::string referenceSeries; ///< DICOM folder: the source of a SEG (output .dcm) or the grid to read one onto
  std::string labelTable;      ///< names, colors and codes for a SEG or .seg.nrrd output
  bool rtstruct = false;       ///< a .dcm output is an RT Structure Set instead of a SEG
  bool binarize = false;       ///< voxels > 0 become 1 (uint8): a mask from a label map or a skull-stripped image
  bool force = false;
  io::ReadOptions read;
};
int runConvert(const ConvertArgs& args);

struct SegmentArgs {
  std::vector<std::string> models; ///< several: an ensemble (folds), averaged in logit space
  std::string card;                ///< a card file replacing the embedded one
  std::vector<std::string> inputs;
  std::string output;
  std::string saveLogits;
  std::string saveProbabilities;
  pipeline::CardOverrides overrides;
  std::vector<std::string> nnunet; ///< nnU-Net v2 trained-model folders instead of --model; several: an ensemble
  /// The nnU-Net results folder (inference_information.json) that chose `nnunet`, the folds and the post-processing.
  std::string nnunetResults;
  pipeline::NnUNetOptions nnunetOptions;
  std::vector<std::string> nnunetOnly; ///< nnU-Net-folder options given (--folds, --checkpoint): refused otherwise
  /// A cascade stage's previous stage: its model folder, or its label map ("{case}": the case id)
  std::string previousStage;
  pipeline::SegmenterOptions options;
  bool force = false;
  io::ReadOptions read;
  // more outputs (see SegmentOutputs.h); "{case}" in a path is the case id (batches)
  std::string instances;               ///< instance map (+ <stem>.json table)
  std::string instanceClasses = "all"; ///< "1,3" or "all"
  std::string split;                   ///< folder of per-label binary masks
  std::vector<std::string> colorTables;
  std::string report;
  std::string render;   ///< folder: meshes, pictures, review page (renderSettings)
  std::string dicomSeg; ///< DICOM SEG against the input series (the input must be a DICOM folder)
  std::string rtstruct; ///< RT Structure Set against the input series (likewise)
  RenderSettings renderSettings;
  // post-processing after the model's own: label lists are "1,2" or "all"
  std::string nnunetPostprocessing;          ///< nnU-Net's postprocessing.json, applied before the steps below
  std::string keepLargest, fillHoles, remap; ///< remap: "old:new,..."
  std::int64_t minVoxels = 0;
  double minMl = 0;
  // batch
  std::string batch;   ///< folder or CSV manifest; outputs must contain {case}
  std::string summary; ///< summary .csv (and .json beside it); default: beside the first case's labels
  bool skipExisting = false;
  int jobs = 1;      ///< 2: read the next case while this one runs
  std::string shard; ///< "i/n" (1-based): every n-th case from the i-th; empty: Slurm's array variables if set
  std::string progress = "auto";
};
int runSegment(const SegmentArgs& args);

struct EvaluateArgs {
  std::string prediction, reference; ///< two label maps or two folders (cases matched by file name)
  std::string csv;                   ///< or a CSV: case,prediction,reference
  std::string labels;                ///< "1,2" or names (with labelTable); empty: every label present
  std::string labelTable;            ///< model card, dataset.json, .ctbl or ITK-SNAP table
  int ignoreLabel = -1; ///< voxels the reference holds this value are left out; -1: dataset.json's, or none
  std::vector<std::string> presets{"deepmind"};
  double percentile = 95;
  std::vector<double> tolerancesMm;    ///< empty: 1 and 2 mm
  bool resample = false;               ///< prediction onto the reference grid (nearest neighbour)
  std::string outputDir;               ///< metrics.csv/.json, summary.csv, report.html
  std::string nnunetSummary;           ///< nnU-Net's summary.json of the cases (compute_metrics_on_folder's)
  std::string determinePostprocessing; ///< nnU-Net's postprocessing.json for the cases (determine_postprocessing's)
  int threads = 0;
  bool instances = false;   ///< lesion-wise detection and panoptic quality per label ("instances.<name>")
  double instanceIou = 0.5; ///< components match when their IoU is above this
  bool plots = true;        ///< box plots as PNG in outputDir (VTK charts; an X server or Xvfb)
  bool force = false;
  io::ReadOptions read;
};
/// Prints a per-case per-label table (Dice, HD95) to `out`; returns 0, or the first failed case's code.
int runEvaluate(const EvaluateArgs& args, std::ostream& out);

struct RenderArgs {
  std::vector<std::string> inputs; ///< [image] labels
  std::string labelTable;          ///< names and colors (model card, dataset.json, .ctbl, ITK-SNAP)
  std::string reference;           ///< optional reference label map: metrics on the review page
  std::string mosaic = "3x3";
  RenderSettings settings;
  io::ReadOptions read;
};
/// Meshes, pictures and review page of one label map (Documentation/render.md).
int runRender(const RenderArgs& args);

struct ReportMergeArgs {
  std::vector<std::string> inputs; ///< shard summaries (.json written beside each summary .csv)
  std::string output;              ///< merged .csv (and .json beside it)
  bool force = false;
};
/// Merges batch summaries (e.g. one per Slurm array task) into one; exit 3 when a case failed.
int runReportMerge(const ReportMergeArgs& args, std::ostream& out);

struct TrainArgs {
  training::TrainOptions options;
  std::string patch, spacing; ///< "z,y,x"
  bool noAugment = false;
  bool curve = true;           ///< training curve PNG beside the checkpoint
  bool finalValidation = true; ///< segment and score the validation cases (<fold>/validation/summary.json)
};
/// Trains on an nnU-Net raw dataset and exports an nnU-Net folder `segment -m` runs (Documentation/training.md).
int runTrain(const TrainArgs& args);

struct ModelPackArgs {
  std::string network;
  std::string card;
  std::string output;
  bool force = false;
};
int runModelPack(const ModelPackArgs& args);

struct ModelInspectArgs {
  std::string model;
  bool json = false;
};
int runModelInspect(const ModelInspectArgs& args, std::ostream& out);

} // namespace voxseg::cli
