#pragma once
// printf-style formatting for the benchmark and device programs: they also build against pip's
// LibTorch, which bundles its own fmt, so they use neither fmt nor spdlog.

#include <cstdarg>
#include <cstdio>
#include <string>

namespace voxseg::testing {

inline std::string strf(const char* format, ...) {
  char buf[512];
  va_list args;
  va_start(args, format);
  std::vsnprintf(buf, sizeof(buf), format, args);
  va_end(args);
  return buf;
}

} // namespace voxseg::testing
