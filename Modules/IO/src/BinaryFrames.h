#pragma once
// The Pixel Data of a binary DICOM SEG (Bits Allocated 1): every frame's pixels follow the previous frame's without
// padding, the first pixel of the data in the lowest bit of its first byte (PS3.5 8.1.1, and the layout dcmqi and
// highdicom write). Debian's DCMTK 3.6.7 gets this wrong when rows x columns is not a multiple of 8 (it misplaces
// the bits of every frame after the first, writing and reading; fixed in DCMTK 3.6.9), so voxseg packs and unpacks
// the frames itself.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace voxseg::io::detail {

class BinaryFramePacker {
public:
  explicit BinaryFramePacker(std::size_t pixelsPerFrame) : plane_(pixelsPerFrame) {}
  /// Appends one frame: `pixelsPerFrame` values, non-zero = set.
  void add(const std::uint8_t* pixels);
  std::size_t frames() const { return frames_; }
  /// The Pixel Data: ceil(frames x pixelsPerFrame / 8) bytes, the unused bits zero, padded to an even length.
  std::vector<std::uint8_t> pixelData() const;

private:
  std::size_t plane_;
  std::size_t frames_ = 0;
  std::vector<std::uint8_t> bytes_;
};

/// The bits from one frame's start to the next's in Pixel Data of `size` bytes holding `frames` frames: pixelsPerFrame
/// (packed, the standard's layout), or pixelsPerFrame rounded up to whole bytes (each frame padded, as DCMTK before
/// 3.6.4 wrote binary SEGs and as dcmqi's older exports are: `padded` set) when only that fits the size; 0 when
/// neither does. OB's even length is allowed for either; where both layouts give the size, packed is taken.
std::size_t binaryFrameStride(std::size_t size, std::size_t frames, std::size_t pixelsPerFrame, bool& padded);

/// The frame that starts at bit `firstBit` of such Pixel Data unpacked into `out` (`pixelsPerFrame` values 0 or 1).
/// Returns false when `size` bytes do not hold that frame.
bool unpackBinaryFrame(const std::uint8_t* data, std::size_t size, std::size_t firstBit, std::size_t pixelsPerFrame,
                       std::uint8_t* out);

} // namespace voxseg::io::detail
