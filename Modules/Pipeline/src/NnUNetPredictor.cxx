#include "voxseg/pipeline/NnUNetPredictor.h"

#include "voxseg/core/Error.h"
#include "voxseg/inference/NnUNetFolder.h"
#include "voxseg/pipeline/LabelImages.h"
#include "voxseg/pipeline/NnUNetEnsemble.h"
#include "voxseg/pipeline/NnUNetInferenceInformation.h"
#include "voxseg/processing/NnUNetPostprocessing.h"

#include <algorithm>
#include <cstdlib>

namespace voxseg::pipeline {

namespace {
bool isResults(const std::string& p) { return isNnUNetResultsFolder(p) && !inference::isNnUNetFolder(p); }
} // namespace

bool namesNnUNetResults(const std::vector<std::string>& folders) {
  return std::any_of(folders.begin(), folders.end(), isResults);
}

NnUNetSelection selectNnUNet(const NnUNetPredictorOptions& options) {
  if (options.folders.empty()) throw usageError("no nnU-Net folder given: a trained-model folder or a results folder");
  if (options.noPostprocessing && !options.postprocessing.empty())
    throw usageError(options.postprocessing + ": a post-processing file is given, and no post-processing is asked for");
  NnUNetSelection out;
  out.folders = options.folders;
  out.nnunet = options.nnunet;
  out.previousStageLabels = options.previousStageLabels;
  std::string postprocessing = options.postprocessing;
  if (const auto it = std::find_if(out.folders.begin(), out.folders.end(), isResults); it != out.folders.end()) {
    if (out.folders.size() > 1)
      throw usageError(*it + ": an nnU-Net results folder (inference_information.json) chooses the configurations "
                             "itself; give it alone");
    out.results = readNnUNetInferenceInformation(*it, !options.noPostprocessing && postprocessing.empty());
    out.folders = out.results.folders;
    if (out.nnunet.folds.empty()) out.nnunet.folds = out.results.folds;
    if (postprocessing.empty()) postprocessing = out.results.postprocessing;
  }
  if (!postprocessing.empty()) {
    out.postprocessing = processing::readNnUNetPostprocessing(postprocessing);
    out.postprocessingFile = postprocessing;
  }
  return out;
}

NnUNetPredictor::NnUNetPredictor(const NnUNetPredictorOptions& options, const SegmenterOptions& run)
    : NnUNetPredictor(selectNnUNet(options), run) {}

NnUNetPredictor::NnUNetPredictor(const NnUNetSelection& selection, const SegmenterOptions& run)
    : resultsFile_(selection.results.file), postprocessingFile_(selection.postprocessingFile),
      steps_(selection.postprocessing), takesPreviousStageLabels_(!selection.previousStageLabels.empty()) {
  models_ = loadNnUNetEnsemble(selection.folders, selection.nnunet, run, takesPreviousStageLabels_,
                               selection.previousStageLabels);
  for (const auto& m : models_) members_.push_back(m.get());
}

NnUNetPredictor::~NnUNetPredictor() = default;
NnUNetPredictor::NnUNetPredictor(NnUNetPredictor&&) noexcept = default;
NnUNetPredictor& NnUNetPredictor::operator=(NnUNetPredictor&&) noexcept = default;

const NnUNetModel& NnUNetPredictor::first() const {
  if (members_.empty()) throw Error(ExitCode::Internal, "NnUNetPredictor: used after it was moved from");
  return *members_.front();
}

std::vector<LabelInfo> NnUNetPredictor::labelTable() const { return pipeline::labelTable(first()); }

std::vector<std::string> NnUNetPredictor::channelNames() const {
  // channel_names: {"0": "CT", "1": "mask"}, ordered by channel number ("10" after "9"); other keys keep file order
  const nlohmann::json& dataset = first().dataset;
  const nlohmann::json names = dataset.value("channel_names", dataset.value("modality", nlohmann::json::object()));
  std::vector<std::pair<long, std::string>> channels;
  bool numbered = true;
  for (const auto& [key, name] : names.items()) {
    char* end = nullptr;
    const long number = std::strtol(key.c_str(), &end, 10);
    numbered = numbered && !key.empty() && *end == '\0';
    channels.emplace_back(number, name.is_string() ? name.get<std::string>() : name.dump());
  }
  if (numbered) std::stable_sort(channels.begin(), channels.end(), [](auto& a, auto& b) { return a.first < b.first; });
  std::vector<std::string> out;
  for (auto& c : channels) out.push_back(std::move(c.second));
  return out;
}

NnUNetResult NnUNetPredictor::segment(const std::vector<io::Volume>& channels, const SegmenterOptions& run,
                                      bool keepProbabilities, const inference::ProgressFn& progress,
                                      const io::Volume* previousStage) const {
  first(); // not moved from
  NnUNetResult r = segmentNnUNetEnsemble(members_, channels, run, keepProbabilities, progress, previousStage);
  if (!steps_.empty()) {
    processing::Postprocessing steps;
    steps.largestOfUnions = steps_;
    r.postprocessed = postprocessLabels(r.labels, steps).unionsRemoved;
  }
  return r;
}

} // namespace voxseg::pipeline
