#include "voxseg/evaluation/SurfaceDistance.h"

#include "Surfaces.h"

#include <cmath>
#include <limits>

namespace voxseg::evaluation {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNan = std::numeric_limits<double>::quiet_NaN();

double combineMax(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return kNan;
  return a > b ? a : b;
}

bool within(double d, double tol, DistancePrecision precision) {
  if (precision == DistancePrecision::Float32) return static_cast<float>(d) <= static_cast<float>(tol);
  return d <= tol;
}

// torch.lerp's formula, in T.
template <typename T> T lerp(T a, T b, T w) {
  return std::abs(w) < T(0.5) ? a + w * (b - a) : b - (b - a) * (T(1) - w);
}

// torch.quantile (linear): rank q (n - 1) in T, interpolated between the neighbouring order statistics.
template <typename T> double quantile(const std::vector<double>& sorted, double q) {
  const T rank = static_cast<T>(q) * static_cast<T>(sorted.size() - 1);
  const auto below = static_cast<std::size_t>(rank);
  const auto above = static_cast<std::size_t>(std::ceil(rank));
  const T weight = rank - static_cast<T>(below);
  return static_cast<double>(lerp<T>(static_cast<T>(sorted[below]), static_cast<T>(sorted[above]), weight));
}

double weightWithin(const DirectedDistances& d, double tol, DistancePrecision precision) {
  std::vector<double> w;
  for (std::size_t i = 0; i < d.distances.size(); ++i)
    if (within(d.distances[i], tol, precision)) w.push_back(d.weights[i]);
  return detail::pairwiseSum(w.data(), w.size());
}

} // namespace

SurfaceConventions SurfaceConventions::deepMind() { return {}; }

SurfaceConventions SurfaceConventions::monai() {
  return {SurfaceModel::EdgeVoxels, PercentileRule::LinearInterpolation, DistancePrecision::Float32,
          EmptySurfaceRule::InfinityPerOtherPoint};
}

SurfaceConventions SurfaceConventions::monaiSubvoxels() {
  SurfaceConventions c = monai();
  c.model = SurfaceModel::CornerSurfels;
  return c;
}

SurfaceDistances surfaceDistances(const std::uint8_t* reference, const std::uint8_t* prediction, const Size3& size,
                                  const Vec3& spacing, const SurfaceConventions& conventions, int threads) {
  return detail::finishSurfaces(detail::rawSurfaces(reference, prediction, size, spacing, conventions.model, threads),
                                spacing, conventions);
}

double percentileDistance(const DirectedDistances& d, double percent, const SurfaceConventions& conventions) {
  const std::size_t n = d.distances.size();
  if (conventions.percentile == PercentileRule::CumulativeWeight) {
    if (n == 0) return kInf;
    // searchsorted(cumsum(w) / sum(w), p / 100): cumsum runs left to right, sum is numpy's pairwise sum.
    const double total = detail::pairwiseSum(d.weights.data(), n);
    const double target = percent / 100.0;
    double cum = 0;
    for (std::size_t i = 0; i < n; ++i) {
      cum += d.weights[i];
      if (cum / total >= target) return d.distances[i];
    }
    return d.distances[n - 1];
  }
  if (n == 0) return kNan;
  // MONAI's _compute_percentile_hausdorff_distance: "if not percentile: return surface_distance.max()" (an empty
  // other surface's +inf stays inf: as the quantile at 1 it became NaN, inf + 0 x (inf - inf))
  if (percent == 0)
    return conventions.precision == DistancePrecision::Float32 ? double(float(d.distances.back())) : d.distances.back();
  const double q = percent / 100.0;
  if (conventions.precision == DistancePrecision::Float32) return quantile<float>(d.distances, q);
  return quantile<double>(d.distances, q);
}

double maximumDistance(const DirectedDistances& d) { return d.distances.empty() ? kNan : d.distances.back(); }

double hausdorffDistance(const SurfaceDistances& s, double percent, const SurfaceConventions& conventions) {
  return combineMax(percentileDistance(s.referenceToPrediction, percent, conventions),
                    percentileDistance(s.predictionToReference, percent, conventions));
}

double maximumHausdorffDistance(const SurfaceDistances& s) {
  return combineMax(maximumDistance(s.referenceToPrediction), maximumDistance(s.predictionToReference));
}

double averageDistance(const DirectedDistances& d) {
  const std::size_t n = d.distances.size();
  std::vector<double> product(n);
  for (std::size_t i = 0; i < n; ++i) product[i] = d.distances[i] * d.weights[i];
  return detail::pairwiseSum(product.data(), n) / detail::pairwiseSum(d.weights.data(), n);
}

double averageDistanceBoth(const SurfaceDistances& s) {
  DirectedDistances both = s.predictionToReference;
  const DirectedDistances& other = s.referenceToPrediction;
  both.distances.insert(both.distances.end(), other.distances.begin(), other.distances.end());
  both.weights.insert(both.weights.end(), other.weights.begin(), other.weights.end());
  return averageDistance(both);
}

double surfaceOverlap(const DirectedDistances& d, double toleranceMm, const SurfaceConventions& conventions) {
  return weightWithin(d, toleranceMm, conventions.precision) / detail::pairwiseSum(d.weights.data(), d.weights.size());
}

double surfaceDice(const SurfaceDistances& s, double toleranceMm, const SurfaceConventions& conventions) {
  const double near = weightWithin(s.referenceToPrediction, toleranceMm, conventions.precision) +
                      weightWithin(s.predictionToReference, toleranceMm, conventions.precision);
  return near / (s.referenceArea + s.predictionArea);
}

} // namespace voxseg::evaluation
