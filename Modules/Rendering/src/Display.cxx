#include "voxseg/rendering/Display.h"

#include "voxseg/core/Error.h"

#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

extern char** environ;

namespace voxseg::rendering {
namespace {

pid_t xvfbPid = 0;

void stopXvfb() {
  if (xvfbPid > 0) {
    kill(xvfbPid, SIGTERM);
    waitpid(xvfbPid, nullptr, 0);
    xvfbPid = 0;
  }
}

// Starts Xvfb with -displayfd and reads the display number it chose (at most 20 s).
std::string startXvfb() {
  int fds[2];
  if (pipe(fds) != 0) throw Error(ExitCode::Internal, "cannot create a pipe to start Xvfb");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  const std::string fd = std::to_string(fds[1]);
  std::vector<std::string> args{"Xvfb",         "-displayfd", fd,    "-screen", "0",
                                "1920x1080x24", "-nolisten",  "tcp", "-noreset"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, "Xvfb", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    throw Error(ExitCode::Internal, "rendering needs an X display: $DISPLAY is not set and Xvfb cannot be started "
                                    "(install Debian's xvfb package, or run under xvfb-run)");
  }
  std::string number;
  pollfd p{fds[0], POLLIN, 0};
  char c = 0;
  while (poll(&p, 1, 20000) > 0 && read(fds[0], &c, 1) == 1 && c != '\n') number += c;
  close(fds[0]);
  if (number.empty()) {
    kill(pid, SIGTERM);
    waitpid(pid, nullptr, 0);
    throw Error(ExitCode::Internal, "rendering needs an X display: Xvfb started but gave no display number "
                                    "(run under xvfb-run instead)");
  }
  xvfbPid = pid;
  std::atexit(stopXvfb);
  return ":" + number;
}

} // namespace

std::string ensureDisplay() {
  static std::mutex mutex;
  std::lock_guard<std::mutex> lock(mutex);
  const char* current = std::getenv("DISPLAY");
  if (current && *current) return current;
  const std::string display = startXvfb();
  setenv("DISPLAY", display.c_str(), 1);
  spdlog::debug("started Xvfb on display {} for off-screen rendering", display);
  return display;
}

} // namespace voxseg::rendering
