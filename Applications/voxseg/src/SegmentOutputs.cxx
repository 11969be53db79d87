#include "SegmentOutputs.h"

#include "Batch.h"

#include "voxseg/core/Error.h"
#include "voxseg/io/AtomicOutput.h"
#include "voxseg/io/SegmentationFiles.h"
#include "voxseg/io/VolumeIO.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

namespace fs = std::filesystem;

namespace voxseg::cli {
namespace {

std::string stripVolumeExtension(const std::string& path) {
  const std::string stem = volumeFileStem(path);
  return stem.empty() ? path : stem;
}

// A file name from a label name: letters, digits, '-', '_' and '.'; anything else becomes '_'.
std::string safeName(const LabelInfo& l) {
  std::string s = l.name.empty() ? "label_" + std::to_string(l.value) : l.name;
  for (char& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') c = '_';
  return s;
}

} // namespace

// One mask per label, named after it. Names that would give one file ("x y" and "x_y", "Liver" and "liver" on a
// file system that ignores case) get the label value too ("x_y_2.nii.gz"), in label order.
std::vector<std::string> splitFiles(const OutputPaths& p, const std::vector<LabelInfo>& labels) {
  std::vector<std::string> out;
  if (p.split.empty()) return out;
  std::set<std::string> taken; // lower case
  const auto lower = [](std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  };
  for (const auto& l : labels) {
    if (l.value == 0) continue;
    const std::string base = safeName(l);
    std::string name = base;
    for (int k = 1; !taken.insert(lower(name)).second; ++k)
      name = base + "_" + std::to_string(l.value) + (k > 1 ? "_" + std::to_string(k) : "");
    out.push_back((fs::path(p.split) / (name + ".nii.gz")).string());
  }
  return out;
}

std::vector<std::string> OutputPaths::files() const {
  std::vector<std::string> out;
  for (const std::string* s : {&labels, &saveLogits, &saveProbabilities, &instances, &dicomSeg, &rtstruct})
    if (!s->empty()) out.push_back(*s);
  if (!instances.empty()) out.push_back(instancesTable());
  for (const auto& c : colorTables) out.push_back(c);
  if (!report.empty()) out.push_back(report);
  return out;
}

std::string OutputPaths::instancesTable() const { return stripVolumeExtension(instances) + ".json"; }

OutputPaths OutputPaths::forCase(const std::string& id) const {
  auto sub = [&](std::string s) {
    for (std::size_t at = s.find("{case}"); at != std::string::npos; at = s.find("{case}", at + id.size()))
      s.replace(at, 6, id);
    return s;
  };
  OutputPaths o = *this;
  for (std::string* s : {&o.labels, &o.saveLogits, &o.saveProbabilities, &o.instances, &o.split, &o.report, &o.render,
                         &o.dicomSeg, &o.rtstruct})
    *s = sub(*s);
  for (auto& c : o.colorTables) c = sub(c);
  return o;
}

void checkOutputNames(const OutputPaths& paths, const std::vector<std::string>& inputs) {
  const auto oneOf = [](const std::string& path, const std::vector<std::string>& exts, const std::string& what) {
    if (std::any_of(exts.begin(), exts.end(), [&](const std::string& e) { return endsWith(path, e); })) return;
    std::string list;
    for (const auto& e : exts) list += (list.empty() ? "" : ", ") + e;
    throw usageError(path + ": cannot write " + what + " of this file type (writable: " + list + ")");
  };
  auto labelTypes = io::writableExtensions();
  labelTypes.push_back(".seg.nrrd");
  if (!paths.labels.empty()) oneOf(paths.labels, labelTypes, "a label map");
  for (const std::string* s : {&paths.saveLogits, &paths.saveProbabilities, &paths.instances})
    if (!s->empty()) oneOf(*s, io::writableExtensions(), "a volume");
  for (const auto& c : paths.colorTables) oneOf(c, io::colorTableExtensions(), "a color table");
  io::checkOutputsAgainstInputs(paths.files(), inputs);
  for (const std::string* folder : {&paths.split, &paths.render}) // may share a folder with each other
    if (!folder->empty()) io::checkOutputsAgainstInputs({*folder}, inputs);
}

void checkLabelTable(const OutputPaths& paths, const std::vector<LabelInfo>& labels) {
  io::checkLabelsWritable(labels, paths.labels);
  for (const auto& c : paths.colorTables) io::checkLabelsWritable(labels, c);
  for (const std::string* dicom : {&paths.dicomSeg, &paths.rtstruct})
    if (!dicom->empty()) io::checkLabelsWritable(labels, *dicom);
}

void checkDestinations(const OutputPaths& paths, const std::vector<LabelInfo>& labels, bool force,
                       io::MadeFolders& made) {
  checkLabelTable(paths, labels); // names, colors and codes the files cannot hold: now, not after the network ran
  for (const auto& f : paths.files()) io::AtomicOutput probe(f, force);
  if (paths.split.empty()) return;
  if (fs::exists(paths.split) && !fs::is_directory(paths.split))
    throw Error(ExitCode::Output, paths.split + ": --split needs a folder, this is a file");
  // made now, like --render's folder: a folder that cannot be made fails before any work
  made.make(paths.split, "the --split folder");
  const auto masks = splitFiles(paths, labels);
  auto all = paths.files(); // a mask named like another output (-o out/liver.nii.gz --split out) would replace it
  all.insert(all.end(), masks.begin(), masks.end());
  io::checkOutputsAgainstInputs(all, {});
  for (const auto& f : masks) io::AtomicOutput probe(f, force);
}

nlohmann::ordered_json labelTable(const processing::LabelImage& labels, const std::vector<LabelInfo>& known) {
  std::map<int, nlohmann::ordered_json> rows;
  for (const auto& l : known)
    if (l.value != 0)
      rows[l.value] = {{"value", l.value}, {"name", l.name}, {"voxels", 0}, {"ml", 0.0}, {"components", 0}};
  for (const auto& s : processing::labelStatistics(labels)) {
    auto& r = rows[s.label];
    r["value"] = s.label;
    if (!r.contains("name")) r["name"] = "";
    r["voxels"] = s.voxels;
    r["ml"] = s.ml;
    r["components"] = s.components;
  }
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (auto& [v, r] : rows) out.push_back(r);
  return out;
}

nlohmann::ordered_json writeCaseOutputs(const OutputPaths& paths, const CaseResult& result,
                                        const processing::LabelImage* labels, const CaseRunner& model,
                                        const std::vector<LabelInfo>& known, bool force) {
  io::WriteOptions w;
  w.overwrite = force;
  w.niftiPlacement = result.labels.niftiPlacement; // every output below lies on the input's grid
  nlohmann::ordered_json written = nlohmann::ordered_json::array();
  const Geometry g = result.labels.geometry();
  if (endsWith(paths.labels, ".seg.nrrd"))
    io::writeSegNrrd(result.labels, known, paths.labels, w);
  else
    io::writeVolume(result.labels, paths.labels, w);
  written.push_back(paths.labels);

  if (!paths.saveLogits.empty()) {
    if (result.valuesAreProbabilities)
      throw usageError("--save-logits is not available with --nnunet (use --save-probabilities)");
    io::writeComponents(result.values, result.channels, g, paths.saveLogits, w);
    written.push_back(paths.saveLogits);
  }
  if (!paths.saveProbabilities.empty()) {
    std::vector<float> p = result.values;
    if (!result.valuesAreProbabilities) { // softmax, or sigmoid per region, of the logits
      const std::size_t n = g.voxelCount();
      const auto k = std::size_t(result.channels);
      for (std::size_t i = 0; i < n; ++i) {
        if (model.isRegionBased()) {
          for (std::size_t c = 0; c < k; ++c) p[c * n + i] = 1.0f / (1.0f + std::exp(-p[c * n + i]));
          continue;
        }
        float mx = p[i];
        for (std::size_t c = 1; c < k; ++c) mx = std::max(mx, p[c * n + i]);
        double sum = 0;
        for (std::size_t c = 0; c < k; ++c) sum += std::exp(double(p[c * n + i] - mx));
        for (std::size_t c = 0; c < k; ++c) p[c * n + i] = float(std::exp(double(p[c * n + i] - mx)) / sum);
      }
    }
    io::writeComponents(p, result.channels, g, paths.saveProbabilities, w);
    written.push_back(paths.saveProbabilities);
  }

  nlohmann::ordered_json extra;
  if (!paths.instances.empty() || !paths.split.empty()) {
    if (!labels) throw Error(ExitCode::Internal, "writeCaseOutputs: instances and masks need the label image");
    const processing::LabelImage* img = labels;
    if (!paths.instances.empty()) {
      processing::LabelImage::Pointer inst;
      const auto table = processing::labelInstances(*img, paths.instanceClasses, inst);
      io::writeVolume(fromLabelImage(*inst, result.labels), paths.instances, w);
      nlohmann::ordered_json rows = nlohmann::ordered_json::array();
      for (const auto& t : table) {
        const LabelInfo* l = nullptr;
        for (const auto& k : known)
          if (k.value == t.label) l = &k;
        rows.push_back({{"id", t.id},
                        {"label", t.label},
                        {"name", l ? l->name : ""},
                        {"voxels", t.voxels},
                        {"ml", t.ml},
                        {"centroid_lps_mm", t.centroid},
                        {"bbox_index_begin", t.begin},
                        {"bbox_index_end", t.end}});
      }
      writeJsonFile({{"instance_map", paths.instances}, {"instances", rows}}, paths.instancesTable(), force);
      written.push_back(paths.instances);
      written.push_back(paths.instancesTable());
      extra["instances"] = table.size();
    }
    if (!paths.split.empty()) { // its folder was made by checkDestinations
      const auto files = splitFiles(paths, known);
      std::size_t f = 0;
      const unsigned short* p = img->GetBufferPointer();
      for (const auto& l : known) {
        if (l.value == 0) continue;
        io::Volume mask = io::makeVolume(PixelType::UInt8, g);
        std::uint8_t* m = mask.as<std::uint8_t>()->GetBufferPointer();
        for (std::size_t i = 0; i < g.voxelCount(); ++i) m[i] = p[i] == l.value;
        io::writeVolume(mask, files[f], w);
        written.push_back(files[f++]);
      }
    }
  }
  for (const auto& c : paths.colorTables) {
    io::writeColorTable(known, c, force);
    written.push_back(c);
  }
  extra["outputs"] = written;
  return extra;
}

} // namespace voxseg::cli
