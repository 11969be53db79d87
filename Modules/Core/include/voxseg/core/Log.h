#pragma once
// Logging goes to stderr (spdlog inside Core); stdout is kept for results (info, --json).
// This header includes no logging library, so modules built against LibTorch (which bundles its
// own fmt) never see two fmt versions.

#include <string>

namespace voxseg {

enum class Verbosity { Quiet, Normal, Verbose, Debug };

/// Installs the stderr logger used by every voxseg program; safe to call more than once. With `json`,
/// every message is one JSON object per line: {"time": ISO 8601 UTC, "level": ..., "message": ...}.
void initLogging(Verbosity verbosity, bool json = false);

/// Whether initLogging chose JSON lines; safe to call from a signal handler.
bool logIsJson();

void logDebug(const std::string& message);
void logInfo(const std::string& message);
void logWarning(const std::string& message);
void logError(const std::string& message);

} // namespace voxseg
