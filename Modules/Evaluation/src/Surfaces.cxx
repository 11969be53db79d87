#include "Surfaces.h"

#include "DistanceTransform.h"
#include "SurfelAreas.h"

#include <algorithm>
#include <array>
#include <limits>

namespace voxseg::evaluation::detail {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr std::uint8_t kRef = 1, kPred = 2;

struct Box {
  std::array<std::size_t, 3> lo{0, 0, 0}, ext{0, 0, 0};
};

// Bounding box of the union of both masks; false when both are empty.
bool unionBox(const std::uint8_t* a, const std::uint8_t* b, const Size3& n, Box& box) {
  std::array<std::size_t, 3> lo{n[0], n[1], n[2]}, hi{0, 0, 0};
  bool any = false;
  for (std::size_t z = 0; z < n[2]; ++z)
    for (std::size_t y = 0; y < n[1]; ++y) {
      const std::size_t row = (z * n[1] + y) * n[0];
      std::size_t first = n[0], last = 0;
      for (std::size_t x = 0; x < n[0]; ++x)
        if (a[row + x] || b[row + x]) {
          first = std::min(first, x);
          last = x;
        }
      if (first == n[0]) continue;
      any = true;
      lo = {std::min(lo[0], first), std::min(lo[1], y), std::min(lo[2], z)};
      hi = {std::max(hi[0], last), std::max(hi[1], y), std::max(hi[2], z)};
    }
  for (int i = 0; i < 3; ++i) {
    box.lo[i] = lo[i];
    box.ext[i] = any ? hi[i] - lo[i] + 1 : 0;
  }
  return any;
}

// Both masks inside the box with one background voxel all around: bit kRef and bit kPred.
std::vector<std::uint8_t> paddedMasks(const std::uint8_t* a, const std::uint8_t* b, const Size3& n, const Box& box,
                                      Size3& padded) {
  padded = {box.ext[0] + 2, box.ext[1] + 2, box.ext[2] + 2};
  std::vector<std::uint8_t> m(padded[0] * padded[1] * padded[2], 0);
  for (std::size_t z = 0; z < box.ext[2]; ++z)
    for (std::size_t y = 0; y < box.ext[1]; ++y) {
      const std::size_t src = ((box.lo[2] + z) * n[1] + box.lo[1] + y) * n[0] + box.lo[0];
      std::uint8_t* dst = m.data() + ((z + 1) * padded[1] + y + 1) * padded[0] + 1;
      for (std::size_t x = 0; x < box.ext[0]; ++x)
        dst[x] = static_cast<std::uint8_t>((a[src + x] ? kRef : 0) | (b[src + x] ? kPred : 0));
    }
  return m;
}

struct Points {
  std::vector<std::size_t> index; // linear index in the surface grid
  std::vector<std::uint8_t> code;
  std::vector<std::uint8_t> flag; // one per grid point: is a point of this surface
};

// Corner grid of (ext + 1) points per axis: corner c lies between padded voxels c and c + 1.
void cornerSurfels(const std::vector<std::uint8_t>& m, const Size3& p, const Size3& g, Points& ref, Points& pred) {
  const std::size_t count = g[0] * g[1] * g[2];
  ref.flag.assign(count, 0);
  pred.flag.assign(count, 0);
  std::array<std::size_t, 8> offset{};
  std::array<int, 8> bit{};
  int k = 0;
  for (int c = 0; c < 2; ++c)
    for (int b = 0; b < 2; ++b)
      for (int a = 0; a < 2; ++a, ++k) {
        offset[k] = a + p[0] * (b + p[1] * c);
        bit[k] = cornerBit(a, b, c);
      }
  for (std::size_t z = 0; z < g[2]; ++z)
    for (std::size_t y = 0; y < g[1]; ++y)
      for (std::size_t x = 0; x < g[0]; ++x) {
        const std::uint8_t* base = m.data() + x + p[0] * (y + p[1] * z);
        int codeRef = 0, codePred = 0;
        for (int i = 0; i < 8; ++i) {
          const std::uint8_t v = base[offset[i]];
          codeRef |= (v & kRef) << bit[i];
          codePred |= ((v & kPred) >> 1) << bit[i];
        }
        const std::size_t idx = x + g[0] * (y + g[1] * z);
        if (codeRef != 0 && codeRef != 255) {
          ref.index.push_back(idx);
          ref.code.push_back(static_cast<std::uint8_t>(codeRef));
          ref.flag[idx] = 1;
        }
        if (codePred != 0 && codePred != 255) {
          pred.index.push_back(idx);
          pred.code.push_back(static_cast<std::uint8_t>(codePred));
          pred.flag[idx] = 1;
        }
      }
}

// Voxel grid of the box: inside voxels with a 6-neighbour outside.
void edgeVoxels(const std::vector<std::uint8_t>& m, const Size3& p, const Size3& g, Points& ref, Points& pred) {
  const std::size_t count = g[0] * g[1] * g[2];
  ref.flag.assign(count, 0);
  pred.flag.assign(count, 0);
  const std::size_t sy = p[0], sz = p[0] * p[1];
  for (std::size_t z = 0; z < g[2]; ++z)
    for (std::size_t y = 0; y < g[1]; ++y)
      for (std::size_t x = 0; x < g[0]; ++x) {
        const std::size_t c = (x + 1) + p[0] * ((y + 1) + p[1] * (z + 1));
        const std::uint8_t v = m[c];
        if (!v) continue;
        const std::uint8_t all = m[c - 1] & m[c + 1] & m[c - sy] & m[c + sy] & m[c - sz] & m[c + sz];
        const std::size_t idx = x + g[0] * (y + g[1] * z);
        if ((v & kRef) && !(all & kRef)) {
          ref.index.push_back(idx);
          ref.code.push_back(0);
          ref.flag[idx] = 1;
        }
        if ((v & kPred) && !(all & kPred)) {
          pred.index.push_back(idx);
          pred.code.push_back(0);
          pred.flag[idx] = 1;
        }
      }
}

void finishDirection(const RawSurface& from, const RawSurface& to, const std::array<double, 256>& areas,
                     const SurfaceConventions& conv, DirectedDistances& out) {
  const bool corner = conv.model == SurfaceModel::CornerSurfels;
  const bool f32 = conv.precision == DistancePrecision::Float32;
  auto weight = [&](std::uint8_t code) { return corner ? areas[code] : 1.0; };
  std::vector<std::pair<double, double>> pairs;
  if (!from.codes.empty()) {
    pairs.reserve(from.codes.size());
    for (std::size_t i = 0; i < from.codes.size(); ++i) {
      double d = from.distances.empty() ? kInf : from.distances[i];
      if (f32) d = static_cast<float>(d);
      pairs.emplace_back(d, weight(from.codes[i]));
    }
  } else if (conv.emptySurface == EmptySurfaceRule::InfinityPerOtherPoint) {
    pairs.reserve(to.codes.size());
    for (std::uint8_t code : to.codes) pairs.emplace_back(kInf, weight(code));
  }
  std::sort(pairs.begin(), pairs.end());
  out.distances.resize(pairs.size());
  out.weights.resize(pairs.size());
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    out.distances[i] = pairs[i].first;
    out.weights[i] = pairs[i].second;
  }
}

} // namespace

