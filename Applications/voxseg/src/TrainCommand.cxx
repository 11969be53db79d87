#include "Batch.h"
#include "Commands.h"
#include "TrainValidation.h"

#include "voxseg/core/Error.h"
#include "voxseg/rendering/Charts.h"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <sstream>
#include <vector>

namespace voxseg::cli {
namespace {

template <class T> std::vector<T> triple(const std::string& text, const std::string& option) {
  std::vector<T> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    std::istringstream is(item);
    T v{};
    if (!(is >> v) || v <= 0) throw usageError(option + " '" + text + "': expected three positive numbers z,y,x");
    out.push_back(v);
  }
  if (out.size() != 3) throw usageError(option + " '" + text + "': expected three numbers z,y,x");
  return out;
}

std::string diceText(const std::vector<double>& dice) {
  std::string s;
  for (double d : dice) {
    char b[16];
    std::snprintf(b, sizeof b, "%s%.3f", s.empty() ? "" : " ", d);
    s += b;
  }
  return s;
}

} // namespace

int runTrain(const TrainArgs& args) {
  training::TrainOptions o = args.options;
  if (!args.patch.empty()) o.patch = triple<int>(args.patch, "--patch");
  if (!args.spacing.empty()) o.spacing = triple<double>(args.spacing, "--spacing");
  if (args.noAugment) {
    o.augment = training::Augmentation{};
    o.augment.mirror = o.augment.intensity = o.augment.noise = o.augment.lowResolution = o.augment.blur = false;
    o.augment.rotationDegrees = 0;
    o.augment.scaleLow = o.augment.scaleHigh = 1;
  }
  const auto summary = training::train(o, [](const training::EpochReport& r) {
    spdlog::info("epoch {}/{}: loss {:.4f}{}, {:.1f} s, ETA {:.1f} min", r.epoch, r.epochs, r.loss,
                 r.validationDice.empty() ? "" : ", validation Dice " + diceText(r.validationDice), r.seconds,
                 r.etaSeconds / 60.0);
  });
  spdlog::info("trained {} epochs on {} ({:.2f} iterations/s, {} parameters, patch {}x{}x{}, {} stages); model: {}",
               summary.losses.size(), summary.device, summary.iterationsPerSecond, summary.parameters, summary.patch[0],
               summary.patch[1], summary.patch[2], summary.stages, summary.modelFolder);
  const std::string png = (std::filesystem::path(summary.foldFolder) / "training_curve.png").string();
  if (!args.curve || summary.losses.size() < 2) {
    if (args.curve) spdlog::info("no training curve: it needs two epochs or more");
    std::error_code ec; // an earlier run's curve (--force) would stand beside this model as if it were its own
    if (std::filesystem::remove(png, ec)) spdlog::info("removed {} (an earlier run's)", png);
  }
  if (args.curve && summary.losses.size() >= 2) {
    std::vector<double> epochs;
    for (std::size_t i = 0; i < summary.losses.size(); ++i) epochs.push_back(double(i + 1));
    try {
      rendering::writeLineChartPng(epochs, {{"training loss", summary.losses, {31, 119, 180}}}, "epoch",
                                   {"voxseg train: loss (Dice + cross-entropy)", "loss", 800, 450}, png, true);
      spdlog::info("wrote {}", png);
    } catch (const Error& e) {
      if (e.code() != ExitCode::Internal) throw;
      spdlog::warn("training curve not drawn: {}", e.what());
    }
  }
  { // an earlier run's validation would stand beside this model as if it were its own (and `evaluate` would pool its
    // predictions, of cases this model may have trained on, into the cross-validation)
    namespace fs = std::filesystem;
    const fs::path folder = fs::path(summary.foldFolder) / "validation";
    std::vector<fs::path> former;
    std::error_code ec;
    for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if ((name == "summary.json" || !volumeFileStem(name).empty()) && it->is_regular_file(ec)) former.push_back(*it);
    }
    for (const auto& f : former) fs::remove(f, ec);
    if (!former.empty())
      spdlog::info("removed {} file(s) of an earlier run's validation from {}", former.size(), folder.string());
  }
  if (args.finalValidation) {
    spdlog::info("final validation: segmenting {} case(s) with {} (test-time mirroring, step 0.5)",
                 summary.validationCases.size(), std::filesystem::path(summary.foldFolder).filename().string());
    FinalValidation v;
    try {
      v = validateTrainedFold(o, summary);
    } catch (const Error&) { // the model stands: say so before the error
      spdlog::warn("the final validation failed; the model in {} is written", summary.modelFolder);
      throw;
    }
    std::string means;
    for (std::size_t k = 0; k < v.keys.size(); ++k)
      means += fmt::format("{}{} {:.4f}", k ? ", " : "", v.keys[k], v.summary.meanDice[k]);
    spdlog::info("validation Dice (nnU-Net's summary.json in {}): {}; foreground mean {:.4f}", v.folder, means,
                 v.summary.foregroundDice);
  }
  return 0;
}

} // namespace voxseg::cli
