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

} // namespace voxseg::processing
