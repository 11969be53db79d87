#pragma once
// An X display for VTK's off-screen rendering. Debian's VTK 9.1 renders through GLX only (no EGL or
// OSMesa), so even off-screen pictures need an X server: the one in $DISPLAY when set, otherwise a
// private Xvfb started on first use and stopped when the process exits.

#include <string>

namespace voxseg::rendering {

/// Makes sure $DISPLAY names a usable X server, starting `Xvfb` (searched on PATH) when $DISPLAY is
/// unset or empty, or names a server that does not answer (a warning says so; VTK would abort the
/// process). Returns the display name. Throws Error(Internal) naming the remedy (install the xvfb
/// package, or run under xvfb-run) when no server can be had. Thread-safe; starts Xvfb once.
std::string ensureDisplay();

/// Whether an X server accepts a connection on `display` (XOpenDisplay; true when libX11 cannot be loaded).
bool displayAnswers(const std::string& display);

/// For a window on the user's screen: throws Error(Usage) unless $DISPLAY was set and answers (a private Xvfb
/// started by ensureDisplay does not count).
void checkInteractiveDisplay();

} // namespace voxseg::rendering
