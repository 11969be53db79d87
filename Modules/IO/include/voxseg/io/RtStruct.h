#pragma once
// DICOM RT Structure Sets (DCMTK dcmrt): label map -> one ROI per label, closed planar contours per
// slice in patient coordinates.

#include "voxseg/core/ModelCard.h"
#include "voxseg/io/Volume.h"

#include <string>
#include <vector>

namespace voxseg::io {

struct RtStructOptions {
  std::string structureSetLabel = "voxseg";
  std::string seriesDescription = "voxseg structures";
  std::string seriesNumber = "301";
  std::string interpretedType = "ORGAN"; ///< RT ROI Interpreted Type of every ROI
  std::string seriesUid;                 ///< source series when its folder holds several
};

/// Writes an RT Structure Set for `labels` (a label map on the grid of a DICOM series in
/// `sourceFolder`): one ROI per non-zero label present (ROI number = label value, name and display
/// color from `known` or defaults, generation algorithm AUTOMATIC), and for each slice each boundary of
/// the label as a CLOSED_PLANAR contour (marching squares at the half-way level between voxel centres,
/// ITK's ContourExtractor2DImageFilter; holes are contours of their own) in patient coordinates (mm),
/// referencing the slice's source image; the referenced frame of reference, study and series with every
/// source image. Patient and study attributes are copied from the source. Atomic write.
void writeRtStruct(const Volume& labels, const std::vector<LabelInfo>& known, const std::string& sourceFolder,
                   const std::string& path, const RtStructOptions& options, bool overwrite);

} // namespace voxseg::io
