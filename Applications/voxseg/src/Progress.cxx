#include "Progress.h"

#include "voxseg/core/Error.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <unistd.h>

namespace voxseg::cli {

ProgressStyle parseProgressStyle(const std::string& text) {
  if (text == "auto") return ProgressStyle::Auto;
  if (text == "bar") return ProgressStyle::Bar;
  if (text == "plain") return ProgressStyle::Plain;
  if (text == "none") return ProgressStyle::None;
  throw usageError("--progress '" + text + "': expected auto, bar, plain or none");
}

Progress::Progress(ProgressStyle style, std::string stage)
    : style_(style), stage_(std::move(stage)), start_(std::chrono::steady_clock::now()) {
  if (style_ == ProgressStyle::Auto) style_ = ::isatty(STDERR_FILENO) ? ProgressStyle::Bar : ProgressStyle::Plain;
  if (style_ != ProgressStyle::None && !spdlog::should_log(spdlog::level::info)) style_ = ProgressStyle::None;
}

Progress::~Progress() {
  if (drawn_) std::fputc('\n', stderr);
}

std::string Progress::clock(double seconds) {
  const long s = std::max(0L, long(seconds + 0.5));
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  else
    std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
  return buf;
}

void Progress::update(std::int64_t done, std::int64_t total) {
  if (style_ == ProgressStyle::None) return;
  total = std::max<std::int64_t>(total, 1);
  if (style_ == ProgressStyle::Plain) {
    const std::int64_t decile = done * 10 / total;
    if (decile != lastDecile_) spdlog::info("{}: windows {}/{}", stage_, done, total);
    lastDecile_ = decile;
    return;
  }
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double fraction = double(done) / double(total);
  const int width = 30, filled = int(fraction * width);
  std::string bar(std::size_t(filled), '=');
  if (filled < width) bar += '>';
  bar.resize(std::size_t(width), ' ');
  const std::string eta = done > 0 ? clock(elapsed / fraction - elapsed) : "?";
  std::fprintf(stderr, "\r%s [%s] %3d%% windows %lld/%lld ETA %s  ", stage_.c_str(), bar.c_str(), int(fraction * 100),
               static_cast<long long>(done), static_cast<long long>(total), eta.c_str());
  std::fflush(stderr);
  drawn_ = true;
}

} // namespace voxseg::cli
