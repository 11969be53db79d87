#pragma once
// Reading PNGs back for the rendering tests: size, and how many pixels carry a given color.

#include <array>
#include <string>

namespace voxseg::rendering::testing {

struct Png {
  int width = 0, height = 0, components = 0;
  std::size_t distinctColors = 0;
};

Png readPng(const std::string& path);

/// Pixels whose RGB lies within `tolerance` (per channel) of `rgb`.
std::size_t pixelsNear(const std::string& path, std::array<int, 3> rgb, int tolerance);

} // namespace voxseg::rendering::testing
