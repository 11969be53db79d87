#include "voxseg/core/ModelCard.h"

#include "voxseg/core/Error.h"
#include "voxseg/core/Geometry.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <set>

namespace voxseg {
namespace {

using nlohmann::json;

// An integer that fits an int: nlohmann's get<int>() wraps larger ones (4294967298 became 2, a label value or a
// patch size the card did not say).
bool isInt(const json& v) {
  if (v.is_number_unsigned()) return v.get<std::uint64_t>() <= std::uint64_t(std::numeric_limits<int>::max());
  if (!v.is_number_integer()) return false;
  const std::int64_t i = v.get<std::int64_t>();
  return i >= std::numeric_limits<int>::min() && i <= std::numeric_limits<int>::max();
}

// Reads fields of one JSON object and reports problems with the field's path.
class Fields {
public:
  Fields(const json& j, std::string path, const std::string& source) : j_(j), path_(std::move(path)), source_(source) {
    if (!j_.is_object()) fail(path_.empty() ? "card" : path_, "expected an object");
  }

  [[noreturn]] void fail(const std::string& field, const std::string& problem) const {
    throw Error(ExitCode::Model, "model card " + source_ + ": " + field + ": " + problem);
  }
  std::string at(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }
  bool has(const std::string& key) const { return j_.contains(key) && !j_.at(key).is_null(); }
  const json& raw(const std::string& key) const {
    if (!has(key)) fail(at(key), "missing");
    return j_.at(key);
  }

