#include "voxseg/pipeline/NnUNetEnsemble.h"

#include "voxseg/core/Error.h"
#include "voxseg/core/Parallel.h"

#include <algorithm>

namespace voxseg::pipeline {
namespace {

bool sameEntries(const NnUNetLabels& a, const NnUNetLabels& b) {
  if (a.entries.size() != b.entries.size() || a.ignoreLabel != b.ignoreLabel) return false;
  for (std::size_t i = 0; i < a.entries.size(); ++i)
    if (a.entries[i].name != b.entries[i].name || a.entries[i].values != b.entries[i].values) return false;
  return true;
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
  if (models.empty()) throw Error(ExitCode::Internal, "requireNnUNetEnsemble: no model");
  const NnUNetModel& first = *models.front();
  for (std::size_t i = 1; i < models.size(); ++i) {
    const NnUNetModel& m = *models[i];
    const std::string pair = m.options.folder + " cannot join " + first.options.folder + " in an ensemble: ";
    if (!sameEntries(m.labels, first.labels) || m.regionsClassOrder != first.regionsClassOrder)
      throw Error(ExitCode::Model, pair + "their dataset.json labels differ (an ensemble averages the probabilities "
                                          "of the same labels)");
    if (m.numClasses != first.numClasses)
      throw Error(ExitCode::Model,
                  pair + std::to_string(m.numClasses) + " network outputs, not " + std::to_string(first.numClasses));
    if (m.dataset.value("channel_names", nlohmann::json::object()) !=
        first.dataset.value("channel_names", nlohmann::json::object()))
      throw Error(ExitCode::Model, pair + "their dataset.json channel_names differ (" +
                                       m.dataset.value("channel_names", nlohmann::json::object()).dump() + ", " +
                                       first.dataset.value("channel_names", nlohmann::json::object()).dump() + ")");
  }
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
  for (std::int64_t i = 0; i < n; ++i) {
    inference::ProgressFn part; // each model's windows as its share of the whole
    if (progress) part = [&, i](std::int64_t done, std::int64_t total) { progress(i * total + done, n * total); };
    const NnUNetModel& m = *models[std::size_t(i)];
    NnUNetResult r = segmentNnUNet(m, channels, run, true, part, given(m));
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
