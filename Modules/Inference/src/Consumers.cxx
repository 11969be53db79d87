#include "voxseg/core/Error.h"
#include "voxseg/inference/SlidingWindow.h"

#include <cmath>
#include <cstring>

namespace voxseg::inference {
namespace {

Shape3 zyxOf(const SlabView& s) {
  return s.order == AxisOrder::ZYX ? s.shape : Shape3{s.shape[2], s.shape[1], s.shape[0]};
}

// Calls f(zyxIndex, slabIndexOfChannel0) for every voxel of the slab; the channel stride in the slab
// is rows * shape[1] * shape[2].
template <typename F> void forEachVoxel(const SlabView& s, F&& f) {
  const std::int64_t rows = s.end - s.begin;
  const std::int64_t n1 = s.shape[1], n2 = s.shape[2];
  const Shape3 zyx = zyxOf(s);
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t i = 0; i < n1; ++i)
      for (std::int64_t j = 0; j < n2; ++j) {
        const std::int64_t a = s.begin + r; // network axis 0
        // ZYX: (z, y, x) = (a, i, j); XYZ: (x, y, z) = (a, i, j)
        const std::int64_t flat =
            s.order == AxisOrder::ZYX ? (a * zyx[1] + i) * zyx[2] + j : (j * zyx[1] + i) * zyx[2] + a;
        f(flat, (r * n1 + i) * n2 + j);
      }
}

} // namespace

void LogitCollector::consume(const SlabView& s) {
  if (logits.empty()) {
    zyx = zyxOf(s);
    channels = s.channels;
    logits.assign(std::size_t(channels * zyx[0] * zyx[1] * zyx[2]), 0.0f);
  }
  const std::int64_t volume = zyx[0] * zyx[1] * zyx[2];
  const std::int64_t slabStride = (s.end - s.begin) * s.shape[1] * s.shape[2];
  if (s.order == AxisOrder::ZYX) {
    for (std::int64_t k = 0; k < channels; ++k)
      std::memcpy(&logits[std::size_t(k * volume + s.begin * zyx[1] * zyx[2])], s.data + k * slabStride,
                  sizeof(float) * std::size_t(slabStride));
    return;
  }
  forEachVoxel(s, [&](std::int64_t flat, std::int64_t src) {
    for (std::int64_t k = 0; k < channels; ++k) logits[std::size_t(k * volume + flat)] = s.data[k * slabStride + src];
  });
}

LabelConsumer::LabelConsumer(const ModelCard& card) {
  rule_.regions = !card.regions.empty();
  if (rule_.regions)
    for (const auto& r : card.regions) rule_.valueOfChannel.push_back(r.label);
  else
    for (const auto& l : card.labels) rule_.valueOfChannel.push_back(l.value);
}

void LabelConsumer::consume(const SlabView& s) {
  const auto& valueOf = rule_.valueOfChannel;
  if (s.channels != std::int64_t(valueOf.size()))
    throw Error(ExitCode::Model, "the network gives " + std::to_string(s.channels) +
                                     " output channels, the model card names " + std::to_string(valueOf.size()) +
                                     (rule_.regions ? " regions" : " labels"));
  if (labels.empty()) {
    zyx = zyxOf(s);
    labels.assign(std::size_t(zyx[0] * zyx[1] * zyx[2]), 0);
  }
  if (s.labels) { // made by the engine with this rule
    if (s.order == AxisOrder::ZYX) {
      std::memcpy(&labels[std::size_t(s.begin * zyx[1] * zyx[2])], s.labels,
                  sizeof(std::uint16_t) * std::size_t((s.end - s.begin) * zyx[1] * zyx[2]));
      return;
    }
    forEachVoxel(s, [&](std::int64_t flat, std::int64_t src) { labels[std::size_t(flat)] = s.labels[src]; });
    return;
  }
  const std::int64_t stride = (s.end - s.begin) * s.shape[1] * s.shape[2];
  forEachVoxel(s, [&](std::int64_t flat, std::int64_t src) {
    int label = 0;
    if (rule_.regions) {
      for (std::int64_t k = 0; k < s.channels; ++k)
        if (s.data[k * stride + src] > 0.0f) label = valueOf[std::size_t(k)]; // sigmoid > 0.5 <=> logit > 0
    } else {
      std::int64_t best = 0;
      float bestValue = s.data[src];
      for (std::int64_t k = 1; k < s.channels; ++k) {
        const float v = s.data[k * stride + src];
        if (v > bestValue) { // first maximum wins, as torch.argmax
          bestValue = v;
          best = k;
        }
      }
      label = valueOf[std::size_t(best)];
    }
    labels[std::size_t(flat)] = static_cast<std::uint16_t>(label);
  });
}

} // namespace voxseg::inference
