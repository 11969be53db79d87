#pragma once
// One case end to end: volume(s) in, label map on the input's exact grid out.
// Model card + network + orientation policy + normalization + resampling + sliding window.

#include "voxseg/core/ModelCard.h"
#include "voxseg/inference/Network.h"
#include "voxseg/inference/SlidingWindow.h"
#include "voxseg/io/Volume.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace voxseg::pipeline {

/// Command-line overrides of the card (empty = keep the card's value).
struct CardOverrides {
  std::optional<AxisOrder> axisOrder;
  std::optional<std::array<int, 3>> patch;
  std::optional<Tiling::Rule> tiling;
  std::optional<double> step, overlap;
  std::optional<ImportanceMap::Type> importance;
  bool importanceOfTiling = false; ///< --importance gaussian: the Gaussian of the tiling rule in use
  std::optional<double> sigmaScale;
  std::optional<int> swBatch;
  std::optional<bool> tta;
  std::optional<Normalization::Type> normalization;
  std::optional<std::optional<std::array<double, 3>>> spacing; ///< set to nullopt = "input"
};

struct SegmenterOptions {
  inference::DeviceSpec device;
  int threads = 0;                   ///< 0 = every core
  std::string precision = "float32"; ///< CUDA autocast: float16, bfloat16
  /// CUDA: cuDNN times its algorithms for each window shape first (EngineOptions::cudnnBenchmark; off by default).
  bool cudnnBenchmark = false;
  /// Rewrite transposed convolutions on the CPU (same numbers to float rounding, several times faster).
  /// Unset: on, except for cards with float16 accumulation (nnU-Net), whose results it would change
  /// by one float16 rounding here and there instead of reproducing them bit for bit.
  std::optional<bool> optimizeGraph;
  /// The network grid (after resampling to the card's spacing) may hold at most this many voxels: a tiny
  /// --spacing would otherwise ask for terabytes (io::ReadOptions' default; `--max-voxels` sets both).
  std::uint64_t maxVoxels = std::uint64_t(1) << 31;
  /// When the card's spacing is not the input's, labels are made from the logits resampled back to the input grid
  /// a slab of rows at a time: at most about this many bytes of resampled logits at once.
  std::size_t resampleSlabBytes = std::size_t{256} << 20;

  /// Every field equal (SegmentationImageFilter::SetOptions runs nothing again for equal options; a field added
  /// above belongs here too).
  friend bool operator==(const SegmenterOptions& a, const SegmenterOptions& b) {
    return a.device == b.device && a.threads == b.threads && a.precision == b.precision &&
           a.cudnnBenchmark == b.cudnnBenchmark && a.optimizeGraph == b.optimizeGraph && a.maxVoxels == b.maxVoxels &&
           a.resampleSlabBytes == b.resampleSlabBytes;
  }
  friend bool operator!=(const SegmenterOptions& a, const SegmenterOptions& b) { return !(a == b); }
};

struct Model {
  ModelCard card;
  std::vector<inference::Network> networks; ///< one per fold
  std::string source;
};

/// The card's labels (or its regions), background first, every foreground label with a color (the card's,
/// or the default of core/LabelColors.h).
std::vector<LabelInfo> labelTable(const Model& model);

/// Loads a TorchScript model (card embedded, or given by cardPath) and applies the overrides. A
/// file without a card needs at least the axis order and the patch size on the command line.
/// Checks channel and class counts against the card by probing the network once. Several files
/// (e.g. the folds of one training) form an ensemble averaged in logit space; the card is the first's.
Model loadModel(const std::vector<std::string>& modelPaths, const std::string& cardPath, const CardOverrides& overrides,
                const SegmenterOptions& options);

struct Segmentation {
  io::Volume labels;         ///< uint8 (uint16 beyond 255) on the input grid
  std::vector<float> logits; ///< [K][Z][Y][X] on the input grid, when requested
  std::int64_t channels = 0;
  inference::RunStats stats;
};

/// Segments one case. `channels` are the input volumes in card order (same grid).
Segmentation segment(const Model& model, const std::vector<io::Volume>& channels, const SegmenterOptions& options,
                     bool keepLogits, const inference::ProgressFn& progress = {});

} // namespace voxseg::pipeline
