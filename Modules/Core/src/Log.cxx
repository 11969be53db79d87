#include "voxseg/core/Log.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace voxseg {

void initLogging(Verbosity verbosity) {
  auto logger = spdlog::get("voxseg");
  if (!logger) {
    logger = spdlog::stderr_color_mt("voxseg");
    logger->set_pattern("voxseg: %^%l%$: %v");
    spdlog::set_default_logger(logger);
  }
  switch (verbosity) {
  case Verbosity::Quiet: logger->set_level(spdlog::level::err); break;
  case Verbosity::Normal: logger->set_level(spdlog::level::info); break;
  case Verbosity::Verbose: logger->set_level(spdlog::level::debug); break;
  case Verbosity::Debug: logger->set_level(spdlog::level::trace); break;
  }
}

void logDebug(const std::string& message) { spdlog::debug("{}", message); }
void logInfo(const std::string& message) { spdlog::info("{}", message); }
void logWarning(const std::string& message) { spdlog::warn("{}", message); }

} // namespace voxseg
