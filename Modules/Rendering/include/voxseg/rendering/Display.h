#pragma once
// An X display for VTK's off-screen rendering. Debian's VTK 9.1 renders through GLX only (no EGL or
// OSMesa), so even off-screen pictures need an X server: the one in $DISPLAY when set, otherwise a
// private Xvfb started on first use and stopped when the process exits.

#include <string>

namespace voxseg::rendering {

/// Makes sure $DISPLAY names a usable X server, starting `Xvfb` (searched on PATH) when $DISPLAY is
/// unset or empty. Returns the display name. Throws Error(Internal) naming the remedy (install the
/// xvfb package, or run under xvfb-run) when no server can be had. Thread-safe; starts Xvfb once.
std::string ensureDisplay();

} // namespace voxseg::rendering
