#include "NiftiNonFinite.h"
#include "RawBytes.h"

#include "voxseg/core/Error.h"

#include <zlib.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <vector>

namespace voxseg::io::detail {

NonFiniteScan::NonFiniteScan(std::uint64_t voxOffset, std::uint64_t payloadBytes, int datatype, bool swap)
    : begin_(voxOffset), end_(voxOffset + payloadBytes), valueBytes_(datatype == 16   ? 4
                                                                     : datatype == 64 ? 8
                                                                                      : 0),
      swap_(swap) {}

void NonFiniteScan::value(const unsigned char* p) {
  const bool nonFinite = valueBytes_ == 4
                             ? (loadBytes<std::uint32_t>(p, swap_) & 0x7f800000u) == 0x7f800000u
                             : (loadBytes<std::uint64_t>(p, swap_) & 0x7ff0000000000000ull) == 0x7ff0000000000000ull;
  count_ += nonFinite;
}

void NonFiniteScan::feed(const unsigned char* p, std::size_t n, std::uint64_t at) {
  if (!valueBytes_) return;
  // the part of [at, at + n) inside the payload
  const std::uint64_t from = std::max(at, begin_), to = std::min(at + n, end_);
  if (from >= to) return;
  p += from - at;
  std::size_t left = std::size_t(to - from);
  if (have_) { // a value cut by the previous piece
    const std::size_t take = std::min<std::size_t>(valueBytes_ - have_, left);
    std::memcpy(carry_ + have_, p, take);
    have_ += unsigned(take), p += take, left -= take;
    if (have_ < valueBytes_) return;
    value(carry_);
    have_ = 0;
  }
  for (; left >= valueBytes_; p += valueBytes_, left -= valueBytes_) value(p);
  std::memcpy(carry_, p, left); // fewer bytes than a value
  have_ = unsigned(left);
}

void restoreNiftiNonFinite(const std::string& path, const NonFinitePayload& payload, Volume& v) {
  const unsigned bytes = payload.valueBytes;
  const bool swap = payload.swap;
  const double slope = payload.slope, inter = payload.inter;
  if (!bytes || !payload.count) return;
  // ITK's NIfTI reader scales by scl_slope and scl_inter unless the slope is 0 (or 1 and the intercept 0)
  const bool scaled = slope != 0 && std::isfinite(slope) && (slope != 1 || inter != 0);
  const std::size_t voxels = v.geometry().voxelCount();
  float* f32 = v.pixelType == PixelType::Float32 ? v.as<float>()->GetBufferPointer() : nullptr;
  double* f64 = v.pixelType == PixelType::Float64 ? v.as<double>()->GetBufferPointer() : nullptr;
  if (!f32 && !f64) return;
  std::unique_ptr<gzFile_s, GzCloser> f(gzopen(path.c_str(), "rb"));
  if (!f) throw inputError(path, "cannot open file");
  gzbuffer(f.get(), 1 << 17);
  if (gzseek(f.get(), z_off_t(payload.voxOffset), SEEK_SET) < 0)
    throw inputError(path, "cannot read the voxel data again");
  std::vector<unsigned char> buf(std::size_t(bytes) << 16);
  for (std::size_t i = 0; i < voxels;) {
    const std::size_t want = std::min<std::size_t>(buf.size() / bytes, voxels - i);
    if (gzread(f.get(), buf.data(), unsigned(want * bytes)) != int(want * bytes))
      throw inputError(path, "cannot read the voxel data again");
    for (std::size_t k = 0; k < want; ++k, ++i) {
      const double raw =
          bytes == 4 ? double(loadBytes<float>(buf.data() + 4 * k, swap)) : loadBytes<double>(buf.data() + 8 * k, swap);
      if (std::isfinite(raw)) continue;
      const double value = scaled ? raw * slope + inter : raw;
      if (f32) f32[i] = static_cast<float>(value);
      if (f64) f64[i] = value;
    }
  }
}

} // namespace voxseg::io::detail
