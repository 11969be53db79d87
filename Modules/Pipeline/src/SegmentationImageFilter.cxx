// The non-templated work of SegmentationImageFilter, compiled once for every pixel type.
#include "voxseg/pipeline/SegmentationImageFilter.h"

#include "voxseg/core/Error.h"

#include <itkMacro.h>

#include <sstream>

namespace voxseg::pipeline::detail {
namespace {

constexpr const char* kLocation = "voxseg::pipeline::SegmentationImageFilter";

[[noreturn]] void fail(const std::string& message, unsigned line) {
  throw itk::ExceptionObject(__FILE__, line, message, kLocation);
}

std::string numberText(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

std::string inputName(std::size_t i) { return "input " + std::to_string(i); }

/// A view of input i on its own buffer, as an image whose first voxel has index 0 (the origin
/// moved to that voxel), which is how voxseg describes a grid.
io::Volume asVolume(const ImageRef& ref, std::size_t i) {
  const itk::ImageBase<3>& in = *ref.image;
  const auto largest = in.GetLargestPossibleRegion();
  if (in.GetBufferedRegion() != largest)
    fail(inputName(i) + ": the buffered region is not the whole image; the network needs the whole image", __LINE__);
  io::Volume v;
  v.pixelType = ref.type;
  v.source = inputName(i);
  v.image = visitPixelType(ref.type, [&](auto tag) -> itk::ImageBase<3>::Pointer {
    using Image = itk::Image<typename decltype(tag)::type, 3>;
    const auto* typed = dynamic_cast<const Image*>(&in);
    if (!typed) fail(inputName(i) + ": image is not stored as " + pixelTypeName(ref.type), __LINE__);
    auto view = Image::New();
    view->SetRegions(typename Image::RegionType(largest.GetSize()));
    view->SetSpacing(in.GetSpacing());
    view->SetDirection(in.GetDirection());
    typename Image::PointType origin;
    in.TransformIndexToPhysicalPoint(largest.GetIndex(), origin);
    view->SetOrigin(origin);
    // The pipeline only reads its inputs: the view shares the filter input's voxels.
    view->SetPixelContainer(const_cast<typename Image::PixelContainer*>(typed->GetPixelContainer()));
    return view.GetPointer();
  });
  return v;
}

} // namespace

std::shared_ptr<const Model> loadModelForFilter(const std::string& path, const SegmenterOptions& options) {
  try {
    return std::make_shared<const Model>(loadModel({path}, "", {}, options));
  } catch (const std::exception& e) { // voxseg::Error: the file and the problem in one line
    fail(e.what(), __LINE__);
  }
}

std::shared_ptr<const NnUNetPredictor> loadNnUNetForFilter(const NnUNetPredictorOptions& options,
                                                           const SegmenterOptions& run) {
  try {
    return std::make_shared<const NnUNetPredictor>(options, run);
  } catch (const std::exception& e) {
    fail(e.what(), __LINE__);
  }
}

void checkFilterSetup(const FilterModel& model, const std::vector<const itk::ImageBase<3>*>& inputs,
                      const OutputRange& output) {
  if (model.model && model.nnunet)
    fail("both a model and an nnU-Net predictor are set: set one (SetModel(nullptr) or SetNnUNet(nullptr))", __LINE__);
  if (!model.model && !model.nnunet)
    fail("no model set: call SetModel (e.g. with SegmentationImageFilter::LoadModel(path)) or SetNnUNet (with "
         "LoadNnUNet(folder))",
         __LINE__);
  std::string name;
  std::vector<std::string> channels;
  std::vector<std::pair<int, std::string>> values;
  if (model.model) {
    const ModelCard& card = model.model->card;
    name = card.name;
    for (const auto& c : card.channels) channels.push_back(c.name);
    for (const auto& l : card.labels) values.emplace_back(l.value, l.name);
    for (const auto& r : card.regions) values.emplace_back(r.label, r.name);
  } else {
    if (model.nnunet->takesPreviousStageLabels())
      fail("the nnU-Net predictor was loaded to be given each case's previous-stage labels "
           "(NnUNetPredictorOptions::previousStageLabels), for which the filter has no input: load it without them",
           __LINE__);
    const auto& members = model.nnunet->members();
    if (members.empty()) fail("the nnU-Net predictor was moved from: it holds no network", __LINE__);
    name = !model.nnunet->resultsFile().empty() ? model.nnunet->resultsFile() : members.front()->options.folder;
    channels = model.nnunet->channelNames();
    for (const auto& l : model.nnunet->labelTable()) values.emplace_back(l.value, l.name);
  }
  for (std::size_t i = 0; i < inputs.size(); ++i)
    if (!inputs[i]) fail(inputName(i) + " is missing: multi-channel models take every channel in order", __LINE__);
  if (inputs.size() != channels.size()) {
    std::string names;
    for (const auto& c : channels) names += (names.empty() ? "" : ", ") + c;
    fail("the model " + name + " needs " + std::to_string(channels.size()) + " input image(s) (" + names + "), got " +
             std::to_string(inputs.size()),
         __LINE__);
  }
  for (const auto& [value, label] : values)
    if (value < output.lowest || value > output.max)
      fail("label " + std::to_string(value) + " (" + label + ") of the model " + name +
               " does not fit the output pixel type (" + numberText(output.lowest) + " to " + numberText(output.max) +
               "); use a wider output image type, e.g. itk::Image<unsigned short, 3>",
           __LINE__);
}

io::Volume segmentForFilter(itk::ProcessObject& filter, const FilterModel& model, const std::vector<ImageRef>& inputs,
                            const SegmenterOptions& options, const OutputRange& output) {
  std::vector<const itk::ImageBase<3>*> images;
  for (const auto& r : inputs) images.push_back(r.image);
  checkFilterSetup(model, images, output);
  try {
    std::vector<io::Volume> volumes;
    for (std::size_t i = 0; i < inputs.size(); ++i) volumes.push_back(asVolume(inputs[i], i));
    if (options.threads > 0) inference::setThreads(options.threads);
    const auto progress = [&filter](std::int64_t done, std::int64_t total) {
      filter.UpdateProgress(total > 0 ? static_cast<float>(double(done) / double(total)) : 1.0f);
      if (filter.GetAbortGenerateData()) throw itk::ProcessAborted(__FILE__, __LINE__);
    };
    io::Volume labels = model.model ? segment(*model.model, volumes, options, false, progress).labels
                                    : model.nnunet->segment(volumes, options, false, progress).labels;
    if (labels.geometry().size != volumes.front().geometry().size)
      fail("the label map does not have the input's size", __LINE__);
    return labels;
  } catch (const itk::ExceptionObject&) {
    throw;
  } catch (const Error& e) {
    fail(e.what(), __LINE__);
  } catch (const std::exception& e) {
    fail(std::string("unexpected failure: ") + e.what(), __LINE__);
  }
}

} // namespace voxseg::pipeline::detail
