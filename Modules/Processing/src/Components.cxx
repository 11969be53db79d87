#include "voxseg/processing/Components.h"

#include <itkBinaryThresholdImageFilter.h>
#include <itkConnectedComponentImageFilter.h>
#include <itkRelabelComponentImageFilter.h>

namespace voxseg::processing {

std::size_t keepLargestComponent(LabelImage& image, const std::vector<int>& labels) {
  using Mask = itk::Image<unsigned char, 3>;
  using Components = itk::Image<unsigned int, 3>;
  std::size_t removed = 0;
  const std::size_t n = image.GetLargestPossibleRegion().GetNumberOfPixels();
  for (int label : labels) {
    auto threshold = itk::BinaryThresholdImageFilter<LabelImage, Mask>::New();
    threshold->SetInput(&image);
    threshold->SetLowerThreshold(static_cast<unsigned short>(label));
    threshold->SetUpperThreshold(static_cast<unsigned short>(label));
    threshold->SetInsideValue(1);
    threshold->SetOutsideValue(0);
    auto cc = itk::ConnectedComponentImageFilter<Mask, Components>::New();
    cc->SetInput(threshold->GetOutput());
    cc->SetFullyConnected(true);
    auto relabel = itk::RelabelComponentImageFilter<Components, Components>::New(); // 1 = largest
    relabel->SetInput(cc->GetOutput());
    relabel->Update();
    if (relabel->GetNumberOfObjects() < 2) continue;
    const unsigned int* c = relabel->GetOutput()->GetBufferPointer();
    unsigned short* p = image.GetBufferPointer();
    for (std::size_t i = 0; i < n; ++i)
      if (c[i] > 1) {
        p[i] = 0;
        ++removed;
      }
  }
  return removed;
}

} // namespace voxseg::processing
