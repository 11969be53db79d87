#pragma once
// World geometry of a 3D volume as plain values, in ITK's conventions:
// LPS world coordinates in mm, index order (x, y, z) = (i, j, k),
// direction column j is the world direction of index axis j.

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

namespace voxseg {

using Vec3 = std::array<double, 3>;
using Size3 = std::array<std::size_t, 3>;
/// Row-major 3x3: element (row r, column c) at [3 * r + c].
using Mat3 = std::array<double, 9>;

constexpr Mat3 identityDirection() { return {1, 0, 0, 0, 1, 0, 0, 0, 1}; }

constexpr Vec3 cross(const Vec3& a, const Vec3& b) {
  return {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]};
}
constexpr double dot(const Vec3& a, const Vec3& b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }

struct Geometry {
  Size3 size{0, 0, 0};
  Vec3 spacing{1, 1, 1};
  Vec3 origin{0, 0, 0};
  Mat3 direction = identityDirection();

  std::size_t voxelCount() const { return size[0] * size[1] * size[2]; }
  /// World (LPS, mm) position of a continuous index.
  Vec3 indexToWorld(const Vec3& index) const;
  /// Exact equality of every field.
  bool operator==(const Geometry& other) const;
  bool operator!=(const Geometry& other) const { return !(*this == other); }
  /// Equal size, and spacing/origin/direction within an absolute tolerance.
  bool nearlyEqual(const Geometry& other, double tolerance = 1e-6) const;
};

/// Whether two files' grids are the same grid, to the precision files keep it: NIfTI stores geometry in
/// float32, so an oblique grid written by voxseg (or anyone) reads back within about 1e-7 of its source.
/// Sizes equal; spacings within 1e-4 of each other relative to their size (so micrometre grids are told
/// apart); origins within 1e-3 of the finest spacing, or float32's rounding of the origin; direction
/// cosines within 1e-4. For images given together (channels, image and label map, prediction and reference).
bool sameGrid(const Geometry& a, const Geometry& b);

/// What differs between two grids that are not sameGrid, for messages: "size 28x28x20 vs 28x28x19",
/// "spacing 2x2x2 vs 2x2x2.5 mm", "direction of axis 1 differs", "origin (0, 0, 0) vs (0, 0, 4) mm"
/// (the first that differs, in this order; 10 significant digits); "" for the same grid.
std::string gridDifference(const Geometry& a, const Geometry& b);

/// Three-letter orientation code of a direction matrix in the "pointing to" convention used by
/// nibabel, 3D Slicer and DICOM: "RAS" means index axis 0 points to the Right, axis 1 to Anterior,
/// axis 2 to Superior. Oblique axes get the closest letter; each world axis is used once.
std::string orientationCode(const Mat3& direction);

/// Throws Error(Usage) unless code is three letters naming each of L/R, A/P, S/I once.
void validateOrientationCode(std::string_view code);

/// A lossless reorientation: output axis i is input axis permutation[i], reversed when flip[i].
struct AxisPlan {
  std::array<int, 3> permutation{0, 1, 2};
  std::array<bool, 3> flip{false, false, false};
  bool isIdentity() const;
};

/// The permutation and flips that bring an image with this direction to the target code.
AxisPlan planReorientation(const Mat3& direction, std::string_view targetCode);

/// Geometry after applying the plan: every voxel keeps its world position.
Geometry reorientGeometry(const Geometry& input, const AxisPlan& plan);

/// Applies the plan to a contiguous x-fastest buffer of input.size voxels of elementSize bytes.
/// `out` must hold the same number of voxels and must not alias `in`.
void reorientBuffer(const void* in, void* out, std::size_t elementSize, const Size3& inputSize, const AxisPlan& plan);

} // namespace voxseg
