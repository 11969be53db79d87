#include "voxseg/pipeline/NnUNetInferenceInformation.h"

#include "voxseg/core/Error.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace fs = std::filesystem;

namespace voxseg::pipeline {
namespace {

const char* kFile = "inference_information.json";

fs::path informationFile(const std::string& path) {
  std::error_code ec;
  return fs::is_directory(path, ec) ? fs::path(path) / kFile : fs::path(path);
}

// Where the post-processing recorded as `written` (<nnUNet_results>/<Dataset>/<a>/<b>/postprocessing.pkl, as
// find_best_configuration writes it: <a>/<b> is ensembles/<ensemble> or <trainer>__<plans>__<configuration>/
// crossval_results_folds_<folds>) may lie for the results folder `dataset`, in order: the same two folders below
// it (whatever the folder is called now, and wherever the written path pointed, Windows' too), then the path as
// written.
std::vector<fs::path> postprocessingCandidates(const std::string& written, const fs::path& dataset) {
  std::vector<std::string> parts;
  std::string part;
  for (const char c : written + "/") {
    if (c != '/' && c != '\\') {
      part += c;
    } else if (!part.empty()) {
      parts.push_back(part);
      part.clear();
    }
  }
  std::vector<fs::path> out;
  if (parts.size() >= 3)
    out.push_back(dataset / parts[parts.size() - 3] / parts[parts.size() - 2] / "postprocessing.json");
  out.push_back(fs::path(written).parent_path() / "postprocessing.json");
  return out;
}

} // namespace

bool isNnUNetResultsFolder(const std::string& path) {
  std::error_code ec;
  if (path.empty()) return false;
  if (fs::path(path).filename() == kFile) return fs::is_regular_file(path, ec);
  return fs::is_directory(path, ec) && fs::is_regular_file(fs::path(path) / kFile, ec);
}

NnUNetInferenceInformation readNnUNetInferenceInformation(const std::string& path, bool postprocessing) {
  const fs::path file = informationFile(path);
  const fs::path dataset = fs::absolute(file).lexically_normal().parent_path(); // "." and ".." resolved
  const auto fail = [&](const std::string& why) { return Error(ExitCode::Model, file.string() + ": " + why); };
  std::ifstream in(file);
  if (!in) throw fail("cannot be read");
  std::stringstream text;
  text << in.rdbuf();
  const nlohmann::json j = nlohmann::json::parse(text.str(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw fail("not valid JSON");
  NnUNetInferenceInformation out;
  out.file = file.string();
  try {
    for (const auto& f : j.at("folds")) out.folds.push_back(f.get<int>());
    const auto& best = j.at("best_model_or_ensemble");
    out.diceBefore = best.value("result_on_crossval_pre_pp", 0.0);
    out.diceAfter = best.value("result_on_crossval_post_pp", 0.0);
    for (const auto& m : best.at("selected_model_or_models")) {
      const std::string name = m.at("trainer").get<std::string>() + "__" + m.at("plans_identifier").get<std::string>() +
                               "__" + m.at("configuration").get<std::string>();
      const fs::path folder = fs::path(file).parent_path() / name;
      std::error_code ec;
      if (!fs::is_regular_file(folder / "plans.json", ec))
        throw fail("selects " + name + ", and " + folder.string() + " holds no trained model (no plans.json)");
      out.folders.push_back(folder.string());
    }
    if (out.folders.empty()) throw fail("selects no model (best_model_or_ensemble.selected_model_or_models is empty)");
    if (out.folds.empty()) throw fail("names no fold");
    if (!postprocessing) return out;
    const std::string pkl = best.at("postprocessing_file").get<std::string>();
    std::string looked;
    for (const fs::path& json : postprocessingCandidates(pkl, dataset)) {
      std::error_code ec;
      if (fs::is_regular_file(json, ec)) {
        out.postprocessing = json.string();
        return out;
      }
      looked += (looked.empty() ? "" : ", then ") + json.string();
    }
    throw fail("its post-processing " + pkl + " has no postprocessing.json beside it (looked for " + looked +
               "; nnU-Net's determine_postprocessing writes both; give --nnunet-postprocessing FILE, or none)");
  } catch (const nlohmann::json::exception& e) {
    throw fail(std::string("not as nnUNetv2_find_best_configuration writes it (") + e.what() + ")");
  }
  return out;
}

} // namespace voxseg::pipeline
