#include "voxseg/evaluation/Overlap.h"

#include <cmath>
#include <limits>

namespace voxseg::evaluation {
namespace {

constexpr double kNan = std::numeric_limits<double>::quiet_NaN();

double ratio(std::uint64_t num, std::uint64_t den) {
  return den == 0 ? kNan : static_cast<double>(num) / static_cast<double>(den);
}

} // namespace

double dice(const VoxelCounts& c, EmptyDiceRule rule) {
  if (c.reference == 0) {
    if (rule == EmptyDiceRule::NanWhenReferenceEmpty) return kNan;
    if (rule == EmptyDiceRule::OneWhenBothEmpty) return c.prediction == 0 ? 1.0 : 0.0;
  }
  return ratio(2 * c.intersection, c.reference + c.prediction);
}

OverlapMetrics overlapMetrics(const VoxelCounts& c, const Vec3& spacing) {
  const std::uint64_t tp = c.truePositives(), fp = c.falsePositives(), fn = c.falseNegatives(), tn = c.trueNegatives();
  const double voxelMl = spacing[0] * spacing[1] * spacing[2] / 1000.0;
  OverlapMetrics m;
  m.dice = ratio(2 * tp, 2 * tp + fp + fn);
  m.iou = ratio(tp, tp + fp + fn);
  m.voxelAccuracy = ratio(tp + tn, c.total);
  const double volumeDiff = std::fabs(static_cast<double>(fn) - static_cast<double>(fp));
  m.volumetricSimilarity = 2 * tp + fp + fn == 0 ? kNan : 1.0 - volumeDiff / static_cast<double>(2 * tp + fp + fn);
  m.sensitivity = ratio(tp, tp + fn);
  m.precision = ratio(tp, tp + fp);
  m.specificity = ratio(tn, tn + fp);
  m.referenceMl = static_cast<double>(c.reference) * voxelMl;
  m.predictionMl = static_cast<double>(c.prediction) * voxelMl;
  const double diff = static_cast<double>(c.prediction) - static_cast<double>(c.reference);
  m.relativeVolumeDifference = diff / static_cast<double>(c.reference); // x/0: +inf, 0/0: NaN
  return m;
}

} // namespace voxseg::evaluation
