#pragma once
// voxseg as an ITK filter: a scalar 3D image in, a label image on exactly the same grid out.
// The model (a voxseg TorchScript model, or nnU-Net folders through NnUNetPredictor) is loaded once
// (SegmentationImageFilter::LoadModel, LoadNnUNet) and shared by every filter and every Update. The template only
// adapts pixel types; the work is done once, for every instantiation, in SegmentationImageFilter.cxx. No LibTorch
// header is included here.

#include "voxseg/pipeline/NnUNetPredictor.h"
#include "voxseg/pipeline/Segmenter.h"

#include <itkImage.h>
#include <itkImageToImageFilter.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

namespace voxseg::pipeline {

namespace detail {

/// One input as the non-templated core sees it: an itk::Image<T, 3> with T given by `type`.
struct ImageRef {
  const itk::ImageBase<3>* image = nullptr;
  PixelType type = PixelType::Float32;
};

/// Values the output pixel type holds.
struct OutputRange {
  double lowest = 0;
  double max = 0;
};

/// The filter's model: a TorchScript model or an nnU-Net predictor (one of the two set).
struct FilterModel {
  const Model* model = nullptr;
  const NnUNetPredictor* nnunet = nullptr;
};

/// Loads a TorchScript model with its embedded card; failures are itk::ExceptionObject.
std::shared_ptr<const Model> loadModelForFilter(const std::string& path, const SegmenterOptions& options);
/// Loads nnU-Net folders (NnUNetPredictor); failures are itk::ExceptionObject.
std::shared_ptr<const NnUNetPredictor> loadNnUNetForFilter(const NnUNetPredictorOptions& options,
                                                           const SegmenterOptions& run);

/// Throws itk::ExceptionObject unless exactly one model is set, every input is present, their count is
/// the model's channel count, and every label value of the model fits the output pixel type.
void checkFilterSetup(const FilterModel& model, const std::vector<const itk::ImageBase<3>*>& inputs,
                      const OutputRange& output);

/// Segments the inputs (channel order) and returns the labels (uint8, or uint16 beyond 255) in
/// the buffer order of the first input. Progress goes to filter.UpdateProgress; the filter's
/// AbortGenerateData flag stops the run with itk::ProcessAborted. Every failure is an itk::ExceptionObject.
io::Volume segmentForFilter(itk::ProcessObject& filter, const FilterModel& model, const std::vector<ImageRef>& inputs,
                            const SegmenterOptions& options, const OutputRange& output);

/// Whether voxseg stores T as it is (no conversion): the eight types of voxseg::PixelType.
template <typename T>
inline constexpr bool kNativePixel =
    std::is_same_v<T, std::uint8_t> || std::is_same_v<T, std::int8_t> || std::is_same_v<T, std::uint16_t> ||
    std::is_same_v<T, std::int16_t> || std::is_same_v<T, std::uint32_t> || std::is_same_v<T, std::int32_t> ||
    std::is_same_v<T, float> || std::is_same_v<T, double>;

template <typename T> constexpr PixelType nativePixelType() {
  static_assert(kNativePixel<T>);
  if constexpr (std::is_same_v<T, std::uint8_t>)
    return PixelType::UInt8;
  else if constexpr (std::is_same_v<T, std::int8_t>)
    return PixelType::Int8;
  else if constexpr (std::is_same_v<T, std::uint16_t>)
    return PixelType::UInt16;
  else if constexpr (std::is_same_v<T, std::int16_t>)
    return PixelType::Int16;
  else if constexpr (std::is_same_v<T, std::uint32_t>)
    return PixelType::UInt32;
  else if constexpr (std::is_same_v<T, std::int32_t>)
    return PixelType::Int32;
  else if constexpr (std::is_same_v<T, float>)
    return PixelType::Float32;
  else
    return PixelType::Float64;
}

/// The image as the core takes it: shared when its pixel type is native, otherwise a float copy
/// (kept alive in `copies`), as the pipeline computes in float anyway.
template <typename TImage> ImageRef imageRef(const TImage* image, std::vector<itk::Image<float, 3>::Pointer>& copies) {
  using T = typename TImage::PixelType;
  if constexpr (kNativePixel<T>) {
    return {image, nativePixelType<T>()};
  } else {
    auto copy = itk::Image<float, 3>::New();
    copy->CopyInformation(image);
    copy->SetBufferedRegion(image->GetBufferedRegion());
    copy->SetRequestedRegion(image->GetBufferedRegion());
    copy->Allocate();
    const T* src = image->GetBufferPointer();
    std::transform(src, src + image->GetBufferedRegion().GetNumberOfPixels(), copy->GetBufferPointer(),
                   [](T v) { return static_cast<float>(v); });
    copies.push_back(copy);
    return {copy.GetPointer(), PixelType::Float32};
  }
}

} // namespace detail

/// Segments a scalar 3D image with a voxseg model (TorchScript with an embedded model card, SetModel)
/// or with nnU-Net (trained-model folders, an ensemble of them or a dataset's results folder, SetNnUNet).
///
/// Input 0 is the first channel (of the card, or of dataset.json's channel_names); multi-channel
/// models take the others with SetInput(1, ...), SetInput(2, ...), all on the same grid. The output
/// has exactly the input's grid (size, index, spacing, origin, direction). The filter always works
/// on whole images. Failures (no model or two, wrong channel count, labels that do not fit
/// TOutputImage's pixel type, any voxseg::Error) are itk::ExceptionObject carrying voxseg's one-line
/// message.
template <typename TInputImage, typename TOutputImage>
class SegmentationImageFilter : public itk::ImageToImageFilter<TInputImage, TOutputImage> {
public:
  ITK_DISALLOW_COPY_AND_MOVE(SegmentationImageFilter);

