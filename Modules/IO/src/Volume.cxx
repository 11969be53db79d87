#include "voxseg/io/Volume.h"

#include <fmt/format.h>

#include "voxseg/core/Error.h"
#include "voxseg/core/ItkGeometry.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <type_traits>
#include <vector>

namespace voxseg::io {

Geometry Volume::geometry() const { return geometryOf(*image); }

void Volume::throwTypeMismatch() const {
  throw Error(ExitCode::Internal, source + ": image is not stored as " + pixelTypeName(pixelType));
}

void requireWholeBuffer(const Volume& volume) {
  const std::string name = volume.source.empty() ? "input image" : volume.source;
  if (!volume.image) throw inputError(name, "no image");
  const auto largest = volume.image->GetLargestPossibleRegion(), buffered = volume.image->GetBufferedRegion();
  const auto index = largest.GetIndex();
  if (index[0] != 0 || index[1] != 0 || index[2] != 0)
    throw inputError(name, fmt::format("its region starts at index ({}, {}, {}); voxseg takes an image whose grid "
                                       "starts at index 0, its origin there (as read from a file; "
                                       "itk::ExtractImageFilter and CropImageFilter keep the index, "
                                       "itk::RegionOfInterestImageFilter gives index 0)",
                                       index[0], index[1], index[2]));
  if (buffered != largest)
    throw inputError(name, "only part of its grid is in memory (the buffered region is not the largest possible "
                           "region): Update() the whole image first");
}

void requireFinite(const Volume& volume) {
  requireWholeBuffer(volume);
  if (volume.pixelType != PixelType::Float32 && volume.pixelType != PixelType::Float64) return; // integers are finite
  const IntensityStats s = intensityStats(volume);
  if (s.nonFinite > 0)
    throw inputError(volume.source.empty() ? "input image" : volume.source,
                     std::to_string(s.nan) + " NaN and " + std::to_string(s.nonFinite - s.nan) +
                         " infinite voxel(s); voxseg segments finite images only (an extreme scl_slope or "
                         "scl_inter in a NIfTI header overflows too)");
}

std::vector<std::uint16_t> labelValues(const Volume& volume) {
  std::vector<std::uint16_t> out(volume.geometry().voxelCount());
  visitPixelType(volume.pixelType, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* p = volume.as<T>()->GetBufferPointer();
    const std::size_t n = out.size();
    auto refuse = [&](double v, std::size_t i) { // the value as %g would print it, and where (x, y, z)
      const auto& size = volume.geometry().size;
      char text[32];
      std::snprintf(text, sizeof text, "%.10g", v);
      throw inputError(volume.source, std::string("voxel value ") + text + " at (" + std::to_string(i % size[0]) +
                                          ", " + std::to_string(i / size[0] % size[1]) + ", " +
                                          std::to_string(i / size[0] / size[1]) +
                                          ") is not a label; a label map holds integers from 0 to 65535");
    };
    if constexpr (std::is_integral_v<T> && std::is_unsigned_v<T> && sizeof(T) <= 2) {
      std::copy(p, p + n, out.begin()); // every value is a label
    } else if constexpr (std::is_integral_v<T>) {
      for (std::size_t i = 0; i < n; ++i) {
        if (p[i] < 0 || static_cast<std::uint64_t>(p[i]) > 65535) refuse(static_cast<double>(p[i]), i);
        out[i] = static_cast<std::uint16_t>(p[i]);
      }
    } else {
      for (std::size_t i = 0; i < n; ++i) {
        const double v = static_cast<double>(p[i]);
        if (!(v >= 0 && v <= 65535 && std::floor(v) == v)) refuse(v, i);
        out[i] = static_cast<std::uint16_t>(v);
      }
    }
  });
  return out;
}

void* bufferOf(const Volume& volume) {
  return visitPixelType(volume.pixelType, [&](auto tag) -> void* {
    using T = typename decltype(tag)::type;
    return volume.as<T>()->GetBufferPointer();
  });
}

Volume makeVolume(PixelType type, const Geometry& geometry) {
  Volume v;
  v.pixelType = type;
  v.image = visitPixelType(type, [&](auto tag) -> itk::ImageBase<3>::Pointer {
    using ImageType = itk::Image<typename decltype(tag)::type, 3>;
    auto img = ImageType::New();
    typename ImageType::RegionType region;
    for (unsigned i = 0; i < 3; ++i) region.SetSize(i, geometry.size[i]);
    img->SetRegions(region);
    setGeometry(*img, geometry);
    img->Allocate(true);
    return img.GetPointer();
  });
  return v;
}

namespace {
void copyAsFloat(const Volume& v, float* dst) {
  visitPixelType(v.pixelType, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* src = v.as<T>()->GetBufferPointer();
    const std::size_t n = v.geometry().voxelCount();
    for (std::size_t i = 0; i < n; ++i) dst[i] = static_cast<float>(src[i]);
  });
}
} // namespace

itk::Image<float, 3>::Pointer Volume::toFloat() const {
  if (pixelType == PixelType::Float32) return as<float>();
  Volume out = makeVolume(PixelType::Float32, geometry());
  auto dst = out.as<float>();
  copyAsFloat(*this, dst->GetBufferPointer());
  return dst;
}

std::vector<float> floatValues(const Volume& volume) {
  std::vector<float> out(volume.geometry().voxelCount());
  copyAsFloat(volume, out.data());
  return out;
}

IntensityStats intensityStats(const Volume& volume) {
  return visitPixelType(volume.pixelType, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* p = volume.as<T>()->GetBufferPointer();
    const std::size_t n = volume.geometry().voxelCount();
    IntensityStats s;
    double lo = std::numeric_limits<double>::infinity();
    double hi = -lo;
    for (std::size_t i = 0; i < n; ++i) {
      const double v = static_cast<double>(p[i]);
      if (!std::isfinite(v)) {
        ++s.nonFinite;
        s.nan += std::isnan(v) ? 1 : 0;
        continue;
      }
      lo = v < lo ? v : lo;
      hi = v > hi ? v : hi;
    }
    if (lo <= hi) {
      s.min = lo;
      s.max = hi;
    }
    return s;
  });
}

} // namespace voxseg::io
