#include "NnUNetExport.h"

#include "voxseg/core/Error.h"

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
      streaming_(!sep_.separate || sep_.axis == 0), out_(labels), regions_(std::move(regionsClassOrder)) {}

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
    for (std::int64_t r = s.begin; r < s.end; ++r) {
      const std::uint16_t* row = s.labels + (r - s.begin) * crop_[1] * crop_[2];
      const std::int64_t z = box_.begin[0] + r;
      for (std::int64_t y = 0; y < crop_[1]; ++y)
        for (std::int64_t x = 0; x < crop_[2]; ++x)
          if (const int label = row[y * crop_[2] + x])
            out_.set(std::size_t((z * full_[1] + box_.begin[1] + y) * full_[2] + box_.begin[2] + x), label);
    }
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
  for (std::int64_t r = 0; r < rowsIn; ++r) {
    std::vector<float> data(std::size_t(channels * plane));
    for (std::int64_t k = 0; k < channels; ++k)
      std::memcpy(data.data() + k * plane, s.data + (k * rowsIn + r) * plane, sizeof(float) * std::size_t(plane));
    if (streaming_) { // each row is exported as soon as it can be, so few rows are held
      rows_[s.begin + r] = std::move(data);
      available_ = s.begin + r + 1;
      maxBufferedRows = std::max(maxBufferedRows, rows_.size());
      emitReady();
    } else {
      for (std::int64_t k = 0; k < channels; ++k)
        std::memcpy(all_.data() + (k * net_[0] + s.begin + r) * plane, data.data() + k * plane,
                    sizeof(float) * std::size_t(plane));
    }
  }
  available_ = s.end;
}

void NnUNetStreamingExport::emitReady() {
  const double zoom = double(net_[0]) / double(crop_[0]);
  const bool sameShape = net_ == crop_;
  const std::int64_t planeOut = crop_[1] * crop_[2];
  while (next_ < crop_[0]) {
    const double cc = (double(next_) + 0.5) * zoom - 0.5;
    std::int64_t r0, r1;
    double t = 0;
    if (sep_.separate) {
      r0 = r1 = std::clamp<std::int64_t>(std::int64_t(std::floor(cc + 0.5)), 0, net_[0] - 1);
    } else {
      const double f = std::floor(cc);
      t = cc - f;
      r0 = std::clamp<std::int64_t>(std::int64_t(f), 0, net_[0] - 1);
      r1 = std::clamp<std::int64_t>(std::int64_t(f) + 1, 0, net_[0] - 1);
    }
    if (sameShape) r0 = r1 = next_, t = 0;
    if (std::max(r0, r1) >= available_) return;
    // Logits of this output row, per channel, as nnunetResample + the float16 rounding compute them.
    std::vector<float> out(std::size_t(channels * planeOut));
    for (std::int64_t k = 0; k < channels; ++k) {
      if (sameShape) { // no resampling: the values only pass through float16
        const float* p = rows_.at(r0).data() + k * planeOut;
        for (std::int64_t i = 0; i < planeOut; ++i) out[std::size_t(k * planeOut + i)] = processing::roundToHalf(p[i]);
        continue;
      }
      std::vector<double> plane;
      if (sep_.separate) {
        plane = processing::nnunetResizePlane(row(r0, k).data(), net_[1], net_[2], crop_[1], crop_[2], 1);
      } else {
        const auto a = row(r0, k), b = row(r1, k);
        std::vector<double> blended(a.size());
        for (std::size_t i = 0; i < a.size(); ++i) blended[i] = (1 - t) * a[i] + t * b[i];
        plane = processing::nnunetResizePlane(blended.data(), net_[1], net_[2], crop_[1], crop_[2], 1);
      }
      for (std::int64_t i = 0; i < planeOut; ++i)
        out[std::size_t(k * planeOut + i)] = processing::roundToHalf(float(plane[std::size_t(i)]));
    }
    // probabilities and labels, written into the full arrays
    const std::int64_t z = box_.begin[0] + next_;
    const std::size_t nFull = std::size_t(full_[0] * full_[1] * full_[2]);
    for (std::int64_t y = 0; y < crop_[1]; ++y)
      for (std::int64_t x = 0; x < crop_[2]; ++x) {
        const std::int64_t i = y * crop_[2] + x;
        const std::size_t at = std::size_t((z * full_[1] + box_.begin[1] + y) * full_[2] + box_.begin[2] + x);
        const int label =
            processing::nnunetVoxelLabel(out.data() + i, planeOut, channels, regions_,
                                         keep_ ? probabilities.data() + at : nullptr, std::int64_t(nFull));
        if (label != 0) out_.set(at, label);
      }
    ++next_;
    // rows no later output can need
    const double ccNext = (double(next_) + 0.5) * zoom - 0.5;
    const std::int64_t keepFrom = sameShape ? next_ : std::max<std::int64_t>(0, std::int64_t(std::floor(ccNext)) - 1);
    while (!rows_.empty() && rows_.begin()->first < keepFrom) rows_.erase(rows_.begin());
  }
}

void NnUNetStreamingExport::finish() {
  if (streaming_) {
    if (next_ != crop_[0]) throw Error(ExitCode::Internal, "nnU-Net export: rows missing at the end");
    return;
  }
  const auto r = processing::nnunetExport(all_, channels, net_, box_, full_, target_, original_, regions_);
  for (std::size_t i = 0; i < r.labels.size(); ++i) out_.set(i, r.labels[i]);
  if (keep_) probabilities = r.probabilities;
  all_.clear();
}

} // namespace voxseg::pipeline