  using Self = SegmentationImageFilter;
  using Superclass = itk::ImageToImageFilter<TInputImage, TOutputImage>;
  using Pointer = itk::SmartPointer<Self>;
  using ConstPointer = itk::SmartPointer<const Self>;
  using InputImageType = TInputImage;
  using OutputImageType = TOutputImage;
  using InputPixelType = typename TInputImage::PixelType;
  using OutputPixelType = typename TOutputImage::PixelType;
  using ModelPointer = std::shared_ptr<const Model>;
  using NnUNetPointer = std::shared_ptr<const NnUNetPredictor>;

  static_assert(TInputImage::ImageDimension == 3 && TOutputImage::ImageDimension == 3, "voxseg segments 3D images");
  static_assert(std::is_arithmetic_v<InputPixelType> && std::is_arithmetic_v<OutputPixelType>,
                "SegmentationImageFilter needs scalar pixel types");
  static_assert(std::is_base_of_v<itk::Image<InputPixelType, 3>, TInputImage> &&
                    std::is_base_of_v<itk::Image<OutputPixelType, 3>, TOutputImage>,
                "SegmentationImageFilter works on itk::Image");

  /// Loads a TorchScript file with its embedded card (see 'voxseg model pack') once, for any
  /// number of filters and images. Throws itk::ExceptionObject naming the file and the problem.
  static ModelPointer LoadModel(const std::string& path, const SegmenterOptions& options = {}) {
    return detail::loadModelForFilter(path, options);
  }

  void SetModel(ModelPointer model) {
    if (model == model_) return;
    model_ = std::move(model);
    this->Modified();
  }
  const ModelPointer& GetModel() const { return model_; }

  /// Loads nnU-Net once, for any number of filters and images: a trained-model folder, several (an
  /// ensemble of configurations) or a dataset's results folder, with their folds, checkpoint,
  /// mirroring and post-processing (NnUNetPredictorOptions). Throws itk::ExceptionObject naming the
  /// file and the problem.
  static NnUNetPointer LoadNnUNet(const NnUNetPredictorOptions& options, const SegmenterOptions& run = {}) {
    return detail::loadNnUNetForFilter(options, run);
  }
  /// One folder (trained-model or results folder), every trained fold (or the results folder's), mirroring.
  static NnUNetPointer LoadNnUNet(const std::string& folder, const SegmenterOptions& run = {}) {
    NnUNetPredictorOptions options;
    options.folders = {folder};
    return detail::loadNnUNetForFilter(options, run);
  }

  /// The filter segments with either a model or an nnU-Net predictor: set one, and the other to nullptr.
  void SetNnUNet(NnUNetPointer nnunet) {
    if (nnunet == nnunet_) return;
    nnunet_ = std::move(nnunet);
    this->Modified();
  }
  const NnUNetPointer& GetNnUNet() const { return nnunet_; }

  /// Device (given to LoadModel or LoadNnUNet, it decides where the networks are loaded), threads, precision.
  /// threads > 0 sets LibTorch's intra-op thread count (process-wide) before each run; 0 leaves it as it is (but
  /// LoadModel and LoadNnUNet set it, 0 meaning every core). Only what a run uses counts: options that differ from
  /// the present ones in nothing else than the load-time fields (device, optimizeGraph) do not make the next
  /// Update() run the network again (nor do equal ones, which did until 2026-11-29).
  void SetOptions(const SegmenterOptions& options) {
    const bool rerun = !sameRunOptions(options, options_);
    options_ = options;
    if (rerun) this->Modified();
  }
  const SegmenterOptions& GetOptions() const { return options_; }

