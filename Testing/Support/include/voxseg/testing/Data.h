#pragma once
// Paths to real data used by tests: ../shared (VOXSEG_SHARED_DIR) and Debian data packages
// unpacked by Testing/Scripts/fetch-debian-data.sh (VOXSEG_DEBIAN_DATA_DIR). A test whose data
// is absent is skipped with a message saying what is missing and how to get it.

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <unistd.h>

namespace voxseg::testing {

inline std::string sharedPath(const std::string& rel) { return std::string(VOXSEG_SHARED_DIR) + "/" + rel; }
inline std::string debianPath(const std::string& rel) { return std::string(VOXSEG_DEBIAN_DATA_DIR) + "/" + rel; }

/// A fresh empty folder for one test's outputs, removed by the destructor.
class TempDir {
public:
  TempDir() {
    static int counter = 0;
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    for (char& c : name) // a parameterized test's name ("Case/3") would make a folder in a folder
      if (c == '/') c = '_';
    path_ = std::filesystem::temp_directory_path() /
            ("voxseg-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" + name);
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  std::size_t entryCount() const {
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(path_)) ++n;
    return n;
  }
  const std::filesystem::path& path() const { return path_; }

private:
  std::filesystem::path path_;
};

} // namespace voxseg::testing

/// Declares `var` = path; skips the test when that file or folder does not exist.
#define VOXSEG_REQUIRE_DATA(var, pathExpr)                                                                             \
  const std::string var = (pathExpr);                                                                                  \
  if (!std::filesystem::exists(var))                                                                                   \
  GTEST_SKIP() << "test data not found: " << var                                                                       \
               << " (shared data: set VOXSEG_SHARED_DIR; Debian data: Testing/Scripts/fetch-debian-data.sh)"
