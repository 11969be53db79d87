#include "voxseg/evaluation/NnUNetPostprocessingSearch.h"

#include "voxseg/core/Error.h"
#include "voxseg/core/Memory.h"
#include "voxseg/evaluation/Evaluate.h"
#include "voxseg/evaluation/LabelMap.h"
#include "voxseg/io/VolumeIO.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <memory>

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

// A quarter of the memory this process may use (a cgroup's limit counts: a container on a large machine).
std::size_t defaultCacheBytes() {
  const std::uint64_t usable = usableMemoryBytes();
  return usable > 0 ? std::size_t(usable / 4) : std::size_t(1) << 30;
}

// The cases' label maps: read once and held while they fit in the budget (the prediction as far as the kept steps
// clean it), else read again, with the kept steps applied, whenever asked for.
class Cases {
public:
  Cases(const std::vector<PostprocessingSearchCase>& cases, const PostprocessingSearchOptions& o)
      : cases_(cases), o_(o), held_(cases.size()), offered_(cases.size(), false),
        left_(o.cacheBytes ? o.cacheBytes : defaultCacheBytes()) {}

  std::size_t size() const { return cases_.size(); }
  const PostprocessingSearchCase& files(std::size_t i) const { return cases_[i]; }

  /// Case i's reference and prediction (the kept steps applied), then `trial` applied to the prediction. A case is
  /// held when it fits the first time it is read.
  template <class F> void visit(std::size_t i, const Step* trial, F&& f) {
    if (!held_[i]) {
      Pair p = read(i);
      for (const Step& s : kept_) apply(p.prediction, s);
      const std::size_t bytes = (p.reference.voxels.size() + p.prediction.voxels.size()) * sizeof(std::uint16_t);
      const bool hold = !offered_[i] && bytes <= left_;
      offered_[i] = true;
      if (!hold) {
        if (trial) apply(p.prediction, *trial);
        f(p.reference, p.prediction);
        return;
      }
      left_ -= bytes;
      held_[i] = std::make_unique<Pair>(std::move(p));
    }
    if (!trial) return f(held_[i]->reference, held_[i]->prediction); // no step to try: no copy
    LabelMap prediction = held_[i]->prediction;
    apply(prediction, *trial);
    f(held_[i]->reference, prediction);
  }

  /// A step kept: applied to the held predictions, and to those read later.
  void keep(const Step& step) {
    kept_.push_back(step);
    for (auto& h : held_)
      if (h) apply(h->prediction, step);
  }

  std::size_t heldCount() const {
    return std::size_t(std::count_if(held_.begin(), held_.end(), [](const auto& h) { return bool(h); }));
  }

private:
  struct Pair {
    LabelMap reference, prediction;
  };
  Pair read(std::size_t i) const {
    const auto& c = cases_[i];
    Pair p{toLabelMap(io::readVolume(c.reference, o_.read)), toLabelMap(io::readVolume(c.prediction, o_.read))};
    if (p.prediction.size != p.reference.size)
      throw inputError(c.prediction,
                       fmt::format("{} x {} x {} voxels, its reference {} has {} x {} x {}", p.prediction.size[0],
                                   p.prediction.size[1], p.prediction.size[2], c.reference, p.reference.size[0],
                                   p.reference.size[1], p.reference.size[2]));
    p.prediction.spacing = p.reference.spacing; // voxels are compared; NIfTI's float32 spacings may differ in rounding
    return p;
  }

  const std::vector<PostprocessingSearchCase>& cases_;
  const PostprocessingSearchOptions& o_;
  std::vector<std::unique_ptr<Pair>> held_;
  std::vector<Step> kept_;
  std::vector<bool> offered_; ///< read once (held then, or never)
  std::size_t left_;          ///< bytes the budget has left
};

// nnU-Net's summary of the predictions with the kept steps and `trial` applied (load_postprocess_save, then
// compute_metrics_on_folder).
NnUNetSummary score(Cases& cases, const Step* trial, const PostprocessingSearchOptions& o) {
  EvaluationOptions eo;
  eo.presets.clear(); // nnU-Net counts voxels only
  eo.ignoreLabel = o.ignoreLabel;
  eo.threads = o.threads;
  std::vector<NnUNetCaseCounts> counts;
  for (std::size_t i = 0; i < cases.size(); ++i)
    cases.visit(i, trial, [&](const LabelMap& reference, const LabelMap& prediction) {
      counts.push_back({cases.files(i).reference, cases.files(i).prediction, {}});
      for (const auto& r : evaluateTargets(reference, prediction, o.targets, eo))
        counts.back().counts.push_back(r.counts);
    });
  return nnunetSummary(o.keys, counts);
}

