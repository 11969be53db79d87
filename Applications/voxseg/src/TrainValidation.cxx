#include "TrainValidation.h"
#include "Batch.h"

#include "voxseg/core/Error.h"
#include "voxseg/core/Log.h"
#include "voxseg/evaluation/Evaluate.h"
#include "voxseg/io/VolumeIO.h"
#include "voxseg/pipeline/NnUNet.h"
#include "voxseg/training/Dataset.h"

#include <filesystem>

namespace fs = std::filesystem;

namespace voxseg::cli {

ValidationTargets validationTargets(const training::RawDataset& ds) {
  ValidationTargets t;
  t.ignoreLabel = ds.ignoreLabel;
  t.regions = ds.regionBased();
  if (t.regions) { // keyed as dataset.json lists them (nnU-Net's LabelManager keeps the entries as written)
    for (std::size_t i = 0; i < ds.regions.size(); ++i) {
      t.targets.push_back(ds.regions[i].second);
      t.keys.push_back(ds.regionKeys.at(i));
    }
  } else {
    for (int v : ds.values)
      if (v != 0 && v != ds.ignoreLabel) {
        t.targets.push_back({v});
        t.keys.push_back(evaluation::nnunetKey(v));
      }
  }
  return t;
}

FinalValidation validateTrainedFold(const training::TrainOptions& options, const training::TrainSummary& summary) {
  const training::RawDataset ds = training::readRawDataset(options.dataset);
  const ValidationTargets targets = validationTargets(ds);
  pipeline::NnUNetOptions no;
  no.folder = summary.modelFolder;
  no.folds = {summary.fold};
  pipeline::SegmenterOptions run;
  run.device.name = options.device;
  run.threads = options.threads;
  const pipeline::NnUNetModel model = pipeline::loadNnUNet(no, run);

  FinalValidation out;
  out.folder = (fs::path(summary.foldFolder) / "validation").string();
  out.keys = targets.keys;
  std::error_code ec;
  fs::create_directories(out.folder, ec);
  if (ec) throw outputError(out.folder, "cannot make the validation folder (" + ec.message() + ")");
  evaluation::EvaluationOptions eo;
  eo.presets.clear(); // nnU-Net counts voxels only
  eo.ignoreLabel = targets.ignoreLabel;
  eo.threads = options.threads;
  io::WriteOptions wo;
  wo.overwrite = true; // a run's validation replaces the one before (nnU-Net's too)
  std::vector<evaluation::NnUNetCaseCounts> cases;
  for (const std::string& id : summary.validationCases) {
    const auto c = std::find_if(ds.cases.begin(), ds.cases.end(), [&](const auto& x) { return x.id == id; });
    if (c == ds.cases.end()) throw inputError(options.dataset, "no case '" + id + "'");
    std::vector<io::Volume> channels;
    for (const auto& image : c->images) channels.push_back(io::readImage(image));
    const pipeline::NnUNetResult r = pipeline::segmentNnUNet(model, channels, run, false);
    evaluation::NnUNetCaseCounts cc{c->labels, (fs::path(out.folder) / (id + ds.fileEnding)).string(), {}};
    io::writeVolume(r.labels, cc.predictionFile, wo);
    const evaluation::LabelMap ref = evaluation::toLabelMap(io::readVolume(c->labels));
    const evaluation::LabelMap pred = evaluation::toLabelMap(r.labels);
    for (const auto& result : evaluation::evaluateTargets(ref, pred, targets.targets, eo))
      cc.counts.push_back(result.counts);
    cases.push_back(std::move(cc));
  }
  out.summary = evaluation::nnunetSummary(targets.keys, cases);
  writeTextFile(out.summary.json, (fs::path(out.folder) / "summary.json").string(), true);
  return out;
}

} // namespace voxseg::cli
