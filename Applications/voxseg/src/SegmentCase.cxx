#include "SegmentCase.h"

#include "voxseg/core/Error.h"
#include "voxseg/inference/NnUNetFolder.h"

#include <openssl/evp.h>

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
                       const pipeline::CardOverrides& overrides, const std::string& nnunetFolder,
                       const pipeline::NnUNetOptions& nnunet, const std::vector<std::string>& nnunetOnly,
                       const pipeline::SegmenterOptions& options, const std::string& previousStage)
    : options_(options) {
  const auto joined = [](const std::vector<std::string>& flags) { // "--a, --b"
    std::string list;
    for (const auto& f : flags) list += (list.empty() ? "" : ", ") + f;
    return list;
  };
  nlohmann::ordered_json files = nlohmann::ordered_json::array();
  // --model detects an nnU-Net trained-model folder (plans.json + dataset.json) by itself.
  const bool folderModel = models.size() == 1 && inference::isNnUNetFolder(models.front());
  if (!nnunetFolder.empty() || folderModel) {
    if (!nnunetFolder.empty() && (!models.empty() || !card.empty()))
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
    pipeline::NnUNetOptions o = nnunet;
    o.folder = folderModel ? models.front() : nnunetFolder;
    // --previous-stage: a trained-model folder is loaded with the cascade stage; anything else is a label map
    const bool previousFolder = inference::isNnUNetFolder(previousStage);
    if (previousFolder) o.previousStage = previousStage;
    if (!previousStage.empty() && !previousFolder) {
      o.loadPreviousStage = false;
      previousLabels_ = previousStage;
    }
    if (!previousStage.empty()) pipeline::requireCascadeStage(o.folder, "--previous-stage " + previousStage);
    nnunet_ = std::make_unique<pipeline::NnUNetModel>(pipeline::loadNnUNet(o, options));
    labels_ = pipeline::labelTable(*nnunet_);
    const auto modelFiles = [&](const pipeline::NnUNetOptions& m) {
      nlohmann::ordered_json list = nlohmann::ordered_json::array();
      for (const char* f : {"plans.json", "dataset.json"}) list.push_back(fileEntry((fs::path(m.folder) / f).string()));
      for (int fold : m.folds)
        list.push_back(fileEntry(
            (fs::path(m.folder) / inference::nnunetFoldName(fold) / ("checkpoint_" + m.checkpoint + ".pth")).string()));
      return list;
    };
    files = modelFiles(nnunet_->options); // the folds loaded (--folds auto resolved)
    description_ = {
        {"kind", "nnunet"},
        {"name", nnunet_->plans.value("dataset_name", fs::path(o.folder).parent_path().filename().string())},
        {"version", nnunet_->plans.value("plans_name", "")},
        {"folder", o.folder},
        {"configuration", nnunet_->configurationName},
        {"folds", foldsJson(nnunet_->options.folds)},
        {"checkpoint", o.checkpoint},
        {"test_time_mirroring", o.tta}};
    if (nnunet_->previous) {
      const pipeline::NnUNetModel& p = *nnunet_->previous;
      description_["previous_stage"] = {
          {"folder", p.options.folder}, {"configuration", p.configurationName}, {"files", modelFiles(p.options)}};
    } else if (!previousLabels_.empty()) {
      description_["previous_stage"] = {{"labels", previousLabels_}};
    }
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
  return nnunet_ ? !nnunet_->regionsClassOrder.empty() : !torch_->card.regions.empty();
}

std::size_t CaseRunner::channelCount() const {
  return nnunet_ ? nnunet_->dataset.at("channel_names").size() : torch_->card.channels.size();
}

std::string CaseRunner::previousStageLabels(const std::string& caseId) const {
  std::string path = previousLabels_;
  for (std::size_t at = path.find("{case}"); at != std::string::npos; at = path.find("{case}", at + caseId.size()))
    path.replace(at, 6, caseId);
  return path;
}

CaseResult CaseRunner::run(const std::vector<io::Volume>& inputs, bool keepValues,
                           const inference::ProgressFn& progress, const io::Volume* previousStage) const {
  CaseResult r;
  if (nnunet_) {
    pipeline::NnUNetResult n = pipeline::segmentNnUNet(*nnunet_, inputs, options_, keepValues, progress, previousStage);
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
