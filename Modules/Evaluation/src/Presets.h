#pragma once
// The presets' metric lists from masks (private to the Evaluation module).

#include "voxseg/evaluation/Evaluate.h"

namespace voxseg::evaluation::detail {

/// Every preset of `options` for one label's masks; surfaces shared between presets are computed once,
/// distance transforms on up to `threads` threads.
std::vector<PresetMetrics> evaluateMasks(const VoxelCounts& counts, const std::uint8_t* reference,
                                         const std::uint8_t* prediction, const Size3& size, const Vec3& spacing,
                                         const EvaluationOptions& options, int threads);

/// Throws Error(Usage) for a percentile outside [0, 100] or a negative or non-finite tolerance.
void validateOptions(const EvaluationOptions& options);

} // namespace voxseg::evaluation::detail
