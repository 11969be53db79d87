#include "SegmentCase.h"

#include "voxseg/core/Error.h"
#include "voxseg/inference/NnUNetFolder.h"
#include "voxseg/pipeline/NnUNetEnsemble.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>

namespace fs = std::filesystem;

namespace voxseg::cli {
namespace {

nlohmann::ordered_json fileEntry(const std::string& path) { return {{"path", path}, {"sha256", sha256File(path)}}; }

// The report's folds: fold numbers, "all" for fold_all.
nlohmann::ordered_json foldsJson(const std::vector<int>& folds) {
  nlohmann::ordered_json j = nlohmann::ordered_json::array();
  for (int fold : folds)
    j.push_back(fold == inference::kFoldAll ? nlohmann::ordered_json("all") : nlohmann::ordered_json(fold));
  return j;
}

} // namespace

std::string sha256File(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw inputError(path, "cannot be read (for its SHA-256)");
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1)
    throw Error(ExitCode::Internal, "SHA-256 is not available from OpenSSL");
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), std::streamsize(buf.size()));
    if (in.gcount() > 0) EVP_DigestUpdate(ctx.get(), buf.data(), std::size_t(in.gcount()));
  }
  if (in.bad()) throw inputError(path, "read error while computing its SHA-256");
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), md, &len);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 15];
  }
  return out;
}

CaseRunner::CaseRunner(const std::vector<std::string>& models, const std::string& card,
                       const pipeline::CardOverrides& overrides, const std::vector<std::string>& nnunetFolders,
                       const pipeline::NnUNetOptions& nnunet, const std::vector<std::string>& nnunetOnly,
                       const pipeline::SegmenterOptions& options, const std::string& previousStage)
    : options_(options) {
  const auto joined = [](const std::vector<std::string>& flags) { // "--a, --b"
    std::string list;
    for (const auto& f : flags) list += (list.empty() ? "" : ", ") + f;
    return list;
  };
  nlohmann::ordered_json files = nlohmann::ordered_json::array();
  // --model detects nnU-Net trained-model folders (plans.json + dataset.json) by themselves.
  const auto folders = static_cast<std::size_t>(std::count_if(models.begin(), models.end(), inference::isNnUNetFolder));
  if (folders > 0 && folders < models.size()) {
    const auto other = std::find_if_not(models.begin(), models.end(), inference::isNnUNetFolder);
    std::error_code ec;
    throw usageError(
        "--model " + *other +
        (fs::exists(*other, ec) ? " is no nnU-Net trained-model folder (no plans.json)" : ": no such file or folder") +
        ", and " + *std::find_if(models.begin(), models.end(), inference::isNnUNetFolder) +
        " is one: give TorchScript files or nnU-Net trained-model folders, not both");
  }
  const bool folderModel = folders > 0;
  if (!nnunetFolders.empty() || folderModel) {
    if (!nnunetFolders.empty() && (!models.empty() || !card.empty()))
      throw usageError("--nnunet replaces --model and --card");
    if (!card.empty()) throw usageError("--card applies to TorchScript models, not to nnU-Net folders");
    // nnU-Net's plans decide these; only --step (and --disable-tta, --folds, --checkpoint) apply.
    std::vector<std::string> ignored;
    const auto given = [&](bool set, const char* flag) {
      if (set) ignored.push_back(flag);
    };
    given(overrides.axisOrder.has_value(), "--axis-order");
    given(overrides.patch.has_value(), "--patch");
    given(overrides.tiling.has_value(), "--tiling");
    given(overrides.overlap.has_value(), "--overlap");
    given(overrides.importance.has_value() || overrides.importanceOfTiling, "--importance");
    given(overrides.sigmaScale.has_value(), "--sigma-scale");
    given(overrides.swBatch.has_value(), "--sw-batch");
    given(overrides.tta.has_value(), "--tta/--no-tta");
    given(overrides.normalization.has_value(), "--normalization");
    given(overrides.spacing.has_value(), "--spacing");
    if (!ignored.empty())
      throw usageError(joined(ignored) +
                       ": TorchScript card overrides; an nnU-Net folder takes them from plans.json (it "
                       "takes --step, --disable-tta, --folds and --checkpoint)");
    const std::vector<std::string>& folderList = folderModel ? models : nnunetFolders;
    // --previous-stage: a trained-model folder is loaded with the cascade stages; anything else is a label map
    const bool previousFolder = inference::isNnUNetFolder(previousStage);
    if (!previousStage.empty() && !previousFolder) previousLabels_ = previousStage;
    pipeline::NnUNetSelection selection; // the folders as given: a results folder was resolved (withNnUNetResults)
    selection.folders = folderList;
    selection.nnunet = nnunet;
    if (previousFolder) selection.nnunet.previousStage = previousStage;
    if (!previousLabels_.empty()) selection.previousStageLabels = "--previous-stage " + previousStage;
    nnunet_ = std::make_unique<pipeline::NnUNetPredictor>(selection, options);
    const std::vector<const pipeline::NnUNetModel*>& members = nnunet_->members();
    labels_ = nnunet_->labelTable();
    const auto modelFiles = [&](const pipeline::NnUNetOptions& m) {
      nlohmann::ordered_json list = nlohmann::ordered_json::array();
      for (const char* f : {"plans.json", "dataset.json"}) list.push_back(fileEntry((fs::path(m.folder) / f).string()));
      for (int fold : m.folds)
        list.push_back(fileEntry(
            (fs::path(m.folder) / inference::nnunetFoldName(fold) / ("checkpoint_" + m.checkpoint + ".pth")).string()));
      return list;
    };
    // one configuration: its folder, configuration and folds; an ensemble lists each so
    std::vector<nlohmann::ordered_json> configurations;
    for (std::size_t i = 0; i < members.size(); ++i) {
      const pipeline::NnUNetModel* m = members[i];
      nlohmann::ordered_json c = {{"folder", m->options.folder},
                                  {"configuration", m->configurationName},
                                  {"folds", foldsJson(m->options.folds)}}; // --folds auto resolved
      if (m->previous) {
        const pipeline::NnUNetModel& p = *m->previous;
        c["previous_stage"] = {
            {"folder", p.options.folder}, {"configuration", p.configurationName}, {"files", modelFiles(p.options)}};
      } else if (!previousLabels_.empty() && !m->previousStage.empty()) {
        c["previous_stage"] = {{"labels", previousLabels_}};
      } else if (const int j = pipeline::ensembleMemberBefore(members, i); j >= 0) {
        c["previous_stage"] = {{"folder", members[std::size_t(j)]->options.folder},
                               {"configuration", members[std::size_t(j)]->configurationName},
                               {"ensemble_member", true}};
      }
      for (const auto& f : modelFiles(m->options)) files.push_back(f);
      configurations.push_back(c);
    }
    const pipeline::NnUNetModel& first = *members.front();
    description_ = {
        {"kind", "nnunet"},
        {"name", first.plans.value("dataset_name", fs::path(first.options.folder).parent_path().filename().string())},
        {"version", first.plans.value("plans_name", "")}};
    if (configurations.size() == 1) {
      for (const auto& [key, value] : configurations.front().items())
        if (key != "previous_stage") description_[key] = value;
    } else {
      description_["ensemble"] = configurations; // nnUNetv2_ensemble: probabilities averaged
    }
    description_["checkpoint"] = nnunet.checkpoint;
    description_["test_time_mirroring"] = nnunet.tta;
    if (configurations.size() == 1 && configurations.front().contains("previous_stage"))
      description_["previous_stage"] = configurations.front()["previous_stage"];
  } else {
    if (models.empty()) throw usageError("give a model with --model (TorchScript) or --nnunet (nnU-Net v2 folder)");
    if (!nnunetOnly.empty())
      throw usageError(joined(nnunetOnly) +
                       ": options of nnU-Net model folders; a TorchScript ensemble is one --model per fold");
    pipeline::CardOverrides o = overrides;
    if (!nnunet.tta) { // --disable-tta, nnU-Net's name for --no-tta
      if (o.tta.value_or(false)) throw usageError("--disable-tta and --tta exclude each other");
      o.tta = false;
    }
    torch_ = std::make_unique<pipeline::Model>(pipeline::loadModel(models, card, o, options));
    labels_ = pipeline::labelTable(*torch_);
    for (const auto& m : models) files.push_back(fileEntry(m));
    if (!card.empty()) files.push_back(fileEntry(card));
    description_ = {{"kind", "torchscript"},
                    {"name", torch_->card.name},
                    {"version", torch_->card.version},
                    {"test_time_mirroring", !torch_->card.mirrorAxes.empty()}};
  }
  description_["files"] = files;
}

