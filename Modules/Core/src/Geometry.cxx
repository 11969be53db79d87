#include "voxseg/core/Geometry.h"

#include "voxseg/core/Error.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <sstream>

namespace voxseg {
namespace {

// Letter for world axis w (LPS) pointed to with sign s.
char axisLetter(int w, bool positive) {
  static const char pos[3] = {'L', 'P', 'S'};
  static const char neg[3] = {'R', 'A', 'I'};
  return positive ? pos[w] : neg[w];
}

// World axis and sign named by a letter; -1 when the letter is not an orientation letter.
int letterAxis(char c, bool& positive) {
  switch (c) {
  case 'L': positive = true; return 0;
  case 'R': positive = false; return 0;
  case 'P': positive = true; return 1;
  case 'A': positive = false; return 1;
  case 'S': positive = true; return 2;
  case 'I': positive = false; return 2;
  default: return -1;
  }
}

// For each index axis j, the world axis it is closest to (greedy on the largest |cosine|, so
// each world axis is used once) and the sign of that cosine.
void closestAxes(const Mat3& d, std::array<int, 3>& world, std::array<bool, 3>& positive) {
  std::array<bool, 3> usedIndex{false, false, false};
  std::array<bool, 3> usedWorld{false, false, false};
  for (int round = 0; round < 3; ++round) {
    double best = -1;
    int bj = 0, bw = 0;
    for (int j = 0; j < 3; ++j) {
      if (usedIndex[j]) continue;
      for (int w = 0; w < 3; ++w) {
        if (usedWorld[w]) continue;
        const double v = std::fabs(d[3 * w + j]);
        if (v > best) {
          best = v;
          bj = j;
          bw = w;
        }
      }
    }
    usedIndex[bj] = usedWorld[bw] = true;
    world[bj] = bw;
    positive[bj] = d[3 * bw + bj] >= 0;
  }
}

template <typename T> void permuteTyped(const T* in, T* out, const Size3& inSize, const AxisPlan& plan) {
  const std::array<std::ptrdiff_t, 3> inStride{1, static_cast<std::ptrdiff_t>(inSize[0]),
                                               static_cast<std::ptrdiff_t>(inSize[0] * inSize[1])};
  Size3 outSize;
  std::array<std::ptrdiff_t, 3> step;
  std::ptrdiff_t start = 0;
  for (int i = 0; i < 3; ++i) {
    const int a = plan.permutation[i];
    outSize[i] = inSize[a];
    step[i] = plan.flip[i] ? -inStride[a] : inStride[a];
    if (plan.flip[i]) start += static_cast<std::ptrdiff_t>(inSize[a] - 1) * inStride[a];
  }
  std::size_t o = 0;
  for (std::size_t z = 0; z < outSize[2]; ++z) {
    const std::ptrdiff_t pz = start + static_cast<std::ptrdiff_t>(z) * step[2];
    for (std::size_t y = 0; y < outSize[1]; ++y) {
      std::ptrdiff_t p = pz + static_cast<std::ptrdiff_t>(y) * step[1];
      for (std::size_t x = 0; x < outSize[0]; ++x, p += step[0]) out[o++] = in[p];
    }
  }
}

struct Bytes16 {
  unsigned char b[16];
};

} // namespace

Vec3 Geometry::indexToWorld(const Vec3& index) const {
  Vec3 w = origin;
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c) w[r] += direction[3 * r + c] * spacing[c] * index[c];
  return w;
}

bool Geometry::operator==(const Geometry& o) const {
  return size == o.size && spacing == o.spacing && origin == o.origin && direction == o.direction;
}

bool Geometry::nearlyEqual(const Geometry& o, double tol) const {
  if (size != o.size) return false;
  for (int i = 0; i < 3; ++i)
    if (std::fabs(spacing[i] - o.spacing[i]) > tol || std::fabs(origin[i] - o.origin[i]) > tol) return false;
  for (int i = 0; i < 9; ++i)
    if (std::fabs(direction[i] - o.direction[i]) > tol) return false;
  return true;
}

namespace {
enum class GridPart { None, Size, Spacing, Direction, Origin };

// The first part in which two grids differ beyond what files keep (sameGrid's tolerances).
GridPart firstDifference(const Geometry& a, const Geometry& b) {
  if (a.size != b.size) return GridPart::Size;
  double finest = std::numeric_limits<double>::infinity();
  for (int i = 0; i < 3; ++i) {
    if (std::fabs(a.spacing[i] - b.spacing[i]) > 1e-4 * std::max(a.spacing[i], b.spacing[i])) return GridPart::Spacing;
    finest = std::min(finest, std::min(a.spacing[i], b.spacing[i]));
  }
  for (int i = 0; i < 9; ++i)
    if (std::fabs(a.direction[i] - b.direction[i]) > 1e-4) return GridPart::Direction;
  for (int i = 0; i < 3; ++i)
    if (std::fabs(a.origin[i] - b.origin[i]) >
        std::max(1e-3 * finest, 1e-6 * std::max(std::fabs(a.origin[i]), std::fabs(b.origin[i]))))
      return GridPart::Origin;
  return GridPart::None;
}
} // namespace

