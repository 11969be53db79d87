#include "voxseg/evaluation/Instances.h"

#include "voxseg/core/Error.h"
#include "voxseg/evaluation/Evaluate.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <unordered_map>

namespace voxseg::evaluation {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Union-find over voxel indices; a component's root is its smallest voxel index.
std::uint32_t findRoot(std::vector<std::uint32_t>& parent, std::uint32_t i) {
  while (parent[i] != i) {
    parent[i] = parent[parent[i]];
    i = parent[i];
  }
  return i;
}

void unite(std::vector<std::uint32_t>& parent, std::uint32_t a, std::uint32_t b) {
  a = findRoot(parent, a);
  b = findRoot(parent, b);
  if (a == b) return;
  if (a < b)
    parent[b] = a;
  else
    parent[a] = b;
}

} // namespace

std::vector<std::uint32_t> connectedComponents(const std::uint8_t* mask, const Size3& size, std::size_t& count) {
  const std::size_t nx = size[0], ny = size[1], nz = size[2], n = nx * ny * nz;
  if (n >= std::numeric_limits<std::uint32_t>::max())
    throw usageError("connected components: grid of " + std::to_string(n) + " voxels is too large");
  std::vector<std::uint32_t> parent(n);
  for (std::size_t i = 0; i < n; ++i) parent[i] = static_cast<std::uint32_t>(i);
  // the 13 neighbours already visited in raster order (26-connectivity)
  for (std::size_t z = 0; z < nz; ++z)
    for (std::size_t y = 0; y < ny; ++y)
      for (std::size_t x = 0; x < nx; ++x) {
        const std::size_t i = x + nx * (y + ny * z);
        if (!mask[i]) continue;
        for (int dz = -1; dz <= 0; ++dz)
          for (int dy = -1; dy <= 1; ++dy)
            for (int dx = -1; dx <= 1; ++dx) {
              if (dz == 0 && (dy > 0 || (dy == 0 && dx >= 0))) continue;
              const long qx = static_cast<long>(x) + dx, qy = static_cast<long>(y) + dy, qz = static_cast<long>(z) + dz;
              if (qx < 0 || qy < 0 || qz < 0 || qx >= static_cast<long>(nx) || qy >= static_cast<long>(ny)) continue;
              const std::size_t j = static_cast<std::size_t>(qx) +
                                    nx * (static_cast<std::size_t>(qy) + ny * static_cast<std::size_t>(qz));
              if (mask[j]) unite(parent, static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(j));
            }
      }
  std::vector<std::uint32_t> ids(n, 0);
  count = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (!mask[i]) continue;
    const std::uint32_t r = findRoot(parent, static_cast<std::uint32_t>(i));
    ids[i] = r == i ? static_cast<std::uint32_t>(++count) : ids[r]; // r <= i: already numbered
  }
  return ids;
}

InstanceMetrics instanceMetrics(const std::uint8_t* reference, const std::uint8_t* prediction, const Size3& size,
                                const InstanceOptions& options) {
  if (!(options.iouThreshold >= 0 && options.iouThreshold < 1))
    throw usageError("instance IoU threshold " + std::to_string(options.iouThreshold) + " is outside [0, 1)");
  const std::size_t n = size[0] * size[1] * size[2];
  std::size_t nr = 0, np = 0;
  const auto refIds = connectedComponents(reference, size, nr);
  const auto predIds = connectedComponents(prediction, size, np);
  std::vector<std::uint64_t> refSize(nr + 1, 0), predSize(np + 1, 0);
  std::unordered_map<std::uint64_t, std::uint64_t> overlap; // (ref id << 32 | pred id) -> shared voxels
  for (std::size_t i = 0; i < n; ++i) {
    ++refSize[refIds[i]];
    ++predSize[predIds[i]];
    if (refIds[i] && predIds[i]) ++overlap[(static_cast<std::uint64_t>(refIds[i]) << 32) | predIds[i]];
  }
  std::vector<MatchedLesion> candidates;
  candidates.reserve(overlap.size());
  for (const auto& [key, shared] : overlap) {
    MatchedLesion m;
    m.reference = static_cast<std::size_t>(key >> 32);
    m.prediction = static_cast<std::size_t>(key & 0xffffffffu);
    const double a = static_cast<double>(refSize[m.reference]), b = static_cast<double>(predSize[m.prediction]),
                 s = static_cast<double>(shared);
    m.iou = s / (a + b - s);
    m.dice = 2 * s / (a + b);
    candidates.push_back(m);
  }
  std::sort(candidates.begin(), candidates.end(), [](const MatchedLesion& l, const MatchedLesion& r) {
    if (l.iou != r.iou) return l.iou > r.iou;
    if (l.reference != r.reference) return l.reference < r.reference;
    return l.prediction < r.prediction;
  });
  InstanceMetrics out;
  out.referenceComponents = nr;
  out.predictionComponents = np;
  std::vector<bool> refUsed(nr + 1, false), predUsed(np + 1, false);
  double iouSum = 0, diceSum = 0;
  for (const auto& m : candidates) {
    if (!(m.iou > options.iouThreshold)) break;
    if (refUsed[m.reference] || predUsed[m.prediction]) continue;
    refUsed[m.reference] = predUsed[m.prediction] = true;
    out.matches.push_back(m);
    iouSum += m.iou;
    diceSum += m.dice;
  }
  const std::size_t tp = out.matches.size();
  out.truePositives = tp;
  out.falsePositives = np - tp;
  out.falseNegatives = nr - tp;
  const double t = static_cast<double>(tp), fp = static_cast<double>(np - tp), fn = static_cast<double>(nr - tp);
  out.detectionSensitivity = nr ? t / static_cast<double>(nr) : kNaN;
  out.detectionPrecision = np ? t / static_cast<double>(np) : kNaN;
  out.detectionF1 = (nr || np) ? 2 * t / (2 * t + fp + fn) : kNaN;
  out.meanLesionDice = tp ? diceSum / t : kNaN;
  if (nr == 0 && np == 0) {
    out.sq = out.rq = out.pq = kNaN;
  } else {
    out.rq = t / (t + fp / 2 + fn / 2);
    out.sq = tp ? iouSum / t : 0; // as panopticapi: no matches, SQ 0
    out.pq = out.sq * out.rq;
  }
  return out;
}

