#include "ResumeState.h"

#include "voxseg/core/Error.h"
#include "voxseg/core/JsonText.h"
#include "voxseg/io/AtomicOutput.h"

#include <fstream>
#include <limits>
#include <sstream>
#include <system_error>
#include <vector>

namespace fs = std::filesystem;

namespace voxseg::training {
namespace {

const char* const kStateFile = "state.json";

// The first line of a LibTorch error, without its C++ backtrace.
std::string firstLine(const std::string& what) { return what.substr(0, what.find('\n')); }

// state.json's name for one of the two state files; runs checkpointed before 2026-11-29 name none: network.pt and
// optimizer.pt.
fs::path stateFile(const fs::path& folder, const nlohmann::json& state, const std::string& key,
                   const std::string& legacy) {
  if (!state.contains(key)) return folder / legacy;
  const nlohmann::json& name = state.at(key);
  if (!name.is_string() || name.get<std::string>().empty() ||
      fs::path(name.get<std::string>()).filename() != fs::path(name.get<std::string>()))
    throw inputError((folder / kStateFile).string(), "\"" + key + "\" is not a file name in its folder");
  return folder / name.get<std::string>();
}

template <typename T> void load(T& what, const fs::path& file) {
  std::error_code ec;
  if (!fs::is_regular_file(file, ec))
    throw inputError(file.string(), "missing: the training state names it (resume needs it)");
  try {
    torch::load(what, file.string());
  } catch (const c10::Error& e) {
    throw inputError(file.string(), "not a readable training state file (" + firstLine(e.what_without_backtrace()) +
                                        "); --force starts the run over");
  } catch (const std::exception& e) {
    throw inputError(file.string(), "not a readable training state file (" + firstLine(e.what()) + ")");
  }
}

template <typename T> std::string serialized(T& what, const std::string& path) {
  std::ostringstream bytes;
  try {
    torch::save(what, bytes);
  } catch (const c10::Error& e) {
    throw Error(ExitCode::Internal, path + ": cannot serialize (" + firstLine(e.what_without_backtrace()) + ")");
  }
  return std::move(bytes).str();
}

} // namespace

nlohmann::json readResumeState(const fs::path& folder) {
  const std::string path = (folder / kStateFile).string();
  std::ifstream in(path);
  if (!in) throw inputError(path, "no training state to resume from");
  const nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    throw inputError(path, "not a training state (not a JSON object); --force starts the run over");
  for (const char* key : {"epoch", "losses", "validation", "rng"})
    if (!j.contains(key)) throw inputError(path, std::string("no \"") + key + "\": not a training state");
  try { // the types a resume reads
    (void)j.at("epoch").get<int>();
    (void)resumedLosses(j);
    (void)resumedValidation(j);
    (void)j.at("rng").get<std::string>();
  } catch (const nlohmann::json::exception& e) {
    throw inputError(path, std::string("malformed training state (") + e.what() + ")");
  }
  return j;
}

namespace {
// Numbers as nlohmann::json writes them: NaN as null.
std::vector<double> numbers(const nlohmann::json& list) {
  std::vector<double> out;
  for (const auto& v : list.get<std::vector<nlohmann::json>>())
    out.push_back(v.is_null() ? std::numeric_limits<double>::quiet_NaN() : v.get<double>());
  return out;
}
} // namespace

std::vector<double> resumedLosses(const nlohmann::json& state) { return numbers(state.at("losses")); }

std::vector<std::pair<int, std::vector<double>>> resumedValidation(const nlohmann::json& state) {
  std::vector<std::pair<int, std::vector<double>>> out;
  for (const auto& entry : state.at("validation").get<std::vector<nlohmann::json>>()) {
    if (!entry.is_array() || entry.size() != 2)
      throw nlohmann::json::type_error::create(302, "not [epoch, [Dice...]]", &entry);
    out.emplace_back(entry.at(0).get<int>(), numbers(entry.at(1)));
  }
  return out;
}

void loadResumePoint(const fs::path& folder, const nlohmann::json& state, UNet& net, torch::optim::Optimizer& optimizer,
                     const std::string& optimizerName) {
  if (state.contains("optimizer") && state.at("optimizer") != optimizerName)
    throw usageError("--resume: the run in " + folder.string() + " was started with --optimizer " +
                     state.at("optimizer").dump() + ", not " + optimizerName);
  load(net, stateFile(folder, state, "network_file", "network.pt"));
  load(optimizer, stateFile(folder, state, "optimizer_file", "optimizer.pt"));
}

void saveResumePoint(const fs::path& folder, int epoch, UNet& net, torch::optim::Optimizer& optimizer,
                     const std::string& optimizerName, nlohmann::json state) {
  const std::string network = "network-" + std::to_string(epoch) + ".pt",
                    optimizerFile = "optimizer-" + std::to_string(epoch) + ".pt";
  io::writeFileAtomically((folder / network).string(), serialized(net, (folder / network).string()), true);
  io::writeFileAtomically((folder / optimizerFile).string(), serialized(optimizer, (folder / optimizerFile).string()),
                          true);
  state["epoch"] = epoch;
  state["optimizer"] = optimizerName;
  state["network_file"] = network;
  state["optimizer_file"] = optimizerFile;
  io::writeFileAtomically((folder / kStateFile).string(), jsonText(state), true);
  // the state files state.json no longer names (the previous checkpoint's; those of a save cut short)
  std::error_code ec;
  std::vector<fs::path> former;
  for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    const bool stateFileName =
        (name.rfind("network", 0) == 0 || name.rfind("optimizer", 0) == 0) && it->path().extension() == ".pt";
    if (stateFileName && name != network && name != optimizerFile) former.push_back(it->path());
  }
  for (const auto& f : former) fs::remove(f, ec);
}

} // namespace voxseg::training
