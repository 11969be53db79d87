#include "voxseg/pipeline/NnUNetEnsemble.h"

#include "voxseg/core/Error.h"
#include "voxseg/core/Parallel.h"

#include <algorithm>
#include <filesystem>

namespace voxseg::pipeline {
namespace {

// The same labels: a region-based dataset's entries in the same order (they pair with regions_class_order and the
// network's outputs so), a plain one's as a set (each value is its own output).
bool sameLabels(const NnUNetLabels& a, const std::vector<int>& orderA, const NnUNetLabels& b,
                const std::vector<int>& orderB) {
  if (a.entries.size() != b.entries.size() || a.ignoreLabel != b.ignoreLabel || orderA != orderB) return false;
  const auto listed = [](const NnUNetLabels& l, bool sorted) {
    std::vector<std::pair<std::string, std::vector<int>>> v;
    for (const auto& e : l.entries) v.emplace_back(e.name, e.values);
    if (sorted) std::sort(v.begin(), v.end());
    return v;
  };
  const bool regions = a.regionBased() || b.regionBased();
  return listed(a, !regions) == listed(b, !regions);
}

struct Member {
  const std::string& folder;
  const NnUNetLabels& labels;
  const std::vector<int>& regionsClassOrder;
  int numClasses;
  const nlohmann::json& dataset;
};

void requireMembers(const std::vector<Member>& members) {
  if (members.empty()) throw Error(ExitCode::Internal, "requireNnUNetEnsemble: no model");
  const Member& first = members.front();
  const auto channels = [](const Member& m) { return m.dataset.value("channel_names", nlohmann::json::object()); };
  for (std::size_t i = 1; i < members.size(); ++i) {
    const Member& m = members[i];
    const std::string pair = m.folder + " cannot join " + first.folder + " in an ensemble: ";
    if (!sameLabels(m.labels, m.regionsClassOrder, first.labels, first.regionsClassOrder))
      throw Error(ExitCode::Model, pair + "their dataset.json labels differ (an ensemble averages the probabilities "
                                          "of the same labels)");
    if (m.numClasses != first.numClasses)
      throw Error(ExitCode::Model,
                  pair + std::to_string(m.numClasses) + " network outputs, not " + std::to_string(first.numClasses));
    if (channels(m) != channels(first))
      throw Error(ExitCode::Model, pair + "their dataset.json channel_names differ (" + channels(m).dump() + ", " +
                                       channels(first).dump() + ")");
  }
}

bool sameFolder(const std::string& a, const std::string& b) {
  std::error_code ec;
  return !a.empty() && !b.empty() && std::filesystem::equivalent(a, b, ec);
}

template <typename T>
void writeLabels(io::Volume& labels, const std::vector<float>& p, std::int64_t channels,
                 const std::vector<int>& regionsClassOrder, unsigned workers) {
  T* out = labels.as<T>()->GetBufferPointer();
  const std::size_t n = p.size() / std::size_t(channels);
  parallelRanges(n, workers, 1 << 16, [&](std::size_t b, std::size_t e) {
    for (std::size_t i = b; i < e; ++i)
      out[i] = static_cast<T>(nnunetLabelOfProbabilities(p.data() + i, std::int64_t(n), channels, regionsClassOrder));
  });
}

} // namespace

void requireNnUNetEnsemble(const std::vector<const NnUNetModel*>& models) {
  std::vector<Member> members;
  for (const NnUNetModel* m : models)
    members.push_back({m->options.folder, m->labels, m->regionsClassOrder, m->numClasses, m->dataset});
  requireMembers(members);
}

void requireNnUNetEnsemble(const std::vector<inference::NnUNetFolder>& folders) {
  std::vector<Member> members;
  std::vector<std::vector<int>> orders; // what NnUNetModel::regionsClassOrder holds: a region-based dataset's only
  orders.reserve(folders.size());
  for (const auto& f : folders)
    orders.push_back(f.labels.regionBased() ? f.labels.regionsClassOrder : std::vector<int>{});
  for (std::size_t i = 0; i < folders.size(); ++i)
    members.push_back({folders[i].path, folders[i].labels, orders[i], folders[i].numClasses, folders[i].dataset});
  requireMembers(members);
}

std::vector<std::unique_ptr<NnUNetModel>> loadNnUNetEnsemble(const std::vector<std::string>& folders,
                                                             const NnUNetOptions& options, const SegmenterOptions& run,
                                                             bool previousLabelsGiven,
                                                             const std::string& previousWhat) {
  for (std::size_t i = 0; i < folders.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (sameFolder(folders[i], folders[j]))
        throw usageError(folders[i] + " is given twice: an ensemble's configurations are different folders");
  std::vector<inference::NnUNetFolder> described; // read, and checked, before any network loads
  for (const auto& folder : folders) described.push_back(inference::readNnUNetFolder(folder));
  requireNnUNetEnsemble(described);
  const bool previousGiven = previousLabelsGiven || !options.previousStage.empty();
  if (previousGiven &&
      std::none_of(described.begin(), described.end(), [](const auto& f) { return !f.previousStage.empty(); })) {
    // what gives the previous stage: its labels (as the caller names them) or its folder
    const std::string what = !previousWhat.empty() ? previousWhat : "previous stage " + options.previousStage;
    if (folders.size() == 1) requireCascadeStage(folders.front(), what);
    throw usageError(what + ": none of the " + std::to_string(folders.size()) +
                     " trained-model folders is a cascade stage (a configuration with a previous_stage)");
  }
  std::vector<std::unique_ptr<NnUNetModel>> out;
  for (std::size_t i = 0; i < folders.size(); ++i) {
    NnUNetOptions o = options;
    o.folder = folders[i];
    const std::string& after = described[i].previousStage;
    if (after.empty()) o.previousStage.clear();
    if (!after.empty() && previousLabelsGiven) o.loadPreviousStage = false;
    if (!after.empty() && !previousGiven) { // its previous stage an earlier member: run once (segmentNnUNetEnsemble)
      const std::string sibling = nnunetPreviousStageFolder(folders[i], after);
      for (std::size_t j = 0; j < i; ++j)
        if (sameFolder(sibling, folders[j])) o.loadPreviousStage = false;
    }
    out.push_back(std::make_unique<NnUNetModel>(loadNnUNet(o, run)));
  }
  return out;
}

int ensembleMemberBefore(const std::vector<const NnUNetModel*>& models, std::size_t i) {
  const NnUNetModel& m = *models.at(i);
  if (m.previousStage.empty()) return -1;
  const std::string previous = m.options.previousStage.empty()
                                   ? nnunetPreviousStageFolder(m.options.folder, m.previousStage)
                                   : m.options.previousStage;
  for (std::size_t j = 0; j < i; ++j)
    if (sameFolder(models[j]->options.folder, previous)) return int(j);
  return -1;
}

int nnunetLabelOfProbabilities(const float* p, std::int64_t stride, std::int64_t channels,
                               const std::vector<int>& regionsClassOrder) {
  if (!regionsClassOrder.empty()) { // segmentation[probabilities[i] > 0.5] = c, in order
    int label = 0;
    for (std::int64_t c = 0; c < channels && std::size_t(c) < regionsClassOrder.size(); ++c)
      if (p[c * stride] > 0.5f) label = regionsClassOrder[std::size_t(c)];
    return label;
  }
  int best = 0; // numpy's argmax: the first of equal largest values
  for (std::int64_t c = 1; c < channels; ++c)
    if (p[c * stride] > p[best * stride]) best = int(c);
  return best;
}

NnUNetResult segmentNnUNetEnsemble(const std::vector<const NnUNetModel*>& models,
                                   const std::vector<io::Volume>& channels, const SegmenterOptions& run,
                                   bool keepProbabilities, const inference::ProgressFn& progress,
                                   const io::Volume* previousStage) {
  requireNnUNetEnsemble(models);
  const auto given = [&](const NnUNetModel& m) { return m.previousStage.empty() ? nullptr : previousStage; };
  if (models.size() == 1)
    return segmentNnUNet(*models.front(), channels, run, keepProbabilities, progress, given(*models.front()));
  const auto n = std::int64_t(models.size());
  NnUNetResult out;
  std::vector<io::Volume> labels(models.size()); // each member's own labels (a later cascade stage's input)
  for (std::int64_t i = 0; i < n; ++i) {
    inference::ProgressFn part; // each model's windows as its share of the whole
    if (progress) part = [&, i](std::int64_t done, std::int64_t total) { progress(i * total + done, n * total); };
    const NnUNetModel& m = *models[std::size_t(i)];
    const io::Volume* previous = given(m);
    if (const int j = ensembleMemberBefore(models, std::size_t(i)); j >= 0 && !previous && !m.previous)
      previous = &labels[std::size_t(j)]; // its previous stage ran as a member: its labels, not a second run
    NnUNetResult r = segmentNnUNet(m, channels, run, true, part, previous);
    labels[std::size_t(i)] = r.labels;
    if (i == 0) {
      out = std::move(r);
      continue;
    }
    if (r.probabilities.size() != out.probabilities.size() || r.channels != out.channels)
      throw Error(ExitCode::Internal, "nnU-Net ensemble: " + m.options.folder + " gave " + std::to_string(r.channels) +
                                          " probability channels of another size");
    std::transform(out.probabilities.begin(), out.probabilities.end(), r.probabilities.begin(),
                   out.probabilities.begin(), [](float a, float b) { return a + b; });
    out.stats.windows += r.stats.windows;
    out.stats.forwardCalls += r.stats.forwardCalls;
    out.stats.seconds += r.stats.seconds;
  }
  const float count = float(n); // avg /= len(list_of_files)
  for (float& v : out.probabilities) v /= count;
  const unsigned workers = workerCount(run.threads, SIZE_MAX);
  const std::vector<int>& order = models.front()->regionsClassOrder;
  if (out.labels.pixelType == PixelType::UInt16)
    writeLabels<std::uint16_t>(out.labels, out.probabilities, out.channels, order, workers);
  else
    writeLabels<std::uint8_t>(out.labels, out.probabilities, out.channels, order, workers);
  if (!keepProbabilities) std::vector<float>().swap(out.probabilities);
  return out;
}

} // namespace voxseg::pipeline
