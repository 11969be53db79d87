#include "NetworkImpl.h"
#include "NnUNetNetwork.h"
#include "voxseg/core/Error.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

namespace voxseg::inference {
namespace {

nlohmann::json readJson(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw Error(ExitCode::Model, path.string() + ": missing (not an nnU-Net trained-model folder?)");
  try {
    return nlohmann::json::parse(in);
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

Network Network::loadNnUNetFold(const std::string& folder, int fold, const std::string& checkpoint,
                                const DeviceSpec& device) {
  const fs::path dir(folder);
  if (!fs::is_directory(dir)) throw Error(ExitCode::Model, folder + ": no such nnU-Net trained-model folder");
  const auto plans = readJson(dir / "plans.json");
  const auto dataset = readJson(dir / "dataset.json");
  const std::string base = dir.filename().empty() ? dir.parent_path().filename().string() : dir.filename().string();
  const auto sep = base.rfind("__");
  if (sep == std::string::npos)
    throw Error(ExitCode::Model, folder + ": folder name is not <trainer>__<plans>__<configuration>");
  const std::string configName = base.substr(sep + 2);
  const auto config = configuration(plans, configName, (dir / "plans.json").string());
  if (config.contains("previous_stage") && !config.at("previous_stage").is_null())
    throw Error(ExitCode::Model, folder + ": configuration '" + configName + "' is a cascade stage (previous_stage " +
                                     config.at("previous_stage").dump() + "); cascades are not supported yet");
  if (!config.contains("architecture"))
    throw Error(ExitCode::Model,
                folder + ": plans.json configuration '" + configName +
                    "' has no 'architecture' block (plans from nnU-Net older than v2.4 are not supported)");
  const int channels =
      static_cast<int>(dataset.value("channel_names", dataset.value("modality", nlohmann::json::object())).size());
  int classes = 0;
  if (dataset.contains("regions_class_order")) {
    classes = static_cast<int>(dataset.at("regions_class_order").size());
  } else {
    classes = static_cast<int>(dataset.at("labels").size());
  }
  const fs::path cpPath = dir / ("fold_" + std::to_string(fold)) / ("checkpoint_" + checkpoint + ".pth");
  const nnunet::Checkpoint cp = nnunet::readCheckpoint(cpPath.string());

  auto impl = std::make_unique<Impl>();
  impl->path = cpPath.string();
  impl->device = resolveDevice(device);
  impl->native = nnunet::buildNetwork(config.at("architecture"), channels, classes, cp, impl->device, cpPath.string());
  impl->mirrorAxes = cp.hasMirrorAxes ? cp.mirrorAxes : std::vector<int>{};
  return Network(std::move(impl));
}

} // namespace voxseg::inference
