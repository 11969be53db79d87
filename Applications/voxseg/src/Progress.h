#pragma once
// Progress of the sliding window for people and programs: a redrawn bar on a terminal (stage, windows,
// percentage, ETA), plain log lines every 10% otherwise, or nothing.

#include <chrono>
#include <cstdint>
#include <string>

namespace voxseg::cli {

enum class ProgressStyle { Auto, Bar, Plain, None };

/// "auto" (a bar when stderr is a terminal, else plain), "bar", "plain" or "none"; throws usageError.
ProgressStyle parseProgressStyle(const std::string& text);

class Progress {
public:
  Progress(ProgressStyle style, std::string stage);
  ~Progress(); ///< ends the bar's line
  void update(std::int64_t done, std::int64_t total);

  /// "1:05", "12:00:03": the ETA format of the bar.
  static std::string clock(double seconds);

private:
  ProgressStyle style_;
  std::string stage_;
  std::chrono::steady_clock::time_point start_;
  std::int64_t lastDecile_ = -1;
  bool drawn_ = false;
};

} // namespace voxseg::cli
