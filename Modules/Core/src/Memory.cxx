#include "voxseg/core/Memory.h"

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <string>

#ifdef __GLIBC__
#include <malloc.h>
#endif

namespace voxseg {

void tuneHeapForInference() {
#ifdef __GLIBC__
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  mallopt(M_TRIM_THRESHOLD, 128 << 20);
#endif
}

namespace {
// A cgroup memory limit in bytes; 0 when there is none ("max", an absurd v1 value) or no such file.
std::uint64_t cgroupLimit(const char* file) {
  std::ifstream in(file);
  std::string text;
  if (!(in >> text) || text.empty() || text.find_first_not_of("0123456789") != std::string::npos) return 0;
  try {
    const std::uint64_t v = std::stoull(text);
    return v >= (std::uint64_t(1) << 60) ? 0 : v; // v1 writes ~2^63 for "no limit"
  } catch (const std::exception&) {
    return 0;
  }
}
} // namespace

std::uint64_t usableMemoryBytes() {
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  std::uint64_t bytes = pages > 0 && page > 0 ? std::uint64_t(pages) * std::uint64_t(page) : 0;
  for (const char* f : {"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"})
    if (const std::uint64_t limit = cgroupLimit(f); limit > 0) bytes = bytes ? std::min(bytes, limit) : limit;
  return bytes;
}

} // namespace voxseg
