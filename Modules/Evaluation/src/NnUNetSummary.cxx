#include "voxseg/evaluation/NnUNetSummary.h"

#include "voxseg/core/Error.h"
#include "voxseg/core/NnUNetLabels.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>

namespace voxseg::evaluation {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// numpy's pairwise_sum (loops_utils.h): under 8 values in order; up to 128 in eight interleaved partial sums; more
// split in two halves, the first a multiple of 8 long.
double pairwise(const double* a, std::size_t n) {
  if (n < 8) {
    double s = 0.;
    for (std::size_t i = 0; i < n; ++i) s += a[i];
    return s;
  }
  if (n <= 128) {
    double r[8];
    for (std::size_t j = 0; j < 8; ++j) r[j] = a[j];
    std::size_t i = 8;
    for (; i < n - n % 8; i += 8)
      for (std::size_t j = 0; j < 8; ++j) r[j] += a[i + j];
    double s = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) s += a[i];
    return s;
  }
  std::size_t n2 = n / 2;
  n2 -= n2 % 8;
  return pairwise(a, n2) + pairwise(a + n2, n - n2);
}

// numpy.nanmean: the sum of the non-NaN values (NaN read as 0, in place) over their count; NaN when there is none.
double nanMean(std::vector<double> values) {
  std::size_t count = 0;
  for (double& v : values)
    if (std::isnan(v))
      v = 0;
    else
      ++count;
  return count == 0 ? kNaN : numpySum(values) / double(count);
}

struct CaseMetrics {
  double dice, iou;
  std::uint64_t fp, tp, fn, tn;
};

CaseMetrics caseMetrics(const VoxelCounts& c) {
  const std::uint64_t tp = c.truePositives(), fp = c.falsePositives(), fn = c.falseNegatives();
  const bool none = tp + fp + fn == 0;
  return {none ? kNaN : 2. * double(tp) / double(2 * tp + fp + fn),
          none ? kNaN : double(tp) / double(tp + fp + fn),
          fp,
          tp,
          fn,
          c.trueNegatives()};
}

// The metrics in summary.json's order of names (sorted): Dice, FN, FP, IoU, TN, TP, n_pred, n_ref.
const char* const kNames[] = {"Dice", "FN", "FP", "IoU", "TN", "TP", "n_pred", "n_ref"};

std::vector<double> values(const CaseMetrics& m) {
  return {m.dice,       double(m.fn), double(m.fp),        m.iou,
          double(m.tn), double(m.tp), double(m.fp + m.tp), double(m.fn + m.tp)};
}

// A value as Python's json writes it: counts as integers, NaN as nlohmann's null (turned into NaN in the text).
nlohmann::json number(double v) { return std::isnan(v) ? nlohmann::json(nullptr) : nlohmann::json(v); }

} // namespace

std::string nnunetKey(int label) { return std::to_string(label); }

std::string nnunetKey(const std::vector<int>& region) { return NnUNetLabelEntry{"", region, true}.key(); }

nlohmann::json parseNnUNetSummary(std::string text) {
  for (auto at = text.find(": NaN"); at != std::string::npos; at = text.find(": NaN", at))
    text.replace(at, 5, ": null");
  return nlohmann::json::parse(text, nullptr, false);
}

double numpySum(const std::vector<double>& values) { return pairwise(values.data(), values.size()); }

NnUNetSummary nnunetSummary(const std::vector<std::string>& keys, const std::vector<NnUNetCaseCounts>& cases) {
  constexpr std::size_t kMetrics = std::size(kNames);
  // per[key][metric][case]
  std::vector<std::vector<std::vector<double>>> per(keys.size(), std::vector<std::vector<double>>(kMetrics));
  nlohmann::json perCase = nlohmann::json::array();
  // nnU-Net's order: its prediction folder's files, sorted by name (subfiles); the means add up in that order
  std::vector<const NnUNetCaseCounts*> sorted;
  for (const auto& c : cases) sorted.push_back(&c);
  std::stable_sort(sorted.begin(), sorted.end(), [](const NnUNetCaseCounts* a, const NnUNetCaseCounts* b) {
    return std::filesystem::path(a->predictionFile).filename().string() <
           std::filesystem::path(b->predictionFile).filename().string();
  });
  for (const NnUNetCaseCounts* pc : sorted) {
    const NnUNetCaseCounts& c = *pc;
    if (c.counts.size() != keys.size())
      throw Error(ExitCode::Internal, c.predictionFile + ": " + std::to_string(c.counts.size()) + " label counts for " +
                                          std::to_string(keys.size()) + " labels");
    nlohmann::json metrics = nlohmann::json::object();
    for (std::size_t k = 0; k < keys.size(); ++k) {
      const CaseMetrics m = caseMetrics(c.counts[k]);
      const std::vector<double> v = values(m);
      for (std::size_t i = 0; i < kMetrics; ++i) per[k][i].push_back(v[i]);
      metrics[keys[k]] = {
          {"Dice", number(m.dice)}, {"IoU", number(m.iou)}, {"FP", m.fp}, {"TP", m.tp}, {"FN", m.fn}, {"TN", m.tn},
          {"n_pred", m.fp + m.tp},  {"n_ref", m.fn + m.tp}};
    }
    perCase.push_back(
        {{"metrics", metrics}, {"prediction_file", c.predictionFile}, {"reference_file", c.referenceFile}});
  }
  NnUNetSummary out;
  nlohmann::json mean = nlohmann::json::object(), foreground = nlohmann::json::object();
  std::vector<std::vector<double>> means(kMetrics); // [metric][key], the background's left out
  for (std::size_t k = 0; k < keys.size(); ++k) {
    nlohmann::json m = nlohmann::json::object();
    for (std::size_t i = 0; i < kMetrics; ++i) {
      const double v = nanMean(per[k][i]);
      m[kNames[i]] = number(v);
      if (keys[k] != "0") means[i].push_back(v);
      if (i == 0) out.meanDice.push_back(v);
    }
    mean[keys[k]] = m;
  }
  for (std::size_t i = 0; i < kMetrics; ++i) { // np.mean: NaN when a mean is NaN, or there is none
    const double v = means[i].empty() ? kNaN : numpySum(means[i]) / double(means[i].size());
    foreground[kNames[i]] = number(v);
    if (i == 0) out.foregroundDice = v;
  }
  const nlohmann::json summary{{"foreground_mean", foreground}, {"mean", mean}, {"metric_per_case", perCase}};
  out.json = pythonJsonText(summary);
  return out;
}

std::string pythonJsonText(const nlohmann::json& j) {
  // Python's json.dump(indent=4, sort_keys=True) writes non-ASCII as \uXXXX and NaN as NaN (no JSON null is written)
  std::string text = j.dump(4, ' ', true, nlohmann::json::error_handler_t::replace);
  for (std::size_t at = text.find(": null"); at != std::string::npos; at = text.find(": null", at))
    text.replace(at, 6, ": NaN");
  return text; // json.dump writes no newline at the end
}

} // namespace voxseg::evaluation
