#pragma once
// Shared by every benchmark program, free of LibTorch: "--key value" arguments, main()'s error handling, timing.

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>

namespace voxseg::bench {

/// "--key value" pairs and bare "--flag"s; plain parsing, because these programs also build where CLI11
/// is not installed (the GPU machine). Unknown keys are an error (std::invalid_argument).
class Args {
public:
  Args(int argc, char** argv, const std::set<std::string>& keys, const std::set<std::string>& flags = {}) {
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      if (flags.count(a)) {
        values_[a] = "1";
      } else if (keys.count(a) && i + 1 < argc) {
        values_[a] = argv[++i];
      } else {
        throw std::invalid_argument(a == "--help" ? "" : a + (keys.count(a) ? " needs a value" : ": unknown option"));
      }
    }
  }
  bool has(const std::string& key) const { return values_.count(key) > 0; }
  std::string get(const std::string& key, const std::string& fallback = "") const {
    const auto it = values_.find(key);
    return it == values_.end() ? fallback : it->second;
  }
  int getInt(const std::string& key, int fallback) const { return has(key) ? std::stoi(get(key)) : fallback; }
  double getDouble(const std::string& key, double fallback) const { return has(key) ? std::stod(get(key)) : fallback; }
  /// "600x512x512" -> {600, 512, 512} (z, y, x); anything else throws std::invalid_argument naming the key.
  std::array<std::int64_t, 3> getShape(const std::string& key, const std::string& fallback) const {
    std::stringstream text(get(key, fallback));
    std::array<std::int64_t, 3> shape{};
    char x1 = 0, x2 = 0;
    if (!(text >> shape[0] >> x1 >> shape[1] >> x2 >> shape[2]) || x1 != 'x' || x2 != 'x' || !text.eof() ||
        shape[0] < 1 || shape[1] < 1 || shape[2] < 1)
      throw std::invalid_argument(key + " '" + get(key, fallback) + "': expected ZxYxX, e.g. 600x512x512");
    return shape;
  }

private:
  std::map<std::string, std::string> values_;
};

/// main() of a benchmark program: runs `body`; a usage error (std::invalid_argument, as Args throws) prints the
/// problem and where the usage is written (exit 2; --help: exit 0), any other error its message (exit 1).
inline int runMain(const std::string& name, const std::string& usageAt, const std::function<int()>& body) {
  try {
    return body();
  } catch (const std::invalid_argument& e) {
    std::cerr << (*e.what() ? name + ": " + e.what() + "\n" : std::string()) << "usage: see the comment at the top of "
              << usageAt << "\n";
    return *e.what() ? 2 : 0;
  } catch (const std::exception& e) {
    std::cerr << name << ": " << e.what() << "\n";
    return 1;
  }
}

/// Wall-clock seconds of one call.
inline double secondsOf(const std::function<void()>& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

} // namespace voxseg::bench
