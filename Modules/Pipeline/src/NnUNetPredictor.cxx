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

NnUNetPredictor::NnUNetPredictor(const NnUNetPredictorOptions& options, const SegmenterOptions& run) {
  if (options.folders.empty()) throw usageError("no nnU-Net folder given: a trained-model folder or a results folder");
  if (options.noPostprocessing && !options.postprocessing.empty())
    throw usageError(options.postprocessing + ": a post-processing file is given, and no post-processing is asked for");
  std::vector<std::string> folders = options.folders;
  NnUNetOptions nnunet = options.nnunet;
  std::string postprocessing = options.postprocessing;
  const auto results = [](const std::string& p) { return isNnUNetResultsFolder(p) && !inference::isNnUNetFolder(p); };
  if (const auto it = std::find_if(folders.begin(), folders.end(), results); it != folders.end()) {
    if (folders.size() > 1)
      throw usageError(*it + ": an nnU-Net results folder (inference_information.json) chooses the configurations "
                             "itself; give it alone");
    const NnUNetInferenceInformation info =
        readNnUNetInferenceInformation(*it, !options.noPostprocessing && postprocessing.empty());
    resultsFile_ = info.file;
    folders = info.folders;
    if (nnunet.folds.empty()) nnunet.folds = info.folds;
    if (postprocessing.empty()) postprocessing = info.postprocessing;
  }
  if (!postprocessing.empty()) { // a bad file is refused before any network loads
    steps_ = processing::readNnUNetPostprocessing(postprocessing);
    postprocessingFile_ = postprocessing;
  }
  models_ = loadNnUNetEnsemble(folders, nnunet, run, !options.previousStageLabels.empty(), options.previousStageLabels);
  for (const auto& m : models_) members_.push_back(m.get());
}

NnUNetPredictor::~NnUNetPredictor() = default;
NnUNetPredictor::NnUNetPredictor(NnUNetPredictor&&) noexcept = default;
NnUNetPredictor& NnUNetPredictor::operator=(NnUNetPredictor&&) noexcept = default;

std::vector<LabelInfo> NnUNetPredictor::labelTable() const { return pipeline::labelTable(*members_.front()); }

std::vector<std::string> NnUNetPredictor::channelNames() const {
  // channel_names: {"0": "CT", "1": "mask"}, ordered by channel number ("10" after "9"); other keys keep file order
  const nlohmann::json& dataset = members_.front()->dataset;
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
  NnUNetResult r = segmentNnUNetEnsemble(members_, channels, run, keepProbabilities, progress, previousStage);
  if (!steps_.empty()) {
    processing::Postprocessing steps;
    steps.largestOfUnions = steps_;
    r.postprocessed = postprocessLabels(r.labels, steps).unionsRemoved;
  }
  return r;
}

} // namespace voxseg::pipeline
