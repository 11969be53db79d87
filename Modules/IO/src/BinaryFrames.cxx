#include "BinaryFrames.h"

namespace voxseg::io::detail {

void BinaryFramePacker::add(const std::uint8_t* pixels) {
  const std::size_t first = frames_ * plane_; // the frame's first bit in the data
  bytes_.resize((first + plane_ + 7) / 8, 0);
  for (std::size_t i = 0; i < plane_; ++i)
    if (pixels[i]) {
      const std::size_t bit = first + i;
      bytes_[bit / 8] = static_cast<std::uint8_t>(bytes_[bit / 8] | (1u << (bit % 8)));
    }
  ++frames_;
}

std::vector<std::uint8_t> BinaryFramePacker::pixelData() const {
  std::vector<std::uint8_t> out = bytes_;
  if (out.size() % 2) out.push_back(0); // OB values have an even length
  return out;
}

std::size_t binaryFrameStride(std::size_t size, std::size_t frames, std::size_t pixelsPerFrame, bool& padded) {
  const auto fits = [&](std::size_t bytes) { return size == bytes || size == bytes + bytes % 2; };
  padded = false;
  if (fits((frames * pixelsPerFrame + 7) / 8)) return pixelsPerFrame;
  const std::size_t wholeBytes = (pixelsPerFrame + 7) / 8 * 8;
  padded = fits(frames * wholeBytes / 8);
  return padded ? wholeBytes : 0;
}

bool unpackBinaryFrame(const std::uint8_t* data, std::size_t size, std::size_t firstBit, std::size_t pixelsPerFrame,
                       std::uint8_t* out) {
  const std::size_t first = firstBit;
  if (pixelsPerFrame == 0 || (first + pixelsPerFrame + 7) / 8 > size) return false;
  for (std::size_t i = 0; i < pixelsPerFrame; ++i) {
    const std::size_t bit = first + i;
    out[i] = static_cast<std::uint8_t>((data[bit / 8] >> (bit % 8)) & 1u);
  }
  return true;
}

} // namespace voxseg::io::detail
