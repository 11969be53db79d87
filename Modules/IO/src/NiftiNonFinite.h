#pragma once
// NaN and infinite voxels of float NIfTI files. nifticlib (ITK's NIfTI reader) sets every non-finite float32 or
// float64 voxel to 0 as it reads, without a word: a NaN in a label map read as background, an image with NaN
// outside its field of view segmented as if those voxels were 0. The payload is scanned here (as the payload check
// inflates it anyway) and the voxels put back after ITK's read, so the checks after it (finite images for
// `segment`, labels for `evaluate`) see what the file holds, as they do for NRRD and MetaImage.

#include "voxseg/io/Volume.h"

#include <cstddef>
#include <cstdint>
#include <string>

namespace voxseg::io::detail {

/// What checkNiftiFile found of a float payload's non-finite values, and where they are (so that they are put back
/// without parsing the header again).
struct NonFinitePayload {
  std::uint64_t count = 0;     ///< NaN and infinite values
  std::uint64_t voxOffset = 0; ///< where the voxels start in the (decompressed) file
  unsigned valueBytes = 0;     ///< 4 (float32), 8 (float64), 0 (not a float payload)
  bool swap = false;           ///< the file's byte order is not this machine's
  double slope = 0, inter = 0; ///< scl_slope, scl_inter
};

/// Counts non-finite values in a stream of a NIfTI payload fed piece by piece, by absolute byte position in the
/// (decompressed) file.
class NonFiniteScan {
public:
  /// `datatype`: NIfTI's (16 float32, 64 float64; others hold no non-finite values and are not scanned).
  NonFiniteScan(std::uint64_t voxOffset, std::uint64_t payloadBytes, int datatype, bool swap);
  bool wanted() const { return valueBytes_ > 0; }
  unsigned valueBytes() const { return valueBytes_; }
  /// Bytes [at, at + n) of the file.
  void feed(const unsigned char* p, std::size_t n, std::uint64_t at);
  std::uint64_t count() const { return count_; }

private:
  void value(const unsigned char* p);
  std::uint64_t begin_, end_;
  unsigned valueBytes_;
  bool swap_;
  unsigned char carry_[8] = {};
  unsigned have_ = 0;
  std::uint64_t count_ = 0;
};

/// Puts the non-finite voxels of NIfTI file `path` (scaled by scl_slope and scl_inter, as ITK scales) back into `v`,
/// read from it by ITK: float32 or float64, in the file's voxel order. `payload` is checkNiftiFile's for the file.
/// Throws Error(Input) naming the file when it cannot be read again.
void restoreNiftiNonFinite(const std::string& path, const NonFinitePayload& payload, Volume& v);

} // namespace voxseg::io::detail
