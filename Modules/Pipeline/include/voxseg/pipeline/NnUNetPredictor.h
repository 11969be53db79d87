#pragma once
// nnU-Net loaded once and run on many cases, as nnUNetv2_predict (+ nnUNetv2_ensemble + nnUNetv2_apply_postprocessing)
// would run it: one trained-model folder, an ensemble of configurations, or a dataset's results folder
// (inference_information.json: the configuration or ensemble nnUNetv2_find_best_configuration chose, on its folds,
// with its post-processing). Used by SegmentationImageFilter and the Slicer module; Python's counterpart is
// nnUNetPredictor.

#include "voxseg/core/ModelCard.h"
#include "voxseg/pipeline/NnUNet.h"
#include "voxseg/pipeline/NnUNetInferenceInformation.h"
#include "voxseg/processing/Components.h"

#include <memory>
#include <string>
#include <vector>

namespace voxseg::pipeline {

struct NnUNetPredictorOptions {
  /// Trained-model folders (one: that configuration; several: an ensemble of configurations), or one dataset's
  /// results folder (or its inference_information.json) alone.
  std::vector<std::string> folders;
  /// Folds (empty: every trained fold, or the results folder's), checkpoint, step, mirroring, a cascade stage's
  /// previous-stage folder. `folder` is not read: `folders` are.
  NnUNetOptions nnunet;
  /// nnU-Net's postprocessing.json, applied to every case's labels. Empty: the results folder's, if any.
  std::string postprocessing;
  bool noPostprocessing = false; ///< not even the results folder's
  /// Non-empty: every case's previous-stage labels will be given to segment() (so cascade stages do not load their
  /// previous stage); the text says where they come from (e.g. "--previousStage p.nrrd") in the error raised when
  /// no folder is a cascade stage.
  std::string previousStageLabels;
};

/// What the options select, read from the JSON files alone (no network loads): the results folder's choice of
/// folders and folds (or the folders given), and the post-processing steps.
struct NnUNetSelection {
  std::vector<std::string> folders;   ///< trained-model folders
  NnUNetOptions nnunet;               ///< folds resolved as far as the results folder says (empty: every trained fold)
  NnUNetInferenceInformation results; ///< the results folder's inference_information.json read (file empty: none)
  std::string postprocessingFile;     ///< postprocessing.json applied, or empty
  std::vector<processing::LargestComponentOfUnion> postprocessing;
  std::string previousStageLabels; ///< as given
};

/// Whether one of `folders` is a dataset's results folder (inference_information.json) and not a trained-model folder:
/// what selectNnUNet resolves.
bool namesNnUNetResults(const std::vector<std::string>& folders);

/// Reads the results folder (if one is given) and the post-processing file. Throws Error: Usage for options that
/// contradict each other, Model for a results folder, Input for a bad postprocessing.json, each naming the file.
NnUNetSelection selectNnUNet(const NnUNetPredictorOptions& options);

class NnUNetPredictor {
public:
  /// selectNnUNet, then the folders checked (loadNnUNetEnsemble) and every network loaded; throws as those do.
  NnUNetPredictor(const NnUNetPredictorOptions& options, const SegmenterOptions& run);
  /// Loads what selectNnUNet selected (a program that checks its other inputs in between).
  NnUNetPredictor(const NnUNetSelection& selection, const SegmenterOptions& run);
  ~NnUNetPredictor();
  NnUNetPredictor(NnUNetPredictor&&) noexcept;
  NnUNetPredictor& operator=(NnUNetPredictor&&) noexcept;

  /// The loaded configurations, in the order given (or the results folder's).
  const std::vector<const NnUNetModel*>& members() const { return members_; }
  /// The inference_information.json read; empty for trained-model folders.
  const std::string& resultsFile() const { return resultsFile_; }
  /// The postprocessing.json applied, and its steps; empty when none.
  const std::string& postprocessingFile() const { return postprocessingFile_; }
  const std::vector<processing::LargestComponentOfUnion>& postprocessing() const { return steps_; }

  /// Whether each case's previous-stage labels are to be given to segment() (previousStageLabels was set).
  bool takesPreviousStageLabels() const { return takesPreviousStageLabels_; }

  /// dataset.json's labels (pipeline::labelTable of the first member).
  std::vector<LabelInfo> labelTable() const;
  /// dataset.json's channel_names, in channel order.
  std::vector<std::string> channelNames() const;

  /// Segments one case (segmentNnUNetEnsemble), then applies the post-processing; NnUNetResult::postprocessed
  /// counts the voxels it set to the background. `previousStage`: see segmentNnUNetEnsemble.
  NnUNetResult segment(const std::vector<io::Volume>& channels, const SegmenterOptions& run, bool keepProbabilities,
                       const inference::ProgressFn& progress = {}, const io::Volume* previousStage = nullptr) const;

private:
  const NnUNetModel& first() const; ///< throws Error(Internal) on a moved-from predictor

  std::vector<std::unique_ptr<NnUNetModel>> models_;
  std::vector<const NnUNetModel*> members_;
  std::string resultsFile_;
  std::string postprocessingFile_;
  std::vector<processing::LargestComponentOfUnion> steps_;
  bool takesPreviousStageLabels_ = false;
};

} // namespace voxseg::pipeline
