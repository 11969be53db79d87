#pragma once
// nnU-Net's postprocessing.json, written by nnUNetv2_determine_postprocessing (and by
// nnUNetv2_find_best_configuration beside postprocessing.pkl): the steps nnUNetv2_apply_postprocessing runs on a
// prediction, read as keepLargestComponentOfUnion calls.

#include "voxseg/processing/Components.h"

#include <string>
#include <vector>

namespace voxseg::processing {

/// The steps of `path`, in order: every "postprocessing_fns" entry must be
/// remove_all_but_largest_component_from_segmentation, its "postprocessing_kwargs" entry naming
/// "labels_or_regions" (a label, a region, or a list of both: their union is one mask) and optionally
/// "background_label". Throws Error(Input) naming the file and the entry otherwise.
std::vector<LargestComponentOfUnion> readNnUNetPostprocessing(const std::string& path);

} // namespace voxseg::processing
