#include "NnUNetExport.h"

#include "voxseg/core/Error.h"
#include "voxseg/core/Parallel.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace voxseg::pipeline {

NnUNetStreamingExport::NnUNetStreamingExport(const processing::Shape3& netShape, const processing::Box& box,
                                             const processing::Shape3& full, const processing::Spacing3& target,
                                             const processing::Spacing3& original, bool keepProbabilities,
                                             LabelBuffer labels, std::vector<int> regionsClassOrder)
    : net_(netShape), full_(full), crop_(box.size()), box_(box), target_(target), original_(original),
      sep_(processing::nnunetSeparateZ(target, original)), keep_(keepProbabilities),
      streaming_(!sep_.separate || sep_.axis == 0 || netShape == crop_), out_(labels),
      regions_(std::move(regionsClassOrder)) {}

void NnUNetStreamingExport::offerLabelRule(std::size_t classes) {
  if (!streaming_ || keep_ || !regions_.empty() || net_ != crop_) return;
  rule_.valueOfChannel.clear();
  for (std::size_t k = 0; k < classes; ++k) rule_.valueOfChannel.push_back(int(k));
}

std::vector<double> NnUNetStreamingExport::row(std::int64_t r, std::int64_t k) const {
  const std::int64_t plane = net_[1] * net_[2];
  const float* p = rows_.at(r).data() + k * plane;
  return std::vector<double>(p, p + plane);
}

void NnUNetStreamingExport::consume(const inference::SlabView& s) {
  if (s.order != AxisOrder::ZYX || s.shape != net_)
    throw Error(ExitCode::Internal, "nnU-Net export: unexpected slab layout");
  if (s.labels) { // made by the engine with rule_: rows of the cropped grid, into the full array
    if (rule_.valueOfChannel.empty() || s.begin != next_)
      throw Error(ExitCode::Internal, "nnU-Net export: labels it did not ask for, or out of order");
    channels = s.channels;
    parallelFor(std::size_t(s.end - s.begin), workers, [&](std::size_t i) {
      const std::int64_t r = s.begin + std::int64_t(i), z = box_.begin[0] + r;
      const std::uint16_t* row = s.labels + std::int64_t(i) * crop_[1] * crop_[2];
      for (std::int64_t y = 0; y < crop_[1]; ++y)
        for (std::int64_t x = 0; x < crop_[2]; ++x)
          if (const int label = row[y * crop_[2] + x])
            out_.set(std::size_t((z * full_[1] + box_.begin[1] + y) * full_[2] + box_.begin[2] + x), label);
    });
    next_ = available_ = s.end;
    return;
  }
  if (channels == 0) {
    channels = s.channels;
    if (keep_) {
      const std::size_t n = std::size_t(full_[0] * full_[1] * full_[2]);
      probabilities.assign(std::size_t(channels) * n, 0.0f);
      if (regions_.empty()) // softmax background outside the box
        std::fill(probabilities.begin(), probabilities.begin() + std::ptrdiff_t(n), 1.0f);
    }
    if (!streaming_) all_.assign(std::size_t(channels * net_[0] * net_[1] * net_[2]), 0.0f);
  }
  const std::int64_t plane = net_[1] * net_[2], rowsIn = s.end - s.begin;
  if (streaming_ && net_ == crop_) { // each output row is the slab's row: exported from the slab, nothing held
    if (s.begin != next_) throw Error(ExitCode::Internal, "nnU-Net export: rows out of order");
    parallelFor(std::size_t(rowsIn), workers, [&](std::size_t r) {
      emitRow(s.begin + std::int64_t(r), s.data + std::int64_t(r) * plane, rowsIn * plane);
    });
    next_ = available_ = s.end;
    return;
  }
  if (streaming_) { // each row's channels gathered (rows shared among the workers), exported with the rows it makes
                    // ready
    std::vector<std::vector<float>> rows(static_cast<std::size_t>(rowsIn));
    parallelFor(rows.size(), workers, [&](std::size_t r) {
      rows[r].resize(std::size_t(channels * plane));
      for (std::int64_t k = 0; k < channels; ++k)
        std::memcpy(rows[r].data() + k * plane, s.data + (k * rowsIn + std::int64_t(r)) * plane,
                    sizeof(float) * std::size_t(plane));
    });
    for (std::int64_t r = 0; r < rowsIn; ++r) rows_[s.begin + r] = std::move(rows[std::size_t(r)]);
    maxBufferedRows = std::max(maxBufferedRows, rows_.size());
  } else {
    for (std::int64_t k = 0; k < channels; ++k)
      std::memcpy(all_.data() + (k * net_[0] + s.begin) * plane, s.data + k * rowsIn * plane,
                  sizeof(float) * std::size_t(rowsIn * plane));
  }
  available_ = s.end;
  if (streaming_) emitReady();
}

