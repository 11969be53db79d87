#include "Batch.h"
#include "Commands.h"
#include "Progress.h"
#include "SegmentCase.h"
#include "SegmentOutputs.h"

#include "voxseg/core/Error.h"
#include "voxseg/core/Version.h"
#include "voxseg/inference/Network.h"
#include "voxseg/inference/NnUNetFolder.h"
#include "voxseg/io/AtomicOutput.h"
#include "voxseg/io/DicomSeg.h"
#include "voxseg/io/RtStruct.h"
#include "voxseg/io/SegmentationFiles.h"
#include "voxseg/pipeline/NnUNetPredictor.h"
#include "voxseg/processing/LabelMaps.h"
#include "voxseg/processing/NnUNetPostprocessing.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <new>
#include <optional>
#include <set>
#include <tuple>

namespace fs = std::filesystem;

namespace voxseg::cli {
namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// A --keep-largest / --fill-holes / --instance-classes list: label values, or "all" (the model's foreground labels).
// Without the model (before it loads), only the text is checked; with it, every value must be one of its foreground
// labels.
std::vector<int> labelList(const std::string& text, const std::string& flag, const CaseRunner* model) {
  std::vector<int> out;
  if (text.empty()) return out;
  if (text == "all") {
    if (model)
      for (const auto& l : model->labels())
        if (l.value != 0) out.push_back(l.value);
    return out;
  }
  for (std::size_t pos = 0; pos <= text.size();) {
    const auto comma = std::min(text.find(',', pos), text.size());
    try {
      std::size_t used = 0;
      const std::string item = text.substr(pos, comma - pos);
      const int v = std::stoi(item, &used);
      if (used != item.size() || v < 0 || v > 65535) throw std::invalid_argument(item);
      out.push_back(v);
    } catch (const std::exception&) {
      throw usageError(flag + " '" + text + "': expected label values such as 1,2 or 'all'");
    }
    pos = comma + 1;
  }
  if (!model) return out;
  for (int v : out) {
    const auto& labels = model->labels();
    if (v != 0 && std::any_of(labels.begin(), labels.end(), [v](const LabelInfo& l) { return l.value == v; })) continue;
    std::string known;
    for (const auto& l : labels)
      if (l.value != 0)
        known += (known.empty() ? "" : ", ") + std::to_string(l.value) + (l.name.empty() ? "" : " " + l.name);
    throw usageError(
        flag + " '" + text + "': " +
        (v == 0 ? std::string("0 is the background, not a label") : "the model has no label " + std::to_string(v)) +
        " (its labels: " + known + ")");
  }
  return out;
}

std::map<int, int> remapList(const std::string& text) {
  std::map<int, int> out;
  if (text.empty()) return out;
  for (std::size_t pos = 0; pos <= text.size();) {
    const auto comma = std::min(text.find(',', pos), text.size());
    const std::string item = text.substr(pos, comma - pos);
    const auto colon = item.find(':');
    try {
      if (colon == std::string::npos) throw std::invalid_argument(item);
      std::size_t a = 0, b = 0;
      const int from = std::stoi(item.substr(0, colon), &a), to = std::stoi(item.substr(colon + 1), &b);
      if (a != colon || b != item.size() - colon - 1) throw std::invalid_argument(item);
      if (from < 0 || to < 0 || from > 65535 || to > 65535)
        throw usageError("--remap '" + text + "': " + item + ": labels are 0..65535");
      if (out.count(from)) throw std::invalid_argument("twice"); // 1:3,1:2: which one?
      out[from] = to;
    } catch (const Error&) {
      throw;
    } catch (const std::exception&) {
      throw usageError("--remap '" + text + "': expected old:new pairs such as 1:3,2:0, each old label once");
    }
    pos = comma + 1;
  }
  return out;
}

nlohmann::ordered_json geometryJson(const io::Volume& v) {
  const Geometry g = v.geometry();
  return {{"path", v.source},   {"size", g.size},           {"spacing", g.spacing},
          {"origin", g.origin}, {"direction", g.direction}, {"pixel_type", pixelTypeName(v.pixelType)}};
}

// --skip-existing: a case is done when every file it writes exists. The label map is written first: a run
// killed before the case's report, probabilities, ... leaves it to be done again (its files replaced).
// --skip-existing: every file this case would write is there: its --split masks, and the --render files that every
// case gets (the slices, the review page; not the 3D pictures and meshes, which an empty case has none of), included.
// A DICOM object its report says it did not write (an empty segmentation) is not wanted.
bool caseDone(const OutputPaths& out, const std::vector<LabelInfo>& labels, const RenderSettings& render) {
  std::vector<std::string> files = out.files();
  for (const auto& f : splitFiles(out, labels)) files.push_back(f);
  if (!out.render.empty()) {
    RenderSettings rs = render;
    rs.outputDir = out.render;
    rs.views3d = false;
    rs.meshFormats.clear();
    for (const auto& f : renderDestinations(rs, {})) files.push_back(f);
  }
  std::set<std::string> notWritten;
  std::error_code ec;
  if (!out.report.empty() && fs::exists(out.report, ec)) {
    try {
      std::ifstream in(out.report);
      const auto report = nlohmann::json::parse(in);
      for (const auto& w : report.value("warnings", nlohmann::json::array()))
        for (const std::string* dicom : {&out.dicomSeg, &out.rtstruct})
          if (w.is_string() && !dicom->empty() && w.get<std::string>().rfind(*dicom + ": not written:", 0) == 0)
            notWritten.insert(*dicom);
    } catch (const std::exception&) { // an unreadable report: the case is done again
      return false;
    }
  }
  return std::all_of(files.begin(), files.end(), [&](const std::string& f) {
    std::error_code e;
    return notWritten.count(f) > 0 || fs::exists(f, e);
  });
}

// One case: read (or take the prefetched volumes), segment, post-process, write everything, report.
// `replace`: this case's outputs may replace existing files (--force; and --skip-existing, whose cases that
// run are unfinished: a killed run's outputs, or another run's on the same folder writing the same case).
void processCase(const CaseRunner& model, const SegmentArgs& args, const std::vector<std::string>& inputs,
                 std::vector<io::Volume> volumes, double readSeconds, const OutputPaths& out,
                 const processing::Postprocessing& post, const std::string& caseId, double loadSeconds, bool replace,
                 io::MadeFolders& made) {
  const auto t0 = Clock::now();
  const std::vector<LabelInfo> labels = processing::remapLabels(model.labels(), post.remap); // the written table
  checkOutputNames(out, inputs);
  checkDestinations(out, labels, replace, made);
  if (volumes.empty()) {
    const auto tr = Clock::now();
    for (const auto& p : inputs) volumes.push_back(io::readImage(p, args.read));
    readSeconds = since(tr);
  }
  // A DICOM SEG or RTSTRUCT references one source image per slice: a grid that --nonuniform accept|resample
  // changed has none for some slices. Refused now, not after the network ran and the label map was written. Both
  // objects reference the same series with the same text: checked once (the series' headers are read once).
  std::string objects; // those asked for
  for (const auto& [path, what, option] :
       {std::tuple{out.dicomSeg, "DICOM SEG", "--dicom-seg"}, {out.rtstruct, "RT Structure Set", "--dicom-rtstruct"}}) {
    if (path.empty()) continue;
    if (!fs::is_directory(inputs.front())) // a batch case given as a file (single runs are refused at the start)
      throw usageError(std::string(option) + " needs a DICOM folder as input (" + inputs.front() + " is not one)");
    objects += (objects.empty() ? "" : " and ") + std::string(what);
  }
  if (!objects.empty()) {
    const std::string what = out.dicomSeg.empty() ? "RT Structure Set" : "DICOM SEG"; // the first one asked for
    std::string hint;
    if (args.read.nonUniform != io::SliceSpacingPolicy::Error)
      hint = std::string(" (--nonuniform ") +
             (args.read.nonUniform == io::SliceSpacingPolicy::Accept ? "accept" : "resample") +
             " changed the grid; DICOM SEG and RTSTRUCT outputs must lie on the series' own slices)";
    // The model's name is in the object: text that is not ASCII there needs the source's text in UTF-8 (refused now
    // if it cannot be). A label's name only when the label is present, which is known after the network ran: a
    // warning now, the writer refuses then.
    const std::string modelName = model.description().value("name", std::string());
    const std::string source =
        io::checkOnSeriesGrid(volumes.front(), inputs.front(), args.read.seriesUid, what, {modelName}, hint);
    std::vector<std::string> names; // those that are not ASCII
    for (const auto& l : labels)
      if (!io::isAscii(l.name)) names.push_back(l.name);
    try {
      if (io::isAscii(modelName)) // else the source's text was converted above already
        io::checkSourceText(source, names, what);
    } catch (const Error& e) {
      if (e.code() != ExitCode::Input) throw;
      std::string list;
      for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
      spdlog::warn("{}: if a label named {} is present, the {} cannot be written: {}", caseId, list, objects, e.what());
    }
  }
  nlohmann::ordered_json warnings = nlohmann::ordered_json::array();
  for (const auto& v : volumes)
    for (const auto& w : v.warnings) warnings.push_back(v.source + ": " + w);

  // A cascade stage's previous-stage labels, when given as label maps (--previous-stage)
  std::optional<io::Volume> previous;
  nlohmann::ordered_json previousJson;
  if (const std::string p = model.previousStageLabels(caseId); !p.empty()) {
    const auto tr = Clock::now();
    previous = io::readVolume(p, args.read);
    readSeconds += since(tr);
    previousJson = geometryJson(*previous);
    if (fs::is_regular_file(p)) previousJson["sha256"] = sha256File(p);
  }

  const bool keep = !out.saveLogits.empty() || !out.saveProbabilities.empty();
  CaseResult r;
  {
    Progress bar(parseProgressStyle(args.progress), args.batch.empty() ? "segment" : caseId);
    r = model.run(
        volumes, keep, [&](std::int64_t done, std::int64_t total) { bar.update(done, total); },
        previous ? &*previous : nullptr);
  }
  previous.reset();
  spdlog::info("{} windows, {} forward calls on {} in {:.2f} s", r.stats.windows, r.stats.forwardCalls, r.stats.device,
               r.stats.seconds);

  // The uint16 ITK copy of the labels exists only when a step below reads it.
  const auto tp = Clock::now();
  const bool postprocessing = !post.empty();
  processing::LabelImage::Pointer img;
  if (postprocessing || !out.report.empty() || !out.instances.empty() || !out.split.empty())
    img = toLabelImage(r.labels);
  processing::PostprocessingCounts counts;
  if (postprocessing) {
    counts = processing::postprocess(*img, post);
    if (counts.changed() > 0) r.labels = fromLabelImage(*img, r.labels);
  }
  const double postSeconds = since(tp);
  if (r.labels.geometry() != volumes.front().geometry())
    throw Error(ExitCode::Internal, "the label map's geometry differs from the input's");

  const auto tw = Clock::now();
  // The case's files are renamed into place together at the end: a failure on the way (a full disk at the
  // probabilities, a DICOM SEG refused) leaves none of them, not the label map without its report.
  io::OutputSet together;
  std::vector<std::string> wrote; // said once they are in place
  const auto commit = [&] {
    together.commitAll();
    for (const auto& line : wrote) spdlog::info("{}", line);
  };
  // A concurrent run on the same folders (segment.md) removes an empty folder it made when its own case fails or it
  // is stopped: this run's folders are made again (when missing) just before writing.
  for (const auto& f : out.files())
    if (const fs::path dir = fs::path(f).parent_path(); !dir.empty()) made.make(dir.string());
  if (!out.split.empty()) made.make(out.split, "the --split folder");
  nlohmann::ordered_json written = writeCaseOutputs(out, r, img.GetPointer(), model, labels, replace);
  const double writeSeconds = since(tw);
  wrote.push_back("wrote " + out.labels);
  // No label at all (a normal finding): a DICOM SEG or RT Structure Set holds at least one segment or structure, so
  // none is written; the other outputs are, and the report says why the object is missing.
  const bool empty = visitPixelType(r.labels.pixelType, [&](auto tag) {
    const auto* v = r.labels.as<typename decltype(tag)::type>()->GetBufferPointer();
    return std::all_of(v, v + r.labels.geometry().voxelCount(), [](auto x) { return x == 0; });
  });
  for (const auto& [path, what] : {std::pair{out.rtstruct, "an RT Structure Set"}, {out.dicomSeg, "a DICOM SEG"}})
    if (empty && !path.empty()) {
      const std::string why =
          path + ": not written: the segmentation holds no label, and " + what + " needs at least one";
      spdlog::warn("{}: {}", caseId, why);
      warnings.push_back(why);
    }
  if (!out.rtstruct.empty() &&
      !empty) { // its input is a DICOM folder on the series' grid: checked before the network ran
    io::RtStructOptions o;
    o.seriesUid = args.read.seriesUid;
    o.structureSetLabel = model.description().value("name", std::string("voxseg")).substr(0, 16);
    io::writeRtStruct(r.labels, labels, inputs.front(), out.rtstruct, o, replace);
    written["outputs"].push_back(out.rtstruct);
    wrote.push_back("wrote " + out.rtstruct);
  }
  if (!out.dicomSeg.empty() && !empty) {
    io::DicomSegOptions o;
    o.seriesUid = args.read.seriesUid;
    o.seriesDescription = "voxseg " + model.description().value("name", std::string("segmentation"));
    io::writeDicomSeg(r.labels, labels, inputs.front(), out.dicomSeg, o, replace);
    written["outputs"].push_back(out.dicomSeg);
    wrote.push_back("wrote " + out.dicomSeg);
  }
  nlohmann::ordered_json rendered;
  if (!out.render.empty()) {
    RenderSettings rs = args.renderSettings;
    rs.outputDir = out.render;
    rs.force = replace;
    // made here, so that a later failure of this case (its report) removes them with the pictures its set deletes
    made.make(out.render, "the --render folder");
    if (rs.meshFolder() && !empty) made.make((fs::path(out.render) / "meshes").string());
    RenderInputs in;
    in.caseId = caseId;
    in.image = &volumes.front();
    in.labels = &r.labels;
    in.known = labels;
    in.facts = {{"input", volumes.front().source},
                {"model", model.description().value("name", std::string())},
                {"voxseg", versionString()}};
    rendered = renderCase(in, rs);
    wrote.push_back("rendered into " + out.render);
  }
  if (out.report.empty()) {
    commit();
    return;
  }

  nlohmann::ordered_json inputsJson = nlohmann::ordered_json::array();
  for (const auto& v : volumes) inputsJson.push_back(geometryJson(v));
  nlohmann::ordered_json report{
      {"voxseg_version", versionString()},
      {"case", caseId},
      {"inputs", inputsJson},
      {"model", model.description()},
      {"device", r.stats.device},
      {"threads", inference::threadCount()}, // in effect (--threads 0 is every core)
      {"precision", args.options.precision},
      {"cudnn_benchmark", r.stats.cudnnBenchmark}, // as asked; it acts on CUDA devices only
      {"sliding_window", {{"windows", r.stats.windows}, {"forward_calls", r.stats.forwardCalls}}},
      {"timings_s",
       {{"load_model", loadSeconds},
        {"read", readSeconds},
        {"inference", r.stats.seconds},
        {"postprocess", postSeconds},
        {"write", writeSeconds},
        {"case_total", since(t0) + readSeconds}}},
      {"postprocessing",
       {{"nnunet_postprocessing_changed_voxels", counts.unionsRemoved},
        {"largest_component_removed_voxels", counts.largestRemoved},
        {"holes_filled_voxels", counts.holesFilled},
        {"small_components_removed_voxels", counts.smallRemoved},
        {"remapped_voxels", counts.remapped}}},
      {"labels", labelTable(*img, labels)},
      {"outputs", written.at("outputs")},
      {"warnings", warnings}};
  if (!previousJson.is_null()) report["previous_stage_labels"] = previousJson;
  if (!args.nnunetResults.empty()) report["model"]["inference_information"] = args.nnunetResults;
  if (!args.nnunetPostprocessing.empty()) report["postprocessing"]["nnunet_postprocessing"] = args.nnunetPostprocessing;
  if (written.contains("instances")) report["instances"] = written["instances"];
  if (rendered.contains("files"))
    for (const auto& f : rendered["files"]) report["outputs"].push_back(f);
  report["outputs"].push_back(out.report);
  writeJsonFile(report, out.report, replace);
  commit();
}

// --previous-stage, before the model loads: a trained-model folder (plans.json), or a label map: this input's, or
// one per case of a --batch ({case}).
void checkPreviousStage(const SegmentArgs& args) {
  const fs::path p(args.previousStage);
  if (inference::isNnUNetFolder(args.previousStage)) return;
  std::error_code ec;
  const bool pattern = args.previousStage.find("{case}") != std::string::npos;
  if (args.batch.empty() && pattern)
    throw usageError("--previous-stage " + args.previousStage +
                     ": {case} stands for each case of a --batch; give this input's label map");
  if (!args.batch.empty() && !pattern)
    throw usageError("--batch: --previous-stage " + args.previousStage +
                     " must contain {case} (one label map per case), or be the previous stage's model folder");
  if (fs::is_directory(p, ec)) // nnU-Net's -prev_stage_predictions names a folder of label maps (not DICOM files)
    for (const auto& e : fs::directory_iterator(p, ec))
      if (const std::string name = e.path().filename().string();
          e.is_regular_file(ec) && !volumeFileStem(name).empty() && e.path().extension() != ".dcm")
        throw usageError("--previous-stage " + args.previousStage +
                         ": a folder of label maps, and no trained-model folder (no plans.json): give the label "
                         "map, e.g. " +
                         (p / "{case}.nii.gz").string() + " with --batch");
  if (args.batch.empty() && !fs::exists(p, ec)) throw inputError(args.previousStage, "no such file or folder");
}

struct Shard {
  std::size_t index = 1, count = 1;
};

// Two cases writing one file (x's {case}_p.nii.gz is x_p's {case}.nii.gz), or a case writing the batch summary:
// refused before any case runs, for every case listed (shards write into the same folders). One would replace the
// other's output, and --skip-existing then took the other case for done.
void checkCaseOutputsDisjoint(const std::vector<BatchCase>& cases, const OutputPaths& paths,
                              const std::vector<std::string>& summary) {
  std::map<std::string, std::string> owner; // file -> who writes it
  const auto key = [](const std::string& f) { return fs::absolute(f).lexically_normal().string(); };
  for (const auto& f : summary) owner[key(f)] = "the batch summary";
  for (const auto& c : cases) {
    if (!c.problem.empty()) continue; // not run
    for (const auto& f : paths.forCase(c.id).files()) {
      const auto [it, added] = owner.emplace(key(f), "case '" + c.id + "'");
      if (!added && it->second != "case '" + c.id + "'")
        throw usageError("--batch: case '" + c.id + "' and " + it->second + " would both write " + f +
                         " (rename an input, or change the output names)");
    }
  }
}

// "--shard i/n", or Slurm's array variables when the option is absent (task ids counted from the
// array's minimum), or the whole batch.
Shard parseShard(const std::string& text, bool log = true) {
  Shard s;
  if (text.empty()) {
    const char* id = std::getenv("SLURM_ARRAY_TASK_ID");
    const char* count = std::getenv("SLURM_ARRAY_TASK_COUNT");
    const char* min = std::getenv("SLURM_ARRAY_TASK_MIN");
    const char* step = std::getenv("SLURM_ARRAY_TASK_STEP"); // --array=1-7:2 numbers its tasks 1, 3, 5, 7
    if (!id || !count) return s;
    unsigned long offset = 0, stride = 1;
    try {
      s.count = std::stoul(count);
      const unsigned long task = std::stoul(id), first = min ? std::stoul(min) : 0;
      stride = step && *step ? std::stoul(step) : 1;
      if (task < first || stride == 0) throw std::invalid_argument("task");
      offset = task - first;
    } catch (const std::exception&) {
      throw usageError("Slurm array variables SLURM_ARRAY_TASK_ID " + std::string(id) + ", _MIN, _STEP and _COUNT " +
                       count + " give no shard; use --shard i/n");
    }
    s.index = offset / stride + 1;
    if (offset % stride != 0 || s.index < 1 || s.index > s.count)
      throw usageError("Slurm array task " + std::string(id) + " is not one of " + std::string(count) +
                       " tasks from SLURM_ARRAY_TASK_MIN by SLURM_ARRAY_TASK_STEP (an array given as a list, or a "
                       "task resubmitted alone?); use --shard i/n");
    if (s.count == 1 && log)
      spdlog::warn("batch: a Slurm array of one task runs the whole batch (a task of a larger array resubmitted "
                   "alone? give it --shard i/n)");
    if (log) spdlog::info("batch: shard {} of {} from Slurm's array variables", s.index, s.count);
    return s;
  }
  const auto slash = text.find('/');
  try {
    if (slash == std::string::npos) throw std::invalid_argument("no slash");
    std::size_t used = 0;
    s.index = std::stoul(text.substr(0, slash), &used);
    if (used != slash) throw std::invalid_argument("index");
    s.count = std::stoul(text.substr(slash + 1), &used);
    if (used != text.size() - slash - 1) throw std::invalid_argument("count");
  } catch (const std::exception&) {
    throw usageError("--shard '" + text + "': expected i/n with 1 <= i <= n, e.g. 2/4");
  }
  if (s.count < 1 || s.index < 1 || s.index > s.count)
    throw usageError("--shard '" + text + "': expected i/n with 1 <= i <= n, e.g. 2/4");
  return s;
}

// A batch's output names need {case} (one file or folder per case): refused before the model loads.
void checkBatchPatterns(const OutputPaths& paths) {
  if (paths.labels.find("{case}") == std::string::npos)
    throw usageError("--batch: -o must contain {case}, e.g. -o out/{case}.nii.gz");
  for (const auto& f : paths.files())
    if (f.find("{case}") == std::string::npos)
      throw usageError("--batch: " + f + " must contain {case} (one file per case)");
  if (!paths.render.empty() && paths.render.find("{case}") == std::string::npos)
    throw usageError("--batch: --render " + paths.render + " must contain {case} (one folder per case)");
  if (!paths.split.empty() && paths.split.find("{case}") == std::string::npos)
    throw usageError("--batch: --split " + paths.split + " must contain {case} (one folder per case)");
}

int runBatch(const CaseRunner& model, const SegmentArgs& args, const OutputPaths& paths,
             const processing::Postprocessing& post, double loadSeconds) {
  checkBatchPatterns(paths);
  const Shard shard = parseShard(args.shard);
  const std::vector<LabelInfo> writtenLabels = processing::remapLabels(model.labels(), post.remap); // --split's names
  // shards never write the same summary: summary.shard-<i>-of-<n>.csv, a given --summary name gets the same part
  const std::string shardPart =
      shard.count > 1 ? ".shard-" + std::to_string(shard.index) + "-of-" + std::to_string(shard.count) : "";
  const std::string summaryName = "summary" + shardPart + ".csv";
  // Default: beside the outputs, in the deepest folder of the -o pattern without {case} (per-case
  // folders such as out/{case}/labels.nii.gz put it in out/).
  fs::path summaryDir = fs::path(paths.labels).parent_path();
  while (summaryDir.string().find("{case}") != std::string::npos) summaryDir = summaryDir.parent_path();
  const std::string summary = !args.summary.empty()
                                  ? args.summary.substr(0, args.summary.size() - 4) + shardPart + ".csv"
                                  : (summaryDir / summaryName).string();
  // a resumed batch (--skip-existing) replaces the summary of the run it resumes
  const bool replaceSummary = args.force || args.skipExisting;
  // The summary's folder, made now (and again before the summary is written: see processCase); removed again if
  // the batch fails before its summary is written. One that cannot be made is reported by the AtomicOutput checks.
  io::MadeFolders madeSummaryFolder;
  const auto makeSummaryFolder = [&] {
    const fs::path dir = fs::path(summary).parent_path();
    if (dir.empty()) return;
    try {
      madeSummaryFolder.make(dir.string());
    } catch (const Error&) {
    }
  };
  makeSummaryFolder();
  { // the summary's destinations are checked before any work, like every output
    io::AtomicOutput a(summary, replaceSummary);
    io::AtomicOutput b(fs::path(summary).replace_extension(".json").string(), replaceSummary);
  }
  // A batch killed without cleanup (SIGKILL, node failure) left temporaries: the rerun removes them, from
  // the shared output folders (the summary's too) now and from per-case folders (out/{case}/...) as each
  // case starts.
  const auto sweep = [](const fs::path& dir) {
    for (const auto& name : io::removeStaleTemporaries(dir.string()))
      spdlog::warn("removed {} left by an earlier run that was killed", (dir / name).string());
  };
  std::vector<std::size_t> perCaseFolders; // indices into paths.files() whose folder names {case}
  {
    const fs::path summaryFolder = fs::path(summary).parent_path(); // shared even if its name has "{case}"
    std::set<fs::path> shared{summaryFolder};
    sweep(summaryFolder.empty() ? fs::path(".") : summaryFolder);
    const auto files = paths.files();
    for (std::size_t k = 0; k < files.size(); ++k) {
      const fs::path dir = fs::path(files[k]).parent_path();
      if (dir.string().find("{case}") != std::string::npos)
        perCaseFolders.push_back(k);
      else if (shared.insert(dir).second)
        sweep(dir.empty() ? fs::path(".") : dir);
    }
  }
  // this run's outputs (and their folders) in the batch folder are no cases: a rerun would segment its label maps
  std::vector<std::string> outputs = paths.files();
  for (const std::string* folder : {&paths.split, &paths.render})
    if (!folder->empty()) outputs.push_back(*folder + "/");
  outputs.push_back(summary);
  outputs.push_back(fs::path(summary).replace_extension(".json").string());
  std::vector<BatchCase> cases = listBatch(args.batch, model.channelCount(), outputs);
  checkCaseOutputsDisjoint(cases, paths, {summary, fs::path(summary).replace_extension(".json").string()});
  const std::size_t listed = cases.size();
  if (shard.count > 1) { // every count-th case of the sorted list, from index-1: disjoint, together complete
    std::vector<BatchCase> mine;
    for (std::size_t k = shard.index - 1; k < cases.size(); k += shard.count) mine.push_back(cases[k]);
    cases = std::move(mine);
  }
  spdlog::info("batch: {} case(s) from {}{}", cases.size(), args.batch,
               shard.count > 1 ? fmt::format(" (shard {} of {}, {} listed)", shard.index, shard.count, listed) : "");

  auto readCase = [&args](const BatchCase& c) {
    std::vector<io::Volume> v;
    for (const auto& p : c.inputs) v.push_back(io::readImage(p, args.read));
    return v;
  };
  std::vector<nlohmann::ordered_json> rows;
  int firstFailure = 0;
  std::optional<std::future<std::vector<io::Volume>>> next;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const BatchCase& c = cases[i];
    const OutputPaths out = paths.forCase(c.id);
    nlohmann::ordered_json row{
        {"case", c.id}, {"output", out.labels}, {"error", ""}, {"exit_code", 0}, {"seconds", 0.0}};
    const auto t0 = Clock::now();
    std::future<std::vector<io::Volume>> mine;
    if (next) {
      mine = std::move(*next);
      next.reset();
    }
    // --jobs 2: the next case is read while this one runs
    if (args.jobs > 1 && i + 1 < cases.size() && cases[i + 1].problem.empty() &&
        !(args.skipExisting && caseDone(paths.forCase(cases[i + 1].id), writtenLabels, args.renderSettings)))
      next = std::async(std::launch::async, readCase, std::cref(cases[i + 1]));
    try {
      if (!c.problem.empty()) throw inputError(args.batch, "case " + c.id + ": " + c.problem);
      const auto files = out.files();
      std::set<fs::path> swept;
      for (std::size_t k : perCaseFolders)
        if (const fs::path dir = fs::path(files[k]).parent_path(); swept.insert(dir).second) sweep(dir);
      for (const std::string* folder : {&out.split, &out.render}) // the masks' and pictures' own folders
        if (!folder->empty() && fs::is_directory(*folder) && swept.insert(*folder).second) sweep(*folder);
      io::MadeFolders made;       // this case's folders: removed again (when empty) if the case fails
      for (const auto& f : files) // per-case folders
        if (const fs::path dir = fs::path(f).parent_path(); !dir.empty()) made.make(dir.string());
      if (args.skipExisting && caseDone(out, writtenLabels, args.renderSettings)) {
        row["status"] = "skipped";
        spdlog::info("{}: {} and the case's other outputs exist, skipped", c.id, out.labels);
      } else {
        std::vector<io::Volume> volumes;
        double readSeconds = 0;
        if (mine.valid()) {
          const auto tr = Clock::now();
          volumes = mine.get();
          readSeconds = since(tr);
        }
        processCase(model, args, c.inputs, std::move(volumes), readSeconds, out, post, c.id, loadSeconds,
                    args.force || args.skipExisting, made);
        row["status"] = "ok";
      }
      made.keep();
    } catch (const std::exception& e) {
      // Any failure ends this case only: a voxseg::Error with its code, anything else (out of memory, a
      // library's exception) as an internal error, so the batch and its summary go on.
      const auto* error = dynamic_cast<const Error*>(&e);
      const ExitCode code = error ? error->code() : ExitCode::Internal;
      const std::string what = error                                     ? std::string(e.what())
                               : dynamic_cast<const std::bad_alloc*>(&e) ? std::string("out of memory")
                                                                         : "internal error: " + std::string(e.what());
      row["status"] = "failed";
      row["output"] = ""; // nothing was written for it (a file there is an earlier run's)
      row["error"] = what;
      row["exit_code"] = static_cast<int>(code);
      if (!firstFailure) firstFailure = static_cast<int>(code);
      spdlog::error("{}: {}", c.id, what);
    }
    row["seconds"] = since(t0);
    rows.push_back(row);
  }
  makeSummaryFolder();
  writeSummary(rows, summary, replaceSummary);
  madeSummaryFolder.keep();
  std::size_t failed = 0;
  for (const auto& r : rows) failed += r["status"] == "failed";
  spdlog::info(
      "batch: {} ok, {} skipped, {} failed; summary {}",
      rows.size() - failed -
          std::size_t(std::count_if(rows.begin(), rows.end(),
                                    [](const nlohmann::ordered_json& r) { return r["status"] == "skipped"; })),
      std::count_if(rows.begin(), rows.end(), [](const nlohmann::ordered_json& r) { return r["status"] == "skipped"; }),
      failed, summary);
  return firstFailure;
}

