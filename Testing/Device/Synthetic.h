#pragma once
// The synthetic input volume of the GPU programs (DeviceBench, DeviceNnUNet); plain_unet.py makes the same.
#include "voxseg/inference/Tiling.h"

#include <cmath>
#include <vector>

namespace voxseg::device {

// Smooth, deterministic "anatomy" from 1D tables (a 512x512x600 volume in well under a second):
// sin(0.05 x) + cos(0.07 y) sin(0.03 z + 0.5) + 0.5 sin(0.011 (x + y + z)); plain_unet.py has the same.
inline std::vector<float> syntheticVolume(const inference::Shape3& s) {
  std::vector<float> sx(static_cast<std::size_t>(s[2])), cy(static_cast<std::size_t>(s[1])),
      sz(static_cast<std::size_t>(s[0])), diag(static_cast<std::size_t>(s[0] + s[1] + s[2]));
  for (std::size_t i = 0; i < sx.size(); ++i) sx[i] = float(std::sin(0.05 * double(i)));
  for (std::size_t i = 0; i < cy.size(); ++i) cy[i] = float(std::cos(0.07 * double(i)));
  for (std::size_t i = 0; i < sz.size(); ++i) sz[i] = float(std::sin(0.03 * double(i) + 0.5));
  for (std::size_t i = 0; i < diag.size(); ++i) diag[i] = float(0.5 * std::sin(0.011 * double(i)));
  std::vector<float> v(std::size_t(s[0] * s[1] * s[2]));
  float* p = v.data();
  for (std::int64_t z = 0; z < s[0]; ++z)
    for (std::int64_t y = 0; y < s[1]; ++y) {
      const float zy = cy[std::size_t(y)] * sz[std::size_t(z)];
      const float* d = diag.data() + z + y;
      for (std::int64_t x = 0; x < s[2]; ++x) *p++ = sx[std::size_t(x)] + zy + d[x];
    }
  return v;
}

} // namespace voxseg::device
