#include "voxseg/pipeline/LabelImages.h"

#include "voxseg/core/Error.h"
#include "voxseg/core/PixelType.h"

#include <algorithm>
#include <string>
#include <type_traits>

namespace voxseg::pipeline {

namespace {
processing::LabelImage::Pointer labelImageLike(const io::Volume& labels) {
  auto img = processing::LabelImage::New();
  img->CopyInformation(labels.image);
  img->SetRegions(labels.image->GetLargestPossibleRegion());
  img->Allocate();
  return img;
}
} // namespace

processing::LabelImage::Pointer toLabelImage(const std::vector<std::uint16_t>& values, const io::Volume& labels) {
  auto img = labelImageLike(labels);
  if (values.size() != labels.geometry().voxelCount())
    throw Error(ExitCode::Internal, "toLabelImage: " + std::to_string(values.size()) + " values for " +
                                        std::to_string(labels.geometry().voxelCount()) + " voxels");
  std::copy(values.begin(), values.end(), img->GetBufferPointer());
  return img;
}

processing::LabelImage::Pointer toLabelImage(const io::Volume& labels) {
  io::requireWholeBuffer(labels);
  auto img = labelImageLike(labels);
  unsigned short* p = img->GetBufferPointer();
  const std::size_t n = labels.geometry().voxelCount();
  visitPixelType(labels.pixelType, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_integral_v<T>) {
      const T* src = labels.as<T>()->GetBufferPointer();
      for (std::size_t i = 0; i < n; ++i) {
        if constexpr (std::is_signed_v<T> || sizeof(T) > 2) { // a value uint16 cannot hold is no label of ours
          const auto v = static_cast<std::int64_t>(src[i]);   // (a uint64 beyond int64 turns negative: refused)
          if (v < 0 || v > 65535)
            throw inputError(labels.source, "label value " + std::to_string(src[i]) + " outside 0..65535");
        }
        p[i] = static_cast<unsigned short>(src[i]);
      }
    } else { // the network's labels are integers; a file's float label map goes through io::labelValues
      throw Error(ExitCode::Internal, "label map of a non-integer type");
    }
  });
  return img;
}

io::Volume fromLabelImage(const processing::LabelImage& image, const io::Volume& like) {
  const std::size_t n = image.GetLargestPossibleRegion().GetNumberOfPixels();
  if (image.GetBufferedRegion() != image.GetLargestPossibleRegion())
    throw Error(ExitCode::Internal, "fromLabelImage: the label image holds part of its largest region");
  const unsigned short* p = image.GetBufferPointer();
  const bool wide = std::any_of(p, p + n, [](unsigned short v) { return v > 255; });
  io::Volume out;
  out.pixelType = wide ? PixelType::UInt16 : PixelType::UInt8;
  if (wide) {
    auto copy = itk::Image<std::uint16_t, 3>::New();
    copy->CopyInformation(&image);
    copy->SetRegions(image.GetLargestPossibleRegion());
    copy->Allocate();
    std::copy(p, p + n, copy->GetBufferPointer());
    out.image = copy;
  } else {
    auto img = itk::Image<std::uint8_t, 3>::New();
    img->CopyInformation(&image);
    img->SetRegions(image.GetLargestPossibleRegion());
    img->Allocate();
    std::uint8_t* q = img->GetBufferPointer();
    for (std::size_t i = 0; i < n; ++i) q[i] = static_cast<std::uint8_t>(p[i]);
    out.image = img;
  }
  out.source = like.source;
  out.niftiPlacement = like.niftiPlacement;
  return out;
}

processing::PostprocessingCounts postprocessLabels(io::Volume& labels, const processing::Postprocessing& steps) {
  auto img = toLabelImage(labels);
  const auto counts = processing::postprocess(*img, steps);
  if (counts.changed() > 0) labels = fromLabelImage(*img, labels);
  return counts;
}

} // namespace voxseg::pipeline