// --nnunet <a dataset's nnU-Net results folder> (or its inference_information.json,
// nnUNetv2_find_best_configuration's): the configuration or ensemble it chose, on its folds, with its post-processing;
// --folds and --nnunet-postprocessing given on the command line win. "--nnunet-postprocessing none" applies none.
SegmentArgs withNnUNetResults(const SegmentArgs& given) {
  SegmentArgs args = given;
  const bool noPostprocessing = args.nnunetPostprocessing == "none";
  if (std::error_code ec; noPostprocessing && fs::exists("none", ec))
    spdlog::warn("--nnunet-postprocessing none: no post-processing (the file named none here is ./none)");
  if (noPostprocessing) args.nnunetPostprocessing.clear();
  if (args.inputs.empty() && args.batch.empty()) return args; // the usage error comes first
  std::vector<std::string> all = args.nnunet;
  all.insert(all.end(), args.models.begin(), args.models.end());
  if (!pipeline::namesNnUNetResults(all)) return args;
  if (!args.card.empty()) throw usageError("--card applies to TorchScript models, not to nnU-Net results folders");
  const bool foldsGiven = std::count(args.nnunetOnly.begin(), args.nnunetOnly.end(), "--folds") > 0;
  pipeline::NnUNetPredictorOptions o; // what the C++ API selects (the post-processing is read again, with the rest)
  o.folders = all;
  if (foldsGiven) o.nnunet.folds = args.nnunetOptions.folds;
  o.postprocessing = args.nnunetPostprocessing;
  o.noPostprocessing = noPostprocessing;
  const pipeline::NnUNetSelection selection = pipeline::selectNnUNet(o);
  const pipeline::NnUNetInferenceInformation& info = selection.results;
  args.nnunetResults = info.file;
  args.models.clear();
  args.nnunet = selection.folders;
  if (!foldsGiven) args.nnunetOptions.folds = selection.nnunet.folds; // given: even "auto" (every trained fold)
  args.nnunetPostprocessing = selection.postprocessingFile;
  std::string folders, folds;
  for (const auto& f : info.folders) folders += (folders.empty() ? "" : " + ") + fs::path(f).filename().string();
  for (int f : info.folds) folds += (folds.empty() ? "" : ",") + std::to_string(f);
  spdlog::info("{}: {} on folds {}{}, post-processing {} (its cross-validation: foreground mean Dice {:.4f}, {:.4f} "
               "post-processed)",
               info.file, folders, folds, foldsGiven ? " (--folds given instead)" : "",
               args.nnunetPostprocessing.empty() ? "none" : args.nnunetPostprocessing, info.diceBefore, info.diceAfter);
  return args;
}

} // namespace

