#include "voxseg/io/AtomicOutput.h"
#include "voxseg/io/VolumeIO.h"

#include "ItkError.h"
#include "voxseg/core/Error.h"

#include <itkImageFileWriter.h>

#include <algorithm>
#include <cctype>

namespace voxseg::io {
namespace {

bool endsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         std::equal(suffix.rbegin(), suffix.rend(), s.rbegin(), [](char a, char b) { return std::tolower(a) == b; });
}

} // namespace

const std::vector<std::string>& writableExtensions() {
  // .mhd and .nhdr are left out: their detached data file could not be renamed atomically.
  static const std::vector<std::string> ext{".nii.gz", ".nii", ".nrrd", ".mha"};
  return ext;
}

void writeVolume(const Volume& volume, const std::string& path, const WriteOptions& options) {
  const auto& exts = writableExtensions();
  if (std::none_of(exts.begin(), exts.end(), [&](const std::string& e) { return endsWith(path, e); })) {
    std::string list;
    for (const auto& e : exts) list += (list.empty() ? "" : ", ") + e;
    throw usageError(path + ": cannot write this file type (writable: " + list + ")");
  }
  AtomicOutput out(path, options.overwrite);
  try {
    visitPixelType(volume.pixelType, [&](auto tag) {
      using ImageType = itk::Image<typename decltype(tag)::type, 3>;
      auto writer = itk::ImageFileWriter<ImageType>::New();
      // A view of the voxels without the reader's metadata: DICOM tags (patient data) must not
      // leak into NRRD/MHA key-value headers.
      auto view = ImageType::New();
      view->Graft(volume.as<typename decltype(tag)::type>());
      view->SetMetaDataDictionary(itk::MetaDataDictionary());
      writer->SetInput(view);
      writer->SetFileName(out.tempPath());
      writer->SetUseCompression(endsWith(path, ".gz") || (options.compress && !endsWith(path, ".nii")));
      writer->Update();
    });
  } catch (const itk::ExceptionObject& e) {
    throw outputError(path, "cannot write: " + detail::itkMessage(e));
  }
  out.commit();
}

} // namespace voxseg::io
