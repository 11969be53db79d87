#include "voxseg/core/PixelType.h"

#include "voxseg/core/Error.h"

#include <array>

namespace voxseg {
namespace {
constexpr std::array<PixelType, 8> kAll{PixelType::UInt8,  PixelType::Int8,  PixelType::UInt16,  PixelType::Int16,
                                        PixelType::UInt32, PixelType::Int32, PixelType::Float32, PixelType::Float64};
}

std::string pixelTypeName(PixelType type) {
  switch (type) {
  case PixelType::UInt8: return "uint8";
  case PixelType::Int8: return "int8";
  case PixelType::UInt16: return "uint16";
  case PixelType::Int16: return "int16";
  case PixelType::UInt32: return "uint32";
  case PixelType::Int32: return "int32";
  case PixelType::Float32: return "float32";
  case PixelType::Float64: return "float64";
  }
  return "unknown";
}

std::size_t pixelTypeSize(PixelType type) {
  return visitPixelType(type, [](auto tag) { return sizeof(typename decltype(tag)::type); });
}

PixelType parsePixelType(const std::string& name) {
  std::string accepted;
  for (PixelType t : kAll) {
    if (pixelTypeName(t) == name) return t;
    accepted += (accepted.empty() ? "" : ", ") + pixelTypeName(t);
  }
  throw usageError("unknown pixel type '" + name + "' (accepted: " + accepted + ")");
}

} // namespace voxseg
