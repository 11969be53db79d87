#pragma once
// nnU-Net's ensemble of configurations (nnUNetv2_ensemble, what nnUNetv2_find_best_configuration recommends when
// e.g. 2d and 3d_fullres together score best): every trained-model folder segments the case with its own
// preprocessing, sliding window and export; their probabilities on the input grid are averaged and the labels
// made from the average. nnU-Net does the same through .npz files (predict with --save_probabilities, then
// ensemble_folders); here nothing touches the disk.

#include "voxseg/inference/NnUNetFolder.h"
#include "voxseg/pipeline/NnUNet.h"

#include <memory>
#include <string>
#include <vector>

namespace voxseg::pipeline {

/// Throws Error(Model) naming the folders unless every model can join the first's ensemble: the same labels
/// (dataset.json's entries with their values, in the same order for a region-based dataset; the ignore label;
/// regions_class_order), the same number of network outputs and the same channel_names.
void requireNnUNetEnsemble(const std::vector<const NnUNetModel*>& models);
/// The same check on the folders' descriptions, before any network loads.
void requireNnUNetEnsemble(const std::vector<inference::NnUNetFolder>& folders);

/// Loads the trained-model folders of an ensemble (one folder: that model alone), each with `options` but its folder
/// (folds, checkpoint, step, mirroring; options.previousStage, a folder, for the cascade stages). Before any network
/// loads: a folder given twice is refused (usageError), the folders' descriptions are checked (requireNnUNetEnsemble),
/// and previous-stage labels or folder given (`previousGiven`: labels given per case, or options.previousStage) with
/// no cascade stage among the folders are refused (usageError starting with `previousWhat`). Cascade stages given
/// labels do not load their previous stage, nor do those whose previous stage is an earlier member.
std::vector<std::unique_ptr<NnUNetModel>> loadNnUNetEnsemble(const std::vector<std::string>& folders,
                                                             const NnUNetOptions& options, const SegmenterOptions& run,
                                                             bool previousLabelsGiven, const std::string& previousWhat);

/// For a cascade stage among `models` (at `i`): the index of an earlier member that is its previous stage (its
/// NnUNetOptions::previousStage, or the sibling folder), whose labels segmentNnUNetEnsemble then gives it instead of
/// running that stage again; -1 when there is none (3d_lowres and 3d_cascade_fullres may be an ensemble that
/// nnUNetv2_find_best_configuration picks, as nnU-Net then predicts 3d_lowres once).
int ensembleMemberBefore(const std::vector<const NnUNetModel*>& models, std::size_t i);

/// Segments one case with each model in turn (segmentNnUNet, probabilities kept), averages the probabilities as
/// nnU-Net's average_probabilities does (float32: the first, plus each other in the order given, divided by their
/// number) and makes the labels as LabelManager.convert_probabilities_to_segmentation does: the first channel of
/// the largest probability, or for region-based models each region above 0.5 writing its regions_class_order value
/// in order. `previousStage` goes to the cascade stages among the models; the others ignore it. A cascade stage that
/// has no previous stage loaded gets the labels of the member it follows (ensembleMemberBefore). One model: exactly
/// segmentNnUNet. Holds two models' probabilities at a time.
NnUNetResult segmentNnUNetEnsemble(const std::vector<const NnUNetModel*>& models,
                                   const std::vector<io::Volume>& channels, const SegmenterOptions& run,
                                   bool keepProbabilities, const inference::ProgressFn& progress = {},
                                   const io::Volume* previousStage = nullptr);

/// The label of one voxel from its probabilities (`channels` values, `stride` apart), as
/// LabelManager.convert_probabilities_to_segmentation computes it (see segmentNnUNetEnsemble).
int nnunetLabelOfProbabilities(const float* probabilities, std::int64_t stride, std::int64_t channels,
                               const std::vector<int>& regionsClassOrder);

} // namespace voxseg::pipeline
