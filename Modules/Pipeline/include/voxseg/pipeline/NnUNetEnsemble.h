#pragma once
// nnU-Net's ensemble of configurations (nnUNetv2_ensemble, what nnUNetv2_find_best_configuration recommends when
// e.g. 2d and 3d_fullres together score best): every trained-model folder segments the case with its own
// preprocessing, sliding window and export; their probabilities on the input grid are averaged and the labels
// made from the average. nnU-Net does the same through .npz files (predict with --save_probabilities, then
// ensemble_folders); here nothing touches the disk.

#include "voxseg/pipeline/NnUNet.h"

#include <vector>

namespace voxseg::pipeline {

/// Throws Error(Model) naming the folders unless every model can join the first's ensemble: the same labels
/// (dataset.json's entries, values, ignore label and regions_class_order) and the same input channels.
void requireNnUNetEnsemble(const std::vector<const NnUNetModel*>& models);

/// Segments one case with each model in turn (segmentNnUNet, probabilities kept), averages the probabilities as
/// nnU-Net's average_probabilities does (float32: the first, plus each other in the order given, divided by their
/// number) and makes the labels as LabelManager.convert_probabilities_to_segmentation does: the first channel of
/// the largest probability, or for region-based models each region above 0.5 writing its regions_class_order value
/// in order. `previousStage` goes to the cascade stages among the models; the others ignore it. One model: exactly
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
