#pragma once
// The sliding-window engine: a multi-channel volume in, blended network outputs out, handed to a
// consumer slab by slab along the network's first axis so that memory grows with the slab, not
// with the volume. LibTorch stays inside the implementation.

#include "voxseg/core/ModelCard.h"
#include "voxseg/inference/Network.h"
#include "voxseg/inference/Tiling.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace voxseg::inference {

/// Finished rows on their way to the consumer: Device overlaps their copies (a copy stream, pinned host
/// buffers) and the consumer's work with the next forward call on a GPU; Off copies and consumes them in
/// turn; Always also stages them on the CPU, where it only costs a copy (for tests).
enum class CopyOverlap { Off, Device, Always };

struct EngineOptions {
  Shape3 patch{0, 0, 0}; ///< network axis order
  Tiling tiling;
  ImportanceMap importance;
  bool halfAccumulation = false;     ///< float16 accumulators, as nnU-Net v2 (bit-compatible with it)
  std::vector<int> mirrorAxes;       ///< test-time mirroring over every combination of these axes
  int swBatch = 1;                   ///< windows per forward call (halved while a call runs out of memory)
  std::string precision = "float32"; ///< CUDA: "float32" (TF32 off), "tf32", "float16"/"bfloat16" (autocast)
  float padValue = 0.0f;
  bool cudnnBenchmark = true; ///< CUDA: cuDNN picks the fastest algorithm per window shape (as nnU-Net)
  CopyOverlap copyOverlap = CopyOverlap::Device;
};

/// Engine options as the card describes them.
EngineOptions engineOptionsFromCard(const ModelCard& card);

/// Input channels, each a contiguous (Z, Y, X) float array with x fastest (ITK's buffer layout).
struct InputVolume {
  std::vector<const float*> channels;
  Shape3 zyx{0, 0, 0};
};

/// A finished slab of blended outputs: network-order rows [begin, end) along axis 0 of the
/// (unpadded) network-order volume of `shape`; data is float32 [channels][end - begin][shape[1]][shape[2]].
struct SlabView {
  AxisOrder order = AxisOrder::ZYX;
  Shape3 shape{0, 0, 0};
  std::int64_t begin = 0, end = 0;
  std::int64_t channels = 0;
  const float* data = nullptr;
};

class SlabConsumer {
public:
  virtual ~SlabConsumer() = default;
  virtual void consume(const SlabView& slab) = 0;
};

struct RunStats {
  std::int64_t windows = 0;
  std::int64_t forwardCalls = 0;
  std::int64_t slabs = 0;
  /// Slabs staged (CopyOverlap): copied ahead, handed over after later work was queued.
  std::int64_t overlappedSlabs = 0;
  std::int64_t peakAccumulatorBytes = 0;
  double seconds = 0;
  std::string device;
  int swBatch = 0;                ///< windows per forward call at the end (less than asked after running out of memory)
  bool inputOnHost = false;       ///< the input did not fit on the device: windows are uploaded batch by batch
  bool accumulatorOnHost = false; ///< the accumulators did not fit on the device
};

using ProgressFn = std::function<void(std::int64_t windowsDone, std::int64_t windowsTotal)>;

/// Runs every network (fold ensemble: averaged in logit space, each with its own accumulator as
/// nnU-Net does) over the volume. Throws Error(Model) when the networks' output channel counts differ.
RunStats slidingWindow(const std::vector<const Network*>& networks, const InputVolume& input, AxisOrder order,
                       const EngineOptions& options, SlabConsumer& consumer, const ProgressFn& progress = {});

/// Collects every slab into one float32 array [channels][Z][Y][X] (ITK layout) — for --save-logits and tests.
class LogitCollector : public SlabConsumer {
public:
  void consume(const SlabView& slab) override;
  std::vector<float> logits;
  std::int64_t channels = 0;
  Shape3 zyx{0, 0, 0};
};

/// Turns slabs into labels at once (ITK layout, Z*Y*X values): argmax over softmax channels mapped
/// through the card's label values, or region thresholds (sigmoid > 0.5, later regions win).
class LabelConsumer : public SlabConsumer {
public:
  explicit LabelConsumer(const ModelCard& card);
  void consume(const SlabView& slab) override;
  std::vector<std::uint16_t> labels;
  Shape3 zyx{0, 0, 0};

private:
  std::vector<int> labelOfChannel_;
  bool regions_ = false;
};

} // namespace voxseg::inference