// A Python pickle (protocol 2) of nnU-Net's (pp_fns, pp_fn_kwargs): a few opcodes, no memo (loading needs none).
class Pickle {
public:
  Pickle() { bytes_ += "\x80\x02"; } // PROTO 2
  Pickle& global(const std::string& module, const std::string& name) {
    bytes_ += 'c' + module + '\n' + name + '\n'; // GLOBAL
    return *this;
  }
  Pickle& text(const std::string& s) { // BINUNICODE: UTF-8 with a 4-byte little-endian length
    bytes_ += 'X';
    for (int i = 0; i < 4; ++i) bytes_ += char((s.size() >> (8 * i)) & 0xff);
    bytes_ += s;
    return *this;
  }
  Pickle& integer(int v) { // BININT: 4-byte little-endian signed
    bytes_ += 'J';
    for (int i = 0; i < 4; ++i) bytes_ += char((std::uint32_t(v) >> (8 * i)) & 0xff);
    return *this;
  }
  Pickle& mark() { return op('('); }
  Pickle& list() { return op('l'); }  // LIST: the items since the mark
  Pickle& tuple() { return op('t'); } // TUPLE: the items since the mark
  Pickle& dict() { return op('d'); }  // DICT: key, value pairs since the mark
  Pickle& stop() { return op('.'); }
  const std::string& bytes() const { return bytes_; }

private:
  Pickle& op(char c) {
    bytes_ += c;
    return *this;
  }
  std::string bytes_;
};

// labels_or_regions of one step as nnU-Net pickles it: the foreground step's list of labels, a region's tuple, a
// label's number.
enum class Listed { Number, List, Tuple };

std::string postprocessingPickle(const std::vector<Step>& steps, const std::vector<Listed>& listed) {
  Pickle p;
  p.mark().mark();
  for (std::size_t i = 0; i < steps.size(); ++i)
    p.global("nnunetv2.postprocessing.remove_connected_components",
             "remove_all_but_largest_component_from_segmentation");
  p.list().mark();
  for (std::size_t i = 0; i < steps.size(); ++i) {
    p.mark().text("labels_or_regions");
    if (listed[i] == Listed::Number) {
      p.integer(steps[i].labels.front());
    } else {
      p.mark();
      for (int v : steps[i].labels) p.integer(v);
      listed[i] == Listed::List ? p.list() : p.tuple();
    }
    p.dict();
  }
  p.list().tuple().stop();
  return p.bytes();
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
  std::vector<Listed> listed;
  Cases maps(cases, o);
  out.before = score(maps, nullptr, o);
  NnUNetSummary current = out.before;
  // the foreground as one mask: kept when the foreground mean rises and no label or region loses (NaN compares false)
  {
    const Step step{o.foregroundLabels, 0};
    const NnUNetSummary pp = score(maps, &step, o);
    bool keep = pp.foregroundDice > out.before.foregroundDice;
    for (std::size_t k = 0; k < o.keys.size() && keep; ++k)
      if (pp.meanDice[k] < out.before.meanDice[k]) keep = false;
    out.log.push_back(fmt::format("largest component of the foreground: foreground mean Dice {} -> {}: {}",
                                  diceText(out.before.foregroundDice), diceText(pp.foregroundDice),
                                  keep ? "kept" : "not kept"));
    if (keep) {
      out.steps.push_back(step);
      maps.keep(step);
      kwargs.push_back({{"labels_or_regions", labelsOrRegions(step.labels, true)}});
      listed.push_back(Listed::List);
      current = pp;
    }
  }
  // then each label or region on the predictions as far as post-processed, in the order given (dataset.json's)
  for (std::size_t k = 0; o.keys.size() > 1 && k < o.keys.size(); ++k) {
    const Step trial{o.targets[k], 0};
    const NnUNetSummary pp = score(maps, &trial, o);
    const bool keep = pp.meanDice[k] > current.meanDice[k];
    out.log.push_back(fmt::format("largest component of {}: mean Dice {} -> {}: {}", o.keys[k],
                                  diceText(current.meanDice[k]), diceText(pp.meanDice[k]), keep ? "kept" : "not kept"));
    if (keep) {
      out.steps.push_back(trial);
      maps.keep(trial);
      const bool region = o.keys[k].front() == '(';
      kwargs.push_back({{"labels_or_regions", labelsOrRegions(o.targets[k], region)}});
      listed.push_back(region ? Listed::Tuple : Listed::Number);
      current = pp;
    }
  }
  out.after = current;
  out.casesHeld = maps.heldCount();
  const nlohmann::json j{
      {"input_folder", means(out.before)},
      {"postprocessed", means(out.after)},
      {"postprocessing_fns",
       std::vector<std::string>(out.steps.size(), "remove_all_but_largest_component_from_segmentation")},
      {"postprocessing_kwargs", kwargs}};
  out.json = pythonJsonText(j); // save_json's text
  out.pickle = postprocessingPickle(out.steps, listed);
  return out;
}

} // namespace voxseg::evaluation
