#pragma once
// Label map -> one closed surface per label, in world coordinates (LPS mm, the direction matrix
// applied): discrete flying edges on each label's bounding box, windowed-sinc smoothing, quadric
// decimation, normals.

#include "voxseg/core/Geometry.h"
#include "voxseg/io/Volume.h"
#include "voxseg/rendering/SurfaceOptions.h"

#include <vtkSmartPointer.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

class vtkPolyData;

namespace voxseg::rendering {

/// A label map as 16-bit values on its grid (x fastest).
struct Labels {
  Geometry geometry;
  std::vector<std::uint16_t> voxels;
};
/// Throws Error(Input) naming the file for values that are not integers in 0..65535.
Labels toLabels(const io::Volume& volume);

struct LabelSurface {
  int label = 0;
  std::size_t voxels = 0;
  double voxelVolumeMm3 = 0;            ///< voxels x voxel volume
  double enclosedVolumeMm3 = 0;         ///< of the final surface (vtkMassProperties)
  std::array<double, 6> worldBounds{};  ///< xmin, xmax, ymin, ymax, zmin, zmax (LPS mm)
  vtkSmartPointer<vtkPolyData> surface; ///< triangles, LPS mm
};

/// Surfaces of `labels` (every non-zero label present when empty), in ascending label order; labels
/// listed but absent are skipped. Labels run on `threads` threads (0: every core).
std::vector<LabelSurface> extractSurfaces(const Labels& labels, const std::vector<int>& which,
                                          const SurfaceOptions& options, int threads = 0);

/// The non-zero labels present, ascending.
std::vector<int> presentLabels(const Labels& labels);

} // namespace voxseg::rendering