  // ITK 5.2's macros end with their own semicolon, later versions need one: keep it, quietly.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
  itkNewMacro(Self);
  itkTypeMacro(SegmentationImageFilter, ImageToImageFilter);
#pragma GCC diagnostic pop

protected:
  SegmentationImageFilter() = default;
  ~SegmentationImageFilter() override = default;

  void VerifyPreconditions() ITKv5_CONST override {
    detail::checkFilterSetup(filterModel(), inputs(), outputRange()); // voxseg's message for a missing input too
    Superclass::VerifyPreconditions();
  }

  /// The inputs' grids are judged by voxseg (its tolerances and one-line message, as `voxseg segment` does), not by
  /// ITK's stricter check (1e-6 of the spacing), which refused channels written by different tools.
  void VerifyInputInformation() ITKv5_CONST override {}

  /// The network sees the whole image: every input is requested whole.
  void GenerateInputRequestedRegion() override {
    Superclass::GenerateInputRequestedRegion();
    for (unsigned i = 0; i < this->GetNumberOfIndexedInputs(); ++i)
      if (auto* in = const_cast<TInputImage*>(this->GetInput(i))) in->SetRequestedRegionToLargestPossibleRegion();
  }

  /// ... and the whole output is produced at once.
  void EnlargeOutputRequestedRegion(itk::DataObject* output) override {
    Superclass::EnlargeOutputRequestedRegion(output);
    output->SetRequestedRegionToLargestPossibleRegion();
  }

  void GenerateData() override {
    std::vector<itk::Image<float, 3>::Pointer> copies;
    std::vector<detail::ImageRef> refs;
    for (const auto* in : inputs())
      refs.push_back(in ? detail::imageRef(static_cast<const TInputImage*>(in), copies) : detail::ImageRef{});
    this->AllocateOutputs();
    const io::Volume labels = detail::segmentForFilter(*this, filterModel(), refs, options_, outputRange());
    copies.clear();
    TOutputImage* out = this->GetOutput();
    const std::size_t n = out->GetBufferedRegion().GetNumberOfPixels();
    if (labels.pixelType == PixelType::UInt8)
      copyLabels(labels.as<std::uint8_t>()->GetBufferPointer(), n, out);
    else
      copyLabels(labels.as<std::uint16_t>()->GetBufferPointer(), n, out);
  }

  void PrintSelf(std::ostream& os, itk::Indent indent) const override {
    Superclass::PrintSelf(os, indent);
    os << indent << "Model: " << (model_ ? model_->card.name + " (" + model_->source + ")" : "(none)") << '\n';
    os << indent << "nnU-Net: ";
    if (nnunet_)
      for (const auto* m : nnunet_->members()) os << m->options.folder << ' ';
    else
      os << "(none)";
    os << '\n';
    os << indent << "Device: " << options_.device.name << ", threads: " << options_.threads
       << ", precision: " << options_.precision << '\n';
  }

private:
  std::vector<const itk::ImageBase<3>*> inputs() const {
    std::vector<const itk::ImageBase<3>*> v;
    for (unsigned i = 0; i < this->GetNumberOfIndexedInputs(); ++i) v.push_back(this->GetInput(i));
    return v;
  }

  detail::FilterModel filterModel() const { return {model_.get(), nnunet_.get()}; }

  static bool sameRunOptions(SegmenterOptions a, SegmenterOptions b) { // device and optimizeGraph: load time only
    a.device = b.device;
    a.optimizeGraph = b.optimizeGraph;
    return a == b;
  }

  static detail::OutputRange outputRange() {
    return {static_cast<double>(std::numeric_limits<OutputPixelType>::lowest()),
            static_cast<double>(std::numeric_limits<OutputPixelType>::max())};
  }

  template <typename TLabel> static void copyLabels(const TLabel* labels, std::size_t n, TOutputImage* out) {
    std::transform(labels, labels + n, out->GetBufferPointer(),
                   [](TLabel v) { return static_cast<OutputPixelType>(v); });
  }

  ModelPointer model_;
  NnUNetPointer nnunet_;
  SegmenterOptions options_;
};

} // namespace voxseg::pipeline
