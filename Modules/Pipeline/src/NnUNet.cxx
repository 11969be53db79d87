#include "voxseg/pipeline/NnUNet.h"

#include "voxseg/core/LabelColors.h"

#include "NnUNetPredict.h"

#include "voxseg/core/Error.h"
#include "voxseg/core/ItkGeometry.h"
#include "voxseg/core/Log.h"
#include "voxseg/core/Parallel.h"
#include "voxseg/inference/NnUNetFolder.h"
#include "voxseg/processing/Crop.h"
#include "voxseg/processing/NnUNetNormalization.h"
#include "voxseg/processing/NnUNetResampling.h"
#include "voxseg/processing/Reorient.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>

namespace voxseg::pipeline {
namespace {

using nlohmann::json;
using processing::Shape3;

template <class T> std::array<T, 3> permuted(const std::array<T, 3>& v, const std::array<int, 3>& p) {
  return {v[std::size_t(p[0])], v[std::size_t(p[1])], v[std::size_t(p[2])]};
}

} // namespace

NnUNetModel loadNnUNet(const NnUNetOptions& options, const SegmenterOptions& run) {
  return loadNnUNetModel(options, run.device, run.threads);
}

namespace {

// nnU-Net's own path: the voxel arrays as they are (the direction matrix is ignored, as nnU-Net does).
NnUNetResult segmentArrays(const NnUNetModel& m, const std::vector<io::Volume>& channels, const SegmenterOptions& run,
                           bool keepProbabilities, const inference::ProgressFn& progress, const io::Volume* previous) {
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
  // per channel plus the cropped arrays at a time (a 512x512x1000 CT is 1 GiB per float copy). A copy
  // made here (another pixel type, or transposed) becomes the cropped array itself when the box is the
  // whole array, as it is for CT: no second copy.
  const unsigned workers = workerCount(inference::threadCount(), SIZE_MAX); // as the resampling's (--threads)
  processing::Box box;
  std::vector<std::vector<float>> cropped;
  std::vector<std::uint16_t> prev;
  std::vector<std::uint8_t> mask;
  bool anyMask = false;
  for (std::size_t c = 0; c < channels.size(); ++c) anyMask = anyMask || cfg["use_mask_for_norm"][c].get<bool>();
  {
    std::vector<std::vector<float>> copies(channels.size()); // empty where the input's float buffer is used
    std::vector<const float*> ptrs;
    for (std::size_t c = 0; c < channels.size(); ++c) {
      const io::Volume& v = channels[c];
      if (transpose) {
        copies[c] = visitPixelType(v.pixelType, [&](auto tag) { // from the file's own type: no float image
          using T = typename decltype(tag)::type;
          return processing::transposed<float>(v.as<T>()->GetBufferPointer(), arrayShape, tf);
        });
        ptrs.push_back(copies[c].data());
      } else if (v.pixelType == PixelType::Float32) {
        ptrs.push_back(v.as<float>()->GetBufferPointer());
      } else {
        copies[c] = io::floatValues(v);
        ptrs.push_back(copies[c].data()); // stays valid: moving a vector keeps its buffer
      }
    }
    box = processing::nonzeroBox(ptrs, full, workers);
    if (anyMask) mask = processing::nonzeroMask(ptrs, full, box); // crop_to_nonzero's seg >= 0
    if (previous) { // a cascade stage: the previous stage's labels, transposed and cropped like the image, read
                    // straight into the box (no transposed copy of the whole volume)
      const Shape3 stride{arrayShape[1] * arrayShape[2], arrayShape[2], 1};
      const std::int64_t s0 = stride[std::size_t(tf[0])], s1 = stride[std::size_t(tf[1])],
                         s2 = stride[std::size_t(tf[2])];
      const Shape3 size = box.size();
      prev.resize(std::size_t(size[0] * size[1] * size[2]));
      visitPixelType(previous->pixelType, [&](auto tag) {
        using T = typename decltype(tag)::type;
        const T* src = previous->as<T>()->GetBufferPointer(); // integers in 0..65535 (checked)
        std::size_t o = 0;
        for (std::int64_t i = box.begin[0]; i < box.end[0]; ++i)
          for (std::int64_t j = box.begin[1]; j < box.end[1]; ++j)
            for (std::int64_t k = box.begin[2]; k < box.end[2]; ++k)
              prev[o++] = static_cast<std::uint16_t>(src[i * s0 + j * s1 + k * s2]);
      });
      // crop_to_nonzero keeps the previous stage's labels outside the non-zero mask: seg >= 0 there too
      if (anyMask)
        for (std::size_t i = 0; i < prev.size(); ++i) mask[i] = mask[i] || prev[i] != 0;
    }
    for (std::size_t c = 0; c < channels.size(); ++c)
      cropped.push_back(copies[c].empty() ? processing::crop(ptrs[c], full, box, workers)
                                          : processing::crop(std::move(copies[c]), full, box, workers));
  }
  NnUNetResult r;
  const std::size_t n = std::size_t(full[0] * full[1] * full[2]);
  std::vector<std::uint16_t> transposedLabels;
  const auto labelStorage = [&] { // made once preprocessing has let its copies go
    r.labels = io::makeVolume(m.maxLabel > 255 ? PixelType::UInt16 : PixelType::UInt8, g);
    r.labels.source = channels.front().source;
    r.labels.niftiPlacement = channels.front().niftiPlacement; // a NIfTI output keeps the input's header forms
    LabelBuffer out;
    if (transpose) {
      transposedLabels.assign(n, 0);
      out.u16 = transposedLabels.data();
    } else if (m.maxLabel > 255) {
      out.u16 = r.labels.as<std::uint16_t>()->GetBufferPointer();
    } else {
      out.u8 = r.labels.as<std::uint8_t>()->GetBufferPointer();
    }
    return out;
  };
  NnUNetRunSettings settings;
  settings.precision = run.precision;
  settings.cudnnBenchmark = run.cudnnBenchmark;
  settings.keepProbabilities = keepProbabilities;
  NnUNetPrediction p = predictCropped(m, NnUNetCropped{std::move(cropped), box, std::move(mask), std::move(prev)}, full,
                                      spacing, channels.front().source, settings, labelStorage, progress);
  r.stats = p.stats;
  r.channels = p.channels;
  if (transpose) { // back to the input's axes (transpose_backward)
    if (m.maxLabel > 255)
      processing::transposeInto(transposedLabels.data(), full, m.transposeBackward,
                                r.labels.as<std::uint16_t>()->GetBufferPointer());
    else
      processing::transposeInto(transposedLabels.data(), full, m.transposeBackward,
                                r.labels.as<std::uint8_t>()->GetBufferPointer());
    std::vector<std::uint16_t>().swap(transposedLabels);
    if (keepProbabilities)
      for (std::int64_t k = 0; k < r.channels; ++k) {
        float* q = p.probabilities.data() + std::size_t(k) * n;
        const auto b = processing::transposed(q, full, m.transposeBackward);
        std::copy(b.begin(), b.end(), q);
      }
  }
  if (keepProbabilities) r.probabilities = std::move(p.probabilities);
  return r;
}

} // namespace

namespace {
NnUNetResult segmentOriented(const NnUNetModel& m, const std::vector<io::Volume>& channels, const SegmenterOptions& run,
                             bool keepProbabilities, const inference::ProgressFn& progress,
                             const io::Volume* previous) {
  // The model's array orientation (NnUNetModel::arrayOrientation: voxseg train's, or RAS for nnU-Net's
  // *IOWithReorient readers, which ran on the arrays as stored until 2026-11-29): inputs are reoriented to it
  // losslessly and the outputs back.
  for (const auto& c : channels) io::requireFinite(c);
  if (previous) io::requireWholeBuffer(*previous);
  const std::string& code = m.arrayOrientation;
  if (code.empty() || channels.empty()) return segmentArrays(m, channels, run, keepProbabilities, progress, previous);
  const std::string original = orientationCode(channels.front().geometry().direction);
  if (original == code) return segmentArrays(m, channels, run, keepProbabilities, progress, previous);
  std::vector<io::Volume> turned = channels;
  for (auto& v : turned) v.image = processing::reorientTo(*v.image, v.pixelType, code);
  io::Volume turnedPrevious;
  if (previous) {
    turnedPrevious = *previous;
    turnedPrevious.image = processing::reorientTo(*previous->image, previous->pixelType, code);
  }
  NnUNetResult r = segmentArrays(m, turned, run, keepProbabilities, progress, previous ? &turnedPrevious : nullptr);
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

namespace {
// A previous stage's label map: integers in 0..65535 (a float file's too, as nnU-Net reads segmentations as floats),
// few distinct values (each costs a resampling of the volume). Values the model does not know are used as nnU-Net
// uses them (they win the resampling over smaller labels and are no channel), with a warning.
void requireLabelValues(const io::Volume& v, const std::vector<int>& known) {
  std::vector<bool> present(65536, false);
  for (const std::uint16_t x : io::labelValues(v)) present[x] = true; // throws for a value that is no label
  std::vector<int> values, unknown;
  for (int x = 1; x < 65536; ++x)
    if (present[std::size_t(x)]) {
      values.push_back(x);
      if (std::find(known.begin(), known.end(), x) == known.end()) unknown.push_back(x);
    }
  if (values.size() > 256)
    throw inputError(v.source, "holds " + std::to_string(values.size()) +
                                   " different values: not a previous stage's label map (the model knows " +
                                   std::to_string(known.size()) + " labels)");
  if (!unknown.empty()) {
    std::string list;
    for (std::size_t k = 0; k < unknown.size() && k < 10; ++k) list += (k ? ", " : "") + std::to_string(unknown[k]);
    if (unknown.size() > 10) list += ", ...";
    logWarning(v.source + ": value(s) " + list +
               " are none of the model's labels (dataset.json): like nnU-Net, voxseg gives them no input channel");
  }
}
} // namespace

NnUNetResult segmentNnUNet(const NnUNetModel& m, const std::vector<io::Volume>& channels, const SegmenterOptions& run,
                           bool keepProbabilities, const inference::ProgressFn& progress,
                           const io::Volume* previousStage) {
  try {
    if (m.previousStage.empty()) {
      if (previousStage)
        throw usageError(previousStage->source + ": previous-stage labels given, but " + m.options.folder +
                         " is not a cascade stage");
      return segmentOriented(m, channels, run, keepProbabilities, progress, nullptr);
    }
    NnUNetResult first;
    const bool chained = !previousStage;
    if (chained) { // run the previous stage first, as nnUNetv2_predict -c 3d_lowres would
      if (!m.previous)
        throw usageError(m.options.folder + ": configuration '" + m.configurationName + "' is a cascade stage after '" +
                         m.previousStage + "': it needs that stage's model folder or its label maps");
      // progress: the previous stage's windows as the first half, the cascade stage's as the second
      inference::ProgressFn half;
      if (progress) half = [&](std::int64_t done, std::int64_t total) { progress(done, 2 * total); };
      first = segmentNnUNet(*m.previous, channels, run, false, half);
      previousStage = &first.labels;
    } else if (!channels.empty() && !sameGrid(previousStage->geometry(), channels.front().geometry())) {
      throw inputError(previousStage->source,
                       "the previous stage's labels are not on the grid of " + channels.front().source + ": " +
                           gridDifference(previousStage->geometry(), channels.front().geometry()));
    } else {
      io::requireWholeBuffer(*previousStage); // before its values are read
      requireLabelValues(*previousStage, m.cascadeLabels);
    }
    inference::ProgressFn second = progress;
    if (progress && chained) second = [&](std::int64_t done, std::int64_t total) { progress(total + done, 2 * total); };
    NnUNetResult r = segmentOriented(m, channels, run, keepProbabilities, second, previousStage);
    r.stats.windows += first.stats.windows; // both stages' work
    r.stats.forwardCalls += first.stats.forwardCalls;
    r.stats.seconds += first.stats.seconds;
    return r;
  } catch (const nlohmann::json::exception& e) { // plans values read while segmenting
    throw inference::plansContentError(m.options.folder, e);
  }
}

std::vector<LabelInfo> labelTable(const NnUNetModel& m) {
  std::vector<LabelInfo> out;
  std::size_t region = 0;
  // In the file's order: a region-based dataset's regions take regions_class_order's values in that order
  // (LabelManager._get_regions). The ignore label is no output.
  for (const NnUNetLabelEntry& e : m.labels.entries) {
    if (e.name == "ignore") continue;
    LabelInfo l;
    l.name = e.name;
    if (!m.regionsClassOrder.empty()) {
      if (e.background()) {
        l.value = 0;
      } else {
        if (region >= m.regionsClassOrder.size()) continue;
        l.value = m.regionsClassOrder[region++];
      }
    } else if (e.values.size() == 1) { // 2 or [2]
      l.value = e.values.front();
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
