#include "voxseg/core/Log.h"
#include "voxseg/core/JsonText.h"

#include <nlohmann/json.hpp>

#include <atomic>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace voxseg {
namespace {

// One JSON object per message on stderr, for log collectors (--log-json).
class JsonLinesSink : public spdlog::sinks::base_sink<std::mutex> {
protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    const auto t = std::chrono::system_clock::to_time_t(msg.time);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(msg.time.time_since_epoch()).count() % 1000;
    std::tm utc{};
    gmtime_r(&t, &utc);
    char stamp[96];
    std::snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900, utc.tm_mon + 1,
                  utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, int(ms));
    const auto level = spdlog::level::to_string_view(msg.level);
    const nlohmann::json j{{"time", stamp},
                           {"level", std::string(level.data(), level.size())},
                           {"message", std::string(msg.payload.data(), msg.payload.size())}};
    const std::string line = jsonText(j) + "\n";
    std::fwrite(line.data(), 1, line.size(), stderr);
  }
  void flush_() override { std::fflush(stderr); }
};

} // namespace

namespace {
std::atomic<bool> jsonLines{false}; // read by signal handlers: lock-free
static_assert(std::atomic<bool>::is_always_lock_free);
} // namespace

bool logIsJson() { return jsonLines.load(); }

void initLogging(Verbosity verbosity, bool json) {
  static std::mutex guard;
  static bool jsonMode = false;
  const std::lock_guard<std::mutex> lock(guard);
  auto logger = spdlog::get("voxseg");
  if (logger && json != jsonMode) { // switching format: a fresh logger
    spdlog::drop("voxseg");
    logger = nullptr;
  }
  if (!logger) {
    if (json) {
      logger = std::make_shared<spdlog::logger>("voxseg", std::make_shared<JsonLinesSink>());
      spdlog::register_logger(logger);
    } else {
      logger = spdlog::stderr_color_mt("voxseg");
      logger->set_pattern("voxseg: %^%l%$: %v");
    }
    jsonMode = json;
    jsonLines.store(json);
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
void logError(const std::string& message) { spdlog::error("{}", message); }

} // namespace voxseg
