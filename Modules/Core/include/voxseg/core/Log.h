#pragma once
// Logging goes to stderr through spdlog; stdout is kept for results (info, --json).

#include <spdlog/spdlog.h>

namespace voxseg {

enum class Verbosity { Quiet, Normal, Verbose, Debug };

/// Installs the stderr logger used by every voxseg program; safe to call more than once.
void initLogging(Verbosity verbosity);

} // namespace voxseg
