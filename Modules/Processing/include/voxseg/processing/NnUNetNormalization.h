#pragma once
// nnU-Net v2's DefaultPreprocessor._normalize for one channel, shared by inference (Pipeline) and
// training (Training) so that a trained model sees the intensities it was trained on.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace voxseg::processing {

/// Normalizes one channel in place. `scheme`: CTNormalization (clip to the foreground percentiles 0.5/99.5 of
/// `props`, then its mean/std; float32 as NumPy does it), ZScoreNormalization (over the voxels, or over mask
/// voxels only when useMask; mean and std summed in double, so a voxel may differ by about one float32 rounding
/// from NumPy's float32 pairwise sums), RescaleTo01Normalization, RGBTo01Normalization (values 0..255 over 255;
/// Error(Input) naming `source` outside that range), NoNormalization.
/// Throws Error(Model) naming `source` for another scheme. CT and ZScore run on `workers` threads over pieces of
/// fixed size, the sums added piece by piece in order: the result does not depend on the number of workers.
void nnunetNormalize(std::vector<float>& v, const std::string& scheme, bool useMask, const nlohmann::json& props,
                     const std::vector<std::uint8_t>& mask, const std::string& source, unsigned workers = 1);

} // namespace voxseg::processing
