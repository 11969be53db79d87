#pragma once
// Finished rows on their way from the accumulators to the consumer (inside the engine only).
//
// Immediate: each slab is copied to the host and consumed at once (on a GPU the copy waits for
// everything queued before it, and the GPU idles while the consumer runs).
// Overlapped: the engine starts the slabs of rows that are final, then queues the next forward call,
// then finishes them. On a device the copies run on a copy stream into pinned host buffers while that
// forward call computes, and the consumer (labels on the host) runs meanwhile. On the CPU the slabs are
// only staged in host buffers and consumed at finish() (the same order, one more copy: tests use it).
// Slabs reach the consumer in the order they were started, in either mode.

#include "voxseg/inference/SlidingWindow.h"

#include <c10/core/Event.h>
#include <c10/core/Stream.h>
#include <c10/util/Optional.h>
#include <torch/types.h>

#include <cstdint>
#include <vector>

namespace voxseg::inference {

class SlabTransfer {
public:
  /// `budgetBytes`: slabs in flight at most (at least one is always allowed); start() finishes the
  /// pending ones first when the next would go over.
  SlabTransfer(torch::Device device, bool overlapped, std::int64_t budgetBytes = std::int64_t(256) << 20);
  ~SlabTransfer(); ///< waits for copies in flight (their buffers are freed here)
  SlabTransfer(const SlabTransfer&) = delete;
  SlabTransfer& operator=(const SlabTransfer&) = delete;

  bool overlapped() const { return overlapped_; }
  /// A float tensor [channels, rows, Y, X] (any float dtype, any device; `view.data` is filled in).
  /// The slab must not be written to after this call.
  void start(const torch::Tensor& slab, SlabView view, SlabConsumer& consumer);
  /// Labels made with the consumer's LabelRule: int16 [rows, Y, X] holding the uint16 values' bits
  /// (`view.labels` is filled in). The slab must not be written to after this call.
  void startLabels(const torch::Tensor& labels, SlabView view, SlabConsumer& consumer);
  /// Hands every started slab to the consumer, in order.
  void finish(SlabConsumer& consumer);
  std::int64_t pendingBytes() const { return pendingBytes_; }
  std::int64_t deferred() const { return deferred_; }       ///< slabs consumed after the caller's next call was queued
  double waitSeconds() const { return waitSeconds_; }       ///< the calling thread waiting for copies to the host
  double consumeSeconds() const { return consumeSeconds_; } ///< in the consumer

private:
  struct Pending {
    torch::Tensor source; ///< kept alive until its copy is done
    torch::Tensor host;
    SlabView view;
    bool labels = false;    ///< int16 labels, else float32 values
    std::int64_t bytes = 0; ///< what `source` holds
  };
  torch::Tensor hostBuffer(std::int64_t elements, torch::ScalarType type);
  void startSlab(const torch::Tensor& slab, bool labels, SlabView view, SlabConsumer& consumer);
  void handOver(SlabView& view, bool labels, const torch::Tensor& host, SlabConsumer& consumer);

  torch::Device device_;
  bool overlapped_;
  bool stream_ = false; ///< copies on copyStream_ (a device), else plain copies
  std::int64_t budget_;
  c10::optional<c10::Stream> copyStream_;
  c10::optional<c10::Event> ready_;
  std::vector<Pending> pending_;
  std::vector<torch::Tensor> free_;
  std::int64_t pendingBytes_ = 0;
  std::int64_t deferred_ = 0;
  double waitSeconds_ = 0, consumeSeconds_ = 0;
};

} // namespace voxseg::inference
