#include "voxseg/io/AtomicOutput.h"
#include "voxseg/io/VolumeIO.h"

#include "ItkError.h"
#include "NiftiPlacement.h"
#include "PayloadCheck.h"
#include "voxseg/core/Error.h"

#include <itkImageFileWriter.h>
#include <itkVectorImage.h>

#include "voxseg/core/ItkGeometry.h"

#include <algorithm>
#include <filesystem>
#include <optional>

namespace voxseg::io {

const std::vector<std::string>& writableExtensions() {
  // .mhd and .nhdr are left out: their detached data file could not be renamed atomically.
  static const std::vector<std::string> ext{".nii.gz", ".nii", ".nrrd", ".mha"};
  return ext;
}

namespace {
void checkWritableExtension(const std::string& path) {
  const auto& exts = writableExtensions();
  if (std::none_of(exts.begin(), exts.end(), [&](const std::string& e) { return detail::endsWith(path, e); })) {
    std::string list;
    for (const auto& e : exts) list += (list.empty() ? "" : ", ") + e;
    throw usageError(path + ": cannot write this file type (writable: " + list + ")");
  }
}
// Runs an ITK writer on the temporary file, then renames it into place. A NIfTI output on the grid of
// `placement` gets its fields: ITK writes it uncompressed (a .nii.gz through a scratch .nii beside it) and the
// header is rewritten on the way.
template <typename ImageType>
void writeAtomically(const ImageType* image, const std::string& path, const WriteOptions& options,
                     const NiftiPlacement* placement) {
  AtomicOutput out(path, options.overwrite);
  const bool nifti = detail::isNiftiPath(path);
  const bool gzip = detail::endsWith(path, ".gz") || (options.compress && !detail::endsWith(path, ".nii"));
  if (placement && !(nifti && detail::placementFits(*placement, geometryOf(*image)))) placement = nullptr;
  std::optional<ScratchFile> plain;
  if (placement && gzip) plain.emplace(out.scratchPathBeside(".nii")); // the volume uncompressed, for a moment
  const std::string itkPath = plain ? plain->path() : out.tempPath();
  try {
    auto writer = itk::ImageFileWriter<ImageType>::New();
    writer->SetInput(image);
    writer->SetFileName(itkPath);
    writer->SetUseCompression(gzip && !placement);
    writer->Update();
  } catch (const itk::ExceptionObject& e) {
    throw outputError(path, "cannot write: " + detail::itkMessage(e));
  }
  // ITK 5.2's NIfTI writer reports a file it cannot create (a name too long) without throwing
  std::error_code ec;
  if (!std::filesystem::is_regular_file(itkPath, ec))
    throw outputError(path, "cannot write: no file was created (name too long for the file system?)");
  if (placement) detail::writeNiftiWithPlacement(*placement, itkPath, out.tempPath(), gzip, path);
  detail::checkWrittenFile(out.tempPath(), path);
  out.commit();
}

} // namespace

void writeComponents(const std::vector<float>& data, std::int64_t components, const Geometry& g,
                     const std::string& path, const WriteOptions& options) {
  checkWritableExtension(path);
  using ImageType = itk::VectorImage<float, 3>;
  auto img = ImageType::New();
  ImageType::RegionType region;
  for (unsigned i = 0; i < 3; ++i) region.SetSize(i, g.size[i]);
  img->SetRegions(region);
  img->SetNumberOfComponentsPerPixel(static_cast<unsigned>(components));
  setGeometry(*img, g);
  img->Allocate();
  const std::size_t n = g.voxelCount();
  float* p = img->GetBufferPointer();
  for (std::size_t v = 0; v < n; ++v)
    for (std::int64_t c = 0; c < components; ++c)
      p[v * std::size_t(components) + std::size_t(c)] = data[std::size_t(c) * n + v];
  writeAtomically(img.GetPointer(), path, options, options.niftiPlacement.get());
}

void writeVolume(const Volume& volume, const std::string& path, const WriteOptions& options) {
  checkWritableExtension(path);
  visitPixelType(volume.pixelType, [&](auto tag) {
    using ImageType = itk::Image<typename decltype(tag)::type, 3>;
    // A view of the voxels without the reader's metadata: DICOM tags (patient data) must not
    // leak into NRRD/MHA key-value headers.
    auto view = ImageType::New();
    view->Graft(volume.as<typename decltype(tag)::type>());
    view->SetMetaDataDictionary(itk::MetaDataDictionary());
    const auto& placement = options.niftiPlacement ? options.niftiPlacement : volume.niftiPlacement;
    writeAtomically(view.GetPointer(), path, options, placement.get());
  });
}

} // namespace voxseg::io