int runSegment(const SegmentArgs& given) {
  const SegmentArgs args = withNnUNetResults(given);
  OutputPaths paths;
  paths.labels = args.output;
  paths.saveLogits = args.saveLogits;
  paths.saveProbabilities = args.saveProbabilities;
  paths.instances = args.instances;
  paths.split = args.split;
  paths.colorTables = args.colorTables;
  paths.report = args.report;
  paths.render = args.render;
  paths.dicomSeg = args.dicomSeg;
  paths.rtstruct = args.rtstruct;
  for (const auto& [path, option] : {std::pair{args.dicomSeg, "--dicom-seg"}, {args.rtstruct, "--dicom-rtstruct"}})
    if (!path.empty() && args.batch.empty() && !args.inputs.empty() && !fs::is_directory(args.inputs.front()))
      throw usageError(std::string(option) + " needs a DICOM folder as input (" + args.inputs.front() + " is not one)");
  if (!args.read.seriesUid.empty() && args.batch.empty() && !args.inputs.empty() &&
      std::all_of(args.inputs.begin(), args.inputs.end(), [](const auto& p) {
        std::error_code ec; // a missing input is named as such later
        return fs::is_regular_file(p, ec);
      }))
    throw usageError("--series " + args.read.seriesUid + " chooses a series in a DICOM folder, and no input is one (" +
                     args.inputs.front() + " is a file)");
  parseProgressStyle(args.progress); // usage errors before the model loads
  if (args.batch.empty()) {          // batch options without a batch are refused, not ignored
    if (!args.shard.empty()) throw usageError("--shard splits a --batch");
    if (!args.summary.empty()) throw usageError("--summary is the summary of a --batch, which is not given");
    if (args.skipExisting) throw usageError("--skip-existing resumes a --batch, which is not given");
    if (args.jobs > 1) throw usageError("--jobs 2 reads a --batch's next case ahead, and no --batch is given");
    std::vector<std::string> named = paths.files(); // {case} would be written as it stands
    named.insert(named.end(), {paths.render, paths.split});
    for (const auto& f : named)
      if (f.find("{case}") != std::string::npos)
        throw usageError(f + ": {case} stands for each case of a --batch, which is not given");
  }
  if (!args.batch.empty()) parseShard(args.shard, false); // refuse a bad shard before loading the model
  if (!args.summary.empty() && !endsWith(args.summary, ".csv"))
    throw usageError("--summary " + args.summary + ": the batch summary is a .csv (its .json is written beside it)");
  io::MadeFolders made; // a single case's folders (--render, --split): removed again (when empty) if it fails
  if (!args.render.empty()) {
    RenderSettings rs = args.renderSettings;
    rs.outputDir = args.render;
    checkRenderSettings(rs); // a display for the 3D pictures, before the model loads
    if (args.batch.empty() && !args.inputs.empty()) {
      made.make(args.render);
      for (const auto& f : renderDestinations(rs, {})) io::AtomicOutput probe(f, args.force);
    }
  }
  remapList(args.remap);
  if (args.batch.empty() && !args.inputs.empty()) {
    // Every destination is checked before any work (the split files once the labels are known).
    checkOutputNames(paths, args.inputs);
    for (const auto& f : paths.files()) io::AtomicOutput probe(f, args.force);
  }
  if (!args.batch.empty()) { // file types and {case} once, before the model loads
    checkOutputNames(paths, {});
    checkBatchPatterns(paths);
  }
  if (args.batch.empty() && args.inputs.empty()) throw usageError("give the input(s) with -i, or --batch");
  if (!args.batch.empty() && !args.inputs.empty()) throw usageError("-i and --batch exclude each other");
  if ((!args.nnunet.empty() || std::any_of(args.models.begin(), args.models.end(), inference::isNnUNetFolder)) &&
      !args.saveLogits.empty())
    throw usageError("--save-logits is not available with --nnunet (use --save-probabilities)");

  // What can be checked without the model is, before it loads: the inputs are there, the device is one, the label
  // lists are lists (their values are checked against the model's labels once it is loaded).
  for (const auto& input : args.inputs)
    if (std::error_code ec; !fs::exists(input, ec)) throw inputError(input, "no such file or folder");
  inference::checkDevice(args.options.device);
  for (const auto& [text, flag] : {std::pair{args.keepLargest, "--keep-largest"},
                                   {args.fillHoles, "--fill-holes"},
                                   {args.instanceClasses == "all" ? "" : args.instanceClasses, "--instance-classes"}})
    labelList(text, flag, nullptr);
  processing::Postprocessing post;
  if (!args.nnunetPostprocessing.empty()) // a bad file is refused before the model loads
    post.largestOfUnions = processing::readNnUNetPostprocessing(args.nnunetPostprocessing);
  const auto tl = Clock::now();
  if (!args.previousStage.empty()) checkPreviousStage(args);
  const CaseRunner model(args.models, args.card, args.overrides, args.nnunet, args.nnunetOptions, args.nnunetOnly,
                         args.options, args.previousStage);
  const double loadSeconds = since(tl);
  post.keepLargest = labelList(args.keepLargest, "--keep-largest", &model);
  post.fillHoles = labelList(args.fillHoles, "--fill-holes", &model);
  post.minVoxels = args.minVoxels;
  post.minMl = args.minMl;
  post.remap = remapList(args.remap);
  // Instances are found on the final labels: the classes, given as the model's values like the other lists,
  // go through --remap too.
  for (int v : labelList(args.instanceClasses == "all" ? "" : args.instanceClasses, "--instance-classes", &model)) {
    const auto it = post.remap.find(v);
    const int to = it == post.remap.end() ? v : it->second;
    if (to != 0) paths.instanceClasses.push_back(to);
  }

  if (!args.batch.empty()) {
    // names the files cannot hold would fail every case: refused once, before the first case runs
    checkLabelTable(paths, processing::remapLabels(model.labels(), post.remap));
    return runBatch(model, args, paths, post, loadSeconds);
  }
  if (const auto channels = model.channelNames(); args.inputs.size() != channels.size()) { // before any is read
    std::string names;
    for (const auto& c : channels) names += (names.empty() ? "" : ", ") + c;
    throw usageError("-i: the model needs " + std::to_string(channels.size()) + " input volume(s) (" + names +
                     "), got " + std::to_string(args.inputs.size()));
  }
  const std::string name = fs::path(args.inputs.front()).filename().string(); // the case: the first input's name
  const std::string id = volumeFileStem(name).empty() ? name : volumeFileStem(name);
  processCase(model, args, args.inputs, {}, 0.0, paths, post, id, loadSeconds, args.force, made);
  made.keep();
  return 0;
}

} // namespace voxseg::cli
