#include "voxseg/pipeline/Segmenter.h"

#include "ResamplingConsumer.h"

#include "voxseg/core/Error.h"
#include "voxseg/core/ItkGeometry.h"
#include "voxseg/core/LabelColors.h"
#include "voxseg/processing/Components.h"
#include "voxseg/processing/Intensity.h"
#include "voxseg/processing/Reorient.h"
#include "voxseg/processing/Resample.h"

#include "voxseg/core/Log.h"
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace voxseg::pipeline {
namespace {

using FloatImage = itk::Image<float, 3>;

ModelCard defaultCard(const std::string& modelPath, const CardOverrides& ov) {
  if (!ov.axisOrder || !ov.patch)
    throw Error(ExitCode::Model, modelPath + ": no model card embedded; give one with --card, or at least --axis-order "
                                             "and --patch (see 'voxseg model pack')");
  ModelCard c;
  c.name = std::filesystem::path(modelPath).stem().string();
  c.channels = {InputChannel{"input", "", Normalization{}}};
  c.tiling.rule = Tiling::Rule::Monai;
  c.tiling.overlap = 0.5;
  c.importance.type = ImportanceMap::Type::GaussianMonai;
  return c;
}

void applyOverrides(ModelCard& c, const CardOverrides& ov) {
  if (ov.axisOrder) c.axisOrder = *ov.axisOrder;
  if (ov.patch) c.patchSize = *ov.patch;
  if (ov.tiling) c.tiling.rule = *ov.tiling;
  if (ov.step) c.tiling.step = *ov.step;
  if (ov.overlap) c.tiling.overlap = *ov.overlap;
  if (ov.importance) c.importance.type = *ov.importance;
  if (ov.importanceOfTiling)
    c.importance.type = c.tiling.rule == Tiling::Rule::NnUNet ? ImportanceMap::Type::GaussianNnUNet
                                                              : ImportanceMap::Type::GaussianMonai;
  // An override the model's own rule would ignore is refused, not dropped.
  if (ov.step && c.tiling.rule != Tiling::Rule::NnUNet)
    throw usageError("--step applies to nnU-Net tiling; this model tiles as MONAI does (give --overlap, or "
                     "--tiling nnunet)");
  if (ov.overlap && c.tiling.rule != Tiling::Rule::Monai)
    throw usageError("--overlap applies to MONAI tiling; this model tiles as nnU-Net does (give --step, or "
                     "--tiling monai)");
  if (ov.sigmaScale && c.importance.type == ImportanceMap::Type::Constant)
    throw usageError("--sigma-scale applies to Gaussian window weights; this model weighs windows evenly (give "
                     "--importance gaussian)");
  if (ov.sigmaScale) c.importance.sigmaScale = *ov.sigmaScale;
  if (ov.swBatch) c.swBatch = *ov.swBatch;
  if (ov.tta && !*ov.tta) c.mirrorAxes.clear();
  if (ov.tta && *ov.tta && c.mirrorAxes.empty()) c.mirrorAxes = {0, 1, 2};
  if (ov.normalization)
    for (auto& ch : c.channels) {
      ch.normalization = Normalization{};
      ch.normalization.type = *ov.normalization;
      if (*ov.normalization == Normalization::Type::CT || *ov.normalization == Normalization::Type::Rescale)
        throw usageError("--normalization ct/rescale need statistics: put them in the model card");
    }
  if (ov.spacing) c.spacing = *ov.spacing;
  // Re-validate the result as a whole.
  c = modelCardFromJson(modelCardToJson(c), "(after command-line overrides)");
}

FloatImage::Pointer floatCopy(const io::Volume& v) {
  const auto src = v.toFloat();
  if (v.pixelType != PixelType::Float32) return src; // toFloat made a new buffer already
  auto out = FloatImage::New();
  out->SetRegions(src->GetLargestPossibleRegion());
  out->CopyInformation(src);
  out->Allocate();
  std::memcpy(out->GetBufferPointer(), src->GetBufferPointer(), sizeof(float) * geometryOf(*src).voxelCount());
  return out;
}

} // namespace

Model loadModel(const std::vector<std::string>& modelPaths, const std::string& cardPath, const CardOverrides& ov,
                const SegmenterOptions& options) {
  if (modelPaths.empty()) throw usageError("no model given");
  inference::setThreads(options.threads);
  const std::string& modelPath = modelPaths.front();
  Model m;
  m.source = modelPath;
  for (const auto& p : modelPaths) m.networks.push_back(inference::Network::loadTorchScript(p, options.device));
  const inference::Network& net = m.networks.front();
  if (!cardPath.empty()) {
    std::ifstream in(cardPath);
    if (!in) throw Error(ExitCode::Model, cardPath + ": cannot read the model card");
    std::stringstream text;
    text << in.rdbuf();
    m.card = parseModelCard(text.str(), cardPath);
  } else if (net.embeddedCard()) {
    m.card = parseModelCard(*net.embeddedCard(), modelPath + " (embedded voxseg.json)");
  } else {
    m.card = defaultCard(modelPath, ov);
  }
  const bool needLabels = m.card.labels.empty();
  if (needLabels) m.card.labels = {{0, "background", {0, 0, 0}, {}, {}}};
  applyOverrides(m.card, ov);

  // Probe: the card's channel count and patch must fit, and the output channels must match the labels.
  const std::array<std::int64_t, 3> patch{m.card.patchSize[0], m.card.patchSize[1], m.card.patchSize[2]};
  for (std::size_t i = 0; i < m.networks.size(); ++i) {
    const auto shape = m.networks[i].probeOutputShape(int(m.card.channels.size()), patch);
    if (shape.size() != 5)
      throw Error(ExitCode::Model, modelPaths[i] + ": network output has " + std::to_string(shape.size()) +
                                       " dimensions, expected 5 (batch, classes, 3 spatial)");
    const std::int64_t k = shape[1];
    if (needLabels && i == 0) {
      m.card.labels.clear();
      for (std::int64_t c = 0; c < k; ++c)
        m.card.labels.push_back(
            {int(c), c == 0 ? "background" : "label_" + std::to_string(c), defaultLabelColor(c), {}, {}});
    }
    if (k != m.card.outputChannels())
      throw Error(ExitCode::Model, modelPaths[i] + ": the network gives " + std::to_string(k) +
                                       " output channels, the model card names " +
                                       std::to_string(m.card.outputChannels()) +
                                       (m.card.regions.empty() ? " labels" : " regions"));
  }
  const bool optimize = options.optimizeGraph.value_or(m.card.accumulation != "float16");
  for (auto& n : m.networks)
    if (optimize && n.device() == "cpu") {
      const int rewritten = n.optimizeTransposedConvolutions();
      if (rewritten > 0) logDebug("rewrote " + std::to_string(rewritten) + " transposed convolution(s) for the CPU");
    }
  return m;
}

Segmentation segment(const Model& model, const std::vector<io::Volume>& channels, const SegmenterOptions& options,
                     bool keepLogits, const inference::ProgressFn& progress) {
  const ModelCard& card = model.card;
  if (channels.size() != card.channels.size()) {
    std::string names;
    for (const auto& c : card.channels) names += (names.empty() ? "" : ", ") + c.name;
    throw usageError("the model needs " + std::to_string(card.channels.size()) + " input volume(s) (" + names +
                     "), got " + std::to_string(channels.size()));
  }
  for (const auto& c : channels) io::requireFinite(c);
  const Geometry inputGeometry = channels.front().geometry();
  for (const auto& c : channels)
    if (!sameGrid(c.geometry(), inputGeometry))
      throw inputError(c.source, "not on the same grid as " + channels.front().source + ": " +
                                     gridDifference(c.geometry(), inputGeometry));

  // Orientation policy: reorient losslessly to the card's code, undo before writing.
  inference::EngineOptions engine = inference::engineOptionsFromCard(card);
  engine.precision = options.precision;
  engine.cudnnBenchmark = options.cudnnBenchmark;
  std::vector<FloatImage::Pointer> work;
  const bool reorient = card.orientation != "keep";
  const AxisPlan toCard = reorient ? planReorientation(inputGeometry.direction, card.orientation) : AxisPlan{};
  for (std::size_t i = 0; i < channels.size(); ++i) {
    FloatImage::Pointer img = floatCopy(channels[i]);
    if (reorient && !toCard.isIdentity())
      img = dynamic_cast<FloatImage*>(processing::reorient(*img, PixelType::Float32, toCard).GetPointer());
    const Geometry g = geometryOf(*img);
    processing::normalize(img->GetBufferPointer(), g.voxelCount(), card.channels[i].normalization);
    work.push_back(img);
  }
  const Geometry workGeometry = geometryOf(*work.front());

  // Resampling to the card's spacing (card order -> ITK x, y, z).
  bool resampled = false;
  if (card.spacing) {
    Vec3 target = card.axisOrder == AxisOrder::ZYX ? Vec3{(*card.spacing)[2], (*card.spacing)[1], (*card.spacing)[0]}
                                                   : Vec3{(*card.spacing)[0], (*card.spacing)[1], (*card.spacing)[2]};
    for (int a = 0; a < 3; ++a)
      resampled = resampled || std::fabs(target[a] - workGeometry.spacing[a]) > 1e-3 * target[a];
    if (resampled) {
      const Geometry grid = processing::gridWithSpacing(workGeometry, target);
      if (grid.voxelCount() > options.maxVoxels) {
        std::ostringstream m;
        m << "resampling to the model's spacing " << target[0] << " x " << target[1] << " x " << target[2]
          << " mm (x, y, z) gives " << grid.size[0] << "x" << grid.size[1] << "x" << grid.size[2] << " = "
          << grid.voxelCount() << " voxels, more than the limit of " << options.maxVoxels
          << " (check --spacing or the card's spacing, or raise --max-voxels)";
        throw inputError(channels.front().source, m.str());
      }
      for (auto& img : work) img = processing::resampleLinear(*img, grid);
    }
  }
  const Geometry netGeometry = geometryOf(*work.front());

  inference::InputVolume in;
  in.zyx = {std::int64_t(netGeometry.size[2]), std::int64_t(netGeometry.size[1]), std::int64_t(netGeometry.size[0])};
  for (const auto& img : work) in.channels.push_back(img->GetBufferPointer());
  std::vector<const inference::Network*> nets;
  for (const auto& n : model.networks) nets.push_back(&n);

  Segmentation result;
  inference::LabelConsumer labels(card);
  std::vector<float> logits;
  std::int64_t k = 0;
  if (!resampled && !keepLogits) {
    result.stats = inference::slidingWindow(nets, in, card.axisOrder, engine, labels, progress);
  } else if (!keepLogits) {
    // Logits resampled to the input grid as the network's rows come in, a slab of rows at a time, for the labels:
    // neither grid's K channels are held whole (105 classes on 512x512x300 would be 33 GB on the input grid).
    ResamplingConsumer resample(netGeometry, workGeometry, card.axisOrder, options.resampleSlabBytes, labels);
    result.stats = inference::slidingWindow(nets, in, card.axisOrder, engine, resample, progress);
    resample.finish();
    logDebug("resampling the logits held at most " + std::to_string(resample.peakHeldBytes() >> 20) +
             " MB of network-grid rows");
  } else {
    inference::LogitCollector collect;
    result.stats = inference::slidingWindow(nets, in, card.axisOrder, engine, collect, progress);
    k = collect.channels;
    logits = std::move(collect.logits);
    if (resampled) { // logits back to the (reoriented) input grid, channel by channel
      const std::size_t nNet = netGeometry.voxelCount(), nWork = workGeometry.voxelCount();
      std::vector<float> back(std::size_t(k) * nWork);
      for (std::int64_t c = 0; c < k; ++c) {
        const auto img = imageOver(logits.data() + std::size_t(c) * nNet, netGeometry);
        const auto r = processing::resampleLinear(*img, workGeometry);
        std::memcpy(back.data() + std::size_t(c) * nWork, r->GetBufferPointer(), nWork * sizeof(float));
      }
      logits = std::move(back);
    }
    inference::SlabView whole;
    whole.order = AxisOrder::ZYX;
    whole.shape = {std::int64_t(workGeometry.size[2]), std::int64_t(workGeometry.size[1]),
                   std::int64_t(workGeometry.size[0])};
    whole.begin = 0;
    whole.end = whole.shape[0];
    whole.channels = k;
    whole.data = logits.data();
    labels.consume(whole);
  }

  if (!card.postprocessing.keepLargestComponent.empty()) {
    auto img = processing::LabelImage::New();
    processing::LabelImage::RegionType region;
    for (unsigned a = 0; a < 3; ++a) region.SetSize(a, workGeometry.size[a]);
    img->GetPixelContainer()->SetImportPointer(labels.labels.data(), labels.labels.size(), false);
    img->SetRegions(region);
    const std::size_t removed = processing::keepLargestComponent(*img, card.postprocessing.keepLargestComponent);
    logDebug("postprocessing removed " + std::to_string(removed) + " voxels outside the largest components");
  }

  // Labels (and logits) back to the input's axes, exactly on the input grid.
  int maxLabel = 0;
  for (const auto& l : card.labels) maxLabel = std::max(maxLabel, l.value);
  const PixelType type = maxLabel > 255 ? PixelType::UInt16 : PixelType::UInt8;
  io::Volume out = io::makeVolume(type, workGeometry);
  visitPixelType(type, [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* p = out.as<T>()->GetBufferPointer();
    for (std::size_t i = 0; i < labels.labels.size(); ++i) p[i] = static_cast<T>(labels.labels[i]);
  });
  if (reorient && !toCard.isIdentity()) {
    const AxisPlan back = planReorientation(workGeometry.direction, orientationCode(inputGeometry.direction));
    out.image = processing::reorient(*out.image, type, back);
    if (!logits.empty()) { // channel by channel through one channel's room, not a second copy of all K
      const std::size_t n = workGeometry.voxelCount();
      std::vector<float> channel(n);
      for (std::int64_t c = 0; c < k; ++c) {
        float* at = logits.data() + std::size_t(c) * n;
        reorientBuffer(at, channel.data(), sizeof(float), workGeometry.size, back);
        std::copy(channel.begin(), channel.end(), at);
      }
    }
  }
  if (!out.geometry().nearlyEqual(inputGeometry, 1e-6))
    throw Error(ExitCode::Internal, "label map geometry differs from the input's after undoing the orientation");
  setGeometry(*out.image, inputGeometry); // bit-exact copy of the input's geometry
  out.source = channels.front().source;
  out.niftiPlacement = channels.front().niftiPlacement; // a NIfTI output keeps the input's header forms
  result.labels = out;
  if (keepLogits) {
    result.logits = std::move(logits);
    result.channels = k;
  }
  return result;
}

std::vector<LabelInfo> labelTable(const Model& model) {
  std::vector<LabelInfo> out = model.card.labels;
  if (out.empty())
    for (const auto& r : model.card.regions) {
      LabelInfo l;
      l.value = r.label;
      l.name = r.name;
      out.push_back(l);
    }
  if (std::none_of(out.begin(), out.end(), [](const LabelInfo& l) { return l.value == 0; })) {
    LabelInfo background;
    background.name = "background";
    out.insert(out.begin(), background);
  }
  for (auto& l : out)
    if (l.value != 0 && l.color == std::array<int, 3>{0, 0, 0}) l.color = defaultLabelColor(l.value);
  return out;
}

} // namespace voxseg::pipeline
