#pragma once
// Label-map post-processing, statistics and instances (connected components), on a uint16 ITK label
// image that carries the volume's geometry (volumes in ml and centroids in world coordinates).

#include "voxseg/core/ModelCard.h"
#include "voxseg/processing/Components.h"

#include <array>
#include <cstdint>
#include <map>
#include <vector>

namespace voxseg::processing {

/// Clean-up steps, applied in this order. Connectivity is 26 (full) for components; holes are
/// background regions not face-connected to the image border.
struct Postprocessing {
  std::vector<LargestComponentOfUnion> largestOfUnions; ///< nnU-Net's postprocessing.json steps, in order, first
  std::vector<int> keepLargest;                         ///< these labels keep only their largest component
  std::vector<int> fillHoles;                           ///< background enclosed by these labels becomes the label
  std::int64_t minVoxels = 0;                           ///< components of any label smaller than this become background
  double minMl = 0;                                     ///< likewise, by volume
  std::map<int, int> remap;                             ///< label -> new label (0 erases), applied last
  bool empty() const {
    return largestOfUnions.empty() && keepLargest.empty() && fillHoles.empty() && minVoxels <= 0 && minMl <= 0 &&
           remap.empty();
  }
};

struct PostprocessingCounts {
  std::size_t unionsRemoved = 0;  ///< voxels set to the background by largestOfUnions
  std::size_t largestRemoved = 0; ///< voxels set to 0 by keepLargest
  std::size_t holesFilled = 0;    ///< voxels set from 0 to a label
  std::size_t smallRemoved = 0;   ///< voxels set to 0 by the size limits
  std::size_t remapped = 0;       ///< voxels whose label changed by remap
  std::size_t changed() const { return unionsRemoved + largestRemoved + holesFilled + smallRemoved + remapped; }
};

PostprocessingCounts postprocess(LabelImage& image, const Postprocessing& steps);

/// The label table after `remap` (the one postprocess applies): each label takes its new value with its
/// name, color and codes; labels mapped to 0 are dropped; when several land on one value, the first in
/// table order keeps it. Sorted by value.
std::vector<LabelInfo> remapLabels(const std::vector<LabelInfo>& labels, const std::map<int, int>& remap);

/// Per non-zero label present: voxel count, volume in ml and number of 26-connected components.
struct LabelStatistics {
  int label = 0;
  std::size_t voxels = 0;
  double ml = 0;
  std::size_t components = 0;
};
std::vector<LabelStatistics> labelStatistics(const LabelImage& image);

/// One connected component of one class.
struct Instance {
  int id = 0;    ///< value in the instance map, 1..N
  int label = 0; ///< class label
  std::size_t voxels = 0;
  double ml = 0;
  std::array<double, 3> centroid{0, 0, 0};                  ///< world (ITK physical, LPS) coordinates in mm
  std::array<std::int64_t, 3> begin{0, 0, 0}, end{0, 0, 0}; ///< voxel index box [begin, end)
};

/// Gives every 26-connected component of the given classes (every non-zero label when empty) its
/// own id, by class then by size (largest first). Returns the table; `instances` receives the map
/// (same geometry, 0 elsewhere). Throws Error(Input) beyond 65535 instances.
std::vector<Instance> labelInstances(const LabelImage& labels, const std::vector<int>& classes,
                                     LabelImage::Pointer& instances);

} // namespace voxseg::processing
