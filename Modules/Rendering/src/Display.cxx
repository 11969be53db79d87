#include "voxseg/rendering/Display.h"

#include "voxseg/core/Error.h"

#include "voxseg/core/Log.h"
#include "voxseg/io/AtomicOutput.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
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

std::mutex mutex; // guards xvfbPid, xvfbReason, ensureDisplay's state and $DISPLAY
pid_t xvfbPid = 0;
std::string xvfbReason; // why voxseg started its own Xvfb ($DISPLAY unset or not answering), empty if it did not

void stopXvfb() {
  if (xvfbPid > 0) {
    kill(xvfbPid, SIGTERM);
    io::forgetAtInterrupt(xvfbPid); // after the kill (an interrupt between the two stops it too), before it is reaped
    waitpid(xvfbPid, nullptr, 0);
    xvfbPid = 0;
  }
}

// Starts Xvfb with -displayfd and reads the display number it chose (at most 20 s).
std::string startXvfb(const std::string& why) {
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
  // No interrupt between the spawn and the registration that lets the handler stop it; Xvfb starts unblocked.
  sigset_t block, previous, none;
  sigemptyset(&block);
  sigaddset(&block, SIGINT);
  sigaddset(&block, SIGTERM);
  sigemptyset(&none);
  pthread_sigmask(SIG_BLOCK, &block, &previous);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
  const int rc = posix_spawnp(&pid, "Xvfb", &actions, &attr, argv.data(), environ);
  if (rc == 0) io::stopAtInterrupt(pid); // an interrupted render must not leave its X server running
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    throw Error(ExitCode::Internal, "rendering needs an X display: " + why +
                                        " and Xvfb cannot be started (install Debian's xvfb package, or run under "
                                        "xvfb-run)");
  }
  std::string number;
  pollfd p{fds[0], POLLIN, 0};
  char c = 0;
  while (poll(&p, 1, 20000) > 0 && read(fds[0], &c, 1) == 1 && c != '\n') number += c;
  close(fds[0]);
  if (number.empty()) {
    io::forgetAtInterrupt(pid);
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

bool displayAnswers(const std::string& display) {
  // libX11 is loaded by VTK's OpenGL2 module anyway; through dlopen voxseg needs no X11 development files
  void* x11 = dlopen("libX11.so.6", RTLD_LAZY | RTLD_LOCAL);
  if (!x11) return true; // cannot tell: VTK will say
  using Open = void* (*)(const char*);
  using Close = int (*)(void*);
  const auto open = reinterpret_cast<Open>(dlsym(x11, "XOpenDisplay"));
  const auto close = reinterpret_cast<Close>(dlsym(x11, "XCloseDisplay"));
  bool answers = true;
  if (open && close) {
    void* connection = open(display.c_str());
    answers = connection != nullptr;
    if (connection) close(connection);
  }
  dlclose(x11);
  return answers;
}

namespace {
// What keeps `display` ($DISPLAY's value, or null) from being used: "" when a server answers there.
std::string displayProblem(const char* display) {
  if (!display || !*display) return "$DISPLAY is not set";
  return displayAnswers(display) ? "" : std::string("no X server answers on $DISPLAY (") + display + ")";
}
} // namespace

std::string ensureDisplay() {
  std::lock_guard<std::mutex> lock(mutex);
  static std::string checked; // a $DISPLAY that answered once is not asked again
  const char* current = std::getenv("DISPLAY");
  if (current && *current && checked == current) return current;
  const std::string why = displayProblem(current);
  if (why.empty()) {
    checked = current;
    return current;
  }
  // VTK would abort the process (a batch would lose every later case): a private Xvfb instead
  if (current && *current) logWarning(why + ": rendering on a private Xvfb instead");
  const std::string display = startXvfb(why);
  xvfbReason = why;
  checked = display;
  setenv("DISPLAY", display.c_str(), 1);
  logDebug("started Xvfb on display " + display + " for off-screen rendering");
  return display;
}

void checkInteractiveDisplay() {
  std::lock_guard<std::mutex> lock(mutex);
  const std::string reason = xvfbReason.empty() ? displayProblem(std::getenv("DISPLAY")) : xvfbReason;
  if (!reason.empty()) throw usageError("--interactive needs a display: " + reason);
}

} // namespace voxseg::rendering
