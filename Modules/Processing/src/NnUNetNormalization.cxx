#include "voxseg/processing/NnUNetNormalization.h"

#include "voxseg/core/Error.h"

#include <algorithm>
#include <cmath>

namespace voxseg::processing {

void nnunetNormalize(std::vector<float>& v, const std::string& scheme, bool useMask, const nlohmann::json& props,
                     const std::vector<std::uint8_t>& mask, const std::string& source) {
  if (scheme == "CTNormalization") {
    const float lo = props.at("percentile_00_5").get<float>(), hi = props.at("percentile_99_5").get<float>();
    const float mean = props.at("mean").get<float>();
    const float sd = float(std::max(props.at("std").get<double>(), 1e-8));
    for (float& x : v) x = (std::clamp(x, lo, hi) - mean) / sd;
  } else if (scheme == "ZScoreNormalization") {
    double sum = 0, sq = 0;
    std::size_t n = 0;
    for (std::size_t i = 0; i < v.size(); ++i)
      if (!useMask || mask[i]) {
        sum += v[i];
        ++n;
      }
    const double mean = n ? sum / double(n) : 0.0;
    for (std::size_t i = 0; i < v.size(); ++i)
      if (!useMask || mask[i]) sq += (v[i] - mean) * (v[i] - mean);
    const double sd = std::max(n ? std::sqrt(sq / double(n)) : 0.0, 1e-8);
    for (std::size_t i = 0; i < v.size(); ++i)
      if (!useMask || mask[i]) v[i] = float((v[i] - mean) / sd);
  } else if (scheme == "RescaleTo01Normalization") {
    float lo = v.empty() ? 0 : *std::min_element(v.begin(), v.end());
    float hi = v.empty() ? 0 : *std::max_element(v.begin(), v.end());
    for (float& x : v) x = (x - lo) / std::max(hi - lo, 1e-8f);
  } else if (scheme == "RGBTo01Normalization") { // as nnU-Net: 8-bit colour values, divided by 255
    const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
    if (lo != v.end() && (*lo < 0 || *hi > 255))
      throw inputError(source, "RGBTo01Normalization needs values within 0..255, the image has " + std::to_string(*lo) +
                                   ".." + std::to_string(*hi));
    for (float& x : v) x /= 255.0f;
  } else if (scheme != "NoNormalization") {
    throw Error(ExitCode::Model,
                source + ": normalization scheme '" + scheme +
                    "' is not supported (CTNormalization, ZScoreNormalization, RescaleTo01Normalization, "
                    "RGBTo01Normalization, NoNormalization)");
  }
}

} // namespace voxseg::processing
