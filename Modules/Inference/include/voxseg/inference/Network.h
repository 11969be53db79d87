#pragma once
// A segmentation network: a TorchScript module (optionally carrying a model card as the extra
// file "voxseg.json"), on a device. LibTorch stays behind this pimpl: including this header is cheap.

#include "voxseg/core/ModelCard.h"

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace voxseg::inference {

/// "cpu", "cuda", "cuda:N" or "auto" (CUDA when available, else CPU).
struct DeviceSpec {
  std::string name = "auto";
  friend bool operator==(const DeviceSpec& a, const DeviceSpec& b) { return a.name == b.name; }
  friend bool operator!=(const DeviceSpec& a, const DeviceSpec& b) { return !(a == b); }
};

/// Sets LibTorch's intra-op thread count (0 = every core); returns the count in effect.
int setThreads(int threads);
/// LibTorch's intra-op thread count in effect.
int threadCount();
/// True when this LibTorch build sees a CUDA device.
bool cudaAvailable();
/// Human-readable LibTorch version, e.g. "1.13.1".
std::string torchVersion();
/// Throws usageError("--device <name>: ...") unless `device` names a device this LibTorch can use (what loading a
/// network on it would say): checked before any work.
void checkDevice(const DeviceSpec& device);

struct NnUNetFolder; // voxseg/inference/NnUNetFolder.h

class Network {
public:
  /// Loads a TorchScript file. Throws Error(Model) naming the file when it is not one.
  static Network loadTorchScript(const std::string& path, const DeviceSpec& device = {});
  ~Network();
  Network(Network&&) noexcept;
  Network& operator=(Network&&) noexcept;

  const std::string& path() const;
  /// The device the module lives on, e.g. "cpu" or "cuda:0".
  std::string device() const;
  /// The card embedded in the file, if any (raw JSON text).
  const std::optional<std::string>& embeddedCard() const;

  /// One fold of an nnU-Net v2 trained-model folder (plans.json, dataset.json,
  /// fold_<fold>/checkpoint_<checkpoint>.pth), the network rebuilt natively from plans.json — no
  /// TorchScript export needed. The configuration is the folder name's last "__" part (e.g. 3d_fullres).
  /// Throws Error(Model) naming the file and the problem. A cascade stage's network takes the image channels and
  /// then one channel per foreground label (NnUNetFolder::cascadeLabels).
  static Network loadNnUNetFold(const std::string& folder, int fold, const std::string& checkpoint = "final",
                                const DeviceSpec& device = {});
  /// The same with the folder already read (readNnUNetFolder), e.g. for several folds.
  static Network loadNnUNetFold(const NnUNetFolder& folder, int fold, const std::string& checkpoint = "final",
                                const DeviceSpec& device = {});
  /// nnU-Net folds: the checkpoint's inference_allowed_mirroring_axes (empty otherwise), as axes of the (z, y, x)
  /// volume: a 2D configuration's axes 0, 1 of the slice are 1, 2 here.
  const std::vector<int>& allowedMirrorAxes() const;

  /// Output shape for a zero input of shape [1, channels, patch]; throws Error(Model) with the
  /// network's own message when the input does not fit.
  std::vector<std::int64_t> probeOutputShape(int channels, const std::array<std::int64_t, 3>& patch) const;

  /// Replaces transposed 3D convolutions by equivalent regular convolutions plus a depth-to-space
  /// (see Documentation/performance.md). Returns how many were rewritten.
  int optimizeTransposedConvolutions();

  /// Channels-last (NDHWC) memory for the 5-D weights of a TorchScript network and for its inputs, a
  /// layout cuDNN's tensor-core kernels prefer. Same numbers up to float rounding. Returns false (and
  /// changes nothing) for natively rebuilt networks.
  bool useChannelsLast();

  /// Writes a copy of the TorchScript file with `cardJson` embedded as "voxseg.json".
  static void pack(const std::string& torchScriptPath, const std::string& cardJson, const std::string& outputPath);

  struct Impl;
  Impl& impl() const { return *impl_; }

private:
  explicit Network(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

} // namespace voxseg::inference
