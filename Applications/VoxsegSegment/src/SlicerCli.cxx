#include "SlicerCli.h"

#include "voxseg/cli/CommandLine.h"
#include "voxseg/core/Error.h"
#include "voxseg/core/Log.h"
#include "voxseg/core/Version.h"
#include "voxseg/io/AtomicOutput.h"
#include "voxseg/io/SegmentationFiles.h"
#include "voxseg/io/VolumeIO.h"
#include "voxseg/pipeline/LabelImages.h"
#include "voxseg/pipeline/NnUNetPredictor.h"
#include "voxseg/pipeline/Segmenter.h"
#include "voxseg/processing/NnUNetPostprocessing.h"

#include <CLI/CLI.hpp>
#include <itkObject.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <iomanip>
#include <optional>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

namespace voxseg::slicer {
namespace {

constexpr const char* kFilterName = "VoxsegSegment";

// The command line as Slicer builds it from VoxsegSegment.xml: flags first, then the indexed
// parameters (input volume, output label map). Empty strings mean "not given".
struct Args {
  std::string input;
  std::string output;
  std::string model;
  std::string nnunet;
  std::string folds = "auto";
  std::string previousStage;  ///< an nnU-Net cascade stage's previous-stage label map
  std::string postprocessing; ///< nnU-Net's postprocessing.json
  std::string device = "cpu";
  bool tta = false;
  int threads = 0;
};

// "ct.nrrd" for ".../ct.nrrd", "3d_fullres" for ".../3d_fullres/".
std::string baseName(const std::string& path) {
  const std::filesystem::path p(path);
  return (p.has_filename() ? p.filename() : p.parent_path().filename()).string();
}

// Fails before any work when the label map could not be written in the end.
void checkOutputPath(const std::string& path) {
  const auto& exts = io::writableExtensions();
  const bool writable = std::any_of(exts.begin(), exts.end(), [&](const std::string& e) {
    return path.size() >= e.size() && path.compare(path.size() - e.size(), e.size(), e) == 0;
  });
  if (!writable) {
    std::string list;
    for (const auto& e : exts) list += (list.empty() ? "" : ", ") + e;
    throw usageError(path + ": cannot write this file type (writable: " + list + ", .seg.nrrd)");
  }
  // Slicer hands over temporary paths that may already exist: they are replaced (overwrite = true).
  io::AtomicOutput probe(path, true);
}

// Slicer's progress protocol on stdout: <filter-start>, <filter-progress> fractions in [0, 1] and
// <filter-end>, each line flushed so the module's progress bar moves while the windows run.
class SlicerProgress {
public:
  SlicerProgress(std::ostream& out, const std::string& comment) : out_(out), start_(std::chrono::steady_clock::now()) {
    out_ << "<filter-start><filter-name>" << kFilterName << "</filter-name><filter-comment>" << escape(comment)
         << "</filter-comment></filter-start>" << std::endl;
  }

  /// Prints the fraction when it moved by at least 0.01 since the last line.
  void report(double fraction) {
    const int hundredths = static_cast<int>(std::lround(std::clamp(fraction, 0.0, 1.0) * 100));
    if (hundredths == last_) return;
    last_ = hundredths;
    out_ << "<filter-progress>" << hundredths / 100 << '.' << std::setw(2) << std::setfill('0') << hundredths % 100
         << "</filter-progress>" << std::endl;
  }

  void end() {
    report(1.0);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    std::ostringstream time;
    time << std::fixed << std::setprecision(2) << seconds;
    out_ << "<filter-end><filter-name>" << kFilterName << "</filter-name><filter-time>" << time.str()
         << "</filter-time></filter-end>" << std::endl;
  }

private:
  static std::string escape(const std::string& text) {
    std::string s;
    for (const char c : text) {
      if (c == '<')
        s += "&lt;";
      else if (c == '>')
        s += "&gt;";
      else if (c == '&')
        s += "&amp;";
      else
        s += c;
    }
    return s;
  }

