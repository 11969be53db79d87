#include "Prepare.h"

#include "voxseg/core/Error.h"
#include "voxseg/core/Log.h"
#include "voxseg/core/Memory.h"
#include "voxseg/core/Parallel.h"
#include "voxseg/io/VolumeIO.h"
#include "voxseg/processing/Crop.h"
#include "voxseg/processing/NnUNetNormalization.h"
#include "voxseg/processing/NnUNetResampling.h"
#include "voxseg/processing/Reorient.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <random>
#include <sstream>
#include <unistd.h>

namespace voxseg::training {
namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : (v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]));
}

double percentile(std::vector<float>& v, double p) { // numpy's linear interpolation
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const double pos = p / 100.0 * double(v.size() - 1);
  const auto lo = std::size_t(std::floor(pos));
  const auto hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (pos - double(lo)) * (v[hi] - v[lo]);
}

// nnU-Net's scheme for a channel name (nnunetv2 map_channel_name_to_normalization, case-insensitive): CT, noNorm,
// zscore, rescale_to_0_1, rgb_to_0_1; z-score for any other name.
std::string normalizationFor(const std::string& name) {
  std::string s;
  for (char c : name) s += char(std::tolower(static_cast<unsigned char>(c)));
  if (s == "ct") return "CTNormalization";
  if (s == "nonorm") return "NoNormalization";
  if (s == "rescale_to_0_1") return "RescaleTo01Normalization";
  if (s == "rgb_to_0_1") return "RGBTo01Normalization";
  return "ZScoreNormalization";
}

// Voxels kept per foreground class (and of the annotated ones) to centre patches on.
constexpr std::size_t kSampled = 20000;

// nnU-Net's spline orders for label maps (resampling_fn_seg_kwargs): in plane, and along a separate z axis.
constexpr int kLabelOrder = 1, kLabelOrderZ = 0;

struct RawCase {
  std::string id;
  std::array<double, 3> spacing; ///< (z, y, x)
  processing::Shape3 shape;      ///< cropped
  std::vector<std::vector<float>> channels;
  std::vector<float> labels;
};

template <typename T> std::string tripleText(const std::array<T, 3>& v, const char* sep) {
  std::ostringstream m;
  m << v[0] << sep << v[1] << sep << v[2];
  return m.str();
}
std::string spacingText(const std::array<double, 3>& s) { return tripleText(s, ","); }
std::string shapeText(const processing::Shape3& s) { return tripleText(s, "x"); }

// The cases at the planned spacing are held in memory as float32 (plus a byte of label per voxel): a --spacing
// far below the data's (a typo such as 0.01) would ask for more than the machine has, and fail late with
// "out of memory". Refused before anything is resampled, naming the largest case's shape; so is a spacing at
// which a case has no voxel left along an axis.
void checkResampledSize(const std::vector<RawCase>& raw, const Plan& plan, std::size_t channels, bool given) {
  const std::string option = given ? "--spacing" : "the median spacing";
  const processing::Spacing3 to{plan.spacing[0], plan.spacing[1], plan.spacing[2]};
  double bytes = 0, largest = 0;
  processing::Shape3 largestShape{};
  std::string largestId;
  for (const auto& r : raw) {
    const processing::Shape3 shape =
        processing::nnunetNewShape(r.shape, {r.spacing[0], r.spacing[1], r.spacing[2]}, to);
    const double voxels = double(shape[0]) * double(shape[1]) * double(shape[2]);
    if (shape[0] < 1 || shape[1] < 1 || shape[2] < 1)
      throw usageError(option + " " + spacingText(plan.spacing) + " mm leaves case " + r.id + " (" +
                       shapeText(r.shape) + " voxels) with no voxel along an axis");
    bytes += voxels * (4.0 * double(channels) + 1.0);
    if (voxels > largest) largest = voxels, largestShape = shape, largestId = r.id;
  }
  const double physical = double(usableMemoryBytes()); // a cgroup's limit counts
  const bool tooManyVoxels = largest > double(std::uint64_t(1) << 31);
  const bool tooMuchMemory = physical > 0 && bytes > 0.8 * physical;
  if (tooManyVoxels || tooMuchMemory) {
    std::ostringstream m;
    m.precision(3);
    m << option << " " << spacingText(plan.spacing) << " mm: ";
    if (tooManyVoxels)
      m << "case " << largestId << " resampled to it has " << shapeText(largestShape) << " = " << largest
        << " voxels, more than 2^31";
    else
      m << "the " << raw.size() << " case(s) resampled to it take " << bytes / 1e9 << " GB in memory (case "
        << largestId << ": " << shapeText(largestShape) << " voxels), more than 80% of this machine's "
        << physical / 1e9 << " GB";
    m << "; choose a coarser --spacing";
    throw usageError(m.str());
  }
}

} // namespace

