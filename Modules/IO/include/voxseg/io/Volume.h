#pragma once
// A 3D scalar volume as read from disk: an itk::Image<T, 3> in the file's own pixel type.

#include "voxseg/core/Geometry.h"
#include "voxseg/core/PixelType.h"

#include <itkImage.h>

#include <memory>

#include <string>
#include <vector>

namespace voxseg::io {

/// The header fields that placed a NIfTI input in the world (qform, sform, their codes, units), kept so that NIfTI
/// outputs on its grid carry them unchanged. Opaque outside IO.
struct NiftiPlacement;

struct Volume {
  itk::ImageBase<3>::Pointer image; ///< an itk::Image<T, 3> with T given by pixelType
  PixelType pixelType = PixelType::Float32;
  std::string source;                ///< file or folder it was read from
  std::vector<std::string> warnings; ///< what the reader accepted but a user should know
  /// Set for a NIfTI input: writeVolume puts these fields into a NIfTI output on the same grid.
  std::shared_ptr<const NiftiPlacement> niftiPlacement;

  Geometry geometry() const;

  /// The image as itk::Image<T, 3>; throws Error(Internal) if T is not the stored type.
  template <typename T> typename itk::Image<T, 3>::Pointer as() const {
    auto* typed = dynamic_cast<itk::Image<T, 3>*>(image.GetPointer());
    if (!typed) throwTypeMismatch();
    return typename itk::Image<T, 3>::Pointer(typed);
  }

  /// A float copy of the voxels with the same geometry (shares the buffer when already float).
  itk::Image<float, 3>::Pointer toFloat() const;

private:
  [[noreturn]] void throwTypeMismatch() const;
};

/// Allocates a volume of the given type and geometry, zero-filled.
Volume makeVolume(PixelType type, const Geometry& geometry);

/// The voxels of a label map as 16-bit labels (x fastest). Throws Error(Input) naming the volume's
/// source for a value that is not an integer in 0..65535.
std::vector<std::uint16_t> labelValues(const Volume& volume);

/// A float copy of the voxels as an array (x fastest), for code that takes its storage over.
std::vector<float> floatValues(const Volume& volume);

/// Throws Error(Input) naming the volume's source unless its buffer holds its whole grid and that grid starts at
/// index 0 (the origin is index 0's point: what every reader here gives; voxseg's code indexes the buffer so, and
/// geometry() takes the origin as index 0's). An image cut out by ITK keeps its index: segmenting it placed the
/// labels that many voxels away.
void requireWholeBuffer(const Volume& volume);

/// requireWholeBuffer, then throws Error(Input) naming the volume's source when a voxel is NaN or infinite (a network
/// turns them into labels silently; an extreme scl_slope in a NIfTI header makes them too).
void requireFinite(const Volume& volume);

/// Raw pointer to the first voxel of a volume's buffer (x fastest).
void* bufferOf(const Volume& volume);

struct IntensityStats {
  double min = 0;
  double max = 0;
  std::size_t nonFinite = 0; ///< NaN and +/-Inf voxels (float types only)
  std::size_t nan = 0;       ///< of which NaN
};
IntensityStats intensityStats(const Volume& volume);

} // namespace voxseg::io
