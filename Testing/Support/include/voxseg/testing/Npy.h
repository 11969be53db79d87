#pragma once
// Minimal reader of NumPy .npy files (C order, little-endian float16/32/64 and int64) for tests
// that compare with the peers' golden outputs.

#include <cstdint>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace voxseg::testing {

struct NpyArray {
  std::vector<std::int64_t> shape;
  std::vector<float> data; ///< converted to float32 (float16 and float32 exactly)
  std::string dtype;
  std::int64_t size() const {
    std::int64_t n = 1;
    for (auto d : shape) n *= d;
    return n;
  }
};

inline float halfToFloat(std::uint16_t h) {
  const std::uint32_t sign = std::uint32_t(h & 0x8000) << 16;
  std::uint32_t exp = (h >> 10) & 0x1f, mant = h & 0x3ff, bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else { // subnormal
      exp = 127 - 15 + 1;
      while (!(mant & 0x400)) {
        mant <<= 1;
        --exp;
      }
      bits = sign | (exp << 23) | ((mant & 0x3ff) << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000 | (mant << 13);
  } else {
    bits = sign | ((exp - 15 + 127) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

inline NpyArray readNpy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open");
  char magic[6];
  in.read(magic, 6);
  if (std::memcmp(magic, "\x93NUMPY", 6) != 0) throw std::runtime_error(path + ": not a .npy file");
  unsigned char ver[2];
  in.read(reinterpret_cast<char*>(ver), 2);
  std::uint32_t headerLen = 0;
  if (ver[0] == 1) {
    std::uint16_t l;
    in.read(reinterpret_cast<char*>(&l), 2);
    headerLen = l;
  } else {
    in.read(reinterpret_cast<char*>(&headerLen), 4);
  }
  std::string header(headerLen, ' ');
  in.read(header.data(), headerLen);
  NpyArray a;
  const auto d = header.find("'descr': '") + 10;
  a.dtype = header.substr(d, header.find('\'', d) - d);
  if (header.find("'fortran_order': True") != std::string::npos) throw std::runtime_error(path + ": Fortran order");
  const auto s = header.find('(', header.find("'shape'")) + 1;
  const std::string dims = header.substr(s, header.find(')', s) - s);
  std::size_t pos = 0;
  while (pos < dims.size()) {
    const auto comma = dims.find(',', pos);
    const std::string item = dims.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    if (item.find_first_of("0123456789") != std::string::npos) a.shape.push_back(std::stoll(item));
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  const std::int64_t n = a.size();
  a.data.resize(std::size_t(n));
  if (a.dtype == "<f4") {
    in.read(reinterpret_cast<char*>(a.data.data()), n * 4);
  } else if (a.dtype == "<f2") {
    std::vector<std::uint16_t> h(static_cast<std::size_t>(n));
    in.read(reinterpret_cast<char*>(h.data()), n * 2);
    for (std::int64_t i = 0; i < n; ++i) a.data[std::size_t(i)] = halfToFloat(h[std::size_t(i)]);
  } else if (a.dtype == "<f8") {
    std::vector<double> v(static_cast<std::size_t>(n));
    in.read(reinterpret_cast<char*>(v.data()), n * 8);
    for (std::int64_t i = 0; i < n; ++i) a.data[std::size_t(i)] = float(v[std::size_t(i)]);
  } else {
    throw std::runtime_error(path + ": unsupported dtype " + a.dtype);
  }
  if (!in) throw std::runtime_error(path + ": truncated");
  return a;
}

} // namespace voxseg::testing
