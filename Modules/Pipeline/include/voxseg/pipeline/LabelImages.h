#pragma once
// Label maps as the pipelines write them (io::Volume of unsigned integers) <-> the uint16 ITK image that
// post-processing works on, and post-processing a label map in place.

#include "voxseg/io/Volume.h"
#include "voxseg/processing/LabelMaps.h"

#include <cstdint>
#include <vector>

namespace voxseg::pipeline {

/// Label map <-> the uint16 ITK image post-processing works on (same geometry). Throws Error(Internal) for a
/// non-integer label map (the networks' labels are integers; a file's go through io::labelValues), Error(Input)
/// naming its source for a value outside 0..65535 or an image that holds part of its grid (io::requireWholeBuffer).
processing::LabelImage::Pointer toLabelImage(const io::Volume& labels);
/// The same from labels already read as 16-bit values (io::labelValues) on `labels`' grid.
processing::LabelImage::Pointer toLabelImage(const std::vector<std::uint16_t>& values, const io::Volume& labels);
/// Back to a label map (uint8, or uint16 above 255) that keeps what `like` says about its origin: the source it
/// names and the NIfTI placement its outputs carry.
io::Volume fromLabelImage(const processing::LabelImage& image, const io::Volume& like);

/// processing::postprocess on a label map: replaced by the result when a step changed a voxel.
processing::PostprocessingCounts postprocessLabels(io::Volume& labels, const processing::Postprocessing& steps);

} // namespace voxseg::pipeline
