#include "voxseg/core/NnUNetLabels.h"

#include <algorithm>
#include <cmath>
#include <optional>

namespace voxseg {

bool NnUNetLabelEntry::background() const {
  return std::all_of(values.begin(), values.end(), [](int v) { return v == 0; });
}

std::string NnUNetLabelEntry::key() const {
  std::string s;
  for (std::size_t i = 0; i < values.size(); ++i) s += (i ? ", " : "") + std::to_string(values[i]);
  return listed ? "(" + s + (values.size() == 1 ? ",)" : ")") : s;
}

bool NnUNetLabels::regionBased() const {
  return std::any_of(entries.begin(), entries.end(), [](const auto& e) { return e.listed && e.values.size() > 1; });
}

std::vector<int> NnUNetLabels::foregroundLabels() const {
  std::vector<int> out;
  for (const auto& e : entries)
    if (e.name != "ignore")
      for (int v : e.values)
        if (v != 0) out.push_back(v);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<NnUNetLabelEntry> NnUNetLabels::regions() const {
  std::vector<NnUNetLabelEntry> out;
  if (!regionBased()) return out;
  for (const auto& e : entries)
    if (e.name != "ignore" && !e.background()) out.push_back(e);
  return out;
}

int NnUNetLabels::segmentationHeads() const {
  if (regionBased()) return static_cast<int>(regions().size());
  const bool background = std::any_of(entries.begin(), entries.end(), [](const auto& e) {
    return e.name != "ignore" && std::count(e.values.begin(), e.values.end(), 0) > 0;
  });
  return static_cast<int>(foregroundLabels().size()) + (background ? 1 : 0);
}

int NnUNetLabels::maxLabel() const {
  int m = 0;
  for (const auto& e : entries)
    if (e.name != "ignore")
      for (int v : e.values) m = std::max(m, v);
  for (int v : regionsClassOrder) m = std::max(m, v);
  return m;
}

const NnUNetLabelEntry* NnUNetLabels::find(const std::string& name) const {
  const auto it = std::find_if(entries.begin(), entries.end(), [&](const auto& e) { return e.name == name; });
  return it == entries.end() ? nullptr : &*it;
}

namespace {

// A label value in lo..hi as nnU-Net takes it (int(x)): an integer, or a number with no fraction (1.0, as some tools
// write them); nullopt otherwise (1.5, which int() would truncate, a string, a list).
std::optional<int> labelValue(const nlohmann::ordered_json& x, long long lo, long long hi) {
  long long v = 0;
  if (x.is_number_integer()) {
    v = x.get<long long>();
  } else if (x.is_number_float()) {
    const double d = x.get<double>();
    if (!std::isfinite(d) || d != std::floor(d) || d < double(lo) || d > double(hi)) return std::nullopt;
    v = static_cast<long long>(d);
  } else {
    return std::nullopt;
  }
  if (v < lo || v > hi) return std::nullopt;
  return static_cast<int>(v);
}

} // namespace

NnUNetLabels readNnUNetLabels(const nlohmann::ordered_json& dataset, const std::string& path, int maxValue,
                              ExitCode code, const std::string& range) {
  const auto fail = [&](const std::string& problem) { return Error(code, path + ": " + problem); };
  const std::string values = "integers 0.." + std::to_string(maxValue) + (range.empty() ? "" : " (" + range + ")");
  if (!dataset.is_object() || !dataset.contains("labels") || !dataset.at("labels").is_object())
    throw fail("needs \"labels\" (an object: name -> value)");
  NnUNetLabels out;
  for (const auto& [name, v] : dataset.at("labels").items()) {
    NnUNetLabelEntry e{name, {}, v.is_array()};
    if (name == "ignore") { // LabelManager asserts an int
      const auto value = labelValue(v, 1, maxValue);
      if (!value)
        throw fail("label \"ignore\" is " + v.dump() + ", not a value 1.." + std::to_string(maxValue) +
                   " (nnU-Net's ignore label is one integer beside the background)");
      out.ignoreLabel = *value;
    }
    if (!v.is_array() && !v.is_number())
      throw fail("label \"" + name + "\" is " + v.dump() + ", not a label value or a list of them");
    for (const auto& x : v.is_array() ? v : nlohmann::ordered_json::array({v})) {
      const auto value = labelValue(x, 0, maxValue);
      if (!value) throw fail("label \"" + name + "\" has the value " + x.dump() + ": label values are " + values);
      e.values.push_back(*value);
    }
    if (e.values.empty()) throw fail("label \"" + name + "\" is an empty list");
    out.entries.push_back(std::move(e));
  }
  // LabelManager._sanity_check
  const NnUNetLabelEntry* background = out.find("background");
  if (!background) throw fail("labels need \"background\": 0 (nnU-Net's LabelManager refuses a dataset without it)");
  if (background->listed || background->values != std::vector<int>{0})
    throw fail("label \"background\" is " + dataset.at("labels").at("background").dump() +
               ": nnU-Net's background is the number 0, not a list");
  // LabelManager asserts it: the ignore label is the highest value, one above every other (regions' included)
  if (out.ignoreLabel >= 0) {
    int above = 0;
    for (const auto& e : out.entries)
      if (e.name != "ignore")
        for (int v : e.values) above = std::max(above, v + 1);
    if (out.ignoreLabel != above)
      throw fail("the ignore label (" + std::to_string(out.ignoreLabel) +
                 ") must be the highest label value, one above the others (" + std::to_string(above) +
                 " here), as nnU-Net requires");
  }
  // used (and checked) only for a region-based dataset, as nnU-Net ignores it otherwise
  if (const auto order = dataset.find("regions_class_order");
      out.regionBased() && order != dataset.end() && !order->is_null()) {
    if (!order->is_array()) throw fail("regions_class_order is " + order->dump() + ", not a list of label values");
    for (const auto& v : *order) {
      const auto value = labelValue(v, 1, maxValue);
      if (!value)
        throw fail("regions_class_order entry " + v.dump() + " is not a label value 1.." + std::to_string(maxValue));
      out.regionsClassOrder.push_back(*value);
    }
  }
  return out;
}

} // namespace voxseg
