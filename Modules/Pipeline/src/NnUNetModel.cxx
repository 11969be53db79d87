#include "voxseg/pipeline/NnUNetModel.h"

#include "voxseg/core/Error.h"
#include "voxseg/core/Log.h"
#include "voxseg/inference/NnUNetFolder.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <string>

namespace fs = std::filesystem;

namespace voxseg::pipeline {
namespace {

using nlohmann::json;

// plans.json's transpose_forward / transpose_backward: a permutation of 0, 1, 2 (identity if absent).
std::array<int, 3> permutation(const json& plans, const char* key, const fs::path& file) {
  std::array<int, 3> p{0, 1, 2};
  if (!plans.contains(key)) return p;
  const auto& v = plans[key];
  bool ok = v.is_array() && v.size() == 3;
  std::array<bool, 3> seen{};
  for (std::size_t a = 0; ok && a < 3; ++a) {
    ok = v[a].is_number_integer() && v[a].get<int>() >= 0 && v[a].get<int>() < 3 && !seen[v[a].get<std::size_t>()];
    if (ok) {
      p[a] = v[a].get<int>();
      seen[std::size_t(p[a])] = true;
    }
  }
  if (!ok)
    throw Error(ExitCode::Model, file.string() + ": " + key + " " + v.dump() + " is not a permutation of 0, 1, 2");
  return p;
}

} // namespace

std::string nnunetPreviousStageFolder(const std::string& folder, const std::string& previousConfiguration) {
  fs::path dir(folder);
  if (dir.filename().empty()) dir = dir.parent_path();
  const std::string base = dir.filename().string();
  const auto sep = base.rfind("__");
  if (sep == std::string::npos) return {};
  return (dir.parent_path() / (base.substr(0, sep + 2) + previousConfiguration)).string();
}

void requireCascadeStage(const std::string& folder, const std::string& what) {
  const inference::NnUNetFolder f = inference::readNnUNetFolder(folder);
  if (f.previousStage.empty())
    throw usageError(what + ": " + folder + " is not a cascade stage (configuration '" + f.configurationName +
                     "' has no previous_stage)");
}

std::vector<int> parseNnUNetFolds(const std::string& text) {
  const auto bad = [&] {
    return usageError("--folds '" + text +
                      "': expected fold numbers such as 0,1,2 (or all: fold_all; auto: every "
                      "trained fold)");
  };
  std::vector<int> folds;
  if (text == "auto") return folds;
  std::size_t pos = 0;
  while (true) {
    const std::size_t comma = text.find(',', pos);
    std::string item = text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    item.erase(0, item.find_first_not_of(' '));
    item.erase(item.find_last_not_of(' ') + 1);
    const bool number = !item.empty() && item.size() <= 3 && item.find_first_not_of("0123456789") == std::string::npos;
    if (!number && item != "all") throw bad();
    const int fold = number ? std::stoi(item) : inference::kFoldAll;
    if (std::find(folds.begin(), folds.end(), fold) != folds.end()) throw bad();
    folds.push_back(fold);
    if (comma == std::string::npos) return folds;
    pos = comma + 1;
  }
}

namespace {
NnUNetModel load(const NnUNetOptions& options, const inference::DeviceSpec& device, int threads);

// The previous stage of cascade stage `m`: the folder given, else the sibling folder named after previous_stage.
std::shared_ptr<const NnUNetModel> loadPrevious(const NnUNetModel& m, const NnUNetOptions& options,
                                                const inference::DeviceSpec& device, int threads) {
  NnUNetOptions o = options;
  o.previousStage.clear();
  o.loadPreviousStage = false; // a previous stage that is a cascade stage itself is refused below
  o.folder = options.previousStage;
  if (o.folder.empty()) {
    const fs::path sibling = nnunetPreviousStageFolder(options.folder, m.previousStage);
    if (sibling.empty() || !fs::exists(sibling / "plans.json"))
      throw Error(ExitCode::Model, options.folder + ": configuration '" + m.configurationName +
                                       "' is a cascade stage after '" + m.previousStage + "', and " +
                                       (sibling.empty() ? std::string("its name has no <trainer>__<plans>__ to find "
                                                                      "that stage's folder beside it")
                                                        : sibling.string() + " is not a trained-model folder") +
                                       ": give the previous stage's folder or its "
                                       "label maps (voxseg segment --previous-stage)");
    o.folder = sibling.string();
  }
  const inference::NnUNetFolder f = inference::readNnUNetFolder(o.folder); // checked before its networks load
  if (!f.previousStage.empty())
    throw Error(ExitCode::Model, o.folder + ": the previous stage of " + options.folder +
                                     " is itself a cascade stage ('" + f.configurationName + "' after '" +
                                     f.previousStage + "'): not supported");
  if (f.dataset.value("labels", json::object()) != m.dataset.value("labels", json::object()))
    throw Error(ExitCode::Model, o.folder + ": dataset.json's labels differ from those of " + options.folder +
                                     " (the previous stage must be trained on the same dataset)");
  if (f.configurationName != m.previousStage)
    logWarning(o.folder + ": configuration '" + f.configurationName + "' is not '" + m.previousStage +
               "', the previous stage that " + options.folder + "'s plans name");
  try {
    return std::make_shared<NnUNetModel>(load(o, device, threads));
  } catch (const nlohmann::json::exception& e) { // its plans.json/dataset.json, named as such
    throw inference::plansContentError(o.folder, e);
  }
}

// The orientation the plans' image reader gives the arrays in ("" as stored, "RAS" for the *IOWithReorient readers),
// or voxseg train's "voxseg_orientation". A reader voxseg does not reproduce is refused (it was run as SimpleITKIO
// without a word), as are resampling functions and kwargs it does not reproduce (another grid for the network).
std::string checkReadingAndResampling(const NnUNetModel& m, const std::string& plansFile) {
  const std::string where = plansFile + ": configuration '" + m.configurationName + "' ";
  const json& reader = m.plans.contains("image_reader_writer") ? m.plans["image_reader_writer"] : json("SimpleITKIO");
  static const std::map<std::string, std::string> readers{
      {"SimpleITKIO", ""}, {"NibabelIO", ""}, {"SimpleITKIOWithReorient", "RAS"}, {"NibabelIOWithReorient", "RAS"}};
  const auto known = reader.is_string() ? readers.find(reader.get<std::string>()) : readers.end();
  if (known == readers.end())
    throw Error(ExitCode::Model, plansFile + ": image_reader_writer " + reader.dump() +
                                     ": voxseg reads images as SimpleITKIO and NibabelIO do, and reorients them to RAS "
                                     "as their WithReorient variants do, and no other way");
  for (const char* key : {"resampling_fn_data", "resampling_fn_seg", "resampling_fn_probabilities"})
    if (const auto it = m.configuration.find(key);
        it != m.configuration.end() && *it != json("resample_data_or_seg_to_shape"))
      throw Error(ExitCode::Model, where + "resamples with " + it->dump() + " (" + key +
                                       "): voxseg reproduces resample_data_or_seg_to_shape only");
  const json data = m.configuration.value("resampling_fn_data_kwargs", json::object());
  if (const int orderZ = data.value("order_z", 0); orderZ != 0 && orderZ != 1)
    throw Error(ExitCode::Model, where + "has resampling_fn_data_kwargs " + data.dump() +
                                     ": voxseg resamples images along a separate z with order_z 0 or 1 only");
  // the export resamples logits with order 1, order_z 0 and nnU-Net's separate-z rule (force_separate_z null)
  const json probabilities = m.configuration.value("resampling_fn_probabilities_kwargs", json::object());
  if (probabilities.value("order", 3) != 1 || probabilities.value("order_z", 0) != 0 ||
      !probabilities.contains("force_separate_z") || !probabilities["force_separate_z"].is_null())
    throw Error(ExitCode::Model, where + "has resampling_fn_probabilities_kwargs " + probabilities.dump() +
                                     ": voxseg exports with order 1, order_z 0 and force_separate_z null only (what "
                                     "nnU-Net plans)");
  return m.plans.value("voxseg_orientation", known->second);
}

NnUNetModel load(const NnUNetOptions& options, const inference::DeviceSpec& device, int threads) {
  inference::setThreads(threads);
  const inference::NnUNetFolder folder = inference::readNnUNetFolder(options.folder); // read once for every fold
  NnUNetModel m;
  m.options = options;
  m.plans = folder.plans;
  m.dataset = folder.dataset;
  m.labels = folder.labels;
  m.numClasses = folder.numClasses;
  m.configurationName = folder.configurationName;
  m.configuration = folder.configuration;
  const fs::path dir(options.folder);
  m.transposeForward = permutation(m.plans, "transpose_forward", dir / "plans.json");
  m.transposeBackward = permutation(m.plans, "transpose_backward", dir / "plans.json");
  for (int a = 0; a < 3; ++a)
    if (m.transposeBackward[std::size_t(m.transposeForward[std::size_t(a)])] != a)
      throw Error(ExitCode::Model, (dir / "plans.json").string() + ": transpose_backward " +
                                       m.plans["transpose_backward"].dump() + " does not undo transpose_forward " +
                                       m.plans["transpose_forward"].dump());
  // sigmoid outputs, one per region, when region-based (nnU-Net ignores regions_class_order otherwise)
  if (m.labels.regionBased()) m.regionsClassOrder = m.labels.regionsClassOrder;
  m.maxLabel = m.labels.maxLabel(); // of the values but "ignore", and regions_class_order's
  m.slices = folder.slices;
  m.previousStage = folder.previousStage;
  m.cascadeLabels = folder.cascadeLabels;
  m.arrayOrientation = checkReadingAndResampling(m, (dir / "plans.json").string());
  if (!m.previousStage.empty()) { // how the previous stage's labels are resampled, checked once
    const json kw = m.configuration.value("resampling_fn_seg_kwargs", json::object());
    const int order = kw.value("order", 3), orderZ = kw.value("order_z", 0);
    if (orderZ != 0 || (order != 0 && order != 1 && order != 3))
      throw Error(ExitCode::Model, (dir / "plans.json").string() + ": configuration '" + m.configurationName +
                                       "' has resampling_fn_seg_kwargs " + kw.dump() +
                                       ": the previous stage's labels are resampled with order 0, 1 or 3 and "
                                       "order_z 0 only (nnU-Net plans order 1, order_z 0)");
  }
  if (m.options.folds.empty()) { // --folds auto
    m.options.folds = inference::detectNnUNetFolds(options.folder, options.checkpoint);
    std::string names;
    for (int fold : m.options.folds) names += (names.empty() ? "" : ", ") + inference::nnunetFoldName(fold);
    logInfo(options.folder + ": ensembling " + names + " (checkpoint_" + options.checkpoint + ".pth)");
  }
  for (int fold : m.options.folds)
    m.folds.push_back(inference::Network::loadNnUNetFold(folder, fold, options.checkpoint, device));
  if (!m.previousStage.empty() && options.loadPreviousStage) m.previous = loadPrevious(m, options, device, threads);
  return m;
}
} // namespace

NnUNetModel loadNnUNetModel(const NnUNetOptions& options, const inference::DeviceSpec& device, int threads) {
  try {
    return load(options, device, threads);
  } catch (const nlohmann::json::exception& e) { // plans.json/dataset.json content of an unexpected type
    throw inference::plansContentError(options.folder, e);
  }
}

} // namespace voxseg::pipeline
