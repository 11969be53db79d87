#include "voxseg/processing/Intensity.h"

#include <algorithm>
#include <cmath>

namespace voxseg::processing {

void normalize(float* v, std::size_t n, const Normalization& spec) {
  using T = Normalization::Type;
  switch (spec.type) {
  case T::None: return;
  case T::ZScore: {
    double mean = 0, stdev = 0;
    if (spec.mean && spec.std) {
      mean = *spec.mean;
      stdev = *spec.std;
    } else {
      double sum = 0, sq = 0;
      for (std::size_t i = 0; i < n; ++i) sum += v[i];
      mean = n ? sum / double(n) : 0.0;
      for (std::size_t i = 0; i < n; ++i) sq += (v[i] - mean) * (v[i] - mean);
      stdev = n ? std::sqrt(sq / double(n)) : 0.0;
    }
    const double d = std::max(stdev, 1e-8);
    for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<float>((v[i] - mean) / d);
    return;
  }
  case T::CT: { // float32 arithmetic with float32 constants, as nnU-Net's CTNormalization does in NumPy
    const float lo = float(*spec.lower), hi = float(*spec.upper), mean = float(*spec.mean);
    const float d = float(std::max(*spec.std, 1e-8));
    for (std::size_t i = 0; i < n; ++i) v[i] = (std::clamp(v[i], lo, hi) - mean) / d;
    return;
  }
  case T::Rescale: {
    const double lo = *spec.lower, range = *spec.upper - *spec.lower;
    for (std::size_t i = 0; i < n; ++i) {
      double x = (v[i] - lo) / range;
      if (spec.clip) x = std::clamp(x, 0.0, 1.0);
      v[i] = static_cast<float>(x);
    }
    return;
  }
  }
}

} // namespace voxseg::processing
