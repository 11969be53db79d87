#pragma once
// Planning and preprocessing of a raw dataset, nnU-Net v2 style: crop to the non-zero box, normalize
// per channel, resample to the target spacing; the plan (spacing, patch, network, normalization) is
// written as nnU-Net's plans.json so inference preprocesses new images the same way.

#include "UNet.h"

#include "voxseg/training/Dataset.h"
#include "voxseg/training/Train.h"

#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace voxseg::training {

using Shape = std::array<std::int64_t, 3>; ///< (z, y, x)

/// The orientation training arrays are put in (and new images at inference).
constexpr const char* kTrainingOrientation = "RAS";

struct PreparedCase {
  std::string id;
  Shape shape{0, 0, 0};
  std::vector<float> data;                           ///< channels x z x y x, normalized, at the target spacing
  std::vector<std::uint8_t> labels;                  ///< z x y x
  std::vector<std::vector<std::int64_t>> foreground; ///< per foreground class: voxel indices (sampled)
  /// With an ignore label: annotated voxels (any label but it; sampled), where patches not forced onto the
  /// foreground are centred, as nnU-Net samples sparse annotations. Empty without one.
  std::vector<std::int64_t> annotated;
};

struct Plan {
  std::array<double, 3> spacing{1, 1, 1}; ///< (z, y, x)
  Shape patch{0, 0, 0};
  UNetShape network;
  std::vector<std::string> normalization; ///< per channel
  nlohmann::json intensityProperties;     ///< per channel: mean, std, percentiles (CT)
  Shape medianShape{0, 0, 0};             ///< after resampling
};

/// Reads every case, plans, and preprocesses. Throws Error(Input) naming the file for channels or
/// labels that disagree on the grid, or label values the dataset does not list.
std::vector<PreparedCase> prepare(const RawDataset& dataset, const TrainOptions& options, Plan& plan);

/// nnU-Net's plans.json (3d_fullres only) for the plan.
nlohmann::json plansJson(const RawDataset& dataset, const Plan& plan, const TrainOptions& options);

} // namespace voxseg::training
