#pragma once
// Internal to the Pipeline module (tested through Modules/Pipeline/src on the test's include path).

#include "voxseg/core/Geometry.h"
#include "voxseg/core/ModelCard.h"
#include "voxseg/inference/SlidingWindow.h"

#include <itkImage.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace voxseg::pipeline {

/// An ITK image on `g` over `voxels` (not copied: they must outlive it), e.g. one channel of logits.
itk::Image<float, 3>::Pointer imageOver(float* voxels, const Geometry& g);

/// Takes the engine's finished slabs of logits on the network grid `net` and hands `next` the same logits linearly
/// resampled onto `work` (the input's grid, same direction as `net`, other spacing), slab by slab, in order: the
/// rows of `work` along the network's first axis (ITK z for zyx cards, x for xyz cards) are made as soon as the
/// network rows they interpolate from have arrived, at most about `slabBytes` of them at a time, and network rows
/// no later output row needs are let go. So neither grid's K channels are held whole (a 105-class card at 1.5 mm
/// on a 512x512x300 CT held 9.4 GB of network-grid logits before).
///
/// Each output voxel is interpolated from its own world position, with the points beyond the network grid taking
/// the edge value, as processing::resampleLinear over the whole network grid would (the network rows around every
/// output row are kept, one more on each side, so no point falls on the edge of the rows held).
class ResamplingConsumer : public inference::SlabConsumer {
public:
  ResamplingConsumer(const Geometry& net, const Geometry& work, AxisOrder order, std::size_t slabBytes,
                     inference::SlabConsumer& next);
  void consume(const inference::SlabView& slab) override;
  /// Throws Error(Internal) unless every output row was handed on (every network row arrived).
  void finish() const;
  /// The most bytes of network-grid logits held at once.
  std::size_t peakHeldBytes() const { return peakHeldBytes_; }

private:
  struct Rows {
    std::int64_t lo = 0, hi = 0; // network rows [lo, hi) that one output row interpolates from, with margins
  };
  void keepRows(std::int64_t lo, const inference::SlabView& incoming);
  void emit();

  Geometry net_, work_;
  AxisOrder order_;
  int axis_;                 // ITK axis of the network's first axis
  std::size_t netPlane_ = 0; // network voxels across one row
  std::size_t workPlane_ = 0;
  std::int64_t netRows_ = 0, workRows_ = 0;
  std::size_t slabBytes_;
  inference::SlabConsumer& next_;
  std::vector<Rows> need_; // per output row
  std::int64_t channels_ = 0;
  std::vector<std::vector<float>> held_; // per channel, network rows [heldLo_, heldHi_) in ITK layout
  std::int64_t heldLo_ = 0, heldHi_ = 0;
  std::int64_t nextOutput_ = 0;
  std::vector<float> out_;
  std::size_t peakHeldBytes_ = 0;
};

} // namespace voxseg::pipeline
