#include "voxseg/pipeline/NnUNet.h"

#include "voxseg/core/LabelColors.h"

#include "NnUNetExport.h"

#include "voxseg/core/Error.h"
#include "voxseg/core/ItkGeometry.h"
#include "voxseg/core/Log.h"
#include "voxseg/inference/NnUNetFolder.h"
#include "voxseg/processing/Crop.h"
#include "voxseg/processing/NnUNetNormalization.h"
#include "voxseg/processing/NnUNetResampling.h"
#include "voxseg/processing/Reorient.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>

namespace fs = std::filesystem;

namespace voxseg::pipeline {
namespace {

using nlohmann::json;
using processing::Shape3;

// plans.json's transpose_forward / transpose_backward: a permutation of 0, 1, 2 (identity if absent).
std::array<int, 3> permutation(const json& plans, const char* key, const fs::path& file) {
  std::array<int, 3> p{0, 1, 2};
  if (!plans.contains(key)) return p;
  const auto& v = plans[key];
  bool ok = v.is_array() && v.size() == 3;
  std::array<bool, 3> seen{};
  for (std::size_t a = 0; ok && a < 3; ++a) {
    ok = v[a].is_number_integer() && v[a].get<int>() >= 0 && v[a].get<int>() < 3 && !seen[v[a].get<std::size_t>()];
    if (ok) {
      p[a] = v[a].get<int>();
      seen[std::size_t(p[a])] = true;
    }
  }
  if (!ok)
    throw Error(ExitCode::Model, file.string() + ": " + key + " " + v.dump() + " is not a permutation of 0, 1, 2");
  return p;
}

template <class T> std::array<T, 3> permuted(const std::array<T, 3>& v, const std::array<int, 3>& p) {
  return {v[std::size_t(p[0])], v[std::size_t(p[1])], v[std::size_t(p[2])]};
}

} // namespace

std::vector<int> parseNnUNetFolds(const std::string& text) {
  const auto bad = [&] { return usageError("--folds '" + text + "': expected fold numbers such as 0,1,2"); };
  std::vector<int> folds;
  std::size_t pos = 0;
  while (true) {
    const std::size_t comma = text.find(',', pos);
    std::string item = text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    item.erase(0, item.find_first_not_of(' '));
    item.erase(item.find_last_not_of(' ') + 1);
    if (item.empty() || item.size() > 3 || item.find_first_not_of("0123456789") != std::string::npos) throw bad();
    const int fold = std::stoi(item);
    if (std::find(folds.begin(), folds.end(), fold) != folds.end()) throw bad();
    folds.push_back(fold);
    if (comma == std::string::npos) return folds;
    pos = comma + 1;
  }
}

namespace {
NnUNetModel load(const NnUNetOptions& options, const SegmenterOptions& run) {
  inference::setThreads(run.threads);
  const inference::NnUNetFolder folder = inference::readNnUNetFolder(options.folder); // read once for every fold
  NnUNetModel m;
  m.options = options;
  m.plans = folder.plans;
  m.dataset = folder.dataset;
  m.configuration = folder.configuration;
  const fs::path dir(options.folder);
  m.transposeForward = permutation(m.plans, "transpose_forward", dir / "plans.json");
  m.transposeBackward = permutation(m.plans, "transpose_backward", dir / "plans.json");
  for (int a = 0; a < 3; ++a)
    if (m.transposeBackward[std::size_t(m.transposeForward[std::size_t(a)])] != a)
      throw Error(ExitCode::Model, (dir / "plans.json").string() + ": transpose_backward " +
                                       m.plans["transpose_backward"].dump() + " does not undo transpose_forward " +
                                       m.plans["transpose_forward"].dump());
  if (m.dataset.contains("regions_class_order")) {
    const auto& r = m.dataset["regions_class_order"];
    if (!r.is_array() || r.empty())
      throw Error(ExitCode::Model, (dir / "dataset.json").string() + ": regions_class_order must be a list of labels");
    for (const auto& v : r) {
      if (!v.is_number_integer() || v.get<int>() < 1 || v.get<int>() > 65535)
        throw Error(ExitCode::Model,
                    (dir / "dataset.json").string() + ": regions_class_order entry " + v.dump() + " is not a label");
      m.regionsClassOrder.push_back(v.get<int>());
    }
  }
  m.maxLabel = 0;
  const json labels = m.dataset.value("labels", json::object());
  for (const auto& [name, v] : labels.items()) {
    const auto values = v.is_array() ? v : json::array({v});
    for (const auto& x : values)
      if (x.is_number_integer()) m.maxLabel = std::max(m.maxLabel, x.get<int>());
  }
  for (int r : m.regionsClassOrder) m.maxLabel = std::max(m.maxLabel, r);
  if (!m.configuration.contains("patch_size") || m.configuration["patch_size"].size() != 3)
    throw Error(ExitCode::Model, options.folder + ": only 3D configurations are supported");
  for (int fold : options.folds)
    m.folds.push_back(inference::Network::loadNnUNetFold(folder, fold, options.checkpoint, run.device));
  return m;
}
} // namespace

NnUNetModel loadNnUNet(const NnUNetOptions& options, const SegmenterOptions& run) {
  try {
    return load(options, run);
  } catch (const nlohmann::json::exception& e) { // plans.json/dataset.json content of an unexpected type
    throw inference::plansContentError(options.folder, e);
  }
}

namespace {

// nnU-Net's own path: the voxel arrays as they are (the direction matrix is ignored, as nnU-Net does).
NnUNetResult segmentArrays(const NnUNetModel& m, const std::vector<io::Volume>& channels, const SegmenterOptions& run,
                           bool keepProbabilities, const inference::ProgressFn& progress) {
  const json& cfg = m.configuration;
  const auto& names = m.dataset.at("channel_names");
  if (channels.size() != names.size())
    throw usageError("the nnU-Net model needs " + std::to_string(names.size()) +
                     " input volume(s) (one per channel_names "
                     "entry of dataset.json), got " +
                     std::to_string(channels.size()));
  const Geometry g = channels.front().geometry();
  // nnU-Net refuses channels of another size or spacing, and only warns about another origin or direction;
  // the arrays would then be stacked voxel by voxel although they do not overlay. voxseg refuses that too.
  for (const auto& c : channels)
    if (!sameGrid(c.geometry(), g))
      throw inputError(c.source, "not on the same grid as " + channels.front().source + ": " +
                                     gridDifference(c.geometry(), g) + " (resample the channels onto one grid)");
  // nnU-Net's array: (z, y, x) = ITK's buffer; spacing reversed; then transpose_forward.
  const Shape3 arrayShape{std::int64_t(g.size[2]), std::int64_t(g.size[1]), std::int64_t(g.size[0])};
  const auto& tf = m.transposeForward;
  const bool transpose = tf != std::array<int, 3>{0, 1, 2};
  const Shape3 full = permuted(arrayShape, tf);
  const processing::Spacing3 spacing = permuted(processing::Spacing3{g.spacing[2], g.spacing[1], g.spacing[0]}, tf);
  // Crop every channel while the float copies exist, then let them go: at most one full float copy
  // per channel plus the cropped arrays at a time (a 512x512x1000 CT is 1 GiB per float copy).
  processing::Box box;
  std::vector<std::vector<float>> cropped;
  std::vector<std::uint8_t> mask;
  bool anyMask = false;
  for (std::size_t c = 0; c < channels.size(); ++c) anyMask = anyMask || cfg["use_mask_for_norm"][c].get<bool>();
  {
    std::vector<itk::Image<float, 3>::Pointer> floats;
    std::vector<std::vector<float>> transposedCopies;
    std::vector<const float*> ptrs;
    for (const auto& c : channels) {
      auto f = c.toFloat();
      if (transpose) {
        transposedCopies.push_back(processing::transposed(f->GetBufferPointer(), arrayShape, tf));
        ptrs.push_back(transposedCopies.back().data()); // stays valid: moving a vector keeps its buffer
      } else {
        floats.push_back(f);
        ptrs.push_back(f->GetBufferPointer());
      }
    }
    box = processing::nonzeroBox(ptrs, full);
    if (anyMask) mask = processing::nonzeroMask(ptrs, full, box); // crop_to_nonzero's seg >= 0
    for (std::size_t c = 0; c < channels.size(); ++c) {
      cropped.push_back(processing::crop(ptrs[c], full, box));
      if (transpose)
        std::vector<float>().swap(transposedCopies[c]);
      else
        floats[c] = nullptr;
    }
  }
  const Shape3 cropShape = box.size();
  const processing::Spacing3 target{cfg["spacing"][0].get<double>(), cfg["spacing"][1].get<double>(),
                                    cfg["spacing"][2].get<double>()};
  const Shape3 netShape = processing::nnunetNewShape(cropShape, spacing, target);
  for (std::size_t a = 0; a < 3; ++a)
    if (netShape[a] < 1) { // nnU-Net rounds the new shape: one 1 mm slice at 2 mm is 0 voxels
      std::ostringstream why;
      why << "too thin for this model: " << cropShape[a] << " voxel(s) of " << spacing[a] << " mm along axis " << a
          << " (of " << cropShape[0] << "x" << cropShape[1] << "x" << cropShape[2]
          << " after cropping, in the model's axis order) become none at its " << target[a] << " mm spacing";
      throw inputError(channels.front().source, why.str());
    }
  const json kw = cfg.value("resampling_fn_data_kwargs", json::object());
  const int order = kw.value("order", 3), orderZ = kw.value("order_z", 0);
  processing::SeparateZ sep = processing::nnunetSeparateZ(spacing, target);
  if (kw.contains("force_separate_z") && !kw["force_separate_z"].is_null()) {
    sep = {};
    if (kw["force_separate_z"].get<bool>()) { // the single lowest-resolution axis of the current spacing
      const double mx = *std::max_element(spacing.begin(), spacing.end());
      int count = 0;
      for (int a = 0; a < 3; ++a)
        if (mx / spacing[std::size_t(a)] == 1.0) {
          sep.axis = a;
          ++count;
        }
      sep.separate = count == 1;
      if (count != 1) sep.axis = -1;
    }
  }
  std::vector<std::vector<float>> pre;
  for (std::size_t c = 0; c < channels.size(); ++c) {
    auto& v = cropped[c];
    const bool useMask = cfg["use_mask_for_norm"][c].get<bool>();
    const json props = m.plans["foreground_intensity_properties_per_channel"].value(std::to_string(c), json::object());
    processing::nnunetNormalize(v, cfg["normalization_schemes"][c].get<std::string>(), useMask, props, mask,
                                m.options.folder);
    if (netShape == cropShape) {
      pre.push_back(std::move(v)); // nnU-Net skips resampling when the shape does not change
    } else {
      pre.push_back(processing::nnunetResample(v.data(), cropShape, netShape, order, sep, orderZ));
      std::vector<float>().swap(v);
    }
  }

  inference::EngineOptions o;
  for (int a = 0; a < 3; ++a) o.patch[std::size_t(a)] = cfg["patch_size"][a].get<std::int64_t>();
  o.tiling.rule = Tiling::Rule::NnUNet;
  o.tiling.step = m.options.step;
  o.importance.type = ImportanceMap::Type::GaussianNnUNet;
  o.importance.sigmaScale = 0.125;
  o.halfAccumulation = true;
  if (m.options.tta) o.mirrorAxes = m.folds.front().allowedMirrorAxes();
  o.precision = run.precision;
  o.cudnnBenchmark = run.cudnnBenchmark;
  inference::InputVolume in;
  in.zyx = netShape;
  for (const auto& p : pre) in.channels.push_back(p.data());
  std::vector<const inference::Network*> nets;
  for (const auto& n : m.folds) nets.push_back(&n);
  NnUNetResult r;
  r.labels = io::makeVolume(m.maxLabel > 255 ? PixelType::UInt16 : PixelType::UInt8, g);
  r.labels.source = channels.front().source;
  const std::size_t n = std::size_t(full[0] * full[1] * full[2]);
  std::vector<std::uint16_t> transposedLabels(transpose ? n : 0);
  LabelBuffer out;
  if (transpose)
    out.u16 = transposedLabels.data();
  else if (m.maxLabel > 255)
    out.u16 = r.labels.as<std::uint16_t>()->GetBufferPointer();
  else
    out.u8 = r.labels.as<std::uint8_t>()->GetBufferPointer();
  NnUNetStreamingExport exporter(netShape, box, full, target, spacing, keepProbabilities, out, m.regionsClassOrder);
  r.stats = inference::slidingWindow(nets, in, AxisOrder::ZYX, o, exporter, progress);
  exporter.finish();
  r.channels = exporter.channels;
  if (transpose) { // back to the input's axes (transpose_backward)
    const auto back = processing::transposed(transposedLabels.data(), full, m.transposeBackward);
    for (std::size_t i = 0; i < n; ++i)
      if (m.maxLabel > 255)
        r.labels.as<std::uint16_t>()->GetBufferPointer()[i] = back[i];
      else
        r.labels.as<std::uint8_t>()->GetBufferPointer()[i] = static_cast<std::uint8_t>(back[i]);
    if (keepProbabilities)
      for (std::int64_t k = 0; k < r.channels; ++k) {
        float* p = exporter.probabilities.data() + std::size_t(k) * n;
        const auto b = processing::transposed(p, full, m.transposeBackward);
        std::copy(b.begin(), b.end(), p);
      }
  }
  if (keepProbabilities) r.probabilities = std::move(exporter.probabilities);
  return r;
}

} // namespace

namespace {
NnUNetResult segmentOriented(const NnUNetModel& m, const std::vector<io::Volume>& channels, const SegmenterOptions& run,
                             bool keepProbabilities, const inference::ProgressFn& progress) {
  // Models trained by `voxseg train` record the orientation their arrays were in ("voxseg_orientation",
  // a key nnU-Net ignores): inputs are reoriented to it losslessly and the outputs back.
  for (const auto& c : channels) io::requireFinite(c);
  const std::string code = m.plans.value("voxseg_orientation", std::string());
  if (code.empty() || channels.empty()) return segmentArrays(m, channels, run, keepProbabilities, progress);
  const std::string original = orientationCode(channels.front().geometry().direction);
  if (original == code) return segmentArrays(m, channels, run, keepProbabilities, progress);
  std::vector<io::Volume> turned = channels;
  for (auto& v : turned) v.image = processing::reorientTo(*v.image, v.pixelType, code);
  NnUNetResult r = segmentArrays(m, turned, run, keepProbabilities, progress);
  const Geometry turnedGeometry = turned.front().geometry();
  r.labels.image = processing::reorientTo(*r.labels.image, r.labels.pixelType, original);
  if (!r.probabilities.empty()) {
    const std::size_t n = turnedGeometry.voxelCount();
    for (std::int64_t k = 0; k < r.channels; ++k) {
      io::Volume p = io::makeVolume(PixelType::Float32, turnedGeometry);
      std::copy(r.probabilities.begin() + std::ptrdiff_t(k * n), r.probabilities.begin() + std::ptrdiff_t((k + 1) * n),
                p.as<float>()->GetBufferPointer());
      p.image = processing::reorientTo(*p.image, PixelType::Float32, original);
      const float* q = p.as<float>()->GetBufferPointer();
      std::copy(q, q + n, r.probabilities.begin() + std::ptrdiff_t(k * n));
    }
  }
  if (!r.labels.geometry().nearlyEqual(channels.front().geometry(), 1e-6))
    throw Error(ExitCode::Internal, "reorienting the labels back did not restore the input grid");
  setGeometry(*r.labels.image, channels.front().geometry()); // the input's grid bit for bit (no rounding)
  return r;
}

} // namespace

NnUNetResult segmentNnUNet(const NnUNetModel& m, const std::vector<io::Volume>& channels, const SegmenterOptions& run,
                           bool keepProbabilities, const inference::ProgressFn& progress) {
  try {
    return segmentOriented(m, channels, run, keepProbabilities, progress);
  } catch (const nlohmann::json::exception& e) { // plans values read while segmenting
    throw inference::plansContentError(m.options.folder, e);
  }
}

std::vector<LabelInfo> labelTable(const NnUNetModel& m) {
  std::vector<LabelInfo> out;
  const nlohmann::json labels = m.dataset.value("labels", nlohmann::json::object());
  std::size_t region = 0;
  for (const auto& [name, v] : labels.items()) {
    LabelInfo l;
    l.name = name;
    if (!m.regionsClassOrder.empty()) {
      if (v.is_number_integer() && v.get<int>() == 0) {
        l.value = 0;
      } else {
        if (region >= m.regionsClassOrder.size()) continue;
        l.value = m.regionsClassOrder[region++];
      }
    } else if (v.is_number_integer()) {
      l.value = v.get<int>();
    } else {
      continue;
    }
    if (l.value != 0) l.color = defaultLabelColor(l.value);
    out.push_back(l);
  }
  std::sort(out.begin(), out.end(), [](const LabelInfo& a, const LabelInfo& b) { return a.value < b.value; });
  return out;
}

} // namespace voxseg::pipeline
