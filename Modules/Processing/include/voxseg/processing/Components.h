#pragma once
// Connected-component clean-up of label maps (ITK's ConnectedComponentImageFilter); implemented in
// LabelMaps.cxx beside the other component-based steps.

#include <itkImage.h>

#include <vector>

namespace voxseg::processing {

using LabelImage = itk::Image<unsigned short, 3>;

/// For each label value in `labels`, keeps only its largest connected component (26-connectivity,
/// ties: the component ITK finds first) and sets the other components to 0. Returns the number of
/// voxels removed.
std::size_t keepLargestComponent(LabelImage& image, const std::vector<int>& labels);

/// nnU-Net's remove_all_but_largest_component_from_segmentation: the voxels holding any of `labels` form one mask;
/// of its 26-connected components, those of the largest size stay (every one of them on a tie, as nnU-Net's filter
/// keeps each component of the maximum size) and the others' voxels become `background`. Returns the number of
/// voxels changed. Labels outside 1..65535 or absent are skipped.
std::size_t keepLargestComponentOfUnion(LabelImage& image, const std::vector<int>& labels, int background = 0);

/// One keepLargestComponentOfUnion call: a step of nnU-Net's postprocessing.json (NnUNetPostprocessing.h).
struct LargestComponentOfUnion {
  std::vector<int> labels;
  int background = 0;
};

} // namespace voxseg::processing
