// Consumer of an installed voxseg: segments an image with voxseg's ITK filter inside an ITK pipeline,
// checks that the label map lies on the input's grid and, given a reference label file, that the labels
// are the same voxel for voxel.
//   segment_with_voxseg <input image> <model.pt | nnU-Net folder> <output labels> [reference labels]
#include <voxseg/core/LabelExtents.h>
#include <voxseg/core/Version.h>
#include <voxseg/io/Volume.h>
#include <voxseg/io/VolumeIO.h>
#include <voxseg/pipeline/SegmentationImageFilter.h>

#include <itkImageFileReader.h>
#include <itkImageFileWriter.h>
#include <itkImageRegionConstIterator.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <vector>

namespace {

using ImageType = itk::Image<float, 3>;
using LabelImageType = itk::Image<unsigned short, 3>;

bool sameGrid(const ImageType* image, const LabelImageType* labels) {
  return image->GetLargestPossibleRegion() == labels->GetLargestPossibleRegion() &&
         image->GetSpacing() == labels->GetSpacing() && image->GetOrigin() == labels->GetOrigin() &&
         image->GetDirection() == labels->GetDirection();
}

long countDifferences(const LabelImageType* a, const LabelImageType* b) {
  itk::ImageRegionConstIterator<LabelImageType> ia(a, a->GetLargestPossibleRegion());
  itk::ImageRegionConstIterator<LabelImageType> ib(b, b->GetLargestPossibleRegion());
  long differences = 0;
  for (; !ia.IsAtEnd(); ++ia, ++ib) {
    differences += ia.Get() != ib.Get() ? 1 : 0;
  }
  return differences;
}

} // namespace

int main(int argc, char* argv[]) {
  if (argc < 4 || argc > 5) {
    std::cerr << "usage: " << argv[0]
              << " <input image> <model.pt | nnU-Net folder> <output labels> [reference labels]\n";
    return EXIT_FAILURE;
  }
  using FilterType = voxseg::pipeline::SegmentationImageFilter<ImageType, LabelImageType>;
  try {
    std::cout << "voxseg " << voxseg::versionString() << '\n';
    voxseg::pipeline::SegmenterOptions options;
    options.device.name = "cpu";
    auto reader = itk::ImageFileReader<ImageType>::New();
    reader->SetFileName(argv[1]);
    auto filter = FilterType::New();
    if (std::filesystem::is_directory(argv[2]))
      filter->SetNnUNet(FilterType::LoadNnUNet(argv[2], options));
    else
      filter->SetModel(FilterType::LoadModel(argv[2], options));
    filter->SetOptions(options);
    filter->SetInput(reader->GetOutput());
    auto writer = itk::ImageFileWriter<LabelImageType>::New();
    writer->SetInput(filter->GetOutput());
    writer->SetFileName(argv[3]);
    writer->UseCompressionOn();
    writer->Update();

    if (!sameGrid(reader->GetOutput(), filter->GetOutput())) {
      std::cerr << "error: the label map is not on the input's grid\n";
      return EXIT_FAILURE;
    }
    std::cout << "same grid as the input: size " << filter->GetOutput()->GetLargestPossibleRegion().GetSize()
              << ", labels present:";
    const std::vector<std::uint16_t> voxels = voxseg::io::labelValues(voxseg::io::readVolume(argv[3]));
    for (const int value : voxseg::presentLabels(voxels.data(), voxels.size())) {
      std::cout << ' ' << value;
    }
    std::cout << '\n';
    if (argc == 5) {
      auto reference = itk::ImageFileReader<LabelImageType>::New();
      reference->SetFileName(argv[4]);
      reference->Update();
      if (reference->GetOutput()->GetLargestPossibleRegion() != filter->GetOutput()->GetLargestPossibleRegion()) {
        std::cerr << "error: " << argv[4] << " has another size\n";
        return EXIT_FAILURE;
      }
      const long differences = countDifferences(filter->GetOutput(), reference->GetOutput());
      std::cout << differences << " voxels differ from " << argv[4] << '\n';
      if (differences != 0) {
        return EXIT_FAILURE;
      }
    }
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << '\n';
    return EXIT_FAILURE;
  }
  std::cout << "wrote " << argv[3] << '\n';
  return EXIT_SUCCESS;
}
