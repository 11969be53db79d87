#include "voxseg/processing/Crop.h"
// Free of ITK (the GPU machine's build compiles it); nonzeroMask, which fills holes with ITK, is in NonzeroMask.cxx.

#include "voxseg/core/Parallel.h"

#include <algorithm>
#include <cstring>

namespace voxseg::processing {

namespace {

// The box of planes [z0, z1); begin > end on every axis when they are all zero.
Box planesBox(const std::vector<const float*>& channels, const Shape3& shape, std::int64_t z0, std::int64_t z1) {
  // Per row, only the first and last non-zero voxel matter: scanning in from both ends costs a voxel or
  // two per row of a volume without zeros (CT in Hounsfield units), where testing every voxel took most
  // of a second on 600x512x512.
  Box b{{shape[0], shape[1], shape[2]}, {-1, -1, -1}};
  const std::int64_t nx = shape[2];
  for (std::int64_t z = z0; z < z1; ++z)
    for (std::int64_t y = 0; y < shape[1]; ++y) {
      const std::int64_t row = (z * shape[1] + y) * nx;
      std::int64_t first = nx, last = -1;
      for (const float* c : channels) {
        const float* r = c + row;
        std::int64_t i = 0;
        while (i < nx && r[i] == 0.0f) ++i; // NaN is not zero, as in nnU-Net's `data != 0`
        if (i == nx) continue;
        std::int64_t j = nx - 1;
        while (r[j] == 0.0f) --j;
        first = std::min(first, i);
        last = std::max(last, j);
      }
      if (last < 0) continue;
      b.begin[0] = std::min(b.begin[0], z);
      b.end[0] = std::max(b.end[0], z + 1);
      b.begin[1] = std::min(b.begin[1], y);
      b.end[1] = std::max(b.end[1], y + 1);
      b.begin[2] = std::min(b.begin[2], first);
      b.end[2] = std::max(b.end[2], last + 1);
    }
  return b;
}

} // namespace

Box nonzeroBox(const std::vector<const float*>& channels, const Shape3& shape, unsigned workers) {
  const std::size_t planes = std::size_t(std::max<std::int64_t>(shape[0], 0));
  std::vector<Box> boxes(std::max<std::size_t>(1, std::min<std::size_t>(planes, std::size_t(workers) * 4)));
  parallelFor(boxes.size(), workers, [&](std::size_t p) {
    boxes[p] = planesBox(channels, shape, std::int64_t(planes * p / boxes.size()),
                         std::int64_t(planes * (p + 1) / boxes.size()));
  });
  Box b = boxes.front();
  for (const Box& o : boxes)
    for (int a = 0; a < 3; ++a) {
      b.begin[std::size_t(a)] = std::min(b.begin[std::size_t(a)], o.begin[std::size_t(a)]);
      b.end[std::size_t(a)] = std::max(b.end[std::size_t(a)], o.end[std::size_t(a)]);
    }
  if (b.end[0] < 0) return Box{{0, 0, 0}, shape};
  return b;
}

std::vector<float> crop(const float* data, const Shape3& shape, const Box& box, unsigned workers) {
  const Shape3 s = box.size();
  std::vector<float> out(static_cast<std::size_t>(s[0] * s[1] * s[2]));
  parallelRanges(std::size_t(s[0]), workers, 1, [&](std::size_t z0, std::size_t z1) {
    float* o = out.data() + z0 * std::size_t(s[1] * s[2]);
    for (std::int64_t z = box.begin[0] + std::int64_t(z0); z < box.begin[0] + std::int64_t(z1); ++z)
      for (std::int64_t y = box.begin[1]; y < box.end[1]; ++y, o += s[2])
        std::memcpy(o, data + (z * shape[1] + y) * shape[2] + box.begin[2], sizeof(float) * std::size_t(s[2]));
  });
  return out;
}

std::vector<float> crop(std::vector<float>&& data, const Shape3& shape, const Box& box, unsigned workers) {
  if (box.begin == Shape3{0, 0, 0} && box.end == shape) return std::move(data);
  std::vector<float> out = crop(data.data(), shape, box, workers);
  std::vector<float>().swap(data);
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
