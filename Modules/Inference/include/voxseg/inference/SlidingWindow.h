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

/// Labels for a consumer that asks for them (SlabConsumer::labelRule): Device makes them where the slab is
/// on a GPU (2 bytes per voxel cross to the host instead of 4 per channel, no argmax on the host); Off
/// leaves the float32 channels to the consumer; Always also makes them with LibTorch on the CPU (for tests).
enum class DeviceLabels { Off, Device, Always };

struct EngineOptions {
  Shape3 patch{0, 0, 0}; ///< network axis order
  Tiling tiling;
  bool everySlice = false; ///< patch[0] == 1 (nnU-Net's 2D configurations): one window row per slice, each once
  ImportanceMap importance;
  bool halfAccumulation = false;     ///< float16 accumulators, as nnU-Net v2 (bit-compatible with it)
  std::vector<int> mirrorAxes;       ///< test-time mirroring over every combination of these axes
  int swBatch = 1;                   ///< windows per forward call (halved while a call runs out of memory)
  std::string precision = "float32"; ///< CUDA: "float32" (TF32 off), "tf32", "float16"/"bfloat16" (autocast)
  float padValue = 0.0f;
  /// CUDA: cuDNN times its algorithms per window shape first and keeps the fastest (nnU-Net turns it on). Off by
  /// default: on an H100 the search took 3.4 s of a 9 s run on nnU-Net's default network, and what it found
  /// was no faster than cuDNN's own choice (Documentation/performance.md).
  bool cudnnBenchmark = false;
  CopyOverlap copyOverlap = CopyOverlap::Device;
  DeviceLabels deviceLabels = DeviceLabels::Device;
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
/// For a consumer with a LabelRule the engine may hand over `labels` instead ([end - begin][shape[1]][shape[2]],
/// the rule applied; `data` is then null and `channels` still the network's output channels).
struct SlabView {
  AxisOrder order = AxisOrder::ZYX;
  Shape3 shape{0, 0, 0};
  std::int64_t begin = 0, end = 0;
  std::int64_t channels = 0;
  const float* data = nullptr;
  const std::uint16_t* labels = nullptr;
};

/// Labels from the blended outputs: the value of the channel with the largest output (the first of
/// equal ones, as torch.argmax), or with `regions`, the value of the last channel whose output is above 0
/// (sigmoid > 0.5), 0 where none is.
struct LabelRule {
  std::vector<int> valueOfChannel;
  bool regions = false;
};

class SlabConsumer {
public:
  virtual ~SlabConsumer() = default;
  virtual void consume(const SlabView& slab) = 0;
  /// A consumer that needs only labels names its rule; the engine may then hand over labels (SlabView::labels).
  virtual const LabelRule* labelRule() const { return nullptr; }
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
  std::int64_t deviceLabelSlabs = 0; ///< slabs handed over as labels made on the device (DeviceLabels)
  bool cudnnBenchmark = false;       ///< the option the run had (it acts on CUDA devices only)
  // Where the host's time went (seconds, wall clock on the calling thread; a GPU computes meanwhile):
  double uploadSeconds = 0;  ///< the input to the device
  double waitSeconds = 0;    ///< waiting for finished rows' copies to the host (on a GPU: for the work queued before)
  double consumeSeconds = 0; ///< in the consumer
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
  const LabelRule* labelRule() const override { return &rule_; }
  std::vector<std::uint16_t> labels;
  Shape3 zyx{0, 0, 0};

private:
  LabelRule rule_;
};

} // namespace voxseg::inference
