#pragma once
// One loaded model (TorchScript + card, or an nnU-Net v2 folder) applied to case after case: the
// `voxseg segment` engine shared by single runs and batches.

#include "voxseg/core/ModelCard.h"
#include "voxseg/io/Volume.h"
#include "voxseg/pipeline/NnUNetPredictor.h"
#include "voxseg/pipeline/Segmenter.h"

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

namespace voxseg::cli {

struct CaseResult {
  io::Volume labels;         ///< on the input grid
  std::vector<float> values; ///< [K][Z][Y][X]: logits (TorchScript) or probabilities (nnU-Net) when kept
  bool valuesAreProbabilities = false;
  std::int64_t channels = 0;
  inference::RunStats stats;
};

class CaseRunner {
public:
  /// Loads the model once; `nnunetFolders` empty means TorchScript `models` with optional `card` (unless `models`
  /// are nnU-Net folders). Several nnU-Net folders are an ensemble of configurations
  /// (pipeline::segmentNnUNetEnsemble), each loaded with the same `nnunet` options. `nnunetOnly` names nnU-Net-folder
  /// options given, refused with a TorchScript model; `nnunet.tta` false (--disable-tta) turns mirroring off for either
  /// kind. `previousStage` (--previous-stage) is a cascade stage's previous stage: a model folder, or a label-map path
  /// ("{case}" standing for the case id); empty: the sibling folder (pipeline::NnUNetOptions::previousStage).
  CaseRunner(const std::vector<std::string>& models, const std::string& card, const pipeline::CardOverrides& overrides,
             const std::vector<std::string>& nnunetFolders, const pipeline::NnUNetOptions& nnunet,
             const std::vector<std::string>& nnunetOnly, const pipeline::SegmenterOptions& options,
             const std::string& previousStage = {});

  /// Segments one case; `keepValues` keeps logits (TorchScript) or probabilities (nnU-Net). `previousStage`: the
  /// case's previous-stage labels (previousStageLabels()), when the cascade's previous stage is given so.
  CaseResult run(const std::vector<io::Volume>& inputs, bool keepValues, const inference::ProgressFn& progress,
                 const io::Volume* previousStage = nullptr) const;

  /// The previous-stage label map of case `caseId` when --previous-stage names label maps; empty otherwise.
  std::string previousStageLabels(const std::string& caseId) const;

  bool isNnUNet() const { return nnunet_ != nullptr; }
  bool isRegionBased() const;
  /// Every label the model can write, background first, with names and (generated when absent) colors.
  const std::vector<LabelInfo>& labels() const { return labels_; }
  /// Name, version, kind and every file with its SHA-256 (for report.json).
  const nlohmann::ordered_json& description() const { return description_; }
  std::size_t channelCount() const;
  std::vector<std::string> channelNames() const; ///< the card's or dataset.json's, in input order

private:
  std::unique_ptr<pipeline::Model> torch_;
  /// nnU-Net folders (several: an ensemble of configurations), without post-processing: the CLI applies
  /// --nnunet-postprocessing with its other steps.
  std::unique_ptr<pipeline::NnUNetPredictor> nnunet_;
  pipeline::SegmenterOptions options_;
  std::vector<LabelInfo> labels_;
  nlohmann::ordered_json description_;
  std::string previousLabels_; ///< --previous-stage's label-map path or pattern
};

/// SHA-256 of a file's bytes as 64 hex digits; throws Error(Input) naming the file.
std::string sha256File(const std::string& path);

} // namespace voxseg::cli