InstanceMetrics instanceMetrics(const LabelMap& reference, const LabelMap& prediction, int label,
                                const InstanceOptions& options) {
  if (reference.size != prediction.size) throw usageError("reference and prediction label maps have different grids");
  if (reference.voxels.size() != reference.voxelCount() || prediction.voxels.size() != prediction.voxelCount())
    throw usageError("label map buffer does not match its grid size");
  // the bounding box of the label in either map; components never leave it
  const Size3& s = reference.size;
  Size3 lo{s[0], s[1], s[2]}, hi{0, 0, 0};
  bool any = false;
  for (std::size_t z = 0, i = 0; z < s[2]; ++z)
    for (std::size_t y = 0; y < s[1]; ++y)
      for (std::size_t x = 0; x < s[0]; ++x, ++i)
        if (reference.voxels[i] == label || prediction.voxels[i] == label) {
          any = true;
          const Size3 p{x, y, z};
          for (int d = 0; d < 3; ++d) {
            lo[d] = std::min(lo[d], p[d]);
            hi[d] = std::max(hi[d], p[d] + 1);
          }
        }
  if (!any) {
    const std::uint8_t none = 0;
    return instanceMetrics(&none, &none, Size3{1, 1, 1}, options);
  }
  const Size3 box{hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2]};
  std::vector<std::uint8_t> ref(box[0] * box[1] * box[2]), pred(ref.size());
  for (std::size_t z = 0, j = 0; z < box[2]; ++z)
    for (std::size_t y = 0; y < box[1]; ++y)
      for (std::size_t x = 0; x < box[0]; ++x, ++j) {
        const std::size_t i = (x + lo[0]) + s[0] * ((y + lo[1]) + s[1] * (z + lo[2]));
        ref[j] = reference.voxels[i] == label;
        pred[j] = prediction.voxels[i] == label;
      }
  return instanceMetrics(ref.data(), pred.data(), box, options);
}

nlohmann::json instancesToJson(const InstanceMetrics& m) {
  nlohmann::json j = nlohmann::json::object();
  j["reference_components"] = m.referenceComponents;
  j["prediction_components"] = m.predictionComponents;
  j["tp"] = m.truePositives;
  j["fp"] = m.falsePositives;
  j["fn"] = m.falseNegatives;
  j["detection_sensitivity"] = metricJson(m.detectionSensitivity);
  j["detection_precision"] = metricJson(m.detectionPrecision);
  j["detection_f1"] = metricJson(m.detectionF1);
  j["mean_lesion_dice"] = metricJson(m.meanLesionDice);
  j["sq"] = metricJson(m.sq);
  j["rq"] = metricJson(m.rq);
  j["pq"] = metricJson(m.pq);
  return j;
}

nlohmann::json lesionDiceJson(const InstanceMetrics& m) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& l : m.matches) a.push_back(metricJson(l.dice));
  return a;
}

} // namespace voxseg::evaluation