double pairwiseSum(const double* a, std::size_t n) {
  if (n < 8) {
    double r = 0;
    for (std::size_t i = 0; i < n; ++i) r += a[i];
    return r;
  }
  if (n <= 128) {
    double r[8];
    for (int j = 0; j < 8; ++j) r[j] = a[j];
    std::size_t i = 8;
    for (; i < n - n % 8; i += 8)
      for (int j = 0; j < 8; ++j) r[j] += a[i + j];
    double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) res += a[i];
    return res;
  }
  std::size_t half = n / 2;
  half -= half % 8;
  return pairwiseSum(a, half) + pairwiseSum(a + half, n - half);
}

RawSurfaces rawSurfaces(const std::uint8_t* reference, const std::uint8_t* prediction, const Size3& size,
                        const Vec3& spacing, SurfaceModel model, int threads) {
  RawSurfaces raw;
  raw.model = model;
  Box box;
  if (!unionBox(reference, prediction, size, box)) return raw;
  Size3 padded{};
  const std::vector<std::uint8_t> m = paddedMasks(reference, prediction, size, box, padded);
  Points ref, pred;
  Size3 grid{};
  if (model == SurfaceModel::CornerSurfels) {
    grid = {box.ext[0] + 1, box.ext[1] + 1, box.ext[2] + 1};
    cornerSurfels(m, padded, grid, ref, pred);
  } else {
    grid = {box.ext[0], box.ext[1], box.ext[2]};
    edgeVoxels(m, padded, grid, ref, pred);
  }
  raw.reference.codes = std::move(ref.code);
  raw.prediction.codes = std::move(pred.code);
  if (!pred.index.empty()) raw.reference.distances = distancesToFeatures(pred.flag, grid, spacing, ref.index, threads);
  if (!ref.index.empty()) raw.prediction.distances = distancesToFeatures(ref.flag, grid, spacing, pred.index, threads);
  return raw;
}

SurfaceDistances finishSurfaces(const RawSurfaces& raw, const Vec3& spacing, const SurfaceConventions& conventions) {
  SurfaceDistances out;
  const bool corner = raw.model == SurfaceModel::CornerSurfels;
  std::array<double, 256> areas{};
  if (corner) areas = surfelAreaTable(spacing, conventions.precision);
  SurfaceConventions conv = conventions;
  conv.model = raw.model;
  finishDirection(raw.reference, raw.prediction, areas, conv, out.referenceToPrediction);
  finishDirection(raw.prediction, raw.reference, areas, conv, out.predictionToReference);
  out.referencePoints = raw.reference.codes.size();
  out.predictionPoints = raw.prediction.codes.size();
  // Each surface's own direction lists its weights (in DeepMind's sorted order) unless it is empty.
  const auto& r = out.referenceToPrediction.weights;
  const auto& p = out.predictionToReference.weights;
  out.referenceArea = out.referencePoints ? pairwiseSum(r.data(), r.size()) : 0.0;
  out.predictionArea = out.predictionPoints ? pairwiseSum(p.data(), p.size()) : 0.0;
  return out;
}

} // namespace voxseg::evaluation::detail