bool CaseRunner::isRegionBased() const {
  return isNnUNet() ? !nnunet_->members().front()->regionsClassOrder.empty() : !torch_->card.regions.empty();
}

std::vector<std::string> CaseRunner::channelNames() const {
  if (isNnUNet()) return nnunet_->channelNames();
  std::vector<std::string> names;
  for (const auto& c : torch_->card.channels) names.push_back(c.name);
  return names;
}

std::size_t CaseRunner::channelCount() const { return channelNames().size(); }

std::string CaseRunner::previousStageLabels(const std::string& caseId) const {
  std::string path = previousLabels_;
  for (std::size_t at = path.find("{case}"); at != std::string::npos; at = path.find("{case}", at + caseId.size()))
    path.replace(at, 6, caseId);
  return path;
}

CaseResult CaseRunner::run(const std::vector<io::Volume>& inputs, bool keepValues,
                           const inference::ProgressFn& progress, const io::Volume* previousStage) const {
  CaseResult r;
  if (isNnUNet()) {
    pipeline::NnUNetResult n = nnunet_->segment(inputs, options_, keepValues, progress, previousStage);
    r.labels = std::move(n.labels);
    r.values = std::move(n.probabilities);
    r.valuesAreProbabilities = true;
    r.channels = n.channels;
    r.stats = n.stats;
  } else {
    pipeline::Segmentation s = pipeline::segment(*torch_, inputs, options_, keepValues, progress);
    r.labels = std::move(s.labels);
    r.values = std::move(s.logits);
    r.channels = s.channels;
    r.stats = s.stats;
  }
  return r;
}

} // namespace voxseg::cli
