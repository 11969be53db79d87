#pragma once
// The scalar pixel types voxseg reads and writes, and one dispatch from the runtime value to a
// compile-time type. Images are stored in their file's type; computation converts to float.

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

namespace voxseg {

enum class PixelType { UInt8, Int8, UInt16, Int16, UInt32, Int32, Float32, Float64 };

template <typename T> struct TypeTag { using type = T; };

/// Calls f(TypeTag<T>{}) for the C++ type T of `type` and returns its result.
template <typename F> decltype(auto) visitPixelType(PixelType type, F&& f) {
  switch (type) {
  case PixelType::UInt8: return std::forward<F>(f)(TypeTag<std::uint8_t>{});
  case PixelType::Int8: return std::forward<F>(f)(TypeTag<std::int8_t>{});
  case PixelType::UInt16: return std::forward<F>(f)(TypeTag<std::uint16_t>{});
  case PixelType::Int16: return std::forward<F>(f)(TypeTag<std::int16_t>{});
  case PixelType::UInt32: return std::forward<F>(f)(TypeTag<std::uint32_t>{});
  case PixelType::Int32: return std::forward<F>(f)(TypeTag<std::int32_t>{});
  case PixelType::Float32: return std::forward<F>(f)(TypeTag<float>{});
  case PixelType::Float64: break;
  }
  return std::forward<F>(f)(TypeTag<double>{});
}

/// "uint8", "int16", "float32", ...
std::string pixelTypeName(PixelType type);
std::size_t pixelTypeSize(PixelType type);
/// Inverse of pixelTypeName; throws Error(Usage) naming the accepted values.
PixelType parsePixelType(const std::string& name);

} // namespace voxseg
