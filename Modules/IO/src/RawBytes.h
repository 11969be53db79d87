#pragma once
// Private to IO: fixed-layout header fields in a file's byte order, and a gzFile owner.

#include <zlib.h>

#include <algorithm>
#include <cstring>

namespace voxseg::io::detail {

/// The value at `p`, stored in the file's byte order (`swap`: not this machine's).
template <typename T> T loadBytes(const unsigned char* p, bool swap) {
  unsigned char b[sizeof(T)];
  std::memcpy(b, p, sizeof(T));
  if (swap) std::reverse(b, b + sizeof(T));
  T v;
  std::memcpy(&v, b, sizeof(T));
  return v;
}

/// Stores `v` at `p` in the file's byte order.
template <typename T> void storeBytes(unsigned char* p, T v, bool swap) {
  std::memcpy(p, &v, sizeof(T));
  if (swap) std::reverse(p, p + sizeof(T));
}

struct GzCloser {
  void operator()(gzFile_s* f) const { gzclose(f); }
};

} // namespace voxseg::io::detail
