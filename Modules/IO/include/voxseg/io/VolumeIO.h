#pragma once
// Reading and writing 3D volumes: NIfTI (.nii, .nii.gz), NRRD (.nrrd, .nhdr), MetaImage
// (.mha, .mhd) and DICOM (a folder holding a series, or one multi-frame file).

#include "voxseg/io/DicomSeries.h"
#include "voxseg/io/Volume.h"

#include <cstdint>
#include <string>

namespace voxseg::io {

struct ReadOptions {
  std::string seriesUid; ///< DICOM folder: the SeriesInstanceUID to read (needed when several)
  SliceSpacingPolicy nonUniform = SliceSpacingPolicy::Error; ///< DICOM: uneven or missing slices
  /// Refuse headers claiming more voxels than this before allocating anything.
  std::uint64_t maxVoxels = std::uint64_t(1) << 31;
};

/// Reads a volume, or throws Error(Input) whose message names the path and the problem. A DICOM SEG (a file, or the
/// series chosen in a folder) reads as the label map of its segments.
Volume readVolume(const std::string& path, const ReadOptions& options = {});

/// readVolume for an image to segment: a DICOM SEG, a label map, is refused naming the file.
Volume readImage(const std::string& path, const ReadOptions& options = {});

struct WriteOptions {
  bool overwrite = false; ///< replace an existing file (--force)
  bool compress = true;   ///< gzip where the format allows (.nii.gz always, .nrrd, .mha)
  /// A NIfTI input's placement for a NIfTI output on its grid (an output on another grid gets the forms ITK
  /// makes of its geometry). writeVolume falls back to the volume's own.
  std::shared_ptr<const NiftiPlacement> niftiPlacement;
};

/// File extensions writeVolume accepts, e.g. ".nii.gz".
const std::vector<std::string>& writableExtensions();

/// Writes atomically (temporary name + rename). Throws Error(Output) or Error(Usage) for an
/// unsupported extension; leaves no partial file behind.
void writeVolume(const Volume& volume, const std::string& path, const WriteOptions& options = {});

/// Writes `components` float32 values per voxel (data laid out [component][Z][Y][X]) as one vector
/// image on grid `g` (NIfTI: 5-D x, y, z, 1, components), atomically.
void writeComponents(const std::vector<float>& data, std::int64_t components, const Geometry& g,
                     const std::string& path, const WriteOptions& options = {});

} // namespace voxseg::io
