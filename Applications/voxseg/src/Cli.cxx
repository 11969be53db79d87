#include "Cli.h"

#include "Commands.h"
#include "voxseg/cli/CommandLine.h"
#include "voxseg/core/Error.h"
#include "voxseg/core/Log.h"
#include "voxseg/core/Version.h"
#include "voxseg/io/AtomicOutput.h"

#include <CLI/CLI.hpp>
#include <itkDataObject.h>
#include <itkObject.h>
#include <itkVersion.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <ostream>
#include <string>
#include <tuple>
#include <vector>

namespace voxseg::cli {
namespace {

void addReadOptions(CLI::App& cmd, io::ReadOptions& read, std::string& nonUniform) {
  cmd.add_option("--series", read.seriesUid,
                 "DICOM folder: SeriesInstanceUID of the series to read, or largest (the axial CT/MR series with the "
                 "most slices)");
  cmd.add_option("--nonuniform", nonUniform,
                 "DICOM slices not evenly spaced or missing: error (default), accept (mean spacing), resample")
      ->check(CLI::IsMember({"error", "accept", "resample"}));
  cmd.add_option("--max-voxels", read.maxVoxels, "refuse volumes with more voxels than this")->capture_default_str();
}

// A finite number within [lo, hi] (an open end excludes its bound); CLI11's Range lets NaN through.
CLI::Validator finiteWithin(double lo, double hi, bool loOpen, bool hiOpen) {
  const std::string range = std::string(loOpen ? "(" : "[") + CLI::detail::to_string(lo) + ", " +
                            (std::isinf(hi) ? std::string("inf") : CLI::detail::to_string(hi)) + (hiOpen ? ")" : "]");
  return CLI::Validator(
      [=](std::string& text) -> std::string {
        double v = 0;
        std::size_t used = 0;
        try {
          v = std::stod(text, &used);
        } catch (const std::exception&) {
          used = 0;
        }
        const bool in =
            used == text.size() && std::isfinite(v) && (loOpen ? v > lo : v >= lo) && (hiOpen ? v < hi : v <= hi);
        return in ? std::string() : "value " + text + " not in " + range;
      },
      "NUMBER in " + range);
}
const CLI::Validator kThreads = CLI::Range(0, 4096);

std::array<double, 3> parseTriple(const std::string& text, const std::string& option) {
  std::array<double, 3> v{};
  std::size_t pos = 0;
  for (int i = 0; i < 3; ++i) {
    const auto comma = text.find(',', pos);
    if ((i < 2) == (comma == std::string::npos))
      throw usageError(option + " '" + text + "': expected three comma-separated numbers");
    try {
      v[std::size_t(i)] = std::stod(text.substr(pos, comma - pos));
    } catch (const std::exception&) {
      throw usageError(option + " '" + text + "': expected three comma-separated numbers");
    }
    pos = comma + 1;
  }
  return v;
}

// The segment subcommand's card overrides, as typed.
struct OverrideText {
  std::string axisOrder, patch, tiling, importance, normalization, spacing;
  double step = -1, overlap = -1, sigmaScale = -1;
  int swBatch = 0;
  bool tta = false, noTta = false;
};

pipeline::CardOverrides parseOverrides(const OverrideText& t) {
  pipeline::CardOverrides o;
  if (!t.axisOrder.empty()) o.axisOrder = t.axisOrder == "xyz" ? AxisOrder::XYZ : AxisOrder::ZYX;
  if (!t.patch.empty()) {
    const auto p = parseTriple(t.patch, "--patch");
    for (double v : p)
      if (!(v >= 1 && v <= 4096 && v == std::floor(v)))
        throw usageError("--patch '" + t.patch + "': expected three whole numbers of voxels (1..4096)");
    o.patch = std::array<int, 3>{int(p[0]), int(p[1]), int(p[2])};
  }
  if (!t.tiling.empty()) o.tiling = t.tiling == "monai" ? Tiling::Rule::Monai : Tiling::Rule::NnUNet;
  if (t.step > 0) o.step = t.step;
  if (t.overlap >= 0) o.overlap = t.overlap;
  if (!t.importance.empty()) {
    if (t.importance == "constant")
      o.importance = ImportanceMap::Type::Constant;
    else if (t.importance == "gaussian_nnunet")
      o.importance = ImportanceMap::Type::GaussianNnUNet;
    else if (t.importance == "gaussian_monai")
      o.importance = ImportanceMap::Type::GaussianMonai;
    else // "gaussian": the flavour of the tiling rule in use (the card's, or --tiling), resolved with the card
      o.importanceOfTiling = true;
  }
  if (t.sigmaScale > 0) o.sigmaScale = t.sigmaScale;
  if (t.swBatch > 0) o.swBatch = t.swBatch;
  if (t.tta && t.noTta) throw usageError("--tta and --no-tta exclude each other");
  if (t.tta) o.tta = true;
  if (t.noTta) o.tta = false;
  if (!t.normalization.empty())
    o.normalization = t.normalization == "zscore" ? Normalization::Type::ZScore : Normalization::Type::None;
  if (!t.spacing.empty()) {
    if (t.spacing == "input")
      o.spacing = std::optional<std::array<double, 3>>{};
    else {
      const auto sp = parseTriple(t.spacing, "--spacing");
      for (double v : sp)
        if (!(std::isfinite(v) && v > 0))
          throw usageError("--spacing '" + t.spacing + "': expected 'input' or three spacings above 0 (mm)");
      o.spacing = std::optional<std::array<double, 3>>{sp};
    }
  }
  return o;
}

// CLI11 2.1 writes a positional taking 1 or 2 values as "inputs(1x)" in the usage line; this writes the given
// text for that positional instead (e.g. "[image] labels").
class PositionalUsage : public CLI::Formatter {
public:
  PositionalUsage(const CLI::Option* option, std::string usage) : option_(option), usage_(std::move(usage)) {}
  std::string make_option_usage(const CLI::Option* opt) const override {
    return opt == option_ ? usage_ : CLI::Formatter::make_option_usage(opt);
  }

private:
  const CLI::Option* option_;
  std::string usage_;
};

std::string versionText() {
  return std::string("voxseg ") + versionString() + " (ITK " + itk::Version::GetITKVersion() + ")";
}

} // namespace

int main(int argc, char** argv, std::ostream& out, std::ostream& err) {
  CLI::App app{"voxseg: 3D medical image segmentation toolkit", "voxseg"};
  app.set_version_flag("--version", versionText());
  app.require_subcommand(1);
  app.fallthrough(); // -q, -v, --log-json also after the subcommand
  bool verbose = false, quiet = false, logJson = false;
  app.add_flag("-v,--verbose", verbose, "more messages on stderr");
  app.add_flag("-q,--quiet", quiet, "only errors on stderr");
  app.add_flag("--log-json", logJson, "log messages as JSON lines on stderr (time, level, message)");
  app.footer("Exit codes: 0 ok, 1 internal error, 2 usage, 3 bad input, 4 output not written, "
             "5 model error, 130 interrupted.");

  InfoArgs info;
  std::string infoNonUniform = "error";
  auto* infoCmd = app.add_subcommand("info", "Show size, spacing, origin, direction, orientation, pixel type and "
                                             "intensity range of a volume, or the series of a DICOM folder");
  infoCmd->add_option("input", info.input, "volume file (.nii, .nii.gz, .nrrd, .mha, .mhd, .dcm) or DICOM folder")
      ->required();
  infoCmd->add_flag("--json", info.json, "print JSON instead of text");
  addReadOptions(*infoCmd, info.read, infoNonUniform);

  ConvertArgs conv;
  std::string convNonUniform = "error";
  auto* convCmd = app.add_subcommand("convert", "Convert a volume or DICOM series to NIfTI/NRRD/MHA, optionally "
                                                "reoriented losslessly (axis permutation and flips)");
  convCmd->add_option("input", conv.input, "volume file, DICOM folder or DICOM SEG (.dcm)")->required();
  convCmd
      ->add_option("output", conv.output,
                   "output file: .nii.gz, .nii, .nrrd, .mha, .seg.nrrd, or .dcm (DICOM SEG of a label map)")
      ->required();
  convCmd->add_option("--reference-series", conv.referenceSeries,
                      "DICOM folder: the series a SEG output refers to, or the grid a SEG input is read onto "
                      "(default: the grid its frames span)");
  convCmd->add_flag("--binarize", conv.binarize, "write a mask: voxels above 0 become 1 (uint8)");
  convCmd->add_flag("--rtstruct", conv.rtstruct,
                    "write the .dcm output as an RT Structure Set (closed planar contours per slice) instead of a SEG");
  convCmd->add_option(
      "--label-table", conv.labelTable,
      "names, colors and codes for a .dcm or .seg.nrrd output (model card, dataset.json, Slicer .ctbl or .csv, "
      "ITK-SNAP label file)");
  convCmd->add_option("--orient", conv.orient, "target orientation code, e.g. RAS, LPS, PIR (closest axes)")
      ->check(
          CLI::Validator([](std::string& code) { return code.empty() ? "an empty orientation code" : ""; }, "CODE"));
  convCmd->add_flag("-f,--force", conv.force, "overwrite an existing output file");
  addReadOptions(*convCmd, conv.read, convNonUniform);

  SegmentArgs seg;
  OverrideText ov;
  std::string segNonUniform = "error";
  bool noOptimize = false, optimize = false;
  auto* segCmd =
      app.add_subcommand("segment", "Segment a volume with a TorchScript model (card embedded, or given by "
                                    "--card / the overrides below) or an nnU-Net v2 model folder; the label map is "
                                    "written on the input's grid");
  segCmd->add_option(
      "-m,--model", seg.models,
      "TorchScript model (.pt; repeat for an ensemble of folds, averaged in logit space), or an nnU-Net v2 "
      "trained-model folder (detected; same as --nnunet, and repeatable as it is)");
  segCmd
      ->add_option("--nnunet", seg.nnunet,
                   "nnU-Net v2 trained-model folder (plans.json, dataset.json, fold_N/) run natively with nnU-Net's "
                   "preprocessing, sliding window and export; repeat for an ensemble of configurations (e.g. 2d and "
                   "3d_fullres: their probabilities averaged, as nnUNetv2_ensemble does); or a dataset's nnU-Net "
                   "results folder holding inference_information.json (nnUNetv2_find_best_configuration's: its "
                   "configuration or ensemble, folds and post-processing)")
      ->allow_extra_args(false); // one folder per occurrence
  std::string foldsText = "auto";
  segCmd
      ->add_option("--folds", foldsText,
                   "--nnunet: folds to ensemble, e.g. 0,1,2,3,4; all: fold_all; auto: every fold_N holding the "
                   "checkpoint (else fold_all)")
      ->capture_default_str();
  segCmd->add_option("--checkpoint", seg.nnunetOptions.checkpoint, "--nnunet: checkpoint_<name>.pth")
      ->check(CLI::IsMember({"final", "best"}))
      ->capture_default_str();
  segCmd->add_option("--previous-stage", seg.previousStage,
                     "--nnunet cascade stage (3d_cascade_fullres): the previous stage's model folder (run first), or "
                     "its label map for this input ({case} in a --batch); default: the sibling 3d_lowres folder");
  bool disableTta = false;
  segCmd->add_flag("--disable-tta", disableTta, "no test-time mirroring (nnU-Net's name; --no-tta for TorchScript)");
  segCmd->add_option("-i,--input", seg.inputs,
                     "input volume or DICOM folder; repeat for multi-channel models, in card order");
  segCmd
      ->add_option("-o,--output", seg.output,
                   "label map: .nii.gz, .nii, .nrrd, .mha, or .seg.nrrd (3D Slicer segmentation with names and "
                   "colors); with --batch a pattern containing {case}")
      ->required();
  segCmd->add_option("--batch", seg.batch,
                     "segment every case of a folder (volume files, <case>_0000.nii.gz channel files, DICOM "
                     "subfolders) or CSV manifest (case id, input path(s)); failed cases are reported, not fatal");
  segCmd->add_option("--summary", seg.summary, "--batch: summary CSV (a JSON twin is written beside it)");
  segCmd->add_flag("--skip-existing", seg.skipExisting, "--batch: skip cases whose outputs all exist (resume)");
  segCmd->add_option("--jobs", seg.jobs, "--batch: 2 reads the next case while one runs")->check(CLI::Range(1, 2));
  segCmd->add_option("--instances", seg.instances,
                     "instance map: every connected component of --instance-classes gets its own id; a JSON table "
                     "(class, voxels, ml, centroid, box) goes beside it");
  segCmd->add_option("--instance-classes", seg.instanceClasses, "labels split into instances: 1,2 or all")
      ->capture_default_str();
  segCmd->add_option("--split", seg.split, "folder for one binary mask per label (<name>.nii.gz)");
  segCmd->add_option("--color-table", seg.colorTables,
                     "color table for viewers: .ctbl / .csv (3D Slicer) or .txt / .label (ITK-SNAP); repeatable");
  segCmd->add_option("--report", seg.report,
                     "report.json: inputs, model and SHA-256, device, timings, per-label volumes, warnings");
  segCmd->add_option("--nnunet-postprocessing", seg.nnunetPostprocessing,
                     "nnU-Net's postprocessing.json (nnUNetv2_determine_postprocessing): its steps, as "
                     "nnUNetv2_apply_postprocessing runs them, before the options below; none: not the one an "
                     "nnU-Net results folder names");
  segCmd->add_option("--keep-largest", seg.keepLargest, "keep only the largest component of these labels: 1,2 or all");
  segCmd->add_option("--fill-holes", seg.fillHoles, "fill enclosed background inside these labels: 1,2 or all");
  segCmd->add_option("--min-size", seg.minVoxels, "drop components smaller than this many voxels")
      ->check(finiteWithin(0, HUGE_VAL, false, true));
  segCmd->add_option("--min-volume", seg.minMl, "drop components smaller than this volume (ml)")
      ->check(finiteWithin(0, HUGE_VAL, false, true));
  segCmd->add_option("--remap", seg.remap, "relabel at the end: old:new pairs, e.g. 1:3,2:0");
  segCmd->add_option("--progress", seg.progress, "auto (bar on a terminal, lines otherwise), bar, plain, none")
      ->check(CLI::IsMember({"auto", "bar", "plain", "none"}))
      ->capture_default_str();
  segCmd->add_option("--card", seg.card, "model card JSON to use instead of the embedded one");
  segCmd->add_option("--save-logits", seg.saveLogits,
                     "also write the blended network outputs (float32, one component per class)");
  segCmd->add_option("--save-probabilities", seg.saveProbabilities, "also write softmax (or sigmoid) probabilities");
  segCmd->add_option("--axis-order", ov.axisOrder, "network input order: xyz (MONAI/nibabel) or zyx (nnU-Net)")
      ->check(CLI::IsMember({"xyz", "zyx"}));
  segCmd->add_option("--patch", ov.patch, "window size a,b,c in axis order");
  segCmd->add_option("--tiling", ov.tiling, "window placement rule")->check(CLI::IsMember({"nnunet", "monai"}));
  segCmd->add_option("--step", ov.step, "nnU-Net tiling: step as a fraction of the patch")
      ->check(finiteWithin(0, 1, true, false));
  segCmd->add_option("--overlap", ov.overlap, "MONAI tiling: overlap fraction")->check(finiteWithin(0, 1, false, true));
  segCmd->add_option("--importance", ov.importance, "window weights")
      ->check(CLI::IsMember({"constant", "gaussian", "gaussian_nnunet", "gaussian_monai"}));
  segCmd->add_option("--sigma-scale", ov.sigmaScale, "Gaussian sigma as a fraction of the patch")
      ->check(finiteWithin(0, HUGE_VAL, true, true));
  segCmd->add_option("--sw-batch", ov.swBatch, "windows per forward call")
      ->check(CLI::Range(1, 64)); // the card's range
  segCmd->add_flag("--tta", ov.tta, "test-time mirroring (the card's axes, or all three)");
  segCmd->add_flag("--no-tta", ov.noTta, "no test-time mirroring");
  segCmd->add_option("--normalization", ov.normalization, "override every channel's normalization")
      ->check(CLI::IsMember({"none", "zscore"}));
  segCmd->add_option("--spacing", ov.spacing, "network spacing: 'input' (no resampling) or a,b,c in axis order (mm)");
  segCmd->add_option("--device", seg.options.device.name, "auto, cpu, cuda, cuda:N")->capture_default_str();
  segCmd->add_option("--threads", seg.options.threads, "CPU threads (0 = every core)")
      ->check(kThreads)
      ->capture_default_str();
  segCmd->add_option("--precision", seg.options.precision, "CUDA autocast precision")
      ->check(CLI::IsMember({"float32", "tf32", "float16", "bfloat16"}))
      ->capture_default_str();
  segCmd->add_flag("--cudnn-benchmark", seg.options.cudnnBenchmark,
                   "CUDA: let cuDNN time its algorithms for the window shape first (seconds per shape; may pay off "
                   "over a long batch)");
  segCmd->add_flag("--optimize", optimize,
                   "rewrite transposed convolutions on the CPU (default unless the card "
                   "accumulates in float16, as nnU-Net does)");
  segCmd->add_flag("--no-optimize", noOptimize,
                   "run the TorchScript graph as it is (no transposed-convolution rewrite)");
  segCmd->add_option("--dicom-seg", seg.dicomSeg,
                     "also write a DICOM SEG (binary) referencing the input series (-i must be a DICOM folder)");
  segCmd->add_option("--dicom-rtstruct", seg.rtstruct,
                     "also write an RT Structure Set (contours per slice) referencing the input series (-i: a DICOM "
                     "folder)");
  segCmd->add_option("--render", seg.render,
                     "folder for label meshes (STL), 3D and slice pictures and review.html, as `voxseg render` "
                     "writes them ({case} in batches)");
  segCmd->add_option("--shard", seg.shard,
                     "--batch: run every n-th case from the i-th (i/n, 1-based); without it, Slurm's "
                     "SLURM_ARRAY_TASK_ID/COUNT/MIN decide when set; summaries become summary.shard-i-of-n.csv");
  segCmd->add_flag("-f,--force", seg.force, "overwrite existing output files");
  addReadOptions(*segCmd, seg.read, segNonUniform);

  EvaluateArgs eval;
  std::string evalNonUniform = "error";
  auto* evalCmd = app.add_subcommand(
      "evaluate", "Compare predicted label maps with references: overlap and surface metrics per label with the "
                  "conventions of DeepMind surface-distance or MONAI (Documentation/evaluation.md)");
  auto* predictionOption =
      evalCmd->add_option("prediction", eval.prediction, "predicted label map, or a folder of them");
  auto* referenceOption =
      evalCmd->add_option("reference", eval.reference, "reference label map, or a folder (cases matched by file name)");
  evalCmd->add_option("--csv", eval.csv, "instead: a CSV with columns case,prediction,reference")
      ->excludes(predictionOption)
      ->excludes(referenceOption);
  evalCmd->add_option("--labels", eval.labels,
                      "labels to evaluate, by value or name; 1+2+3 (or a region's name) scores a union of labels as "
                      "one mask (default: every label present, or a region-based dataset.json's regions)");
  evalCmd->add_option("--label-table", eval.labelTable,
                      "label names: a model card, nnU-Net dataset.json, Slicer .ctbl or ITK-SNAP label file");
  // One value per occurrence (repeat the option): a positional after it is not taken for a second value.
  evalCmd->add_option("--preset", eval.presets, "deepmind (default) and/or monai; repeat for both")
      ->check(CLI::IsMember({"deepmind", "monai"}))
      ->allow_extra_args(false);
  evalCmd->add_option("--percentile", eval.percentile, "robust Hausdorff percentile")
      ->check(CLI::Range(0.0, 100.0))
      ->capture_default_str();
  evalCmd->add_option("--tolerance", eval.tolerancesMm, "surface Dice / overlap tolerance in mm; repeatable (1, 2)")
      ->allow_extra_args(false);
  evalCmd->add_flag("--resample", eval.resample,
                    "put a prediction on another grid onto the reference grid (nearest neighbour, with a warning)");
  evalCmd->add_option("-o,--output-dir", eval.outputDir,
                      "folder for metrics.csv, metrics.json, summary.csv (per label over cases), report.html and "
                      "box plots (boxplot_<metric>.png)");
  evalCmd->add_option("--nnunet-summary", eval.nnunetSummary,
                      "also nnU-Net's summary.json of the cases (compute_metrics_on_folder's, number for number; the "
                      "labels of --labels or a dataset.json's --label-table)");
  evalCmd->add_option("--determine-postprocessing", eval.determinePostprocessing,
                      "also nnU-Net's postprocessing.json for these predictions (determine_postprocessing's: which "
                      "largest-component steps raise the mean Dice); segment --nnunet-postprocessing applies it");
  evalCmd->add_option("--threads", eval.threads, "labels evaluated at once (0 = every core)")
      ->check(kThreads)
      ->capture_default_str();
  evalCmd->add_flag("--instances", eval.instances,
                    "also lesion-wise metrics: 26-connected components matched by IoU, detection TP/FP/FN, "
                    "per-lesion Dice, panoptic quality (columns instances.<name>)");
  evalCmd
      ->add_option("--ignore-label", eval.ignoreLabel,
                   "voxels the reference labels so are left out of every mask and count, as nnU-Net's evaluation "
                   "leaves its ignore label out (default: a dataset.json's \"ignore\" label)")
      ->check(CLI::Range(1, 65535));
  evalCmd->add_option("--instance-iou", eval.instanceIou, "IoU a component pair must exceed to match (--instances)")
      ->check(CLI::Range(0.0, 0.999999))
      ->capture_default_str();
  evalCmd->add_flag_callback(
      "--no-plots", [&] { eval.plots = false; },
      "skip the PNG box plots (Dice and HD95 per label across cases) in the output folder");
  evalCmd->add_flag("-f,--force", eval.force, "overwrite existing outputs");
  addReadOptions(*evalCmd, eval.read, evalNonUniform);

  RenderArgs render;
  std::string renderNonUniform = "error";
  auto* renderCmd = app.add_subcommand(
      "render", "Surfaces, meshes, 3D and slice pictures and a review page for a label map (Documentation/render.md)");
  auto* renderInputs = renderCmd
                           ->add_option("inputs", render.inputs,
                                        "[image] labels: the image shown under the labels (optional) and "
                                        "the label map")
                           ->required()
                           ->expected(1, 2);
  renderCmd->formatter(std::make_shared<PositionalUsage>(renderInputs, "[image] labels"));
  renderCmd->add_option("-o,--output-dir", render.settings.outputDir, "folder for meshes, pictures and review.html")
      ->required();
  renderCmd->add_option("--label-table", render.labelTable,
                        "label names and colors: model card, nnU-Net dataset.json, Slicer .ctbl or ITK-SNAP file "
                        "(.seg.nrrd label maps carry their own)");
  renderCmd->add_option("--reference", render.reference, "reference label map: Dice, HD95... on the review page");
  renderCmd
      ->add_option("--mesh-format", render.settings.meshFormats,
                   "stl, obj (+ .mtl), ply, vtp, gltf; repeat for several, 'none' for no meshes")
      ->check(CLI::IsMember({"stl", "obj", "ply", "vtp", "gltf", "none"}))
      ->allow_extra_args(false) // one value per occurrence, as for evaluate's --preset
      ->capture_default_str();
  renderCmd->add_flag("--combined", render.settings.combined, "one mesh file with every label (labels.<ext>)");
  renderCmd
      ->add_option("--mesh-space", render.settings.meshSpace,
                   "coordinates of mesh files: lps (Slicer >= 4.11, ITK, DICOM) or ras")
      ->check(CLI::IsMember({"lps", "ras"}))
      ->capture_default_str();
  renderCmd
      ->add_option("--smoothing", render.settings.surface.smoothingIterations,
                   "windowed-sinc smoothing iterations (0: none)")
      ->capture_default_str();
  renderCmd->add_option("--pass-band", render.settings.surface.passBand, "windowed-sinc pass band (smaller: smoother)")
      ->capture_default_str();
  renderCmd->add_option("--decimate", render.settings.surface.decimation, "fraction of triangles removed (0: none)")
      ->capture_default_str();
  renderCmd->add_option("--size", render.settings.size, "3D pictures: width and height in pixels")
      ->capture_default_str();
  renderCmd->add_option("--tile", render.settings.tile, "slice pictures: pixels per tile")->capture_default_str();
  renderCmd->add_option("--mosaic", render.mosaic, "slice pictures: ROWSxCOLUMNS of slices")->capture_default_str();
  renderCmd
      ->add_option("--window", render.settings.window,
                   "intensity window: auto, ct-soft, ct-bone, ct-lung, ct-brain, mr (percentiles) or lo,hi")
      ->capture_default_str();
  renderCmd->add_flag_callback(
      "--no-3d", [&] { render.settings.views3d = false; }, "no 3D pictures (anterior, left, superior)");
  renderCmd->add_flag_callback(
      "--no-slices", [&] { render.settings.slices = false; }, "no slice pictures (axial, coronal, sagittal)");
  renderCmd->add_flag_callback(
      "--no-review", [&] { render.settings.review = false; }, "no review.html");
  renderCmd->add_flag("--interactive", render.settings.interactive, "then open a window with the surfaces ($DISPLAY)");
  renderCmd->add_option("--threads", render.settings.threads, "labels meshed at once (0 = every core)")
      ->check(kThreads)
      ->capture_default_str();
  renderCmd->add_flag("-f,--force", render.settings.force, "overwrite existing outputs");
  addReadOptions(*renderCmd, render.read, renderNonUniform);

  ReportMergeArgs merge;
  auto* reportCmd = app.add_subcommand("report", "Work on batch reports");
  reportCmd->require_subcommand(1);
  auto* mergeCmd = reportCmd->add_subcommand(
      "merge", "Merge batch summaries (e.g. one per shard or Slurm array task) into one summary .csv/.json");
  mergeCmd->add_option("summaries", merge.inputs, "summary .csv or .json files")->required();
  mergeCmd->add_option("-o,--output", merge.output, "merged summary .csv (the .json beside it)")->required();
  mergeCmd->add_flag("-f,--force", merge.force, "overwrite the merged summary");

  TrainArgs trainArgs;
  auto& to = trainArgs.options;
  auto* trainCmd = app.add_subcommand(
      "train", "Train a 3D U-Net (nnU-Net's PlainConvUNet) on an nnU-Net raw dataset; the model folder runs with "
               "`segment -m` (Documentation/training.md)");
  trainCmd->add_option("dataset", to.dataset, "nnU-Net raw dataset: dataset.json, imagesTr/, labelsTr/")->required();
  trainCmd->add_option("-o,--output", to.output, "model folder to write (plans.json, dataset.json, fold_0/)")
      ->required();
  trainCmd->add_option("--epochs", to.epochs, "epochs")->capture_default_str();
  trainCmd->add_option("--iterations", to.iterationsPerEpoch, "iterations per epoch")->capture_default_str();
  trainCmd->add_option("--batch", to.batch, "patches per iteration")->capture_default_str();
  auto* patchOption =
      trainCmd->add_option("--patch", trainArgs.patch, "patch size z,y,x (default: planned from the data)");
  trainCmd->add_option("--max-patch-voxels", to.maxPatchVoxels, "planning budget for the patch (not with --patch)")
      ->capture_default_str()
      ->excludes(patchOption); // a given patch is not planned: the budget would be ignored
  trainCmd->add_option("--spacing", trainArgs.spacing, "target spacing z,y,x in mm (default: the median)");
  trainCmd->add_option("--features", to.baseFeatures, "features of the first stage (doubling per stage)")
      ->capture_default_str();
  trainCmd->add_option("--max-features", to.maxFeatures, "feature cap")->capture_default_str();
  trainCmd->add_option("--max-stages", to.maxStages, "at most this many resolution stages")->capture_default_str();
  trainCmd->add_option("--optimizer", to.optimizer, "sgd (Nesterov, momentum 0.99) or adamw")
      ->check(CLI::IsMember({"sgd", "adamw"}))
      ->capture_default_str();
  trainCmd->add_option("--lr", to.learningRate, "initial learning rate, poly decay (default 0.01 sgd, 3e-4 adamw)")
      ->check(finiteWithin(0, HUGE_VAL, true, true)); // 0 means "the default" inside: refused when given
  trainCmd->add_option("--weight-decay", to.weightDecay, "weight decay")->capture_default_str();
  trainCmd->add_flag_callback(
      "--no-deep-supervision", [&] { to.deepSupervision = false; }, "loss at full resolution only");
  trainCmd->add_option("--foreground", to.foregroundFraction, "fraction of patches centred on foreground")
      ->capture_default_str();
  trainCmd->add_flag("--no-augment", trainArgs.noAugment, "no data augmentation");
  auto* valFraction = trainCmd
                          ->add_option("--val-fraction", to.validationFraction,
                                       "cases held out for validation (not with --fold: the fold's split holds out)")
                          ->capture_default_str();
  trainCmd
      ->add_option_function<std::string>(
          "--fold", [&](const std::string& k) { to.fold = k == "all" ? training::kFoldAll : std::stoi(k); },
          "cross-validation fold K (0..4) of nnU-Net's 5-fold split, trained into fold_K beside the others "
          "(instead of --val-fraction); all: every case, into fold_all")
      ->check(CLI::Validator(
          [](std::string& k) {
            const bool number = !k.empty() && k.size() <= 3 && k.find_first_not_of("0123456789") == std::string::npos;
            return number || k == "all" ? std::string() : "'" + k + "' is not a fold number (0, 1, ...) or all";
          },
          "K|all"))
      ->excludes(valFraction); // the fold's validation cases are the split's
  trainCmd->add_option("--splits", to.splits, "nnU-Net's splits_final.json to take --fold's cases from");
  trainCmd->add_option("--validate-every", to.validateEvery, "epochs between validation Dice")->capture_default_str();
  trainCmd->add_option("--checkpoint-every", to.checkpointEvery, "epochs between resumable checkpoints")
      ->capture_default_str();
  trainCmd->add_flag("--resume", to.resume, "continue from the model folder's last checkpoint");
  trainCmd->add_option("--seed", to.seed, "random seed (same seed, data and threads: same model)")
      ->capture_default_str();
  trainCmd->add_option("--threads", to.threads, "CPU threads (0 = every core)")->check(kThreads)->capture_default_str();
  trainCmd->add_option("--device", to.device, "auto, cpu, cuda or cuda:N")->capture_default_str();
  trainCmd->add_flag_callback(
      "--no-curve", [&] { trainArgs.curve = false; }, "skip the training curve PNG");
  trainCmd->add_flag_callback(
      "--no-final-validation", [&] { trainArgs.finalValidation = false; },
      "skip segmenting the validation cases into <fold>/validation/ and their nnU-Net summary.json");
  trainCmd->add_flag("-f,--force", to.force, "overwrite an existing model folder's files");

  auto* modelCmd = app.add_subcommand("model", "Pack a model card into a TorchScript file, or inspect a model");
  modelCmd->require_subcommand(1);
  ModelPackArgs pack;
  auto* packCmd = modelCmd->add_subcommand("pack", "Embed a model card (voxseg.json) into a TorchScript file");
  packCmd->add_option("network", pack.network, "TorchScript file exported from PyTorch or MONAI")->required();
  packCmd->add_option("--card", pack.card, "model card JSON (Documentation/model-card.md)")->required();
  packCmd->add_option("-o,--output", pack.output, "the packed model (.pt)")->required();
  packCmd->add_flag("-f,--force", pack.force, "overwrite an existing output");
  ModelInspectArgs inspect;
  auto* inspectCmd = modelCmd->add_subcommand(
      "inspect", "Print a model's card and its input/output shapes, an nnU-Net folder's plans, labels and folds, or "
                 "what a dataset's nnU-Net results folder (inference_information.json) chose");
  inspectCmd
      ->add_option("model", inspect.model,
                   "TorchScript model (.pt), nnU-Net v2 trained-model folder, or nnU-Net results folder")
      ->required();
  inspectCmd->add_flag("--json", inspect.json, "print JSON");

  if (const auto code = parseCommandLine(app, argc, argv, out, err)) return *code;

  io::installInterruptCleanup();
  initLogging(quiet ? Verbosity::Quiet : verbose ? Verbosity::Verbose : Verbosity::Normal, logJson);
  itk::Object::SetGlobalWarningDisplay(verbose);
  // ITK 5.2 makes this global on first use without a lock; made here, not by two readers at once (evaluate reads the
  // prediction and the reference side by side: LeakSanitizer saw the loser's copy leak)
  itk::DataObject::SetGlobalReleaseDataFlag(itk::DataObject::GetGlobalReleaseDataFlag());
  std::string command = app.get_name(); // "voxseg evaluate", "voxseg report merge": whose --help lists the options
  for (const CLI::App* a = &app; !a->get_subcommands().empty();) {
    a = a->get_subcommands().front();
    command += " " + a->get_name();
  }
  return runReportingErrors(
      err,
      [&]() -> int {
        if (infoCmd->parsed()) {
          info.read.nonUniform = io::parseSliceSpacingPolicy(infoNonUniform);
          return runInfo(info, out);
        }
        if (convCmd->parsed()) {
          conv.read.nonUniform = io::parseSliceSpacingPolicy(convNonUniform);
          return runConvert(conv);
        }
        if (segCmd->parsed()) {
          seg.read.nonUniform = io::parseSliceSpacingPolicy(segNonUniform);
          seg.overrides = parseOverrides(ov);
          if (optimize && noOptimize) throw usageError("--optimize and --no-optimize exclude each other");
          seg.nnunetOptions.tta = !disableTta;
          seg.nnunetOptions.step = ov.step > 0 ? ov.step : 0.5;
          seg.nnunetOptions.folds = pipeline::parseNnUNetFolds(foldsText);
          for (const char* flag : {"--folds", "--checkpoint", "--previous-stage"})
            if (segCmd->count(flag) > 0) seg.nnunetOnly.push_back(flag);
          if (segCmd->count("--instance-classes") > 0 && seg.instances.empty())
            throw usageError("--instance-classes chooses the labels of --instances, which is not given");
          if (optimize) seg.options.optimizeGraph = true;
          if (noOptimize) seg.options.optimizeGraph = false;
          seg.options.maxVoxels = seg.read.maxVoxels;
          return runSegment(seg);
        }
        if (evalCmd->parsed()) {
          eval.read.nonUniform = io::parseSliceSpacingPolicy(evalNonUniform);
          if (evalCmd->count("--instance-iou") > 0 && !eval.instances)
            throw usageError("--instance-iou is the matching threshold of --instances, which is not given");
          if (evalCmd->count("--labels") > 0 && eval.labels.empty()) throw usageError("--labels '': empty item");
          return runEvaluate(eval, out);
        }
        if (renderCmd->parsed()) {
          render.read.nonUniform = io::parseSliceSpacingPolicy(renderNonUniform);
          auto& formats = render.settings.meshFormats;
          if (std::all_of(formats.begin(), formats.end(), [](const std::string& f) { return f == "none"; }))
            formats.clear();
          if (std::find(formats.begin(), formats.end(), "none") != formats.end())
            throw usageError("--mesh-format none (no meshes) cannot be given with other formats");
          // options that shape what this render does not make: said, not silently dropped
          const auto& rs = render.settings;
          const bool surfaces = !formats.empty() || rs.views3d || rs.interactive;
          const bool meshFiles =
              std::any_of(formats.begin(), formats.end(), [](const std::string& f) { return f != "gltf"; });
          for (const auto& [option, ignored, why] : std::vector<std::tuple<const char*, bool, const char*>>{
                   {"--window", render.inputs.size() < 2, "no image is given: the slice pictures show the labels"},
                   {"--size", !rs.views3d, "--no-3d: no 3D picture is drawn"},
                   {"--tile", !rs.slices, "--no-slices: no slice picture is drawn"},
                   {"--mosaic", !rs.slices, "--no-slices: no slice picture is drawn"},
                   {"--combined", !meshFiles, "no mesh format but glTF, which is one file anyway"},
                   {"--mesh-space", formats.empty(), "no mesh file is written"},
                   {"--smoothing", !surfaces, "no surface is made (no mesh, no 3D picture)"},
                   {"--pass-band", !surfaces, "no surface is made (no mesh, no 3D picture)"},
                   {"--decimate", !surfaces, "no surface is made (no mesh, no 3D picture)"}})
            if (ignored && renderCmd->count(option) > 0) spdlog::warn("{} has no effect: {}", option, why);
          return runRender(render);
        }
        if (trainCmd->parsed()) return runTrain(trainArgs);
        if (mergeCmd->parsed()) return runReportMerge(merge, out);
        if (packCmd->parsed()) return runModelPack(pack);
        if (inspectCmd->parsed()) return runModelInspect(inspect, out);
        return static_cast<int>(ExitCode::Usage);
      },
      logJson, command);
}

} // namespace voxseg::cli
