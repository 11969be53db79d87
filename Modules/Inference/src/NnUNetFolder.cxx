#include "voxseg/inference/NnUNetFolder.h"
#include "NetworkImpl.h"
#include "NnUNetNetwork.h"
#include "voxseg/core/Error.h"
#include "voxseg/core/Log.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace fs = std::filesystem;

namespace voxseg::inference {
namespace {

// The file parsed; `text` receives what was read, for a second parse (keys in the file's order) without a second read.
nlohmann::json readJson(const fs::path& path, std::string* text = nullptr) {
  std::ifstream in(path);
  if (!in) throw Error(ExitCode::Model, path.string() + ": missing (not an nnU-Net trained-model folder?)");
  std::string read((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  try {
    nlohmann::json j = nlohmann::json::parse(read);
    if (text) *text = std::move(read);
    return j;
  } catch (const nlohmann::json::exception& e) {
    throw Error(ExitCode::Model, path.string() + ": not valid JSON (" + e.what() + ")");
  }
}

// plans["configurations"][name], with "inherits_from" resolved (the child's keys win).
nlohmann::json configuration(const nlohmann::json& plans, const std::string& name, const std::string& source,
                             int depth = 0) {
  const auto& configs = plans.at("configurations");
  if (!configs.contains(name))
    throw Error(ExitCode::Model, source + ": plans.json has no configuration '" + name + "'");
  nlohmann::json c = configs.at(name);
  if (c.contains("inherits_from") && depth < 8) {
    nlohmann::json base = configuration(plans, c.at("inherits_from").get<std::string>(), source, depth + 1);
    base.merge_patch(c);
    c = base;
  }
  return c;
}

} // namespace

namespace {
NnUNetFolder readFolder(const std::string& folder) {
  const fs::path dir(folder);
  if (!fs::is_directory(dir))
    throw Error(ExitCode::Model,
                folder + (fs::exists(dir) ? ": a file, not an nnU-Net trained-model folder (plans.json, "
                                            "dataset.json, fold_N/)"
                                          : ": no such nnU-Net trained-model folder"));
  NnUNetFolder f;
  f.path = folder;
  f.plans = readJson(dir / "plans.json");
  {
    std::string text; // read once, parsed twice: sorted keys for lookups, the file's order for the labels
    f.dataset = readJson(dir / "dataset.json", &text);
    f.labels =
        readNnUNetLabels(nlohmann::ordered_json::parse(text), (dir / "dataset.json").string(), 65535, ExitCode::Model);
  }
  const std::string base = dir.filename().empty() ? dir.parent_path().filename().string() : dir.filename().string();
  const auto sep = base.rfind("__");
  const auto& configurations = f.plans.contains("configurations") ? f.plans["configurations"] : nlohmann::json();
  if (sep != std::string::npos) {
    f.configurationName = base.substr(sep + 2);
  } else if (configurations.is_object() && configurations.size() == 1) { // e.g. a `voxseg train` folder
    f.configurationName = configurations.begin().key();
  } else {
    throw Error(ExitCode::Model, folder + ": folder name is not <trainer>__<plans>__<configuration> and plans.json "
                                          "holds several configurations");
  }
  f.configuration = configuration(f.plans, f.configurationName, (dir / "plans.json").string());
  const auto& config = f.configuration;
  if (config.contains("previous_stage") && !config.at("previous_stage").is_null()) {
    if (!config.at("previous_stage").is_string() || config.at("previous_stage").get<std::string>().empty())
      throw Error(ExitCode::Model, (dir / "plans.json").string() + ": configuration '" + f.configurationName +
                                       "' has previous_stage " + config.at("previous_stage").dump() +
                                       " (expected a configuration's name)");
    f.previousStage = config.at("previous_stage").get<std::string>();
  }
  if (!config.contains("architecture"))
    throw Error(ExitCode::Model,
                folder + ": plans.json configuration '" + f.configurationName +
                    "' has no 'architecture' block (plans from nnU-Net older than v2.4 are not supported)");
  // A 2D configuration (patch and spacing of (y, x), Conv2d) runs slice by slice: its network is rebuilt as
  // the 3D network with kernels and strides of 1 along z, given one slice at a time (Network::loadNnUNetFold).
  const auto& patch = config.at("patch_size");
  if (!patch.is_array() || (patch.size() != 2 && patch.size() != 3))
    throw Error(ExitCode::Model, (dir / "plans.json").string() + ": configuration '" + f.configurationName +
                                     "' has patch_size " + patch.dump() + " (expected 3 entries, or 2 for 2D)");
  f.slices = patch.size() == 2;
  if (!config.at("spacing").is_array() || config.at("spacing").size() != patch.size())
    throw Error(ExitCode::Model, (dir / "plans.json").string() + ": configuration '" + f.configurationName +
                                     "' has spacing " + config.at("spacing").dump() + " for patch_size " +
                                     patch.dump() + " (one value per axis of the patch)");
  const auto& kwargs = config.at("architecture").value("arch_kwargs", nlohmann::json::object());
  const std::string convOp = kwargs.value("conv_op", std::string());
  const bool conv2d = convOp.size() >= 6 && convOp.compare(convOp.size() - 6, 6, "Conv2d") == 0;
  if (conv2d != f.slices)
    throw Error(ExitCode::Model, (dir / "plans.json").string() + ": configuration '" + f.configurationName +
                                     "' has a " + (f.slices ? "2D" : "3D") + " patch_size " + patch.dump() +
                                     " but conv_op '" + convOp + "'");
  f.inputChannels =
      static_cast<int>(f.dataset.value("channel_names", f.dataset.value("modality", nlohmann::json::object())).size());
  // a cascade stage's previous-stage channels: LabelManager.foreground_labels
  if (!f.previousStage.empty()) f.cascadeLabels = f.labels.foregroundLabels();
  const auto regions = f.labels.regions();
  if (f.labels.regionBased() && f.labels.regionsClassOrder.size() != regions.size()) // LabelManager asserts it
    throw Error(ExitCode::Model, (dir / "dataset.json").string() + ": regions_class_order has " +
                                     std::to_string(f.labels.regionsClassOrder.size()) + " value(s) for " +
                                     std::to_string(regions.size()) + " regions (one per region, in the file's order)");
  f.numClasses = f.labels.segmentationHeads();
  return f;
}
} // namespace

bool isNnUNetFolder(const std::string& path) {
  std::error_code ec;
  return !path.empty() && fs::is_directory(path, ec) && fs::exists(fs::path(path) / "plans.json", ec);
}

std::string nnunetFoldName(int fold) { return fold == kFoldAll ? "fold_all" : "fold_" + std::to_string(fold); }

std::vector<int> nnunetFoldFolders(const std::string& folder) {
  std::vector<int> folds;
  bool all = false;
  std::error_code ec;
  for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.rfind("fold_", 0) != 0 || !it->is_directory(ec)) continue;
    const std::string n = name.substr(5);
    if (n == "all")
      all = true;
    else if (!n.empty() && n.size() <= 3 && n.find_first_not_of("0123456789") == std::string::npos &&
             (n == "0" || n[0] != '0')) // fold_07 is no fold's folder: fold 7's is fold_7 (nnU-Net's f'fold_{f}')
      folds.push_back(std::stoi(n));
  }
  std::sort(folds.begin(), folds.end());
  if (all) folds.push_back(kFoldAll);
  return folds;
}

std::vector<int> detectNnUNetFolds(const std::string& folder, const std::string& checkpoint) {
  const std::string file = "checkpoint_" + checkpoint + ".pth";
  std::vector<int> found;
  std::error_code ec;
  for (int fold : nnunetFoldFolders(folder))
    if (fs::is_regular_file(fs::path(folder) / nnunetFoldName(fold) / file, ec)) found.push_back(fold);
  if (found.size() > 1 && found.back() == kFoldAll) found.pop_back(); // fold_all only when no fold_N has it
  if (found.empty())
    throw Error(ExitCode::Model,
                folder + ": no trained fold to ensemble (no fold_N/" + file + ", no fold_all/" + file + ")");
  return found;
}

NnUNetFolder readNnUNetFolder(const std::string& folder) {
  try {
    return readFolder(folder);
  } catch (const nlohmann::json::exception& e) {
    throw plansContentError(folder, e);
  }
}

Error plansContentError(const std::string& folder, const nlohmann::json::exception& e) {
  return Error(ExitCode::Model, folder + ": plans.json or dataset.json is not what nnU-Net writes (" + e.what() + ")");
}

Network Network::loadNnUNetFold(const std::string& folder, int fold, const std::string& checkpoint,
                                const DeviceSpec& device) {
  return loadNnUNetFold(readNnUNetFolder(folder), fold, checkpoint, device);
}

Network Network::loadNnUNetFold(const NnUNetFolder& folder, int fold, const std::string& checkpoint,
                                const DeviceSpec& device) {
  const fs::path cpPath = fs::path(folder.path) / nnunetFoldName(fold) / ("checkpoint_" + checkpoint + ".pth");
  const nnunet::Checkpoint cp = nnunet::readCheckpoint(cpPath.string());
  auto impl = std::make_unique<Impl>();
  impl->path = cpPath.string();
  impl->device = resolveDevice(device);
  impl->native = nnunet::buildNetwork(folder.configuration.at("architecture"), folder.networkInputChannels(),
                                      folder.numClasses, cp, impl->device, cpPath.string());
  impl->mirrorAxes = cp.hasMirrorAxes ? cp.mirrorAxes : std::vector<int>{};
  if (folder.slices) { // a 2D network's axes 0, 1 (y, x of the slice) are the volume's axes 1, 2
    const bool fits = std::all_of(impl->mirrorAxes.begin(), impl->mirrorAxes.end(), [](int a) { return a < 2; });
    if (!fits)
      logWarning(cpPath.string() + ": inference_allowed_mirroring_axes names axis 2 of a 2D configuration: "
                                   "test-time mirroring is off for this checkpoint");
    for (int& a : impl->mirrorAxes) a += 1;
    if (!fits) impl->mirrorAxes.clear();
  }
  return Network(std::move(impl));
}

} // namespace voxseg::inference
