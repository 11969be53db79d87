#include "voxseg/processing/NnUNetPostprocessing.h"

#include "voxseg/core/Error.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>

namespace voxseg::processing {
namespace {

// The labels of a labels_or_regions value: a label, or a list of labels and lists of labels (JSON has no tuples, so
// nnU-Net's region (1, 2, 3) and its list of labels [1, 2, 3] read alike; their union is the same mask).
void collect(const nlohmann::json& v, std::vector<int>& out, const std::string& where, int depth = 0) {
  if (v.is_number_integer() && v.get<long long>() >= 1 && v.get<long long>() <= 65535) {
    out.push_back(v.get<int>());
  } else if (v.is_array() && depth < 2 && !v.empty()) {
    for (const auto& x : v) collect(x, out, where, depth + 1);
  } else {
    throw std::invalid_argument(where + " holds " + v.dump().substr(0, 80) + " (labels 1..65535, or lists of them)");
  }
}

} // namespace

std::vector<LargestComponentOfUnion> readNnUNetPostprocessing(const std::string& path) {
  std::ifstream in(path);
  std::error_code ec;
  if (!in) throw inputError(path, std::filesystem::exists(path, ec) ? "cannot be read" : "no such file");
  const auto j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded()) throw inputError(path, "not valid JSON");
  if (!j.is_object() || !j.contains("postprocessing_fns") || !j["postprocessing_fns"].is_array() ||
      !j.contains("postprocessing_kwargs") || !j["postprocessing_kwargs"].is_array())
    throw inputError(path, "needs the lists \"postprocessing_fns\" and \"postprocessing_kwargs\" (nnU-Net's "
                           "postprocessing.json)");
  const auto& fns = j["postprocessing_fns"];
  const auto& kwargs = j["postprocessing_kwargs"];
  if (fns.size() != kwargs.size())
    throw inputError(path, "has " + std::to_string(fns.size()) + " postprocessing_fns but " +
                               std::to_string(kwargs.size()) + " postprocessing_kwargs");
  std::vector<LargestComponentOfUnion> out;
  for (std::size_t i = 0; i < fns.size(); ++i) {
    const std::string where = "step " + std::to_string(i + 1);
    if (fns[i] != "remove_all_but_largest_component_from_segmentation")
      throw inputError(path, where + ": function " + fns[i].dump().substr(0, 80) +
                                 " (voxseg applies remove_all_but_largest_component_from_segmentation only)");
    const auto& kw = kwargs[i];
    if (!kw.is_object() || !kw.contains("labels_or_regions"))
      throw inputError(path, where + ": its kwargs need \"labels_or_regions\"");
    for (const auto& [key, v] : kw.items())
      if (key != "labels_or_regions" && key != "background_label")
        throw inputError(path, where + ": unknown argument \"" + key + "\"");
    LargestComponentOfUnion step;
    try {
      collect(kw["labels_or_regions"], step.labels, where + ": labels_or_regions");
    } catch (const std::invalid_argument& e) {
      throw inputError(path, e.what());
    }
    std::sort(step.labels.begin(), step.labels.end());
    step.labels.erase(std::unique(step.labels.begin(), step.labels.end()), step.labels.end());
    if (kw.contains("background_label")) {
      const auto& b = kw["background_label"];
      if (!b.is_number_integer() || b.get<long long>() < 0 || b.get<long long>() > 65535)
        throw inputError(path, where + ": background_label " + b.dump().substr(0, 80) + " is no label 0..65535");
      step.background = b.get<int>();
    }
    out.push_back(step);
  }
  return out;
}

} // namespace voxseg::processing
