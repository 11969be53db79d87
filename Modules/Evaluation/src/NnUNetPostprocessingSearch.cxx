#include "voxseg/evaluation/NnUNetPostprocessingSearch.h"

#include "voxseg/core/Error.h"
#include "voxseg/evaluation/Evaluate.h"
#include "voxseg/evaluation/LabelMap.h"
#include "voxseg/io/VolumeIO.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace voxseg::evaluation {
namespace {

using Step = processing::LargestComponentOfUnion;

// A step on a label map's voxels (the components do not depend on the spacing).
void apply(LabelMap& m, const Step& step) {
  auto image = processing::LabelImage::New();
  processing::LabelImage::SizeType size;
  for (unsigned a = 0; a < 3; ++a) size[a] = m.size[a];
  image->SetRegions(processing::LabelImage::RegionType(size));
  image->Allocate();
  std::copy(m.voxels.begin(), m.voxels.end(), image->GetBufferPointer());
  processing::keepLargestComponentOfUnion(*image, step.labels, step.background);
  std::copy(image->GetBufferPointer(), image->GetBufferPointer() + m.voxels.size(), m.voxels.begin());
}

// nnU-Net's summary of the predictions with `steps` applied (load_postprocess_save, then compute_metrics_on_folder).
NnUNetSummary score(const std::vector<PostprocessingSearchCase>& cases, const std::vector<Step>& steps,
                    const PostprocessingSearchOptions& o) {
  EvaluationOptions eo;
  eo.presets.clear(); // nnU-Net counts voxels only
  eo.ignoreLabel = o.ignoreLabel;
  eo.threads = o.threads;
  std::vector<NnUNetCaseCounts> counts;
  for (const auto& c : cases) {
    const LabelMap reference = toLabelMap(io::readVolume(c.reference, o.read));
    LabelMap prediction = toLabelMap(io::readVolume(c.prediction, o.read));
    if (prediction.size != reference.size)
      throw inputError(c.prediction, fmt::format("{} x {} x {} voxels, its reference {} has {} x {} x {}",
                                                 prediction.size[0], prediction.size[1], prediction.size[2],
                                                 c.reference, reference.size[0], reference.size[1], reference.size[2]));
    prediction.spacing = reference.spacing; // voxels are compared; NIfTI's float32 spacings may differ in rounding
    for (const Step& s : steps) apply(prediction, s);
    counts.push_back({c.reference, c.prediction, {}});
    for (const auto& r : evaluateTargets(reference, prediction, o.targets, eo))
      counts.back().counts.push_back(r.counts);
  }
  return nnunetSummary(o.keys, counts);
}

std::string diceText(double v) { return std::isnan(v) ? "nan" : fmt::format("{:.5f}", v); }

// A step's "labels_or_regions" as nnU-Net writes it: a label as a number, a region (or the foreground) as a list.
nlohmann::json labelsOrRegions(const std::vector<int>& labels, bool list) {
  return list ? nlohmann::json(labels) : nlohmann::json(labels.front());
}

nlohmann::json means(const NnUNetSummary& s) {
  const nlohmann::json j = parseNnUNetSummary(s.json);
  return {{"foreground_mean", j.at("foreground_mean")}, {"mean", j.at("mean")}};
}

} // namespace

PostprocessingSearch determineNnUNetPostprocessing(const std::vector<PostprocessingSearchCase>& cases,
                                                   const PostprocessingSearchOptions& o) {
  if (o.keys.size() != o.targets.size() || o.keys.empty() || o.foregroundLabels.empty())
    throw Error(ExitCode::Internal, "determineNnUNetPostprocessing: " + std::to_string(o.keys.size()) + " keys for " +
                                        std::to_string(o.targets.size()) + " targets, " +
                                        std::to_string(o.foregroundLabels.size()) + " foreground labels");
  PostprocessingSearch out;
  nlohmann::json kwargs = nlohmann::json::array();
  out.before = score(cases, {}, o);
  NnUNetSummary current = out.before;
  // the foreground as one mask: kept when the foreground mean rises and no label or region loses (NaN compares false)
  {
    const Step step{o.foregroundLabels, 0};
    const NnUNetSummary pp = score(cases, {step}, o);
    bool keep = pp.foregroundDice > out.before.foregroundDice;
    for (std::size_t k = 0; k < o.keys.size() && keep; ++k)
      if (pp.meanDice[k] < out.before.meanDice[k]) keep = false;
    out.log.push_back(fmt::format("largest component of the foreground: foreground mean Dice {} -> {}: {}",
                                  diceText(out.before.foregroundDice), diceText(pp.foregroundDice),
                                  keep ? "kept" : "not kept"));
    if (keep) {
      out.steps.push_back(step);
      kwargs.push_back({{"labels_or_regions", labelsOrRegions(step.labels, true)}});
      current = pp;
    }
  }
  // then each label or region on the predictions as far as post-processed, in the order given (dataset.json's)
  for (std::size_t k = 0; o.keys.size() > 1 && k < o.keys.size(); ++k) {
    std::vector<Step> trial = out.steps;
    trial.push_back({o.targets[k], 0});
    const NnUNetSummary pp = score(cases, trial, o);
    const bool keep = pp.meanDice[k] > current.meanDice[k];
    out.log.push_back(fmt::format("largest component of {}: mean Dice {} -> {}: {}", o.keys[k],
                                  diceText(current.meanDice[k]), diceText(pp.meanDice[k]), keep ? "kept" : "not kept"));
    if (keep) {
      out.steps.push_back(trial.back());
      kwargs.push_back({{"labels_or_regions", labelsOrRegions(o.targets[k], o.keys[k].front() == '(')}});
      current = pp;
    }
  }
  out.after = current;
  const nlohmann::json j{
      {"input_folder", means(out.before)},
      {"postprocessed", means(out.after)},
      {"postprocessing_fns",
       std::vector<std::string>(out.steps.size(), "remove_all_but_largest_component_from_segmentation")},
      {"postprocessing_kwargs", kwargs}};
  out.json = pythonJsonText(j); // save_json's text
  return out;
}

} // namespace voxseg::evaluation
