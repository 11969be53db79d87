#pragma once
// nnU-Net's export done row by row as the sliding window finishes rows of the network grid, so that
// memory holds a slab's and a few more rows of K-channel logits instead of K x the whole volume (issue [3]'s 105-class
// target). Bit-identical to processing::nnunetExport; falls back to it when the grid changes and the
// separate-z axis is not the first one (then every output row needs every input row). The rows a slab makes
// ready are exported by `workers` threads, each row on its own.

#include "voxseg/inference/SlidingWindow.h"
#include "voxseg/processing/NnUNetResampling.h"

#include <map>
#include <vector>

namespace voxseg::pipeline {

/// Where labels go: one of the two pointers, to full-shape storage owned by the caller.
struct LabelBuffer {
  std::uint8_t* u8 = nullptr;
  std::uint16_t* u16 = nullptr;
  void set(std::size_t at, int label) const {
    if (u8)
      u8[at] = static_cast<std::uint8_t>(label);
    else
      u16[at] = static_cast<std::uint16_t>(label);
  }
};

class NnUNetStreamingExport : public inference::SlabConsumer {
public:
  /// `labels` must hold full[0]*full[1]*full[2] zeros. Empty `regionsClassOrder`: softmax + argmax.
  NnUNetStreamingExport(const processing::Shape3& netShape, const processing::Box& box, const processing::Shape3& full,
                        const processing::Spacing3& target, const processing::Spacing3& original,
                        bool keepProbabilities, LabelBuffer labels, std::vector<int> regionsClassOrder = {});
  void consume(const inference::SlabView& slab) override;
  /// Lets the engine make the labels (argmax of the same float16 values, ties to the first channel, as
  /// here) when they need no resampling back: a softmax model with `classes` outputs, no probabilities kept,
  /// the network grid equal to the cropped one. Otherwise nothing changes.
  void offerLabelRule(std::size_t classes);
  const inference::LabelRule* labelRule() const override { return rule_.valueOfChannel.empty() ? nullptr : &rule_; }
  /// Completes the export (fallback path, or a check that every row was emitted).
  void finish();

  std::vector<float> probabilities; ///< [K][full shape] when kept
  std::int64_t channels = 0;
  std::size_t maxBufferedRows = 0; ///< most network rows held at once: a slab's and a few (memory check)
  /// Threads sharing the export of the rows a slab makes ready (the result is the same for any number).
  unsigned workers = 1;

private:
  struct Source { // the network rows an output row is made from: (1 - t) r0 + t r1
    std::int64_t r0, r1;
    double t;
  };
  Source sourceRows(std::int64_t outputRow) const;
  void emitReady();
  /// Makes one output row from the rows held, or, when the grids are the same, from `sameShapeRow` (its K
  /// channels `channelStride` apart).
  void emitRow(std::int64_t outputRow, const float* sameShapeRow = nullptr, std::int64_t channelStride = 0);
  std::vector<double> row(std::int64_t r, std::int64_t k) const;

  processing::Shape3 net_, full_, crop_;
  processing::Box box_;
  processing::Spacing3 target_, original_;
  processing::SeparateZ sep_;
  bool keep_;
  bool streaming_;
  LabelBuffer out_;
  std::vector<int> regions_;
  std::map<std::int64_t, std::vector<float>> rows_; ///< network row -> [K][Y][X]
  std::int64_t available_ = 0;                      ///< rows [0, available_) have arrived
  std::int64_t next_ = 0;                           ///< next output row of the cropped grid
  std::vector<float> all_;                          ///< fallback: every row, [K][Z][Y][X]
  inference::LabelRule rule_;                       ///< empty: float slabs only
};

} // namespace voxseg::pipeline
