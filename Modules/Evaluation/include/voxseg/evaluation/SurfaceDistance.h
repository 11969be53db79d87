#pragma once
// Surface-distance metrics of two binary masks with explicit conventions (Documentation/evaluation.md).
// Every distance is exact and Euclidean in mm (a separable exact distance transform with the grid's
// spacing), computed only inside the bounding box of both masks.

#include "voxseg/core/Geometry.h"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace voxseg::evaluation {

/// Which points make up a surface.
enum class SurfaceModel {
  /// Points on the voxel-corner grid whose 2x2x2 neighbourhood is neither all inside nor all outside,
  /// each weighted by the area (mm^2) of the marching-cubes triangles of its neighbourhood code
  /// (the code with fewer inside voxels is triangulated). DeepMind surface-distance, MONAI use_subvoxels.
  CornerSurfels,
  /// Voxels of the mask with a 6-neighbour outside it (mask XOR its 6-connected erosion; outside the
  /// grid counts as background), each of weight 1, distances between voxel centres. MONAI.
  EdgeVoxels,
};

/// How a percentile of one direction's distances is taken.
enum class PercentileRule {
  /// DeepMind: distances sorted, the first whose normalized cumulative weight reaches p/100
  /// (numpy searchsorted, no interpolation). A direction without points gives +inf.
  CumulativeWeight,
  /// torch.quantile: linear interpolation between order statistics at rank p/100 x (n - 1), unweighted,
  /// computed in the distances' precision. A direction without points gives NaN.
  LinearInterpolation,
};

/// Precision of distances, weights and tolerance comparisons.
enum class DistancePrecision {
  Float64, ///< DeepMind
  Float32, ///< MONAI: distances and surfel areas rounded to float32, tolerances compared in float32
};

/// What a direction holds when one surface is empty.
enum class EmptySurfaceRule {
  /// DeepMind: the empty surface has no points (its direction is empty); the other surface's points
  /// are at +inf.
  NoPoints,
  /// MONAI: as NoPoints, except that the empty surface's direction gets one +inf per point of the
  /// other surface (with that point's weight). Both empty: both directions empty.
  InfinityPerOtherPoint,
};

struct SurfaceConventions {
  SurfaceModel model = SurfaceModel::CornerSurfels;
  PercentileRule percentile = PercentileRule::CumulativeWeight;
  DistancePrecision precision = DistancePrecision::Float64;
  EmptySurfaceRule emptySurface = EmptySurfaceRule::NoPoints;

  static SurfaceConventions deepMind();       ///< corner surfels, cumulative weight, float64, no points
  static SurfaceConventions monai();          ///< edge voxels, interpolation, float32, inf per point
  static SurfaceConventions monaiSubvoxels(); ///< as monai() with corner surfels (use_subvoxels=True)
};

/// Distances from the points of one surface to the other surface, ascending (ties by weight).
struct DirectedDistances {
  std::vector<double> distances; ///< mm; +inf when the other surface is empty
  std::vector<double> weights;   ///< surfel areas (mm^2) or 1 for edge voxels, in the same order
};

struct SurfaceDistances {
  DirectedDistances referenceToPrediction;
  DirectedDistances predictionToReference;
  std::size_t referencePoints = 0, predictionPoints = 0; ///< surfels or edge voxels of each surface
  double referenceArea = 0, predictionArea = 0;          ///< sum of the weights of each surface's points
};

/// Surfaces of two binary masks (non-zero = inside) of `size` voxels (x fastest) and their distances;
/// the distance transforms run on up to `threads` threads (0: one per hardware thread).
SurfaceDistances surfaceDistances(const std::uint8_t* reference, const std::uint8_t* prediction, const Size3& size,
                                  const Vec3& spacing, const SurfaceConventions& conventions, int threads = 1);

/// The percentile (0..100) of one direction by `rule`.
double percentileDistance(const DirectedDistances& d, double percent, const SurfaceConventions& conventions);
/// Largest distance of one direction; NaN without points.
double maximumDistance(const DirectedDistances& d);
/// Both directions' percentiles combined by max (NaN if either is NaN). percent = 100 with
/// CumulativeWeight is DeepMind's robust_hausdorff_100.
double hausdorffDistance(const SurfaceDistances& s, double percent, const SurfaceConventions& conventions);
/// Both directions' maxima combined by max (NaN if either is NaN): MONAI's percentile=None.
double maximumHausdorffDistance(const SurfaceDistances& s);

/// Weighted mean distance of one direction (DeepMind's directed average surface distance); NaN
/// without points.
double averageDistance(const DirectedDistances& d);
/// Weighted mean over the points of both directions together (MONAI symmetric=True: the mean of the
/// concatenated distances, not the mean of the two means); NaN without points.
double averageDistanceBoth(const SurfaceDistances& s);

/// Weighted fraction of one direction's points with distance <= tolerance; NaN without points.
double surfaceOverlap(const DirectedDistances& d, double toleranceMm, const SurfaceConventions& conventions);
/// Normalized surface distance / surface Dice: weight within tolerance of both directions over the
/// total weight of both surfaces; NaN when both surfaces are empty.
double surfaceDice(const SurfaceDistances& s, double toleranceMm, const SurfaceConventions& conventions);

} // namespace voxseg::evaluation