NnUNetStreamingExport::Source NnUNetStreamingExport::sourceRows(std::int64_t o) const {
  if (net_ == crop_) return {o, o, 0.0};
  const double zoom = double(net_[0]) / double(crop_[0]);
  const double cc = (double(o) + 0.5) * zoom - 0.5;
  if (sep_.separate) {
    const std::int64_t r = std::clamp<std::int64_t>(std::int64_t(std::floor(cc + 0.5)), 0, net_[0] - 1);
    return {r, r, 0.0};
  }
  const double f = std::floor(cc);
  return {std::clamp<std::int64_t>(std::int64_t(f), 0, net_[0] - 1),
          std::clamp<std::int64_t>(std::int64_t(f) + 1, 0, net_[0] - 1), cc - f};
}

void NnUNetStreamingExport::emitReady() {
  // Output rows [next_, ready) have every network row they need; each is computed on its own (the same
  // result whatever the number of workers) and written to its own part of the full arrays.
  std::int64_t ready = next_;
  while (ready < crop_[0]) {
    const Source src = sourceRows(ready);
    if (std::max(src.r0, src.r1) >= available_) break;
    ++ready;
  }
  parallelFor(std::size_t(ready - next_), workers, [&](std::size_t i) { emitRow(next_ + std::int64_t(i)); });
  next_ = ready;
  // rows no later output can need
  const std::int64_t keepFrom = next_ < crop_[0] ? std::min(sourceRows(next_).r0, sourceRows(next_).r1) : available_;
  while (!rows_.empty() && rows_.begin()->first < keepFrom) rows_.erase(rows_.begin());
}

void NnUNetStreamingExport::emitRow(std::int64_t o, const float* sameShapeRow, std::int64_t channelStride) {
  const std::int64_t planeOut = crop_[1] * crop_[2];
  const Source src = sourceRows(o);
  // Logits of this output row, per channel, as nnunetResample + the float16 rounding compute them.
  std::vector<float> out(std::size_t(channels * planeOut));
  for (std::int64_t k = 0; k < channels; ++k) {
    if (sameShapeRow) { // no resampling: the values only pass through float16
      const float* p = sameShapeRow + k * channelStride;
      for (std::int64_t i = 0; i < planeOut; ++i) out[std::size_t(k * planeOut + i)] = processing::roundToHalf(p[i]);
      continue;
    }
    std::vector<double> plane;
    if (sep_.separate) {
      plane = processing::nnunetResizePlane(row(src.r0, k).data(), net_[1], net_[2], crop_[1], crop_[2], 1);
    } else {
      const std::int64_t planeIn = net_[1] * net_[2];
      const float* a = rows_.at(src.r0).data() + k * planeIn;
      const float* b = rows_.at(src.r1).data() + k * planeIn;
      const double t = src.t;
      std::vector<double> blended(static_cast<std::size_t>(planeIn)); // in double, straight from the rows held
      for (std::int64_t i = 0; i < planeIn; ++i) blended[std::size_t(i)] = (1 - t) * double(a[i]) + t * double(b[i]);
      plane = processing::nnunetResizePlane(blended.data(), net_[1], net_[2], crop_[1], crop_[2], 1);
    }
    for (std::int64_t i = 0; i < planeOut; ++i)
      out[std::size_t(k * planeOut + i)] = processing::roundToHalf(float(plane[std::size_t(i)]));
  }
  // probabilities and labels, written into the full arrays
  const std::int64_t z = box_.begin[0] + o;
  const std::size_t nFull = std::size_t(full_[0] * full_[1] * full_[2]);
  for (std::int64_t y = 0; y < crop_[1]; ++y)
    for (std::int64_t x = 0; x < crop_[2]; ++x) {
      const std::int64_t i = y * crop_[2] + x;
      const std::size_t at = std::size_t((z * full_[1] + box_.begin[1] + y) * full_[2] + box_.begin[2] + x);
      const int label = processing::nnunetVoxelLabel(out.data() + i, planeOut, channels, regions_,
                                                     keep_ ? probabilities.data() + at : nullptr, std::int64_t(nFull));
      if (label != 0) out_.set(at, label);
    }
}

void NnUNetStreamingExport::finish() {
  if (streaming_) {
    if (next_ != crop_[0]) throw Error(ExitCode::Internal, "nnU-Net export: rows missing at the end");
    return;
  }
  const auto r = processing::nnunetExport(all_, channels, net_, box_, full_, target_, original_, regions_, workers);
  for (std::size_t i = 0; i < r.labels.size(); ++i) out_.set(i, r.labels[i]);
  if (keep_) probabilities = r.probabilities;
  all_.clear();
}

} // namespace voxseg::pipeline
