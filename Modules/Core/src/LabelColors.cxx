#include "voxseg/core/LabelColors.h"

#include <cmath>
#include <cstddef>

namespace voxseg {

std::array<int, 3> defaultLabelColor(int value) {
  static const std::array<std::array<int, 3>, 10> first{{{128, 174, 128},
                                                         {241, 214, 145},
                                                         {177, 122, 101},
                                                         {111, 184, 210},
                                                         {216, 101, 79},
                                                         {221, 130, 101},
                                                         {144, 238, 144},
                                                         {192, 104, 88},
                                                         {220, 245, 20},
                                                         {78, 63, 0}}};
  if (value < 1) return {0, 0, 0};
  if (value <= 10) return first[std::size_t(value - 1)];
  // HSV with the hue stepped by the golden angle; saturation and value alternate in three steps
  const double h = std::fmod(double(value - 11) * 137.50776405, 360.0) / 60.0;
  const double sat = 0.55 + 0.15 * double(value % 3), val = 0.95 - 0.1 * double((value / 3) % 3);
  const double c = val * sat, x = c * (1 - std::fabs(std::fmod(h, 2.0) - 1)), m = val - c;
  double r = 0, g = 0, b = 0;
  switch (int(h)) {
  case 0: r = c, g = x; break;
  case 1: r = x, g = c; break;
  case 2: g = c, b = x; break;
  case 3: g = x, b = c; break;
  case 4: r = x, b = c; break;
  default: r = c, b = x; break;
  }
  auto byte = [m](double v) { return int(std::lround((v + m) * 255.0)); };
  return {byte(r), byte(g), byte(b)};
}

LabelInfo describeLabel(int value, const std::vector<LabelInfo>& known) {
  LabelInfo out;
  out.value = value;
  for (const auto& l : known)
    if (l.value == value) out = l;
  if (out.color == std::array<int, 3>{0, 0, 0}) out.color = defaultLabelColor(value);
  return out;
}

} // namespace voxseg
