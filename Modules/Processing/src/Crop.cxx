#include "voxseg/processing/Crop.h"
// Free of ITK (the GPU machine's build compiles it); nonzeroMask, which fills holes with ITK, is in NonzeroMask.cxx.

#include <algorithm>
#include <cstring>

namespace voxseg::processing {

Box nonzeroBox(const std::vector<const float*>& channels, const Shape3& shape) {
  Box b{{shape[0], shape[1], shape[2]}, {-1, -1, -1}};
  for (std::int64_t z = 0; z < shape[0]; ++z)
    for (std::int64_t y = 0; y < shape[1]; ++y) {
      const std::int64_t row = (z * shape[1] + y) * shape[2];
      for (std::int64_t x = 0; x < shape[2]; ++x) {
        bool nonzero = false;
        for (const float* c : channels) nonzero = nonzero || c[row + x] != 0.0f;
        if (!nonzero) continue;
        const Shape3 p{z, y, x};
        for (int a = 0; a < 3; ++a) {
          b.begin[a] = std::min(b.begin[a], p[a]);
          b.end[a] = std::max(b.end[a], p[a] + 1);
        }
      }
    }
  if (b.end[0] < 0) return Box{{0, 0, 0}, shape};
  return b;
}

std::vector<float> crop(const float* data, const Shape3& shape, const Box& box) {
  const Shape3 s = box.size();
  std::vector<float> out(static_cast<std::size_t>(s[0] * s[1] * s[2]));
  float* o = out.data();
  for (std::int64_t z = box.begin[0]; z < box.end[0]; ++z)
    for (std::int64_t y = box.begin[1]; y < box.end[1]; ++y, o += s[2])
      std::memcpy(o, data + (z * shape[1] + y) * shape[2] + box.begin[2], sizeof(float) * std::size_t(s[2]));
  return out;
}

void uncrop(const float* cropped, const Box& box, float* full, const Shape3& shape, float fill) {
  std::fill(full, full + shape[0] * shape[1] * shape[2], fill);
  const Shape3 s = box.size();
  for (std::int64_t z = 0; z < s[0]; ++z)
    for (std::int64_t y = 0; y < s[1]; ++y)
      std::memcpy(full + ((z + box.begin[0]) * shape[1] + y + box.begin[1]) * shape[2] + box.begin[2],
                  cropped + (z * s[1] + y) * s[2], sizeof(float) * std::size_t(s[2]));
}

} // namespace voxseg::processing