bool sameGrid(const Geometry& a, const Geometry& b) { return firstDifference(a, b) == GridPart::None; }

std::string gridDifference(const Geometry& a, const Geometry& b) {
  const auto text = [](const auto& v, const char* sep) {
    std::ostringstream m;
    m.precision(10); // origins differ by 1e-3 of a voxel at most: "-1234.5 vs -1234.502", not "-1234.5 vs -1234.5"
    m << v[0] << sep << v[1] << sep << v[2];
    return m.str();
  };
  switch (firstDifference(a, b)) {
  case GridPart::None: return "";
  case GridPart::Size: return "size " + text(a.size, "x") + " vs " + text(b.size, "x");
  case GridPart::Spacing: return "spacing " + text(a.spacing, "x") + " vs " + text(b.spacing, "x") + " mm";
  case GridPart::Direction:
    for (int j = 0; j < 3; ++j)
      for (int i = 0; i < 3; ++i)
        if (std::fabs(a.direction[3 * i + j] - b.direction[3 * i + j]) > 1e-4)
          return "direction of axis " + std::to_string(j) + " differs";
    break;
  case GridPart::Origin: break;
  }
  return "origin (" + text(a.origin, ", ") + ") vs (" + text(b.origin, ", ") + ") mm";
}

std::string orientationCode(const Mat3& direction) {
  std::array<int, 3> world{};
  std::array<bool, 3> positive{};
  closestAxes(direction, world, positive);
  std::string code(3, '?');
  for (int j = 0; j < 3; ++j) code[j] = axisLetter(world[j], positive[j]);
  return code;
}

void validateOrientationCode(std::string_view code) {
  bool ok = code.size() == 3;
  std::array<bool, 3> seen{false, false, false};
  for (std::size_t i = 0; ok && i < code.size(); ++i) {
    bool positive = false;
    const int w = letterAxis(code[i], positive);
    ok = w >= 0 && !seen[w];
    if (ok) seen[w] = true;
  }
  if (!ok)
    throw usageError("invalid orientation code '" + std::string(code) +
                     "': expected three letters naming each of R/L, A/P and S/I once (e.g. RAS, LPS)");
}

bool AxisPlan::isIdentity() const {
  return permutation == std::array<int, 3>{0, 1, 2} && flip == std::array<bool, 3>{false, false, false};
}

AxisPlan planReorientation(const Mat3& direction, std::string_view targetCode) {
  validateOrientationCode(targetCode);
  std::array<int, 3> world{};
  std::array<bool, 3> positive{};
  closestAxes(direction, world, positive);
  AxisPlan plan;
  for (int i = 0; i < 3; ++i) {
    bool wantPositive = false;
    const int w = letterAxis(targetCode[i], wantPositive);
    for (int j = 0; j < 3; ++j) {
      if (world[j] == w) {
        plan.permutation[i] = j;
        plan.flip[i] = positive[j] != wantPositive;
      }
    }
  }
  return plan;
}

Geometry reorientGeometry(const Geometry& in, const AxisPlan& plan) {
  Geometry out;
  Vec3 firstVoxel{0, 0, 0};
  for (int i = 0; i < 3; ++i) {
    const int a = plan.permutation[i];
    out.size[i] = in.size[a];
    out.spacing[i] = in.spacing[a];
    const double sign = plan.flip[i] ? -1.0 : 1.0;
    for (int r = 0; r < 3; ++r) out.direction[3 * r + i] = sign * in.direction[3 * r + a];
    if (plan.flip[i]) firstVoxel[a] = static_cast<double>(in.size[a]) - 1.0;
  }
  out.origin = in.indexToWorld(firstVoxel);
  return out;
}

void reorientBuffer(const void* in, void* out, std::size_t elementSize, const Size3& inputSize, const AxisPlan& plan) {
  switch (elementSize) {
  case 1: permuteTyped(static_cast<const std::uint8_t*>(in), static_cast<std::uint8_t*>(out), inputSize, plan); return;
  case 2:
    permuteTyped(static_cast<const std::uint16_t*>(in), static_cast<std::uint16_t*>(out), inputSize, plan);
    return;
  case 4:
    permuteTyped(static_cast<const std::uint32_t*>(in), static_cast<std::uint32_t*>(out), inputSize, plan);
    return;
  case 8:
    permuteTyped(static_cast<const std::uint64_t*>(in), static_cast<std::uint64_t*>(out), inputSize, plan);
    return;
  case 16: permuteTyped(static_cast<const Bytes16*>(in), static_cast<Bytes16*>(out), inputSize, plan); return;
  default: throw Error(ExitCode::Internal, "reorientBuffer: unsupported element size " + std::to_string(elementSize));
  }
}

} // namespace voxseg
