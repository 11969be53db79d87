#pragma once
// `voxseg train`: plan, preprocess and train a 3D U-Net (nnU-Net's PlainConvUNet) on an nnU-Net raw
// dataset, and export it as an nnU-Net v2 trained-model folder that `voxseg segment -m` runs (and
// nnU-Net itself can load). CPU or CUDA through LibTorch; no LibTorch type in this header.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace voxseg::training {

struct Augmentation {
  bool mirror = true;                     ///< each axis with p 0.5
  double rotationDegrees = 30;            ///< +-, p 0.2 (0: off)
  double scaleLow = 0.7, scaleHigh = 1.4; ///< p 0.2
  bool intensity = true;                  ///< brightness x[0.75, 1.25] p 0.15, contrast p 0.15, gamma [0.7, 1.5] p 0.3
  bool noise = true;                      ///< Gaussian noise, variance up to 0.1, p 0.1
  bool blur = true;                       ///< Gaussian blur, sigma 0.5-1 voxel, p 0.2
  bool lowResolution = true;              ///< down by 1-2x and back up, p 0.25
};

/// TrainOptions::fold for nnU-Net's "all" fold: every case trains, into fold_all (inference::kFoldAll's value).
constexpr int kFoldAll = -1;

struct TrainOptions {
  std::string dataset; ///< nnU-Net raw layout
  std::string output;  ///< model folder: plans.json, dataset.json, fold_0/checkpoint_final.pth
  int epochs = 100;
  int iterationsPerEpoch = 50;
  int batch = 2;
  std::vector<int> patch;                     ///< (z, y, x); empty: planned from the data and maxPatchVoxels
  std::int64_t maxPatchVoxels = 96 * 96 * 64; ///< planning budget
  std::vector<double> spacing;                ///< (z, y, x) mm; empty: the median spacing
  int baseFeatures = 32, maxFeatures = 320, maxStages = 6;
  std::string optimizer = "sgd"; ///< sgd (Nesterov 0.99, nnU-Net's) or adamw
  double learningRate = 0;       ///< 0: 0.01 (sgd) or 3e-4 (adamw); poly decay (exponent 0.9)
  double weightDecay = 3e-5;
  double gradientClip = 12;
  bool deepSupervision = true;
  double foregroundFraction = 1.0 / 3.0; ///< patches forced onto foreground
  double validationFraction = 0.2;       ///< cases held out (at least one when there are two or more)
  /// Cross-validation: fold K of nnU-Net's 5-fold split of the sorted case ids (or of `splits`), trained into
  /// fold_K (state in training/fold_K) beside the other folds; validationFraction is then not used. kFoldAll: every
  /// case trains into fold_all and validates (nnU-Net's "all" fold), beside the others too. Unset: fold_0 with
  /// validationFraction held out.
  std::optional<int> fold;
  std::string splits;      ///< an nnU-Net splits_final.json (list of {"train": [ids], "val": [ids]}); needs fold
  int validateEvery = 5;   ///< epochs between validation Dice
  int checkpointEvery = 5; ///< epochs between checkpoints (resume points)
  bool resume = false;
  std::uint64_t seed = 0;
  int threads = 0;             ///< LibTorch CPU threads (0: every core)
  std::string device = "auto"; ///< auto, cpu, cuda, cuda:N
  bool mixedPrecision = true;  ///< CUDA only (autocast float16)
  bool force = false;          ///< replace an existing model folder's files
  Augmentation augment;
};

struct EpochReport {
  int epoch = 0, epochs = 0;
  double loss = 0;                    ///< mean training loss of the epoch
  std::vector<double> validationDice; ///< per foreground label (or region), empty when not validated this epoch
  double seconds = 0;                 ///< of this epoch
  double etaSeconds = 0;
};

struct TrainSummary {
  std::string modelFolder;
  std::string foldFolder; ///< modelFolder/fold_K (--fold K), modelFolder/fold_0 without --fold
  int fold = 0;           ///< K of fold_K, kFoldAll for fold_all
  /// The cases validated on, sorted: those held out, or the training cases when none is (nnU-Net's "all" fold).
  std::vector<std::string> validationCases;
  std::vector<double> losses;                                  ///< per epoch
  std::vector<std::pair<int, std::vector<double>>> validation; ///< (epoch, Dice per foreground label or region)
  /// Over every epoch trained, those of the sessions resumed from included (0 when unknown: a resume of a
  /// state written before 2026-11-27 with no epoch left to run); progress.json's iterations_per_second.
  double iterationsPerSecond = 0;
  std::vector<int> patch;      ///< (z, y, x)
  std::vector<double> spacing; ///< (z, y, x)
  int stages = 0;
  std::int64_t parameters = 0;
  std::string device;
};

/// Trains and exports. Throws Error(Input) for a bad dataset, Error(Usage) for bad options,
/// Error(Output) when the model folder's files exist without `force` (and not resuming).
TrainSummary train(const TrainOptions& options, const std::function<void(const EpochReport&)>& progress = {});

} // namespace voxseg::training
