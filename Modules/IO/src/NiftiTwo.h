#pragma once
// NIfTI-2 input through ITK 5.2, whose NIfTI reader takes NIfTI-1 only: the file is rewritten as a
// single-file NIfTI-1 (.nii) in the temporary folder and ITK reads that, so orientation follows
// exactly the NIfTI-1 path (qform/sform rules, LPS). Private to IO.

#include "voxseg/io/AtomicOutput.h"

#include <cstdint>
#include <optional>
#include <string>

namespace voxseg::io::detail {

/// True when the (possibly gzip-compressed) .nii/.nii.gz file has a NIfTI-2 header (size 540, either byte order).
bool isNiftiTwo(const std::string& path);

/// Voxels a NIfTI-2 header claims (dim[1] x ... x dim[dim[0]], saturating; 0 for an invalid rank), so that
/// the voxel limit applies before the file is copied.
std::uint64_t niftiTwoVoxelCount(const std::string& path);

/// The NIfTI-1 copy of a NIfTI-2 file, deleted with this object. Header fields keep their meaning; the
/// 64-bit dimensions must fit NIfTI-1's 16 bits and the double-precision geometry is rounded to float32
/// (NIfTI-1's type); extensions are dropped; the voxels are copied unchanged, in the file's byte order.
/// Throws Error(Input) naming `source` (dimensions beyond 32767, a truncated file).
class NiftiTwoAsOne {
public:
  explicit NiftiTwoAsOne(const std::string& source);
  NiftiTwoAsOne(const NiftiTwoAsOne&) = delete;
  NiftiTwoAsOne& operator=(const NiftiTwoAsOne&) = delete;
  const std::string& path() const { return file_->path(); }

private:
  std::optional<ScratchFile> file_; ///< removed with this object, and by the interrupt clean-up
};

/// ITK 5.2's NIfTI reader, given X.nii.gz, reads X.nii instead when that file exists. True when `path`
/// is such an X.nii.gz.
bool niftiHasUncompressedTwin(const std::string& path);

/// A link to `source` in a scratch folder of its own (mode 0700, in $TMPDIR), named "image.nii.gz": nothing
/// lies beside it, so ITK reads `source` itself. Removed with this object, and by the interrupt clean-up.
class NiftiAlias {
public:
  explicit NiftiAlias(const std::string& source);
  const std::string& path() const { return link_->path(); }

private:
  std::optional<ScratchFile> folder_;
  std::optional<ScratchFile> link_; ///< destroyed before the folder
};

} // namespace voxseg::io::detail
