#include "Batch.h"
#include "Commands.h"
#include "EvaluateReport.h"
#include "EvaluateSupport.h"

#include "voxseg/core/Error.h"
#include "voxseg/evaluation/Evaluate.h"
#include "voxseg/evaluation/Instances.h"
#include "voxseg/evaluation/NnUNetPostprocessingSearch.h"
#include "voxseg/evaluation/NnUNetSummary.h"
#include "voxseg/io/AtomicOutput.h"
#include "voxseg/io/VolumeIO.h"

#include <itkNearestNeighborInterpolateImageFunction.h>
#include <itkResampleImageFilter.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <future>
#include <iomanip>
#include <limits>
#include <map>
#include <optional>
#include <set>

namespace fs = std::filesystem;

namespace voxseg::cli {
namespace {

// postprocessing.pkl beside --determine-postprocessing's .json (nnU-Net writes both in one folder).
// (pp.json or pp.JSON -> pp.pkl; a name without .json gets .pkl added)
std::string picklePath(const std::string& json) {
  std::string ending = json.size() > 5 ? json.substr(json.size() - 5) : "";
  std::transform(ending.begin(), ending.end(), ending.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return (ending == ".json" ? json.substr(0, json.size() - 5) : json) + ".pkl";
}

using LabelImage = itk::Image<std::uint16_t, 3>;

// The label map as uint16 (labels are integers up to 65535; evaluation::toLabelMap checks that).
LabelImage::Pointer asUInt16(const io::Volume& v) {
  const auto lm = evaluation::toLabelMap(v);
  auto img = LabelImage::New();
  img->CopyInformation(v.image);
  img->SetRegions(v.image->GetLargestPossibleRegion());
  img->Allocate();
  std::copy(lm.voxels.begin(), lm.voxels.end(), img->GetBufferPointer());
  return img;
}

// Nearest-neighbour resampling of the prediction onto the reference grid (--resample).
io::Volume onGrid(const io::Volume& prediction, const io::Volume& reference) {
  auto resample = itk::ResampleImageFilter<LabelImage, LabelImage>::New();
  resample->SetInput(asUInt16(prediction));
  resample->SetInterpolator(itk::NearestNeighborInterpolateImageFunction<LabelImage, double>::New());
  resample->SetOutputParametersFromImage(reference.image);
  resample->SetDefaultPixelValue(0);
  resample->Update();
  io::Volume out;
  out.image = resample->GetOutput();
  out.pixelType = PixelType::UInt16;
  out.source = prediction.source;
  return out;
}

double seconds(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

double valueOf(const nlohmann::json& v) {
  if (v.is_number()) return v.get<double>();
  if (v == "inf") return std::numeric_limits<double>::infinity();
  if (v == "-inf") return -std::numeric_limits<double>::infinity();
  return std::numeric_limits<double>::quiet_NaN();
}

// One row per label: voxel counts, overlap metrics, then each preset's metrics as "<preset>.<name>"
// (presets in the order asked for; names in the JSON's order), then "instances.<name>" with --instances
// (lists such as the per-lesion Dice values stay in the JSON only).
nlohmann::json instancesJson(const evaluation::LabelMap& reference, const evaluation::LabelMap& prediction, int label,
                             const evaluation::InstanceOptions& options) {
  const auto m = evaluation::instanceMetrics(reference, prediction, label, options);
  nlohmann::json j = evaluation::instancesToJson(m);
  j["lesion_dice"] = evaluation::lesionDiceJson(m);
  return j;
}

// A result's labels: {label}, or a region's labels.
std::vector<int> labelsOf(const nlohmann::json& result) {
  return result.contains("region") ? result["region"].get<std::vector<int>>()
                                   : std::vector<int>{result.at("label").get<int>()};
}

MetricRow flatten(const std::string& caseId, const nlohmann::json& label, const std::vector<LabelInfo>& names,
                  const std::vector<LabelRegion>& regions, const evaluation::EvaluationOptions& opt, bool instances) {
  MetricRow r;
  r.caseId = caseId;
  r.labels = labelsOf(label);
  for (const auto& n : names)
    if (r.labels == std::vector<int>{n.value}) r.labelName = n.name;
  for (const auto& g : regions) // a region's name (a dataset's {"enhancing": [3]} names label 3 too)
    if (r.labelName.empty() && g.labels == r.labels) r.labelName = g.name;
  std::vector<std::pair<std::string, std::string>> groups{{"voxel_counts", ""}, {"overlap", ""}};
  for (const auto p : opt.presets) groups.emplace_back(evaluation::presetName(p), evaluation::presetName(p) + ".");
  if (instances) groups.emplace_back("instances", "instances.");
  for (const auto& [group, prefix] : groups)
    if (label.contains(group))
      for (const auto& [name, v] : label[group].items())
        if (!v.is_structured()) r.metrics.emplace_back(prefix + name, valueOf(v));
  return r;
}

// The map with the values of `labels` as 1, every other value 0 (a region's mask, for its lesions).
evaluation::LabelMap regionMask(const evaluation::LabelMap& m, const std::vector<int>& labels) {
  std::vector<std::uint16_t> in(65536, 0);
  for (int l : labels) in[std::size_t(l)] = 1;
  evaluation::LabelMap out{std::vector<std::uint16_t>(m.voxels.size()), m.size, m.spacing};
  std::transform(m.voxels.begin(), m.voxels.end(), out.voxels.begin(), [&](std::uint16_t v) { return in[v]; });
  return out;
}

// Both maps with the voxels the reference labels `ignore` as background.
std::pair<evaluation::LabelMap, evaluation::LabelMap>
withoutIgnored(const evaluation::LabelMap& reference, const evaluation::LabelMap& prediction, int ignore) {
  std::pair<evaluation::LabelMap, evaluation::LabelMap> out{reference, prediction};
  for (std::size_t i = 0; i < reference.voxels.size(); ++i)
    if (reference.voxels[i] == ignore) out.first.voxels[i] = out.second.voxels[i] = 0;
  return out;
}

} // namespace

int runEvaluate(const EvaluateArgs& args, std::ostream& out) {
  evaluation::EvaluationOptions opt;
  opt.presets.clear();
  for (const auto& p : args.presets) {
    const auto preset = evaluation::parsePreset(p);
    if (std::find(opt.presets.begin(), opt.presets.end(), preset) != opt.presets.end())
      throw usageError("--preset " + p + " is given twice (the metrics' columns would be too)");
    opt.presets.push_back(preset);
  }
  // (the library refuses them too; here with the option's name, as the parser's own messages)
  if (!(args.percentile >= 0 && args.percentile <= 100))
    throw usageError("--percentile " + numberText(args.percentile) + ": outside 0..100");
  for (const double t : args.tolerancesMm)
    if (!std::isfinite(t) || t < 0)
      throw usageError("--tolerance " + numberText(t) + ": not a finite non-negative number of mm");
  for (std::size_t i = 0; i < args.tolerancesMm.size(); ++i)
    for (std::size_t k = 0; k < i; ++k)
      if (args.tolerancesMm[i] == args.tolerancesMm[k])
        throw usageError("--tolerance " + numberText(args.tolerancesMm[i]) + " is given twice");
  if (opt.presets.empty()) opt.presets.push_back(evaluation::Preset::DeepMind);
  opt.percentile = args.percentile;
  if (!args.tolerancesMm.empty()) opt.tolerancesMm = args.tolerancesMm;
  opt.threads = args.threads;
  DatasetLabelRules rules; // a dataset.json's regions and ignore label
  const std::vector<LabelInfo> table =
      args.labelTable.empty() ? std::vector<LabelInfo>{} : readLabelTable(args.labelTable, &rules);
  const std::vector<LabelRegion>& regions = rules.regions;
  opt.ignoreLabel = args.ignoreLabel >= 0 ? args.ignoreLabel : rules.ignoreLabel;
  if (opt.ignoreLabel >= 0)
    spdlog::info(
        "voxels labelled {} in a reference are left out{}, as nnU-Net's evaluation leaves its ignore label out",
        opt.ignoreLabel, args.ignoreLabel >= 0 ? "" : " (" + args.labelTable + "'s \"ignore\")");
  std::vector<std::vector<int>> chosen; // labels ({value}) and regions; none: every label present
  if (!args.labels.empty()) {
    chosen = selectTargets(args.labels, table, regions);
  } else if (!regions.empty()) { // as nnU-Net scores a region-based dataset: its regions, not the labels
    std::string names;
    for (const auto& r : regions) {
      chosen.push_back(r.labels);
      names += (names.empty() ? "" : ", ") + r.name + " (" + targetText(r.labels) + ")";
    }
    spdlog::info("{} is region-based: evaluating its regions {} as nnU-Net does (--labels picks labels)",
                 args.labelTable, names);
  }
  const bool nnunetOutputs = !args.nnunetSummary.empty() || !args.determinePostprocessing.empty();
  if (!args.determinePostprocessing.empty() && args.resample) // the search reads the predictions as they are
    throw usageError("--determine-postprocessing scores predictions on their reference's grid, as nnU-Net does: "
                     "drop --resample");
  if (nnunetOutputs && chosen.empty()) { // a plain dataset.json: nnU-Net scores its foreground labels
    for (const auto& l : table)
      if (l.value != 0 && l.value != opt.ignoreLabel) chosen.push_back({l.value});
    std::sort(chosen.begin(), chosen.end());
    chosen.erase(std::unique(chosen.begin(), chosen.end()), chosen.end());
    if (chosen.empty())
      throw usageError(std::string(args.nnunetSummary.empty() ? "--determine-postprocessing" : "--nnunet-summary") +
                       " scores fixed labels, as nnU-Net does: give them (--labels, or --label-table dataset.json)");
  }
  for (const auto& t : chosen)
    if (std::find(t.begin(), t.end(), opt.ignoreLabel) != t.end())
      throw usageError((args.labels.empty() ? "the region " + targetText(t) + " of " + args.labelTable
                                            : "--labels '" + args.labels + "'") +
                       ": " + std::to_string(opt.ignoreLabel) + " is the ignore label (its voxels are left out)");
  io::MadeFolders made; // removed again (when empty) if the evaluation fails
  if (!args.outputDir.empty()) made.make(args.outputDir, "the output folder"); // as render's
  const fs::path dir(args.outputDir);
  const std::vector<std::string> files{(dir / "metrics.csv").string(), (dir / "metrics.json").string(),
                                       (dir / "summary.csv").string(), (dir / "report.html").string()};
  if (!args.outputDir.empty())
    for (const auto& f : files) io::AtomicOutput probe(f, args.force); // before any work

  std::vector<std::string> plotted{"dice"}; // box plots, in report.html and as PNG
  for (const auto p : opt.presets)
    plotted.push_back(evaluation::presetName(p) + "." + evaluation::hausdorffMetricName(p, opt.percentile));
  if (!args.outputDir.empty() && args.plots)
    for (const auto& m : plotted) io::AtomicOutput probe((dir / boxPlotFileName(m)).string(), args.force);
  if (nnunetOutputs) { // not one of the other outputs, not an input (--force would replace it)
    std::vector<std::string> outputs = args.outputDir.empty() ? std::vector<std::string>{} : files, inputs;
    if (!args.outputDir.empty() && args.plots)
      for (const auto& m : plotted) outputs.push_back((dir / boxPlotFileName(m)).string());
    for (const std::string* path : {&args.nnunetSummary, &args.determinePostprocessing})
      if (!path->empty()) outputs.push_back(*path);
    if (!args.determinePostprocessing.empty()) outputs.push_back(picklePath(args.determinePostprocessing));
    for (const std::string* in : {&args.prediction, &args.reference, &args.csv, &args.labelTable})
      if (!in->empty()) inputs.push_back(*in);
    io::checkOutputsAgainstInputs(outputs, inputs);
    for (const std::string* path : {&args.nnunetSummary, &args.determinePostprocessing})
      if (!path->empty()) io::AtomicOutput probe(*path, args.force);
    if (!args.determinePostprocessing.empty())
      io::AtomicOutput probe(picklePath(args.determinePostprocessing), args.force);
  }

  const auto cases = listEvalCases(args.prediction, args.reference, args.csv);
  std::error_code dirCheck;
  const bool singlePair = args.csv.empty() && !fs::is_directory(args.prediction, dirCheck);
  if (nnunetOutputs) { // nor a case's file (a CSV may list any)
    std::vector<std::string> outputs, inputs;
    for (const std::string* path : {&args.nnunetSummary, &args.determinePostprocessing})
      if (!path->empty()) outputs.push_back(*path);
    if (!args.determinePostprocessing.empty()) outputs.push_back(picklePath(args.determinePostprocessing));
    for (const auto& c : cases)
      for (const std::string* in : {&c.prediction, &c.reference})
        if (!in->empty()) inputs.push_back(*in);
    io::checkOutputsAgainstInputs(outputs, inputs);
  }
  std::vector<MetricRow> rows;
  nlohmann::json all = nlohmann::json::array();
  evaluation::InstanceOptions instanceOpt;
  instanceOpt.iouThreshold = args.instanceIou;
  // an evaluated case; its json (metrics.json's entry `at`) is made once every case is read
  struct Evaluated {
    std::size_t at = 0;
    const EvalCase* source = nullptr;
    evaluation::LabelMap grid; // size and spacing (no voxels)
    std::uint64_t ignored = 0; // reference voxels holding the ignore label
    std::vector<evaluation::LabelResult> results;
    std::map<std::vector<int>, nlohmann::json> instances;
  };
  std::vector<Evaluated> evaluated;
  int firstFailure = 0;
  std::vector<std::pair<std::string, std::string>> failed; // case, problem
  for (const auto& c : cases) {
    try {
      if (!c.problem.empty()) throw inputError(c.id, c.problem);
      const auto t0 = std::chrono::steady_clock::now();
      // the two files are read side by side (decompression is most of an evaluation's time)
      auto pending = std::async(std::launch::async, [&] { return io::readVolume(c.reference, args.read); });
      io::Volume pred;
      try {
        pred = io::readVolume(c.prediction, args.read);
      } catch (...) {
        pending.wait();
        throw;
      }
      const io::Volume ref = pending.get();
      if (!sameGrid(pred.geometry(), ref.geometry())) {
        if (!args.resample)
          throw inputError(c.prediction, "not on the reference's grid (" + c.reference + "): " +
                                             gridDifference(pred.geometry(), ref.geometry()) + " (use --resample)");
        spdlog::warn("{}: resampled onto the reference grid (nearest neighbour)", c.prediction);
        pred = onGrid(pred, ref);
      }
      const auto refMap = evaluation::toLabelMap(ref), predMap = evaluation::toLabelMap(pred);
      std::vector<std::vector<int>> targets = chosen;
      if (targets.empty())
        for (int l : evaluation::presentLabels(refMap, predMap))
          if (l != opt.ignoreLabel) targets.push_back({l});
      const auto t1 = std::chrono::steady_clock::now();
      Evaluated e;
      e.results = evaluation::evaluateTargets(refMap, predMap, targets, opt);
      spdlog::debug("{}: read in {:.3f} s, {} labels evaluated in {:.3f} s", c.id, seconds(t0, t1), targets.size(),
                    seconds(t1, std::chrono::steady_clock::now()));
      if (opt.ignoreLabel >= 0)
        e.ignored = std::uint64_t(std::count(refMap.voxels.begin(), refMap.voxels.end(), opt.ignoreLabel));
      if (args.instances) {
        // lesions outside the ignored voxels: those are background in both maps there
        std::optional<std::pair<evaluation::LabelMap, evaluation::LabelMap>> cleaned;
        if (opt.ignoreLabel >= 0) cleaned = withoutIgnored(refMap, predMap, opt.ignoreLabel);
        const auto& r = cleaned ? cleaned->first : refMap;
        const auto& p = cleaned ? cleaned->second : predMap;
        for (const auto& t : targets)
          e.instances[t] = t.size() == 1 ? instancesJson(r, p, t[0], instanceOpt)
                                         : instancesJson(regionMask(r, t), regionMask(p, t), 1, instanceOpt);
      }
      e.at = all.size();
      e.source = &c;
      e.grid.size = refMap.size;
      e.grid.spacing = refMap.spacing;
      evaluated.push_back(std::move(e));
      all.push_back(nullptr);
    } catch (const Error& e) {
      if (singlePair) throw; // a plain error, nothing written (a folder or CSV of one case reports it as of many)
      if (!firstFailure) firstFailure = static_cast<int>(e.code());
      const std::string what = e.what();
      spdlog::error("{}", what.rfind(c.id + ": ", 0) == 0 ? what : c.id + ": " + what);
      all.push_back({{"case", c.id}, {"error", e.what()}});
      failed.emplace_back(c.id, e.what());
    }
  }
  // Without --labels, every case is evaluated on every label found in any case: a label that a case has in neither
  // map is an empty-vs-empty pair there (MONAI's Dice 1 with ignore_empty=False, NaN elsewhere), as nnU-Net's
  // evaluation takes every label of every case. Left out, it biased the summaries (and the case's MONAI case-level
  // mean) and changed their case counts from label to label.
  std::set<int> every;
  if (chosen.empty() && evaluated.size() > 1)
    for (const auto& e : evaluated)
      for (const auto& r : e.results) every.insert(r.label);
  for (auto& e : evaluated) {
    std::set<int> missing = every;
    for (const auto& r : e.results) missing.erase(r.label);
    if (!missing.empty()) {
      // Empty-vs-empty values do not depend on the grid but for its voxel count (true negatives): evaluated on
      // one voxel of the case's spacing, the count set after (a whole empty grid per case cost a pass each).
      evaluation::LabelMap voxel{{0}, {1, 1, 1}, e.grid.spacing};
      const std::vector<int> absent(missing.begin(), missing.end());
      for (auto& r : evaluation::evaluateLabels(voxel, voxel, absent, opt)) {
        r.counts.total = e.grid.voxelCount() - e.ignored;
        r.overlap = evaluation::overlapMetrics(r.counts, e.grid.spacing);
        e.results.push_back(std::move(r));
      }
      if (args.instances)
        for (int label : absent) e.instances[{label}] = instancesJson(voxel, voxel, label, instanceOpt);
      std::sort(e.results.begin(), e.results.end(),
                [](const evaluation::LabelResult& a, const evaluation::LabelResult& b) { return a.label < b.label; });
      spdlog::debug("{}: {} label(s) in neither map, evaluated as empty", e.source->id, absent.size());
    }
    nlohmann::json j = evaluation::caseToJson(e.source->id, e.results, opt);
    j["prediction"] = e.source->prediction;
    j["reference"] = e.source->reference;
    if (args.instances) {
      j["options"]["instance_iou"] = args.instanceIou;
      for (auto& l : j["labels"]) l["instances"] = e.instances.at(labelsOf(l));
    }
    for (const auto& l : j["labels"]) rows.push_back(flatten(e.source->id, l, table, regions, opt, args.instances));
    all[e.at] = std::move(j);
  }
  // the console table: Dice and the first preset's percentile Hausdorff distance per case and label
  const std::string hd = evaluation::presetName(opt.presets.front()) + "." +
                         evaluation::hausdorffMetricName(opt.presets.front(), opt.percentile);
  // padded by characters, not bytes: a name with "é" (two UTF-8 bytes) lines up with the others
  const auto width = [](const std::string& text) {
    return int(
        std::count_if(text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xc0) != 0x80; }));
  };
  const auto cell = [&](const std::string& text, int columns) {
    return text + std::string(std::size_t(std::max(1, columns - width(text))), ' ');
  };
  int caseWidth = 24; // wide enough for the longest case name
  for (const auto& r : rows) caseWidth = std::max(caseWidth, width(r.caseId) + 2);
  for (const auto& f : failed) caseWidth = std::max(caseWidth, width(f.first) + 2);
  out << std::left << std::setw(caseWidth) << "case" << std::setw(8) << "label" << std::setw(16) << "name"
      << std::setw(12) << "dice"
      << "hd" << numberText(opt.percentile) << " (mm)\n";
  for (const auto& r : rows) {
    double dice = std::numeric_limits<double>::quiet_NaN(), h = dice;
    for (const auto& [m, v] : r.metrics) {
      if (m == "dice") dice = v;
      if (m == hd) h = v;
    }
    auto shown = [](double v) {
      if (!std::isfinite(v)) return numberText(v);
      char b[32];
      std::snprintf(b, sizeof b, "%.4f", v);
      return std::string(b);
    };
    out << cell(r.caseId, caseWidth) << cell(targetText(r.labels), 8) << cell(r.labelName, 16) << std::setw(12)
        << shown(dice) << shown(h) << "\n";
  }
  for (const auto& [id, why] : failed) out << cell(id, caseWidth) << "not evaluated: " << why << "\n";
  if (!failed.empty())
    spdlog::error("{} of {} case(s) not evaluated (listed above{})", failed.size(), cases.size(),
                  args.outputDir.empty() ? "" : " and in metrics.json, report.html");
  if (rows.empty() && failed.size() < cases.size())
    spdlog::warn("no label but 0{} in any prediction or reference: nothing was compared (--labels names labels to "
                 "evaluate even where both maps lack them)",
                 opt.ignoreLabel >= 0 ? " and the ignore label " + std::to_string(opt.ignoreLabel) : "");
  if (!args.outputDir.empty()) {
    // The four files land together: a failed write leaves the former set (or none), not a mix of two runs.
    io::OutputSet together;
    writeMetricsCsv(rows, files[0], args.force);
    { writeJsonFile(nlohmann::ordered_json{{"cases", all}}, files[1], args.force); }
    const auto summaries = summarizeRows(rows);
    writeSummaryCsv(summaries, rows, files[2], args.force);
    writeHtmlReport(rows, summaries, plotted, "voxseg evaluate", files[3], args.force, failed);
    together.commitAll();
    spdlog::info("wrote {}, {}, {}, {}", files[0], files[1], files[2], files[3]);
    // A former run's box plots (replaced only with --force) must not stand beside these metrics when none are drawn.
    const auto dropFormerPlots = [&] {
      std::error_code ec;
      for (const auto& m : plotted) fs::remove(dir / boxPlotFileName(m), ec);
    };
    if (args.plots && rows.empty()) dropFormerPlots();
    if (args.plots && !rows.empty()) {
      try {
        writeBoxPlotPngs(summaries, rows, plotted, table, args.outputDir, args.force);
        spdlog::info("wrote box plots ({}...) in {}", boxPlotFileName("dice"), args.outputDir);
      } catch (const Error& e) { // the metrics stand without their pictures
        if (e.code() != ExitCode::Internal) throw;
        dropFormerPlots();
        spdlog::warn("box plots not written: {}", e.what());
      }
    }
  }
  // a target's dataset.json region (null: none), and nnU-Net's key of it: the region as the file lists it, else its
  // labels
  const auto regionOf = [&](const std::vector<int>& t) -> const LabelRegion* {
    const auto r = std::find_if(regions.begin(), regions.end(), [&](const LabelRegion& x) { return x.labels == t; });
    return r != regions.end() ? &*r : nullptr;
  };
  const auto nnunetKeyOf = [&](const std::vector<int>& t) {
    const LabelRegion* r = regionOf(t);
    return r ? r->key : t.size() == 1 ? evaluation::nnunetKey(t[0]) : evaluation::nnunetKey(t);
  };
  if (!args.nnunetSummary.empty() && evaluated.empty()) // nnU-Net has no summary of no case either
    spdlog::error("{} not written: no case was evaluated", args.nnunetSummary);
  if (!args.nnunetSummary.empty() && !evaluated.empty()) { // (nnunetSummary lists the cases in nnU-Net's order)
    std::vector<std::string> keys;
    for (const auto& t : chosen) keys.push_back(nnunetKeyOf(t));
    std::vector<evaluation::NnUNetCaseCounts> counts;
    for (const auto& e : evaluated) {
      counts.push_back({e.source->reference, e.source->prediction, {}});
      for (const auto& r : e.results) counts.back().counts.push_back(r.counts);
    }
    writeTextFile(evaluation::nnunetSummary(keys, counts).json, args.nnunetSummary, args.force);
    spdlog::info("wrote {} (nnU-Net's summary.json{})", args.nnunetSummary,
                 failed.empty() ? "" : ", without the cases not evaluated");
  }
  if (!args.determinePostprocessing.empty() && evaluated.empty())
    spdlog::error("{} not written: no case was evaluated", args.determinePostprocessing);
  if (!args.determinePostprocessing.empty() && !evaluated.empty()) {
    evaluation::PostprocessingSearchOptions po;
    po.ignoreLabel = opt.ignoreLabel;
    po.threads = args.threads;
    po.read = args.read;
    po.foregroundLabels = rules.foregroundLabels; // a dataset.json's; else the labels scored
    for (const auto& t : chosen) {
      po.keys.push_back(nnunetKeyOf(t));
      const LabelRegion* r = regionOf(t);
      po.targets.push_back(r ? r->listed : t); // a step's labels_or_regions as listed
      if (rules.foregroundLabels.empty()) po.foregroundLabels.insert(po.foregroundLabels.end(), t.begin(), t.end());
    }
    std::sort(po.foregroundLabels.begin(), po.foregroundLabels.end());
    po.foregroundLabels.erase(std::unique(po.foregroundLabels.begin(), po.foregroundLabels.end()),
                              po.foregroundLabels.end());
    std::vector<evaluation::PostprocessingSearchCase> searched;
    for (const auto& e : evaluated) searched.push_back({e.source->prediction, e.source->reference});
    const auto found = evaluation::determineNnUNetPostprocessing(searched, po);
    for (const auto& line : found.log) spdlog::info("post-processing: {}", line);
    { // the two land together
      io::OutputSet together;
      writeTextFile(found.json, args.determinePostprocessing, args.force);
      writeTextFile(found.pickle, picklePath(args.determinePostprocessing), args.force);
      together.commitAll();
    }
    spdlog::info("wrote {} and {} (nnU-Net's postprocessing.json and .pkl: {} step(s); foreground mean Dice {:.5f} "
                 "-> {:.5f})",
                 args.determinePostprocessing, picklePath(args.determinePostprocessing), found.steps.size(),
                 found.before.foregroundDice, found.after.foregroundDice);
  }
  made.keep();
  return firstFailure;
}

} // namespace voxseg::cli