  std::ostream& out_;
  std::chrono::steady_clock::time_point start_;
  int last_ = -1;
};

// Progress stages: loading the model and reading the input take the first 5%, the sliding window
// (and, for nnU-Net, the export it streams into) up to 95%, writing the label map the rest.
constexpr double kLoaded = 0.05;
constexpr double kWindowsDone = 0.95;

int run(const Args& args, std::ostream& out) {
  if (args.input.empty()) throw usageError("inputVolume: no volume given (an empty path)");
  if (args.output.empty()) throw usageError("outputLabel: no file given (an empty path)");
  const bool nnunet = !args.nnunet.empty();
  if (nnunet && !args.model.empty())
    throw usageError("give either --model (TorchScript) or --nnunet (nnU-Net v2 folder), not both");
  if (!nnunet && args.model.empty())
    throw usageError("give a model with --model (TorchScript .pt) or --nnunet (nnU-Net v2 trained-model folder)");
  // --folds is ignored with --model: Slicer passes its default on every run. "auto": every trained fold, or for a
  // dataset's results folder (inference_information.json) the folds it names.
  const std::vector<int> folds = nnunet ? pipeline::parseNnUNetFolds(args.folds) : std::vector<int>{};
  const bool noPostprocessing = args.postprocessing == "none";
  checkOutputPath(args.output);
  // Read before any work: a trained-model folder, or a dataset's results folder (the configuration or ensemble that
  // nnUNetv2_find_best_configuration chose), and the post-processing: the results folder's unless another file (or
  // none) is given. --model: the file given.
  std::optional<pipeline::NnUNetSelection> selection;
  processing::Postprocessing post; // --model's
  if (nnunet) {
    pipeline::NnUNetPredictorOptions o;
    o.folders = {args.nnunet};
    o.nnunet.folds = folds;
    o.nnunet.tta = args.tta;
    o.noPostprocessing = noPostprocessing;
    if (!noPostprocessing) o.postprocessing = args.postprocessing;
    if (!args.previousStage.empty()) o.previousStageLabels = "--previousStage " + args.previousStage;
    selection = pipeline::selectNnUNet(o);
  } else if (!noPostprocessing && !args.postprocessing.empty()) {
    post.largestOfUnions = processing::readNnUNetPostprocessing(args.postprocessing);
  }
  const std::string postprocessing = // the file applied
      nnunet ? selection->postprocessingFile : (noPostprocessing ? "" : args.postprocessing);

  // what can be refused without the input is refused before it is read (a large volume is not read for nothing)
  if (!args.previousStage.empty() && !nnunet)
    throw usageError("--previousStage is the label map of an nnU-Net cascade's previous stage; give --nnunet");
  inference::checkDevice(inference::DeviceSpec{args.device});
  if (std::error_code ec; !nnunet && !std::filesystem::exists(args.model, ec))
    throw Error(ExitCode::Model, args.model + ": no such model file");
  if (std::error_code ec;
      !nnunet && std::filesystem::is_directory(args.model, ec)) // the library's hint names segment -m
    throw usageError("--model " + args.model +
                     ": a folder, not a TorchScript file (an nnU-Net folder is given as "
                     "--nnunet)");
  for (const std::string& path : {args.input, args.previousStage}) // missing: named before the model loads
    if (std::error_code ec; !path.empty() && !std::filesystem::exists(path, ec))
      throw inputError(path, "no such file or folder");
  const std::string modelPath = nnunet ? args.nnunet : args.model;
  SlicerProgress progress(out, "segmenting " + baseName(args.input) + " with " + baseName(modelPath));
  pipeline::SegmenterOptions options;
  options.device.name = args.device;
  options.threads = args.threads;

  // the model loads, and its labels are checked against the output, before the input is read (a large volume is not
  // read for a model folder missing a fold)
  std::optional<pipeline::NnUNetPredictor> predictor;
  std::optional<pipeline::Model> model;
  std::vector<LabelInfo> table; // names and colors for a .seg.nrrd output
  if (nnunet) {
    predictor.emplace(*selection, options);
    table = predictor->labelTable();
  } else {
    pipeline::CardOverrides overrides;
    overrides.tta = args.tta; // the check box decides, whatever the card's default
    model.emplace(pipeline::loadModel({args.model}, "", overrides, options));
    table = pipeline::labelTable(*model);
  }
  io::checkLabelsWritable(table, args.output); // before the windows run
  progress.report(0.03);
  std::vector<io::Volume> inputs;
  inputs.push_back(io::readImage(args.input));
  std::optional<io::Volume> previous;
  if (!args.previousStage.empty()) previous = io::readVolume(args.previousStage);
  progress.report(kLoaded);
  const auto windows = [&](std::int64_t done, std::int64_t total) {
    progress.report(kLoaded + (kWindowsDone - kLoaded) * double(done) / double(std::max<std::int64_t>(total, 1)));
  };

  io::Volume labels;
  inference::RunStats stats;
  std::size_t changed = 0;
  if (nnunet) {
    pipeline::NnUNetResult r = predictor->segment(inputs, options, false, windows, previous ? &*previous : nullptr);
    labels = std::move(r.labels);
    stats = r.stats;
    changed = r.postprocessed;
  } else {
    pipeline::Segmentation s = pipeline::segment(*model, inputs, options, false, windows);
    labels = std::move(s.labels);
    stats = s.stats;
  }
  if (!post.largestOfUnions.empty()) changed = pipeline::postprocessLabels(labels, post).unionsRemoved;
  progress.report(kWindowsDone);

  io::WriteOptions write;
  write.overwrite = true;
  if (io::isSegNrrdPath(args.output)) // a 3D Slicer segmentation, with names and colors
    io::writeSegNrrd(labels, table, args.output, write);
  else
    io::writeVolume(labels, args.output, write);
  out << stats.windows << " windows, " << stats.forwardCalls << " forward calls on " << stats.device << " in "
      << std::fixed << std::setprecision(2) << stats.seconds << " s; ";
  if (!postprocessing.empty()) out << "nnU-Net post-processing changed " << changed << " voxels; ";
  out << "wrote " << args.output << std::endl;
  progress.end();
  return 0;
}

} // namespace

bool wantsXml(int argc, const char* const* argv) {
  for (int i = 1; i < argc; ++i)
    if (std::strcmp(argv[i], "--xml") == 0) return true;
  return false;
}

int main(int argc, char** argv, std::ostream& out, std::ostream& err) {
  CLI::App app{"VoxsegSegment: 3D Slicer CLI module segmenting a volume with a voxseg TorchScript model or an "
               "nnU-Net v2 trained-model folder; the label map is written on the input's grid",
               "VoxsegSegment"};
  app.set_version_flag("--version", std::string("VoxsegSegment (voxseg ") + versionString() + ")");
  app.footer("Exit codes: 0 ok, 1 internal error, 2 usage, 3 bad input, 4 output not written, 5 model error, "
             "130 interrupted. Progress: <filter-progress> lines on stdout (Slicer Execution Model).");
  Args args;
  bool xml = false;
  app.add_flag("--xml", xml, "print the Slicer Execution Model description and exit");
  app.add_option("inputVolume", args.input, "volume to segment (.nrrd, .nii.gz, .nii, .mha, DICOM folder)")->required();
  app.add_option("outputLabel", args.output,
                 "label map to write (.nrrd, .seg.nrrd, .nii.gz, .nii or .mha); replaced if it exists")
      ->required();
  app.add_option("--model", args.model, "TorchScript model (.pt) with an embedded voxseg model card");
  app.add_option("--nnunet", args.nnunet,
                 "nnU-Net v2 trained-model folder (plans.json, dataset.json, fold_N/checkpoint_final.pth)");
  app.add_option("--folds", args.folds,
                 "--nnunet: folds to ensemble, e.g. 0,1,2,3,4; all: fold_all; auto: every trained fold")
      ->capture_default_str();
  app.add_option("--previousStage", args.previousStage,
                 "--nnunet cascade stage (3d_cascade_fullres): the previous stage's label map on the input's grid; "
                 "default: the 3d_lowres folder beside it runs first");
  app.add_option("--nnunetPostprocessing", args.postprocessing,
                 "nnU-Net's postprocessing.json (nnUNetv2_determine_postprocessing), applied to the labels as "
                 "nnUNetv2_apply_postprocessing applies it; with a results folder, its own unless this is given; "
                 "none: no post-processing");
  app.add_option("--device", args.device, "where the network runs")
      ->check(CLI::IsMember({"cpu", "cuda"}))
      ->capture_default_str();
  app.add_flag("--tta", args.tta, "test-time mirroring (the model's mirror axes, or all three)");
  app.add_option("--threads", args.threads, "CPU threads (0 = every core)")
      ->check(CLI::Range(0, 256)) // the XML's range: the same from Slicer's panel and from a terminal
      ->capture_default_str();

  if (const auto code = cli::parseCommandLine(app, argc, argv, out, err)) return *code;

  io::installInterruptCleanup();
  // Slicer reports a run that wrote to stderr as "completed with errors": only errors go there.
  initLogging(Verbosity::Quiet);
  itk::Object::SetGlobalWarningDisplay(false);
  return cli::runReportingErrors(
      err, [&] { return run(args, out); }, false, "VoxsegSegment");
}

} // namespace voxseg::slicer