  std::string str(const std::string& key, std::optional<std::string> def = std::nullopt) const {
    if (!has(key)) {
      if (def) return *def;
      fail(at(key), "missing (expected a string)");
    }
    if (!j_.at(key).is_string()) fail(at(key), "expected a string, got " + std::string(j_.at(key).type_name()));
    return j_.at(key).get<std::string>();
  }
  double num(const std::string& key, std::optional<double> def = std::nullopt) const {
    if (!has(key)) {
      if (def) return *def;
      fail(at(key), "missing (expected a number)");
    }
    if (!j_.at(key).is_number()) fail(at(key), "expected a number, got " + std::string(j_.at(key).type_name()));
    return j_.at(key).get<double>();
  }
  std::optional<double> optNum(const std::string& key) const {
    if (!has(key)) return std::nullopt;
    return num(key);
  }
  int integer(const std::string& key, std::optional<int> def = std::nullopt) const {
    if (!has(key)) {
      if (def) return *def;
      fail(at(key), "missing (expected an integer)");
    }
    if (!isInt(j_.at(key)))
      fail(at(key), j_.at(key).is_number_integer() ? "an integer beyond the int range"
                                                   : "expected an integer, got " + std::string(j_.at(key).type_name()));
    return j_.at(key).get<int>();
  }
  bool boolean(const std::string& key, bool def) const {
    if (!has(key)) return def;
    if (!j_.at(key).is_boolean()) fail(at(key), "expected true or false");
    return j_.at(key).get<bool>();
  }
  const json& array(const std::string& key, bool required = true) const {
    static const json empty = json::array();
    if (!has(key)) {
      if (required) fail(at(key), "missing (expected an array)");
      return empty;
    }
    if (!j_.at(key).is_array()) fail(at(key), "expected an array, got " + std::string(j_.at(key).type_name()));
    return j_.at(key);
  }
  template <typename T, std::size_t N> std::array<T, N> fixed(const std::string& key) const {
    const json& a = array(key);
    if (a.size() != N) fail(at(key), "expected " + std::to_string(N) + " numbers, got " + std::to_string(a.size()));
    std::array<T, N> out{};
    for (std::size_t i = 0; i < N; ++i) {
      if (!a[i].is_number() || (std::is_integral_v<T> && !isInt(a[i])))
        fail(at(key) + "[" + std::to_string(i) + "]",
             std::is_integral_v<T> ? "expected an integer" : "expected a number");
      out[i] = a[i].get<T>();
    }
    return out;
  }
  template <typename E>
  E choice(const std::string& key, const std::vector<std::pair<std::string, E>>& options,
           std::optional<std::string> def = std::nullopt) const {
    const std::string v = str(key, def);
    std::string names;
    for (const auto& [name, value] : options) {
      if (name == v) return value;
      names += (names.empty() ? "" : ", ") + name;
    }
    fail(at(key), "'" + v + "' is not one of: " + names);
  }
  void onlyKnown(const std::set<std::string>& known) const {
    for (const auto& [key, value] : j_.items())
      if (!known.count(key)) fail(at(key), "unknown field (known: " + join(known) + ")");
  }

private:
  static std::string join(const std::set<std::string>& s) {
    std::string out;
    for (const auto& k : s) out += (out.empty() ? "" : ", ") + k;
    return out;
  }
  const json& j_;
  std::string path_;
  const std::string& source_;
};

std::string index(const std::string& key, std::size_t i) { return key + "[" + std::to_string(i) + "]"; }

Code parseCode(const json& j, const std::string& path, const std::string& source) {
  Fields f(j, path, source);
  f.onlyKnown({"value", "scheme", "meaning"});
  return {f.str("value"), f.str("scheme"), f.str("meaning")};
}

Normalization parseNormalization(const json& j, const std::string& path, const std::string& source) {
  Fields f(j, path, source);
  f.onlyKnown({"type", "mean", "std", "lower", "upper", "clip"});
  Normalization n;
  n.type = f.choice<Normalization::Type>("type", {{"none", Normalization::Type::None},
                                                  {"zscore", Normalization::Type::ZScore},
                                                  {"ct", Normalization::Type::CT},
                                                  {"rescale", Normalization::Type::Rescale}});
  n.mean = f.optNum("mean");
  n.std = f.optNum("std");
  n.lower = f.optNum("lower");
  n.upper = f.optNum("upper");
  n.clip = f.boolean("clip", false);
  if (n.type == Normalization::Type::CT)
    for (const char* k : {"mean", "std", "lower", "upper"})
      if (!f.has(k)) f.fail(f.at(k), "missing (CT normalization needs mean, std, lower and upper)");
  if (n.type == Normalization::Type::Rescale) {
    if (!n.lower || !n.upper) f.fail(f.at("lower"), "rescale normalization needs lower and upper");
    if (*n.upper <= *n.lower) f.fail(f.at("upper"), "must be greater than lower");
  }
  if (n.type == Normalization::Type::ZScore && n.mean.has_value() != n.std.has_value())
    f.fail(f.at("std"), "give both mean and std, or neither (then the image's own are used)");
  if (n.std && *n.std < 0) f.fail(f.at("std"), "must not be negative");
  return n;
}

} // namespace

const LabelInfo* ModelCard::findLabel(int value) const {
  for (const auto& l : labels)
    if (l.value == value) return &l;
  return nullptr;
}

std::string axisOrderName(AxisOrder order) { return order == AxisOrder::XYZ ? "xyz" : "zyx"; }

ModelCard modelCardFromJson(const json& j, const std::string& source) {
  Fields f(j, "", source);
  f.onlyKnown({"schema_version", "name", "version", "description", "task", "axis_order", "channels", "spacing",
               "orientation", "patch_size", "tiling", "importance", "accumulation", "mirror_axes", "sw_batch", "labels",
               "regions", "postprocessing"});
  const int schema = f.integer("schema_version", 1);
  if (schema != 1) f.fail("schema_version", "unsupported version " + std::to_string(schema) + " (this voxseg reads 1)");
  ModelCard c;
  c.name = f.str("name");
  c.version = f.str("version", std::string("0"));
  c.description = f.str("description", std::string());
  c.task = f.str("task", std::string());
  c.axisOrder = f.choice<AxisOrder>("axis_order", {{"xyz", AxisOrder::XYZ}, {"zyx", AxisOrder::ZYX}});

  const json& channels = f.array("channels");
  if (channels.empty()) f.fail("channels", "at least one input channel is needed");
  for (std::size_t i = 0; i < channels.size(); ++i) {
    Fields ch(channels[i], index("channels", i), source);
    ch.onlyKnown({"name", "modality", "normalization"});
    InputChannel in;
    in.name = ch.str("name");
    in.modality = ch.str("modality", std::string());
    in.normalization = parseNormalization(ch.raw("normalization"), ch.at("normalization"), source);
    c.channels.push_back(in);
  }

  if (f.has("spacing")) {
    if (f.raw("spacing").is_string()) {
      if (f.str("spacing") != "input") f.fail("spacing", "expected \"input\" or three positive numbers");
    } else {
      const auto s = f.fixed<double, 3>("spacing");
      for (double v : s)
        if (!(v > 0)) f.fail("spacing", "values must be positive");
      c.spacing = s;
    }
  } else {
    f.fail("spacing", "missing (three numbers in axis_order, or \"input\")");
  }
  c.orientation = f.str("orientation", std::string("keep"));
  if (c.orientation != "keep") {
    try {
      validateOrientationCode(c.orientation);
    } catch (const Error& e) {
      f.fail("orientation", std::string("\"keep\" or an orientation code: ") + e.what());
    }
  }
  c.patchSize = f.fixed<int, 3>("patch_size");
  for (int p : c.patchSize)
    if (p < 1 || p > 4096) f.fail("patch_size", "values must be between 1 and 4096");

  if (f.has("tiling")) {
    Fields t(f.raw("tiling"), "tiling", source);
    t.onlyKnown({"rule", "step", "overlap"});
    c.tiling.rule = t.choice<Tiling::Rule>("rule", {{"nnunet", Tiling::Rule::NnUNet}, {"monai", Tiling::Rule::Monai}});
    c.tiling.step = t.num("step", 0.5);
    c.tiling.overlap = t.num("overlap", 0.5);
    if (!(c.tiling.step > 0 && c.tiling.step <= 1)) t.fail(t.at("step"), "must be in (0, 1]");
    if (!(c.tiling.overlap >= 0 && c.tiling.overlap < 1)) t.fail(t.at("overlap"), "must be in [0, 1)");
    // the other rule's parameter would be kept and never used (model pack dropped it without a word)
    if (c.tiling.rule == Tiling::Rule::Monai && t.has("step"))
      t.fail(t.at("step"), "applies to the nnunet rule; the monai rule tiles by overlap");
    if (c.tiling.rule == Tiling::Rule::NnUNet && t.has("overlap"))
      t.fail(t.at("overlap"), "applies to the monai rule; the nnunet rule tiles by step");
  }
  if (f.has("importance")) {
    Fields m(f.raw("importance"), "importance", source);
    m.onlyKnown({"type", "sigma_scale"});
    c.importance.type = m.choice<ImportanceMap::Type>("type", {{"constant", ImportanceMap::Type::Constant},
                                                               {"gaussian_nnunet", ImportanceMap::Type::GaussianNnUNet},
                                                               {"gaussian_monai", ImportanceMap::Type::GaussianMonai}});
    c.importance.sigmaScale = m.num("sigma_scale", 0.125);
    if (!(c.importance.sigmaScale > 0)) m.fail(m.at("sigma_scale"), "must be positive");
  }
  c.accumulation = f.str("accumulation", std::string("float32"));
  if (c.accumulation != "float32" && c.accumulation != "float16")
    f.fail("accumulation", "expected \"float32\" or \"float16\"");
  const json& mirror = f.array("mirror_axes", false);
  for (std::size_t i = 0; i < mirror.size(); ++i) {
    if (!isInt(mirror[i]) || mirror[i].get<int>() < 0 || mirror[i].get<int>() > 2)
      f.fail(index("mirror_axes", i), "expected an axis 0, 1 or 2");
    if (std::find(c.mirrorAxes.begin(), c.mirrorAxes.end(), mirror[i].get<int>()) != c.mirrorAxes.end())
      f.fail(index("mirror_axes", i), "axis " + std::to_string(mirror[i].get<int>()) + " listed twice");
    c.mirrorAxes.push_back(mirror[i].get<int>());
  }
  c.swBatch = f.integer("sw_batch", 1);
  if (c.swBatch < 1 || c.swBatch > 64) f.fail("sw_batch", "must be between 1 and 64");

  const json& labels = f.array("labels");
  if (labels.empty()) f.fail("labels", "at least one label (the background) is needed");
  std::set<int> values;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    Fields l(labels[i], index("labels", i), source);
    l.onlyKnown({"value", "name", "color", "category", "type"});
    LabelInfo li;
    li.value = l.integer("value");
    if (li.value < 0 || li.value > 65535) l.fail(l.at("value"), "must be between 0 and 65535");
    if (!values.insert(li.value).second) l.fail(l.at("value"), "value " + std::to_string(li.value) + " used twice");
    li.name = l.str("name");
    if (l.has("color")) {
      li.color = l.fixed<int, 3>("color");
      for (int v : li.color)
        if (v < 0 || v > 255) l.fail(l.at("color"), "RGB values must be 0..255");
    }
    if (l.has("category")) li.category = parseCode(l.raw("category"), l.at("category"), source);
    if (l.has("type")) li.type = parseCode(l.raw("type"), l.at("type"), source);
    c.labels.push_back(li);
  }
  const json& regions = f.array("regions", false);
  for (std::size_t i = 0; i < regions.size(); ++i) {
    Fields r(regions[i], index("regions", i), source);
    r.onlyKnown({"name", "label"});
    Region reg{r.str("name"), r.integer("label")};
    if (!values.count(reg.label)) r.fail(r.at("label"), "label " + std::to_string(reg.label) + " is not in labels");
    c.regions.push_back(reg);
  }
  if (f.has("postprocessing")) {
    Fields pp(f.raw("postprocessing"), "postprocessing", source);
    pp.onlyKnown({"keep_largest_component"});
    const json& keep = pp.array("keep_largest_component", false);
    for (std::size_t i = 0; i < keep.size(); ++i) {
      const std::string field = index("postprocessing.keep_largest_component", i);
      if (!isInt(keep[i]) || !values.count(keep[i].get<int>())) f.fail(field, "expected a label value from labels");
      if (keep[i].get<int>() == 0) f.fail(field, "the background (0) has no components to keep");
      c.postprocessing.keepLargestComponent.push_back(keep[i].get<int>());
    }
  }
  return c;
}

