#include "Batch.h"
#include "Commands.h"

#include "voxseg/core/Error.h"
#include "voxseg/core/JsonText.h"
#include "voxseg/evaluation/NnUNetSummary.h"
#include "voxseg/inference/NnUNetFolder.h"
#include "voxseg/io/AtomicOutput.h"
#include "voxseg/pipeline/NnUNetInferenceInformation.h"
#include "voxseg/processing/NnUNetPostprocessing.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <array>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iterator>
#include <ostream>
#include <sstream>

namespace voxseg::cli {

int runModelPack(const ModelPackArgs& args) {
  // a TorchScript file (what segment -m reads as one), never the network or the card it is made of
  if (!endsWith(args.output, ".pt") && !endsWith(args.output, ".pth") && !endsWith(args.output, ".ts"))
    throw usageError(args.output + ": cannot write a packed model of this file type (writable: .pt, .pth, .ts)");
  io::checkOutputsAgainstInputs({args.output}, {args.network, args.card});
  io::AtomicOutput out(args.output, args.force);
  std::ifstream in(args.card);
  if (!in) throw Error(ExitCode::Model, args.card + ": cannot read the model card");
  std::stringstream text;
  text << in.rdbuf();
  const ModelCard card = parseModelCard(text.str(), args.card);
  // The card must fit the network before it is packed with it.
  const inference::Network net = inference::Network::loadTorchScript(args.network, inference::DeviceSpec{"cpu"});
  const auto shape =
      net.probeOutputShape(int(card.channels.size()), {card.patchSize[0], card.patchSize[1], card.patchSize[2]});
  if (shape.size() != 5 || shape[1] != card.outputChannels())
    throw Error(ExitCode::Model, args.network + ": the network gives " +
                                     std::to_string(shape.size() > 1 ? shape[1] : 0) + " output channels, the card " +
                                     args.card + " names " + std::to_string(card.outputChannels()));
  inference::Network::pack(args.network, modelCardToJson(card).dump(2), out.tempPath());
  out.commit();
  return 0;
}

namespace {

// A fold's validation/summary.json (nnU-Net's, or `voxseg train`'s final validation): {"cases", "foreground_mean_dice"
// ("nan" when NaN)}; null when the file is absent or not such a summary.
nlohmann::json validationOf(const std::filesystem::path& fold) {
  std::ifstream in(fold / "validation" / "summary.json");
  if (!in) return nullptr;
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto s = evaluation::parseNnUNetSummary(std::move(text));
  if (s.is_discarded() || !s.contains("foreground_mean") || !s["foreground_mean"].contains("Dice") ||
      !s.contains("metric_per_case") || !s["metric_per_case"].is_array())
    return nullptr;
  const auto& dice = s["foreground_mean"]["Dice"]; // NaN (null here) is "nan", as in every report we write
  return {{"cases", s["metric_per_case"].size()},
          {"foreground_mean_dice", dice.is_null() ? nlohmann::json("nan") : dice}};
}

// The names of the network array's axes: the image's (z, y, x) reordered by plans.json's transpose_forward, in which
// order nnU-Net's plans give patch_size, spacing and the mirroring axes. (z, y, x) when it is absent or not a
// permutation (segment refuses such plans).
std::array<std::string, 3> arrayAxes(const nlohmann::json& plans) {
  const std::array<std::string, 3> zyx{"z", "y", "x"};
  const auto it = plans.find("transpose_forward");
  if (it == plans.end() || !it->is_array() || it->size() != 3) return zyx;
  std::array<std::string, 3> out;
  std::array<bool, 3> seen{};
  for (std::size_t i = 0; i < 3; ++i) {
    const auto& a = (*it)[i];
    if (!a.is_number_integer() || a.get<int>() < 0 || a.get<int>() > 2 || seen[a.get<std::size_t>()]) return zyx;
    seen[a.get<std::size_t>()] = true;
    out[i] = zyx[a.get<std::size_t>()];
  }
  return out;
}

// An nnU-Net v2 trained-model folder (what `voxseg train` writes): its plans, labels, folds and mirroring axes.
int inspectNnUNetFolder(const ModelInspectArgs& args, std::ostream& out) {
  const inference::NnUNetFolder f = inference::readNnUNetFolder(args.model);
  nlohmann::json j;
  j["model"] = args.model;
  j["kind"] = "nnunet";
  j["configuration"] = f.configurationName;
  nlohmann::json folds = nlohmann::json::array();
  for (int fold : inference::nnunetFoldFolders(args.model)) {
    const std::filesystem::path dir = std::filesystem::path(args.model) / inference::nnunetFoldName(fold);
    std::error_code ec;
    nlohmann::json entry{{"fold", fold == inference::kFoldAll ? nlohmann::json("all") : nlohmann::json(fold)}};
    for (const char* name : {"final", "best"})
      entry[std::string("checkpoint_") + name] =
          std::filesystem::exists(dir / ("checkpoint_" + std::string(name) + ".pth"), ec);
    if (entry["checkpoint_final"].get<bool>())
      entry["mirror_axes"] =
          inference::Network::loadNnUNetFold(f, fold, "final", inference::DeviceSpec{"cpu"}).allowedMirrorAxes();
    if (auto v = validationOf(dir); !v.is_null()) entry["validation"] = v;
    folds.push_back(entry);
  }
  j["folds"] = folds;
  const std::array<std::string, 3> axes = arrayAxes(f.plans);
  const bool transposed = axes != std::array<std::string, 3>{"z", "y", "x"};
  const std::string inPlane = axes[1] + ", " + axes[2]; // a 2D configuration's patch and spacing axes
  const std::string all = axes[0] + ", " + inPlane;
  try {
    const auto& c = f.configuration;
    j["dimensions"] = f.slices ? 2 : 3;
    j["array_axes"] = axes; // of mirror_axes, patch_size and spacing (a 2D configuration's: the last two)
    j["patch_size"] = c.at("patch_size");
    j["spacing"] = c.at("spacing");
    j["normalization_schemes"] = c.at("normalization_schemes");
    j["input_channels"] = f.inputChannels;
    j["classes"] = f.numClasses;
    j["channel_names"] = f.dataset.at("channel_names");
    j["labels"] = f.dataset.at("labels");
    j["label_order"] = nlohmann::json::array(); // dataset.json's order (a JSON object here is sorted by name)
    for (const auto& e : f.labels.entries) j["label_order"].push_back(e.name);
    if (f.dataset.contains("regions_class_order")) j["regions_class_order"] = f.dataset["regions_class_order"];
    if (f.plans.contains("voxseg_orientation")) j["voxseg_orientation"] = f.plans["voxseg_orientation"];
    if (!f.previousStage.empty()) {
      j["previous_stage"] = f.previousStage;
      j["previous_stage_label_channels"] = f.cascadeLabels;
    }
  } catch (const nlohmann::json::exception& e) {
    throw inference::plansContentError(args.model, e);
  }
  if (args.json) {
    out << jsonText(j, 2) << "\n";
    return 0;
  }
  out << "model:         " << args.model << " (nnU-Net v2 trained-model folder)\n";
  out << "configuration: " << f.configurationName << "\n";
  if (transposed)
    out << "axes:          (" << all << "): the image's (z, y, x) array transposed by plans.json's transpose_forward "
        << f.plans["transpose_forward"].dump() << "\n";
  if (f.slices) { // a 2D configuration
    out << "patch size:    " << j["patch_size"].dump() << " (" << inPlane
        << ": a 2D configuration, one slice at a time)\n";
    out << "spacing:       " << j["spacing"].dump() << " mm (" << inPlane << "; along " << axes[0]
        << ", the input's own)\n";
  } else {
    out << "patch size:    " << j["patch_size"].dump() << " (" << all << ")\n";
    out << "spacing:       " << j["spacing"].dump() << " mm (" << all << ")\n";
  }
  out << "channels:      " << j["channel_names"].dump() << ", normalization " << j["normalization_schemes"].dump()
      << "\n";
  // in dataset.json's order (a region-based dataset's regions pair with regions_class_order in it)
  nlohmann::ordered_json labels = nlohmann::ordered_json::object();
  for (const auto& e : f.labels.entries) labels[e.name] = j["labels"].at(e.name);
  out << "labels:        " << labels.dump()
      << (labels.contains("ignore") ? " (the ignore label has no network output)" : "") << "\n";
  if (j.contains("regions_class_order"))
    out << "regions:       written as " << j["regions_class_order"].dump()
        << " in this order where each region's sigmoid passes 0.5 (later over earlier)\n";
  if (!f.previousStage.empty())
    out << "cascade:       after '" << f.previousStage << "': its labels " << j["previous_stage_label_channels"].dump()
        << " one-hot, as input channels after the image's\n";
  for (const auto& e : folds)
    out << std::left << std::setw(15)
        << "fold " + (e["fold"].is_string() ? e["fold"].get<std::string>() : std::to_string(e["fold"].get<int>())) + ":"
        << "final " << (e["checkpoint_final"].get<bool>() ? "yes" : "no") << ", best "
        << (e["checkpoint_best"].get<bool>() ? "yes" : "no")
        << (e.contains("mirror_axes") ? ", test-time mirroring over axes " + e["mirror_axes"].dump() + " (" + all + ")"
                                      : std::string())
        << (e.contains("validation")
                ? ", validation " +
                      (e["validation"]["foreground_mean_dice"].is_number()
                           ? fmt::format("{:.4f}", e["validation"]["foreground_mean_dice"].get<double>())
                           : std::string("NaN")) +
                      " foreground mean Dice over " + e["validation"]["cases"].dump() + " case(s)"
                : std::string())
        << "\n";
  if (folds.empty()) out << "no fold_N or fold_all folder\n";
  return 0;
}

// A dataset's nnU-Net results folder (inference_information.json): what nnUNetv2_find_best_configuration chose, and
// so what `segment --nnunet <folder>` runs.
int inspectNnUNetResults(const ModelInspectArgs& args, std::ostream& out) {
  pipeline::NnUNetInferenceInformation info;
  std::string missing; // why no post-processing is named
  try {
    info = pipeline::readNnUNetInferenceInformation(args.model, true);
  } catch (const Error& e) {
    info = pipeline::readNnUNetInferenceInformation(args.model, false); // throws again unless only that is missing
    missing = e.what();
  }
  const std::size_t steps =
      info.postprocessing.empty() ? 0 : processing::readNnUNetPostprocessing(info.postprocessing).size();
  nlohmann::json j;
  j["model"] = args.model;
  j["kind"] = "nnunet_results";
  j["inference_information"] = info.file;
  j["selected"] = info.folders;
  j["folds"] = info.folds;
  j["postprocessing"] = info.postprocessing.empty() ? nlohmann::json(nullptr) : nlohmann::json(info.postprocessing);
  j["postprocessing_steps"] = steps;
  j["crossval_foreground_mean_dice"] = {{"before_postprocessing", info.diceBefore},
                                        {"after_postprocessing", info.diceAfter}};
  if (!missing.empty()) j["note"] = missing;
  if (args.json) {
    out << jsonText(j, 2) << "\n";
    return 0;
  }
  std::string names, folds;
  for (const auto& f : info.folders)
    names += (names.empty() ? "" : " + ") + std::filesystem::path(f).filename().string();
  for (int f : info.folds) folds += (folds.empty() ? "" : ",") + std::to_string(f);
  out << "model:            " << args.model << " (nnU-Net results: nnUNetv2_find_best_configuration's choice)\n";
  out << "selected:         " << names
      << (info.folders.size() > 1 ? " (an ensemble: their probabilities averaged)" : "") << "\n";
  out << "folds:            " << folds << "\n";
  out << "post-processing:  "
      << (info.postprocessing.empty() ? "none found (" + missing + ")"
                                      : info.postprocessing + " (" + std::to_string(steps) + " step(s))")
      << "\n";
  out << "cross-validation: foreground mean Dice " << fmt::format("{:.4f}", info.diceBefore) << ", "
      << fmt::format("{:.4f}", info.diceAfter) << " post-processed\n";
  out << "each folder:      voxseg model inspect <folder>; all of it: voxseg segment --nnunet " << args.model
      << " -i ... -o ...\n";
  return 0;
}

} // namespace

int runModelInspect(const ModelInspectArgs& args, std::ostream& out) {
  if (inference::isNnUNetFolder(args.model)) return inspectNnUNetFolder(args, out);
  if (pipeline::isNnUNetResultsFolder(args.model)) return inspectNnUNetResults(args, out);
  const inference::Network net = inference::Network::loadTorchScript(args.model, inference::DeviceSpec{"cpu"});
  nlohmann::json j;
  j["model"] = args.model;
  j["torch"] = inference::torchVersion();
  if (!net.embeddedCard()) {
    j["card"] = nullptr;
    j["note"] = "no voxseg.json embedded: add one with 'voxseg model pack'";
  } else {
    const ModelCard card = parseModelCard(*net.embeddedCard(), args.model + " (embedded voxseg.json)");
    j["card"] = modelCardToJson(card);
    const std::vector<std::int64_t> input{1, std::int64_t(card.channels.size()), card.patchSize[0], card.patchSize[1],
                                          card.patchSize[2]};
    j["input_shape"] = input;
    j["output_shape"] = net.probeOutputShape(int(card.channels.size()), {input[2], input[3], input[4]});
  }
  if (args.json) {
    out << jsonText(j, 2) << "\n";
    return 0;
  }
  out << "model:        " << args.model << "\n";
  if (j["card"].is_null()) {
    out << j["note"].get<std::string>() << "\n";
    return 0;
  }
  const auto& c = j["card"];
  out << "name:         " << c["name"].get<std::string>() << " " << c["version"].get<std::string>() << "\n";
  out << "axis order:   " << c["axis_order"].get<std::string>() << "\n";
  out << "input shape:  " << j["input_shape"].dump() << "\n";
  out << "output shape: " << j["output_shape"].dump() << "\n";
  out << "labels:      ";
  for (const auto& l : c["labels"]) out << " " << l["value"].get<int>() << "=" << l["name"].get<std::string>();
  out << "\ncard:\n" << jsonText(c, 2) << "\n";
  return 0;
}

} // namespace voxseg::cli
