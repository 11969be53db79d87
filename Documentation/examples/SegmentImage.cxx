// Segments one image with a voxseg model inside an ITK pipeline:
//   voxsegExampleSegmentImage <input image> <model.pt | nnU-Net folder> <output label image> [device [threads]]
// The model is a TorchScript file with its card embedded ('voxseg model pack'), or an nnU-Net v2
// trained-model folder or dataset results folder. It is loaded once; a program segmenting many
// images keeps it and gives it to every filter (SetModel, SetNnUNet).
#include "voxseg/pipeline/SegmentationImageFilter.h"

#include <itkImageFileReader.h>
#include <itkImageFileWriter.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>

int main(int argc, char* argv[]) {
  if (argc < 4 || argc > 6) {
    std::cerr << "usage: " << argv[0]
              << " <input image> <model.pt | nnU-Net folder> <output label image> [device: cpu, cuda, auto]"
                 " [CPU threads, 0: every core]\n";
    return EXIT_FAILURE;
  }
  using ImageType = itk::Image<float, 3>;
  using LabelImageType = itk::Image<unsigned short, 3>;
  using FilterType = voxseg::pipeline::SegmentationImageFilter<ImageType, LabelImageType>;

  // ITK 5.2's NIfTI writer reports a file it cannot open (a missing folder) on stderr only, without an
  // exception: the output must be there, and newer than any file of that name before, to say "wrote".
  std::error_code ec;
  const auto before = std::filesystem::last_write_time(argv[3], ec);
  const bool existed = !ec;
  try {
    voxseg::pipeline::SegmenterOptions options;
    options.device.name = argc >= 5 ? argv[4] : "auto";
    options.threads = argc == 6 ? std::atoi(argv[5]) : 0;
    auto filter = FilterType::New();
    if (std::filesystem::is_directory(argv[2], ec))
      filter->SetNnUNet(FilterType::LoadNnUNet(argv[2], options)); // every trained fold, mirroring
    else
      filter->SetModel(FilterType::LoadModel(argv[2], options));
    filter->SetOptions(options);

    auto reader = itk::ImageFileReader<ImageType>::New();
    reader->SetFileName(argv[1]);

    filter->SetInput(reader->GetOutput());

    auto writer = itk::ImageFileWriter<LabelImageType>::New();
    writer->SetInput(filter->GetOutput());
    writer->SetFileName(argv[3]);
    writer->UseCompressionOn();
    writer->Update(); // reads, segments and writes
  } catch (const itk::ExceptionObject& e) {
    std::cerr << "error: " << e.GetDescription() << '\n';
    return EXIT_FAILURE;
  } catch (const std::exception& e) { // not voxseg's (the filter's are ITK exceptions): out of memory...
    std::cerr << "error: " << e.what() << '\n';
    return EXIT_FAILURE;
  }
  const auto after = std::filesystem::last_write_time(argv[3], ec);
  if (ec || (existed && after == before) || std::filesystem::file_size(argv[3], ec) == 0) {
    std::cerr << "error: " << argv[3] << " was not written\n";
    return EXIT_FAILURE;
  }
  std::cout << "wrote " << argv[3] << '\n';
  return EXIT_SUCCESS;
}