ModelCard parseModelCard(const std::string& text, const std::string& source) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) { // parse_error, and out_of_range for a number beyond double
    throw Error(ExitCode::Model, "model card " + source + ": not valid JSON (" + e.what() + ")");
  }
  return modelCardFromJson(j, source);
}

json modelCardToJson(const ModelCard& c) {
  json j;
  j["schema_version"] = 1;
  j["name"] = c.name;
  j["version"] = c.version;
  if (!c.description.empty()) j["description"] = c.description;
  if (!c.task.empty()) j["task"] = c.task;
  j["axis_order"] = axisOrderName(c.axisOrder);
  j["channels"] = json::array();
  for (const auto& ch : c.channels) {
    json n;
    static const char* names[] = {"none", "zscore", "ct", "rescale"};
    n["type"] = names[static_cast<int>(ch.normalization.type)];
    if (ch.normalization.mean) n["mean"] = *ch.normalization.mean;
    if (ch.normalization.std) n["std"] = *ch.normalization.std;
    if (ch.normalization.lower) n["lower"] = *ch.normalization.lower;
    if (ch.normalization.upper) n["upper"] = *ch.normalization.upper;
    if (ch.normalization.clip) n["clip"] = true;
    j["channels"].push_back({{"name", ch.name}, {"modality", ch.modality}, {"normalization", n}});
  }
  j["spacing"] = c.spacing ? json(*c.spacing) : json("input");
  j["orientation"] = c.orientation;
  j["patch_size"] = c.patchSize;
  j["tiling"] = c.tiling.rule == Tiling::Rule::NnUNet ? json{{"rule", "nnunet"}, {"step", c.tiling.step}}
                                                      : json{{"rule", "monai"}, {"overlap", c.tiling.overlap}};
  static const char* imp[] = {"constant", "gaussian_nnunet", "gaussian_monai"};
  j["importance"] = {{"type", imp[static_cast<int>(c.importance.type)]}};
  if (c.importance.type != ImportanceMap::Type::Constant) j["importance"]["sigma_scale"] = c.importance.sigmaScale;
  j["accumulation"] = c.accumulation;
  j["mirror_axes"] = c.mirrorAxes;
  j["sw_batch"] = c.swBatch;
  j["labels"] = json::array();
  for (const auto& l : c.labels) {
    json lj{{"value", l.value}, {"name", l.name}, {"color", l.color}};
    if (l.category)
      lj["category"] = {{"value", l.category->value}, {"scheme", l.category->scheme}, {"meaning", l.category->meaning}};
    if (l.type) lj["type"] = {{"value", l.type->value}, {"scheme", l.type->scheme}, {"meaning", l.type->meaning}};
    j["labels"].push_back(lj);
  }
  if (!c.postprocessing.keepLargestComponent.empty())
    j["postprocessing"] = {{"keep_largest_component", c.postprocessing.keepLargestComponent}};
  if (!c.regions.empty()) {
    j["regions"] = json::array();
    for (const auto& r : c.regions) j["regions"].push_back({{"name", r.name}, {"label", r.label}});
  }
  return j;
}

} // namespace voxseg