std::vector<PreparedCase> prepare(const RawDataset& ds, const TrainOptions& o, Plan& plan) {
  const int maxLabel = ds.maxLabel;
  // the foreground classes patches are centred on: per label value, the outputs whose class holds it (label v is
  // class v - 1 of a plain dataset; a region-based dataset's label is in each region listing it)
  std::vector<std::vector<std::size_t>> classesOf(std::size_t(maxLabel) + 1);
  const std::size_t foregroundClasses = ds.regionBased() ? ds.regions.size() : std::size_t(ds.classes() - 1);
  for (std::size_t k = 0; k < foregroundClasses; ++k)
    for (int v : ds.regionBased() ? ds.regions[k].second : std::vector<int>{int(k) + 1})
      classesOf[std::size_t(v)].push_back(k);
  std::vector<RawCase> raw;
  std::vector<bool> present(std::size_t(maxLabel) + 1, false); // in the label files, before any resampling
  std::vector<bool> listed(std::size_t(maxLabel) + 1, false);
  for (int v : ds.values) listed[std::size_t(v)] = true;
  std::vector<std::vector<float>> foregroundSamples(ds.channelNames.size());
  std::mt19937_64 rng(o.seed);
  for (const auto& c : ds.cases) {
    RawCase r;
    r.id = c.id;
    // arrays in one orientation (kTrainingOrientation), whatever each file's voxel order: `segment`
    // reorients new images the same way (plans.json "voxseg_orientation")
    io::Volume labels = io::readVolume(c.labels);
    labels.image = processing::reorientTo(*labels.image, labels.pixelType, kTrainingOrientation);
    const Geometry g = labels.geometry();
    r.spacing = {g.spacing[2], g.spacing[1], g.spacing[0]};
    const processing::Shape3 full{std::int64_t(g.size[2]), std::int64_t(g.size[1]), std::int64_t(g.size[0])};
    std::vector<std::vector<float>> channels;
    for (const auto& path : c.images) {
      io::Volume v = io::readVolume(path);
      v.image = processing::reorientTo(*v.image, v.pixelType, kTrainingOrientation);
      if (!sameGrid(v.geometry(), g))
        throw inputError(path, "not on the grid of its label map " + c.labels + ": " + gridDifference(v.geometry(), g));
      channels.push_back(io::floatValues(v));
    }
    const auto values = io::labelValues(labels);
    for (std::uint16_t v : values) {
      if (v > maxLabel || !listed[v])
        throw inputError(c.labels,
                         "label " + std::to_string(v) + " is not listed in dataset.json (" +
                             (int(ds.values.size()) == maxLabel + 1 ? "0.." + std::to_string(maxLabel)
                                                                    : fmt::format("{}", fmt::join(ds.values, ", "))) +
                             ")");
      present[v] = true;
    }
    std::vector<const float*> pointers;
    for (const auto& ch : channels) pointers.push_back(ch.data());
    const processing::Box box = processing::nonzeroBox(pointers, full);
    for (auto& ch : channels) r.channels.push_back(processing::crop(std::move(ch), full, box));
    r.labels = processing::crop(std::vector<float>(values.begin(), values.end()), full, box);
    r.shape = box.size();
    // foreground intensities, at most 10000 per case and channel (nnU-Net's fingerprint: label > 0, the ignore
    // label's voxels included, as nnU-Net takes them)
    std::vector<std::size_t> fg;
    for (std::size_t i = 0; i < r.labels.size(); ++i)
      if (r.labels[i] > 0) fg.push_back(i);
    std::shuffle(fg.begin(), fg.end(), rng);
    fg.resize(std::min<std::size_t>(fg.size(), 10000));
    for (std::size_t ch = 0; ch < r.channels.size(); ++ch)
      for (std::size_t i : fg) foregroundSamples[ch].push_back(r.channels[ch][i]);
    raw.push_back(std::move(r));
  }

  // plan: spacing, normalization, patch, network
  for (int a = 0; a < 3; ++a) {
    std::vector<double> s;
    for (const auto& r : raw) s.push_back(r.spacing[a]);
    plan.spacing[a] = o.spacing.size() == 3 ? o.spacing[a] : median(s);
  }
  plan.intensityProperties = nlohmann::json::object();
  for (std::size_t ch = 0; ch < ds.channelNames.size(); ++ch) {
    plan.normalization.push_back(normalizationFor(ds.channelNames[ch]));
    auto& v = foregroundSamples[ch];
    double sum = 0, sq = 0;
    for (float x : v) sum += x;
    const double mean = v.empty() ? 0 : sum / double(v.size());
    for (float x : v) sq += (x - mean) * (x - mean);
    plan.intensityProperties[std::to_string(ch)] = {{"mean", mean},
                                                    {"std", v.empty() ? 1.0 : std::sqrt(sq / double(v.size()))},
                                                    {"percentile_00_5", percentile(v, 0.5)},
                                                    {"percentile_99_5", percentile(v, 99.5)},
                                                    {"min", v.empty() ? 0.0 : double(v.front())},
                                                    {"max", v.empty() ? 0.0 : double(v.back())},
                                                    {"median", percentile(v, 50)}};
  }
  checkResampledSize(raw, plan, ds.channelNames.size(), o.spacing.size() == 3);
  std::vector<PreparedCase> out;
  std::array<std::vector<double>, 3> shapes;
  for (auto& r : raw) {
    PreparedCase p;
    p.id = r.id;
    const processing::Spacing3 from{r.spacing[0], r.spacing[1], r.spacing[2]},
        to{plan.spacing[0], plan.spacing[1], plan.spacing[2]};
    const processing::Shape3 newShape = processing::nnunetNewShape(r.shape, from, to);
    const auto sep = processing::nnunetSeparateZ(from, to);
    const unsigned workers = workerCount(o.threads, SIZE_MAX); // the same result for any number
    for (std::size_t ch = 0; ch < r.channels.size(); ++ch) {
      processing::nnunetNormalize(r.channels[ch], plan.normalization[ch], false,
                                  plan.intensityProperties[std::to_string(ch)], {}, ds.folder);
      const auto resampled = newShape == r.shape ? r.channels[ch]
                                                 : processing::nnunetResample(r.channels[ch].data(), r.shape, newShape,
                                                                              3, sep, 0, workers);
      p.data.insert(p.data.end(), resampled.begin(), resampled.end());
    }
    // as nnU-Net's resampling_fn_seg (plans.json's resampling_fn_seg_kwargs): each label's mask linearly, the
    // nearest slice along a separate z, larger labels winning
    const std::vector<std::uint16_t> values(r.labels.begin(), r.labels.end());
    const auto labels =
        processing::nnunetResampleLabels(values.data(), r.shape, newShape, kLabelOrder, sep, kLabelOrderZ, workers);
    p.labels.assign(labels.begin(), labels.end());
    p.shape = {newShape[0], newShape[1], newShape[2]};
    // per foreground class (and of the annotated voxels) a uniform sample of at most kSampled voxels to centre
    // patches on, drawn as the voxels pass (reservoir sampling): no list of every voxel of a class is held
    p.foreground.resize(foregroundClasses);
    std::vector<std::size_t> seen(foregroundClasses + 1, 0); // the last: annotated voxels
    const auto keep = [&](std::vector<std::int64_t>& sample, std::size_t& count, std::size_t i) {
      if (sample.size() < kSampled)
        sample.push_back(std::int64_t(i));
      else if (const auto at = std::uniform_int_distribution<std::size_t>(0, count)(rng); at < kSampled)
        sample[at] = std::int64_t(i);
      ++count;
    };
    for (std::size_t i = 0; i < p.labels.size(); ++i) {
      const int v = p.labels[i];
      if (v == ds.ignoreLabel) continue;
      for (std::size_t k : classesOf[std::size_t(v)]) keep(p.foreground[k], seen[k], i);
      if (ds.ignoreLabel >= 0) keep(p.annotated, seen.back(), i);
    }
    if (ds.ignoreLabel >= 0 && p.annotated.empty())
      logWarning("case " + p.id + " has no annotated voxel (all are the ignore label " +
                 std::to_string(ds.ignoreLabel) + "): it teaches the network nothing");
    for (int a = 0; a < 3; ++a) shapes[a].push_back(double(p.shape[a]));
    out.push_back(std::move(p));
  }
  for (int a = 0; a < 3; ++a) plan.medianShape[a] = std::int64_t(median(shapes[a]));
  // A class no case holds cannot be learned (swapped label folders, a wrong dataset.json): said, not refused.
  for (const auto& [name, values] : ds.regionBased() ? ds.regions : ds.labelEntries) {
    if (values.front() == 0 || values.front() == ds.ignoreLabel) continue;
    if (std::none_of(values.begin(), values.end(), [&](int v) { return present[std::size_t(v)]; }))
      logWarning((values.size() == 1 ? "label " + std::to_string(values.front())
                                     : "region of labels " + fmt::format("{}", fmt::join(values, "+"))) +
                 " ('" + name + "') occurs in none of the " + std::to_string(out.size()) +
                 " training case(s): the network cannot learn it");
  }

  // patch: the median shape, shrunk (largest physical axis first) to the voxel budget; each axis a
  // multiple of 2^(pools on that axis), pools while the axis stays >= 8 voxels (at most maxStages - 1)
  Shape patch = plan.medianShape;
  if (o.patch.size() == 3)
    patch = {o.patch[0], o.patch[1], o.patch[2]};
  else
    while (patch[0] * patch[1] * patch[2] > o.maxPatchVoxels) {
      int axis = 0;
      for (int a = 1; a < 3; ++a)
        if (double(patch[a]) * plan.spacing[a] > double(patch[axis]) * plan.spacing[axis]) axis = a;
      patch[axis] = std::max<std::int64_t>(8, patch[axis] - std::max<std::int64_t>(1, patch[axis] / 10));
    }
  std::array<int, 3> pools{0, 0, 0};
  for (int a = 0; a < 3; ++a) {
    while (pools[a] < o.maxStages - 1 && (patch[a] >> (pools[a] + 1)) >= 4) ++pools[a];
    const std::int64_t unit = std::int64_t(1) << pools[a];
    patch[a] = std::max(unit, patch[a] / unit * unit);
  }
  if (o.patch.size() == 3 && (patch[0] != o.patch[0] || patch[1] != o.patch[1] || patch[2] != o.patch[2]))
    logWarning("--patch " + std::to_string(o.patch[0]) + "," + std::to_string(o.patch[1]) + "," +
               std::to_string(o.patch[2]) + " is used as " + std::to_string(patch[0]) + "," + std::to_string(patch[1]) +
               "," + std::to_string(patch[2]) + ": each axis is a multiple of 2 to the number of its poolings");
  plan.patch = patch;
  const int stages = 1 + *std::max_element(pools.begin(), pools.end());
  UNetShape& n = plan.network;
  n.inputChannels = int(ds.channelNames.size());
  n.classes = ds.classes();
  n.features.clear(), n.kernels.clear(), n.strides.clear();
  for (int s = 0; s < stages; ++s) {
    n.features.push_back(std::min<std::int64_t>(o.maxFeatures, std::int64_t(o.baseFeatures) << s));
    n.kernels.push_back({3, 3, 3});
    std::vector<std::int64_t> stride{1, 1, 1};
    for (int a = 0; a < 3; ++a)
      if (s > 0 && s <= pools[a]) stride[a] = 2;
    n.strides.push_back(stride);
  }
  return out;
}

