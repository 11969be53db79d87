#pragma once
// Hands whole-volume logits to a slab consumer as the sliding-window engine does: slabs of whole rows of the
// network grid, each [K][rows][Y][X], in order (tests and benchmarks of the consumers).

#include "voxseg/inference/SlidingWindow.h"

#include <algorithm>
#include <cstdint>
#include <vector>

namespace voxseg::testing {

/// `logits` is [channels][shape[0]][shape[1]][shape[2]] (ZYX); slabs of at most `rowsPerSlab` rows.
inline void feedSlabs(inference::SlabConsumer& consumer, const std::vector<float>& logits, std::int64_t channels,
                      const inference::Shape3& shape, std::int64_t rowsPerSlab) {
  const std::int64_t plane = shape[1] * shape[2], n = shape[0] * plane;
  std::vector<float> slab;
  for (std::int64_t z = 0; z < shape[0]; z += rowsPerSlab) {
    const std::int64_t rows = std::min(rowsPerSlab, shape[0] - z);
    slab.resize(std::size_t(channels * rows * plane));
    for (std::int64_t k = 0; k < channels; ++k)
      std::copy_n(logits.begin() + k * n + z * plane, rows * plane, slab.begin() + k * rows * plane);
    inference::SlabView v;
    v.shape = shape;
    v.begin = z;
    v.end = z + rows;
    v.channels = channels;
    v.data = slab.data();
    consumer.consume(v);
  }
}

} // namespace voxseg::testing
