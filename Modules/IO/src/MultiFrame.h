#pragma once
// Where each frame of an enhanced (multi-frame) DICOM image lies, and how its values are rescaled: what the
// per-frame and shared functional groups say, read with DCMTK. GDCM stacks the frames in stored order at the spacing
// it derives, and applies the first frame's rescale to every frame: the reader checks and corrects that with this.

#include "voxseg/core/Geometry.h"

#include <string>
#include <vector>

namespace voxseg::io::detail {

struct MultiFrameLayout {
  std::vector<Vec3> positions;              ///< ImagePositionPatient per frame, in stored order (empty: not stated)
  Vec3 row{}, column{};                     ///< ImageOrientationPatient (shared, or the first frame's)
  double rowSpacing = 0, columnSpacing = 0; ///< PixelSpacing: between rows, between columns (0: not stated)
  std::vector<double> slopes, intercepts;   ///< Pixel Value Transformation per frame (1 and 0 when absent)
  std::string problem;                      ///< frames in different orientations, or positions of some frames only
};

/// The layout of the multi-frame file `path` (its header only). Throws Error(Input) naming it when unreadable.
MultiFrameLayout readMultiFrameLayout(const std::string& path);

} // namespace voxseg::io::detail