nlohmann::json plansJson(const RawDataset& ds, const Plan& plan, const TrainOptions& o) {
  using nlohmann::json;
  const auto& n = plan.network;
  json arch = {{"network_class_name", "dynamic_network_architectures.architectures.unet.PlainConvUNet"},
               {"arch_kwargs",
                {{"n_stages", n.features.size()},
                 {"features_per_stage", n.features},
                 {"conv_op", "torch.nn.modules.conv.Conv3d"},
                 {"kernel_sizes", n.kernels},
                 {"strides", n.strides},
                 {"n_conv_per_stage", std::vector<int>(n.features.size(), n.convsPerStage)},
                 {"n_conv_per_stage_decoder", std::vector<int>(n.features.size() - 1, n.convsPerStage)},
                 {"conv_bias", true},
                 {"norm_op", "torch.nn.modules.instancenorm.InstanceNorm3d"},
                 {"norm_op_kwargs", {{"eps", 1e-05}, {"affine", true}}},
                 {"dropout_op", nullptr},
                 {"dropout_op_kwargs", nullptr},
                 {"nonlin", "torch.nn.LeakyReLU"},
                 {"nonlin_kwargs", {{"inplace", true}}}}},
               {"_kw_requires_import", {"conv_op", "norm_op", "dropout_op", "nonlin"}}};
  const json resampling = {{"is_seg", false}, {"order", 3}, {"order_z", 0}, {"force_separate_z", nullptr}};
  json config = {{"data_identifier", "voxsegPlans_3d_fullres"},
                 {"preprocessor_name", "DefaultPreprocessor"},
                 {"batch_size", o.batch},
                 {"patch_size", plan.patch},
                 {"median_image_size_in_voxels", plan.medianShape},
                 {"spacing", plan.spacing},
                 {"normalization_schemes", plan.normalization},
                 {"use_mask_for_norm", std::vector<bool>(plan.normalization.size(), false)},
                 {"resampling_fn_data", "resample_data_or_seg_to_shape"},
                 {"resampling_fn_seg", "resample_data_or_seg_to_shape"},
                 {"resampling_fn_data_kwargs", resampling},
                 {"resampling_fn_seg_kwargs",
                  {{"is_seg", true}, {"order", kLabelOrder}, {"order_z", kLabelOrderZ}, {"force_separate_z", nullptr}}},
                 {"resampling_fn_probabilities", "resample_data_or_seg_to_shape"},
                 {"resampling_fn_probabilities_kwargs",
                  {{"is_seg", false}, {"order", 1}, {"order_z", 0}, {"force_separate_z", nullptr}}},
                 {"architecture", arch},
                 {"batch_dice", true}};
  return {{"dataset_name", ds.name},
          {"plans_name", "voxsegPlans"},
          {"original_median_spacing_after_transp", plan.spacing},
          {"original_median_shape_after_transp", plan.medianShape},
          {"image_reader_writer", "SimpleITKIO"},
          {"transpose_forward", {0, 1, 2}},
          {"transpose_backward", {0, 1, 2}},
          {"configurations", {{"3d_fullres", config}}},
          {"experiment_planner_used", "voxseg train"},
          {"label_manager", "LabelManager"},
          {"foreground_intensity_properties_per_channel", plan.intensityProperties},
          {"voxseg_orientation", kTrainingOrientation}};
}

} // namespace voxseg::training
